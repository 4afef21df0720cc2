#!/usr/bin/env bash
# One long recording through the streaming profile: host memory stays bounded whatever the length (issue 8:
# a 3-hour 96 kHz stereo file in at most 2 GiB). The input is a generated 120 s music-like track at 96 kHz
# looped by ffmpeg to HOURS hours (24-bit RF64 WAV); lathe masters it with the default whole-track memory budget
# (--track-memory 1024 MiB), so its loudness targeting streams every pass from a temporary file in TMPDIR.
# Prints wall time, times real time, peak resident memory and CPU use (GNU time), and the seconds per stage.
#   bench/bench_long.sh [BUILD_DIR] [HOURS] [ENGINE]      (defaults: build 3 auto)
# Needs about 26 GB of free disk per 3 hours of audio (input, output and the temporary premaster).
set -euo pipefail
build=${1:-build}
hours=${2:-3}
engine=${3:-auto}
lathe="$build/lathe"
measure="$build/bench/lathe_bench_measure"
for exe in "$lathe" "$measure"; do
  [ -x "$exe" ] || { echo "bench_long: $exe not found: build it first (cmake --build $build)" >&2; exit 2; }
done
for tool in /usr/bin/time ffmpeg; do
  command -v "$tool" >/dev/null || { echo "bench_long: $tool not installed (apt-get install time ffmpeg)" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TMPDIR="$work"

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "bench_long: $hours h of 96 kHz stereo, streaming profile, engine $engine"
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: ${cpu:-unknown CPU}, $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "tools:   $("$lathe" --version | head -n 2 | tr '\n' ' ')"
"$measure" --generate "$work/piece" --tracks 1 --seconds 120 --rate 96000 >/dev/null
loops=$((hours * 30 - 1))
ffmpeg -v error -stream_loop "$loops" -i "$work/piece/track01.wav" -c:a pcm_s24le -rf64 auto "$work/long.wav"
rm -rf "$work/piece"
audio=$((hours * 3600))
echo "input:   $(du -h "$work/long.wav" | cut -f1) ($audio s of audio)"

/usr/bin/time -f '%e %M %U %S' -o "$work/time" "$lathe" master "$work/long.wav" -o "$work/out" --engine "$engine" -q \
  --report "$work/report.json" >"$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
read -r wall rss_kib user sys <"$work/time"
awk -v a="$audio" -v wall="$wall" -v rss="$rss_kib" -v u="$user" -v s="$sys" -v cores="$(nproc)" '
  /"stage_seconds"/ { on = 1; next }
  on && /}/ { on = 0; next }
  on { gsub(/[",:]/, ""); stages = stages sep $1 " " sprintf("%.1f", $2); sep = ", " }
  END {
    printf "lathe:   %.1f s wall, %.1fx real time, peak RSS %.0f MiB, CPU %.1f s (%.0f%% of %d cores)\n",
           wall, a / wall, rss / 1024, u + s, 100 * (u + s) / (wall * cores), cores
    printf "stages:  %s\n", stages
  }' "$work/report.json"
