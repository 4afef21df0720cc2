#!/usr/bin/env bash
# The checks a session lent a GPU runs first, as one prepared script (device time is short):
#   1. pack the binaries here:   bench/gpu_check.sh --pack [BUILD_DIR]     (default build; writes .device/)
#   2. on the GPU machine:       bash bench/gpu_check.sh --run             (with carry=[".device"])
# --run executes every test that compares the CUDA engine with the CPU engine (goldens of every stage and
# profile, FFT, convolution, meter, limiter, resampler, compressor, saturation, multiband), then the whole suite, then the benches, printing
# everything to stdout for bench/RESULTS.md. The tests use absolute paths of the build tree (LATHE_BINARY), so
# the build folder is linked to the packed lathe binary when the tree sits elsewhere.
set -euo pipefail
mode=${1:-}
if [ "$mode" = "--pack" ]; then
  build=${2:-build}
  rm -rf .device
  ../shared/device/pack.sh .device "$build/lathe" "$build/tests/lathe_tests" "$build/bench/lathe_bench" \
    "$build/bench/lathe_bench_fft" "$build/bench/lathe_bench_analyze" "$build/bench/lathe_bench_convolve" \
    "$build/bench/lathe_bench_measure"
  # The absolute path the tests were built with (LATHE_BINARY) and the source tree they read (goldens).
  echo "$(cd "$build" && pwd)" > .device/build_dir
  echo "$(pwd)" > .device/source_dir
  echo "packed into .device/ ($(du -sh .device | cut -f1))"
  exit 0
fi
if [ "$mode" != "--run" ]; then
  sed -n 2,8p "$0"
  exit 2
fi
. .device/env.sh
build_dir=$(cat .device/build_dir)
source_dir=$(cat .device/source_dir)
# Recreate the paths the test binary was built with.
if [ "$(pwd)" != "$source_dir" ]; then mkdir -p "$(dirname "$source_dir")" && ln -sfn "$(pwd)" "$source_dir"; fi
mkdir -p "$build_dir/bench" && ln -sf "$(pwd)/.device/bin/lathe" "$build_dir/lathe"
ln -sf "$(pwd)/.device/bin/lathe_bench_measure" "$build_dir/bench/lathe_bench_measure"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
echo "== CUDA engine against the CPU engine"
.device/bin/lathe_tests --gtest_filter='*Cuda*:*Gpu*:*gpu*:Golden.*:MeterEngine.*:DeliveryEngine.*:CliAnalyze.EngineBatchPathGivesTheSameMeasures' 2>&1 | tail -40
echo "== the whole suite"
.device/bin/lathe_tests 2>&1 | tail -15
echo "== memory budget, fallback (issue 8): the same bytes as the CPU engine, or exit 3 with --engine gpu"
d=$(mktemp -d)
.device/bin/lathe demo "$d/in" >/dev/null
.device/bin/lathe master "$d/in" -o "$d/cpu" --engine cpu -q
.device/bin/lathe master "$d/in" -o "$d/gpu256" --engine gpu --gpu-memory 256 -q && diff -r "$d/cpu" "$d/gpu256" && echo "budget 256 MiB: same bytes"
.device/bin/lathe master "$d/in" -o "$d/auto1" --engine auto --gpu-memory 1 -q; diff -r "$d/cpu" "$d/auto1" && echo "budget 1 MiB, auto: same bytes"
.device/bin/lathe master "$d/in" -o "$d/gpu1" --engine gpu --gpu-memory 1 -q; echo "budget 1 MiB, gpu: exit $? (expect 3)"
rm -rf "$d"
echo "== benches"
.device/bin/lathe_bench --tracks 64 --seconds 30 --profile streaming || true
.device/bin/lathe_bench --tracks 64 --seconds 30 --profile cd-16 || true
# The full chains (compressor, saturation, width, reverb, targeting) on both engines.
.device/bin/lathe_bench --tracks 64 --seconds 30 --profile streaming-warm || true
.device/bin/lathe_bench --tracks 64 --seconds 30 --profile acoustic-gentle || true
.device/bin/lathe_bench_fft || true
.device/bin/lathe_bench_analyze || true
# The catalogue bench on both engines (issue 8's end-to-end figures; needs GNU time).
bench/bench_catalogue.sh "$build_dir" 16 gpu || true
bench/bench_catalogue.sh "$build_dir" 16 cpu || true
