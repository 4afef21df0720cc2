#!/usr/bin/env bash
# The full mastering chain, lathe against the closest ffmpeg chain, on the same files and the same cores, in one
# run. Both chains: a mastering EQ, a compressor, saturation, stereo width, a 2 s stereo convolution reverb,
# loudness targeting to -14 LUFS with a -1 dBTP true-peak ceiling, and 24-bit output.
#   lathe   lathe master --profile <the chain below> over the folder (oneTBB over every core)
#   ffmpeg  firequalizer, acompressor, asoftclip, extrastereo, afir (the same IR file), loudnorm (single pass),
#           -ar 44100, pcm_s24le; one process per file with -threads 1, as many processes at once as cores
# The IR is lathe's built-in plate, written once to a file (lathe renders a click through the reverb stage), so
# both tools convolve the same 2 s stereo response. Then libebur128 (lathe_bench_measure) measures every output.
#   bench/bench_chain.sh [BUILD_DIR] [TRACKS] [SECONDS]      (defaults: build 8 30)
set -euo pipefail
build=${1:-build}
tracks=${2:-8}
seconds=${3:-30}
rate=44100
lathe="$build/lathe"
measure="$build/bench/lathe_bench_measure"
for exe in "$lathe" "$measure"; do
  if [ ! -x "$exe" ]; then
    echo "bench_chain: $exe not found: build it first (cmake --build $build --target lathe lathe_bench_measure)" >&2
    exit 2
  fi
done
if ! command -v ffmpeg >/dev/null; then
  echo "bench_chain: ffmpeg not installed (apt-get install ffmpeg): nothing to compare with" >&2
  exit 2
fi
cores=$(nproc)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "bench_chain: lathe against an ffmpeg chain, $tracks stereo tracks x $seconds s at $rate Hz, both on $cores cores"
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: ${cpu:-unknown CPU}, $cores cores"
echo "tools:   $("$lathe" --version | head -n 1); $(ffmpeg -hide_banner -version | head -n 1 | cut -d' ' -f1-3)"
"$measure" --generate "$work/input" --tracks "$tracks" --seconds "$seconds" --rate "$rate" >/dev/null

# The IR: a click (one sample at 1.0, then 2.2 s of silence) through the plate, all wet, as 32-bit float.
mkdir -p "$work/click" "$work/ir"
cat >"$work/ir.toml" <<'EOF'
name = "bench-ir"
[delivery]
bits = "32f"
[[stage]]
type = "reverb"
ir = "plate"
mix_pct = 100
tail = "cut"
EOF
"$measure" --click "$work/click/click.wav" --seconds 2.2 --rate "$rate" >/dev/null
"$lathe" master "$work/click" -o "$work/ir" --profile "$work/ir.toml" -q --overwrite --engine cpu
ir="$work/ir/click.wav"

cat >"$work/chain.toml" <<EOF
name = "bench-chain"
[delivery]
bits = 24
[targets]
integrated_lufs = -14.0
ceiling_dbtp = -1.0
[[stage]]
type = "eq"
bands = [
  { type = "highpass", freq_hz = 25, slope_db_per_oct = 12 },
  { type = "low_shelf", freq_hz = 80, gain_db = 1.0, q = 0.7 },
  { type = "bell", freq_hz = 300, gain_db = -1.0, q = 1.0 },
  { type = "bell", freq_hz = 3000, gain_db = 0.8, q = 1.2 },
  { type = "high_shelf", freq_hz = 12000, gain_db = 1.5, slope = 0.7 },
]
[[stage]]
type = "compressor"
threshold_db = -18.0
ratio = 2.0
knee_db = 6.0
attack_ms = 10.0
release_ms = 150.0
makeup_db = 1.0
[[stage]]
type = "saturation"
model = "tape"
drive_db = 3.0
mix = 50
[[stage]]
type = "width"
width_pct = 120
[[stage]]
type = "reverb"
ir = "$ir"
wet_db = -20.0
tail = "cut"
[[stage]]
type = "limiter"
EOF

mkdir -p "$work/out/lathe" "$work/out/ffmpeg"
run_lathe() {
  "$lathe" master "$work/input" -o "$work/out/lathe" --profile "$work/chain.toml" -q --overwrite --engine cpu \
    --report "$work/lathe-report.json" >"$work/lathe.log" 2>&1 || { cat "$work/lathe.log" >&2; return 1; }
}
ffmpeg_one() {
  ffmpeg -nostdin -hide_banner -loglevel error -threads 1 -i "$1" -i "$3" -filter_complex \
    "[0:a]firequalizer=gain_entry='entry(20,-6);entry(25,-3);entry(80,1);entry(300,-1);entry(3000,0.8);entry(12000,1.5)',acompressor=threshold=-18dB:ratio=2:attack=10:release=150:knee=2:makeup=1.12,asoftclip=type=tanh,extrastereo=m=1.2[d];[d][1:a]afir=dry=10:wet=1[r];[r]loudnorm=I=-14:TP=-1:LRA=11" \
    -ar 44100 -c:a pcm_s24le -y "$2/$(basename "$1")"
}
export -f ffmpeg_one
run_ffmpeg() {
  find "$work/input" -name '*.wav' -print0 |
    xargs -0 -P "$cores" -I{} bash -c 'ffmpeg_one "$1" "$2" "$3"' _ {} "$work/out/ffmpeg" "$ir"
}
timed() {
  local TIMEFORMAT='%R %U %S'
  if ! { time "$2"; } 2>"$work/$1.time.raw"; then
    cat "$work/$1.time.raw" >&2
    echo "bench_chain: $1 failed" >&2
    exit 1
  fi
  tail -n 1 "$work/$1.time.raw" | awk '{ printf "%s %.3f\n", $1, $2 + $3 }' >"$work/$1.time"
}
echo
echo "timing (each tool on all $cores cores) ..."
timed lathe run_lathe
timed ffmpeg run_ffmpeg

audio=$(awk -v t="$tracks" -v s="$seconds" 'BEGIN { print t * s }')
"$measure" --target -14 --ceiling -1 --summary-only --summary-tsv "$work/summary.tsv" \
  "$work/out/lathe" "$work/out/ffmpeg" >/dev/null
stages=$(awk '/"stage_seconds"/ { on = 1; next } on && /}/ { on = 0; next }
              on { gsub(/[",:]/, ""); printf "%s%s %.2f", sep, $1, $2; sep = ", "; sum += $2 }
              /"wall_seconds"/ { gsub(/[",:]/, ""); wall = $2 }
              END { printf ", not in a stage %.2f (of %.2f s)", wall - sum, wall }' "$work/lathe-report.json")
echo "lathe stage seconds (--report): $stages"
echo
echo "$tracks tracks x $seconds s ($audio s of audio) on $cores cores; |error| to -14 LUFS and true peak by libebur128"
printf '%-10s %8s %8s %10s %12s %10s %10s %9s %6s\n' tool "wall s" "CPU s" "x RT" "throughput" "mean|err|" "max|err|" "max dBTP" overs
read -r lathe_wall _ <"$work/lathe.time"
for t in lathe ffmpeg; do
  read -r wall cpu_s <"$work/$t.time"
  awk -F'\t' -v t="$t" -v wall="$wall" -v cpu_s="$cpu_s" -v lw="$lathe_wall" -v a="$audio" '
    $1 == t { printf "%-10s %8.2f %8.2f %9.1fx %11.2fx %7.3f LU %7.3f LU %9.2f %6d\n", t, wall, cpu_s, a / wall,
              wall / lw, $4, $5, $6, $7 }' "$work/summary.tsv"
done
echo "(throughput: lathe's audio seconds per wall second over the tool's; above 1: lathe faster)"
