// lathe kernels: the host/device contract shared by every per-sample header in kernels/.
//
// Everything in kernels/*.hpp is compiled twice: by the host compiler for the CPU engine and by nvcc for the
// CUDA engine. Both must give the same bits (DESIGN.md section 2), so this header
//  - marks functions LATHE_HD (host and device),
//  - refuses fast-math builds of the host compiler (nvcc's --use_fast_math defines no macro; CMake rejects it),
//  - deletes the libm transcendentals inside lathe::kernels, whose last bits differ between glibc and CUDA.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define LATHE_HD __host__ __device__
#define LATHE_DEVICE_PASS 1
#else
#define LATHE_HD
#endif

#if defined(__FAST_MATH__)
#error "lathe: kernels/ must not be built with -ffast-math (DESIGN.md section 2: bit-identical engines)"
#endif
#if defined(__FP_FAST_FMAF) && !defined(__CUDA_ARCH__)
// A host target with FMA lets the vectoriser fuse despite -ffp-contract=off (measured, DESIGN.md section 2).
#error "lathe: the host target has FMA instructions; build kernels/ for baseline x86-64 (no -march)"
#endif

namespace lathe::kernels {

// Calls to these resolve here first and fail to compile: per-sample code uses lathe's own functions, built
// from + - * / and sqrt, which IEEE-754 rounds identically on both engines. (Host-side design code lives in
// host/ and may use std:: freely.)
float exp(float) = delete;  // not per-sample: guard
float log(float) = delete;  // not per-sample: guard
float log2(float) = delete;  // not per-sample: guard
float log10(float) = delete;  // not per-sample: guard
float pow(float, float) = delete;  // not per-sample: guard
float sin(float) = delete;  // not per-sample: guard
float cos(float) = delete;  // not per-sample: guard
float tan(float) = delete;  // not per-sample: guard
float tanh(float) = delete;  // not per-sample: guard
double exp(double) = delete;  // not per-sample: guard
double log(double) = delete;  // not per-sample: guard
double pow(double, double) = delete;  // not per-sample: guard
double sin(double) = delete;  // not per-sample: guard
double cos(double) = delete;  // not per-sample: guard
double tanh(double) = delete;  // not per-sample: guard

}  // namespace lathe::kernels
