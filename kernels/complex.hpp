// Single-precision complex numbers for the FFT and convolution kernels: plain data (two floats, interleaved
// like cuFFT's cufftComplex) and the few operations every butterfly and spectral product is built from, each a
// fixed sequence of IEEE operations so that both engines round identically (DESIGN.md section 2).
#pragma once

#include "kernels/hd.hpp"

namespace lathe::kernels {

struct alignas(8) Complex {
  float re;
  float im;
};

LATHE_HD inline Complex cadd(Complex a, Complex b) { return {a.re + b.re, a.im + b.im}; }
LATHE_HD inline Complex csub(Complex a, Complex b) { return {a.re - b.re, a.im - b.im}; }
// (a.re*b.re - a.im*b.im, a.re*b.im + a.im*b.re): four products, then one subtraction and one addition, never
// fused (--fmad=false, -ffp-contract=off).
LATHE_HD inline Complex cmul(Complex a, Complex b) {
  const float rr = a.re * b.re;
  const float ii = a.im * b.im;
  const float ri = a.re * b.im;
  const float ir = a.im * b.re;
  return {rr - ii, ri + ir};
}
// a * conj(b)
LATHE_HD inline Complex cmul_conj(Complex a, Complex b) {
  const float rr = a.re * b.re;
  const float ii = a.im * b.im;
  const float ri = a.re * b.im;
  const float ir = a.im * b.re;
  return {rr + ii, ir - ri};
}
// acc + a * b, as cmul then cadd (the order of a spectral sum is fixed by its caller).
LATHE_HD inline Complex cmac(Complex acc, Complex a, Complex b) { return cadd(acc, cmul(a, b)); }

}  // namespace lathe::kernels
