#!/usr/bin/env bash
# Regenerates tests/golden/goldens.txt from the CPU engine and lists which cases changed.
#   tests/golden/update.sh [BUILD_DIR]     (default: build)
# Commit the new file only when the change of bits is intended, saying which and why; then re-check the CUDA
# engine on a GPU (the same test, Golden.CudaEngineMatchesCommittedHashes).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
cmake --build "$build" --target lathe_tests -j"$(nproc)" >/dev/null
LATHE_UPDATE_GOLDENS=1 "$build/tests/lathe_tests" --gtest_filter='Golden.CpuEngineMatchesCommittedHashes' | grep -E '^golden'
git -C "$root" diff --stat -- tests/golden/goldens.txt
