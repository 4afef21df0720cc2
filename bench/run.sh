#!/usr/bin/env bash
# One benchmark run: lathe in memory and with files on every engine this machine has, then the same job
# (24-bit WAV in, TPDF-dithered 16-bit WAV out: lathe's cd-16 profile) with sox as the named baseline, on the
# same files, in parallel over all cores. Prints times real time for each: the ratios come from one run on one
# machine. (16-bit output, because sox skips dither when the word length does not shrink.)
#   bench/run.sh [BUILD_DIR] [TRACKS] [SECONDS]      (defaults: build 32 30)
set -euo pipefail
build=${1:-build}
tracks=${2:-32}
seconds=${3:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/bench/lathe_bench" --tracks "$tracks" --seconds "$seconds" --profile cd-16
"$build/bench/lathe_bench" --tracks "$tracks" --seconds "$seconds" --profile cd-16 --files --keep "$work"
audio=$(awk -v t="$tracks" -v s="$seconds" 'BEGIN { print t * s }')
if command -v sox >/dev/null; then
  mkdir -p "$work/sox"
  start=$(date +%s.%N)
  ls "$work/in"/*.wav | xargs -P "$(nproc)" -I{} sh -c 'sox "$1" -b 16 "$2/$(basename "$1")" dither' _ {} "$work/sox"
  end=$(date +%s.%N)
  awk -v a="$audio" -v s="$start" -v e="$end" \
    'BEGIN { printf "%-44s %8.1fx real time  (%.1f s of audio in %.3f s)\n", "sox (baseline, -b 16 dither, xargs -P)", a / (e - s), a, e - s }'
else
  echo "sox not installed: apt-get install sox for the baseline"
fi
# The FFT against FFTW (and cuFFT with a GPU), the convolution against zita-convolver, the meter against libebur128.
if [ -x "$build/bench/lathe_bench_fft" ]; then "$build/bench/lathe_bench_fft"; fi
if [ -x "$build/bench/lathe_bench_convolve" ]; then "$build/bench/lathe_bench_convolve"; fi
if [ -x "$build/bench/lathe_bench_analyze" ]; then "$build/bench/lathe_bench_analyze"; fi
# Loudness normalisation against ffmpeg's loudnorm (one core each; integrated error and true peak by libebur128).
# A generated catalogue against reading and writing the same bytes.
if [ -x /usr/bin/time ]; then "$(dirname "$0")/bench_catalogue.sh" "$build"; fi
# The full chain against an ffmpeg chain (both on every core).
if command -v ffmpeg >/dev/null; then
  "$(dirname "$0")/bench_loudnorm.sh" "$build"
  "$(dirname "$0")/bench_chain.sh" "$build"
else
  echo "ffmpeg not installed: apt-get install ffmpeg for the loudnorm and chain baselines (bench/bench_loudnorm.sh, bench/bench_chain.sh)"
fi
