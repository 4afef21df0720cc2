#!/usr/bin/env bash
# A generated catalogue mastered end to end, set against the machine's own limits in the same run:
#   - the catalogue: tracks of several lengths and rates (lathe_bench_measure --generate: 30 s at 44.1 kHz,
#     60 s at 48 kHz, 120 s at 96 kHz, stereo 24-bit WAV), TRACKS of each;
#   - read: `cat` of every input to /dev/null (the page cache is warm: this is the memory-speed floor of reading);
#     write: `cp` of every input into a new folder, then `sync` (the floor of writing the same bytes);
#   - lathe master with the streaming profile and with a full-chain preset (streaming-warm), on ENGINE (default
#     auto: the GPU when one works), every core: wall time, times real time, peak resident memory (GNU time), and
#     from the report the seconds per stage (summed over work that overlaps: deliveries run beside the chain);
#   - the cost of the HTML report's curves: the streaming profile again with --report-html (CPU seconds against
#     the plain run, and the page's size);
#   - the CPU goal of issue 8 (no idle cores): the wall time against the process's CPU time spread over the
#     cores, wall / ((user + sys) / cores); 1.0 means every core busy all the time, the goal is at most 1.3.
#   bench/bench_catalogue.sh [BUILD_DIR] [TRACKS] [ENGINE]      (defaults: build 4 auto)
set -euo pipefail
build=${1:-build}
tracks=${2:-4}
engine=${3:-auto}
lathe="$build/lathe"
measure="$build/bench/lathe_bench_measure"
for exe in "$lathe" "$measure"; do
  if [ ! -x "$exe" ]; then
    echo "bench_catalogue: $exe not found: build it first (cmake --build $build)" >&2
    exit 2
  fi
done
if [ ! -x /usr/bin/time ]; then
  echo "bench_catalogue: GNU time (/usr/bin/time) not installed: apt-get install time" >&2
  exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "bench_catalogue: $((3 * tracks)) tracks (30 s @ 44.1 kHz, 60 s @ 48 kHz, 120 s @ 96 kHz, $tracks of each), engine $engine"
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: ${cpu:-unknown CPU}, $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "tools:   $("$lathe" --version | head -n 2 | tr '\n' ' ')"
"$measure" --generate "$work/in/44k" --tracks "$tracks" --seconds 30 --rate 44100 >/dev/null
"$measure" --generate "$work/in/48k" --tracks "$tracks" --seconds 60 --rate 48000 >/dev/null
"$measure" --generate "$work/in/96k" --tracks "$tracks" --seconds 120 --rate 96000 >/dev/null
audio=$((tracks * (30 + 60 + 120)))
bytes=$(du -sb "$work/in" | cut -f1)
echo "catalogue: $audio s of audio, $((bytes / 1048576)) MiB of WAV"

# seconds NAME COMMAND...: runs it, prints its wall time.
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@"
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }'
}
read_s=$(seconds sh -c "find '$work/in' -name '*.wav' -exec cat {} + >/dev/null")
write_s=$(seconds sh -c "cp -r '$work/in' '$work/copy' && sync")
rm -rf "$work/copy"

printf '\n%-22s %9s %10s %8s %12s %10s %s\n' what "wall s" "x RT" "CPU s" "peak RSS" "idle ratio" "seconds per stage"
printf '%-22s %9.2f %9.1fx %8s %12s %10s\n' "read (cat, warm)" "$read_s" "$(awk -v a=$audio -v w=$read_s 'BEGIN { print a / w }')" - - -
printf '%-22s %9.2f %9.1fx %8s %12s %10s\n' "write (cp + sync)" "$write_s" "$(awk -v a=$audio -v w=$write_s 'BEGIN { print a / w }')" - - -
for variant in streaming streaming-warm streaming+html; do
  profile=${variant%+html}
  extra=()
  if [ "$variant" != "$profile" ]; then extra=(--report-html "$work/report.html"); fi
  out="$work/out-$variant"
  /usr/bin/time -f '%M %U %S' -o "$work/rss" "$lathe" master "$work/in" -o "$out" --profile "$profile" --engine "$engine" -q \
    --report "$work/report-$variant.json" "${extra[@]}" >"$work/log-$variant" 2>&1 || { cat "$work/log-$variant" >&2; exit 1; }
  read -r rss_kib user_s sys_s < <(tail -n 1 "$work/rss")
  awk -v name="lathe $variant" -v a="$audio" -v rss="$rss_kib" -v cpu="$(awk -v u=$user_s -v s=$sys_s 'BEGIN { print u + s }')" \
      -v cores="$(nproc)" '
    /"stage_seconds"/ { on = 1; next }
    on && /}/ { on = 0; next }
    on { gsub(/[",:]/, ""); stages = stages sep $1 " " sprintf("%.2f", $2); sep = ", " }
    /"wall_seconds"/ { gsub(/[",:]/, ""); wall = $2 }
    END { printf "%-22s %9.2f %9.1fx %8.2f %9.0f MiB %10.2f %s\n", name, wall, a / wall, cpu, rss / 1024,
                 wall / (cpu / cores), stages }' "$work/report-$variant.json"
  rm -rf "$out"
done
echo "(x RT: seconds of audio per wall second; CPU s: user + system; seconds per stage: summed over work that"
echo " overlaps; idle ratio: wall / (CPU seconds / cores), 1.0 = no idle core, goal <= 1.3)"
echo "HTML report: $(du -k "$work/report.html" | cut -f1) KiB for $((3 * tracks)) tracks; JSON with curves:" \
     "$(du -k "$work/report-streaming+html.json" | cut -f1) KiB, without: $(du -k "$work/report-streaming.json" | cut -f1) KiB"
