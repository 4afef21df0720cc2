// Run-time choice of the host's wider SIMD paths (and of SHA-256's instructions). lathe builds for baseline x86-64 (DESIGN.md section 2) and
// compiles a few hot loops a second time with __attribute__((target("avx2"))) — AVX2 without FMA, so the same
// operations round the same way — and picks them here when the processor has AVX2.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#define LATHE_HAVE_AVX2_PATHS 1
#endif

namespace lathe::host {

// True when the AVX2 paths are built in and this processor runs them. Checked once.
inline bool cpu_has_avx2() {
#if defined(LATHE_HAVE_AVX2_PATHS)
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return yes;
#else
  return false;
#endif
}

// True when this processor has the SHA extensions (with SSSE3 and SSE4.1, which their code also uses): SHA-256
// runs on them (host/util/sha256.cpp). Checked once.
inline bool cpu_has_sha() {
#if defined(LATHE_HAVE_AVX2_PATHS)
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sha") != 0 && __builtin_cpu_supports("ssse3") != 0 &&
           __builtin_cpu_supports("sse4.1") != 0;
  }();
  return yes;
#else
  return false;
#endif
}

}  // namespace lathe::host
