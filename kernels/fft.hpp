// The deterministic FFT's arithmetic, shared by both engines (DESIGN.md sections 2 and 3).
//
// A complex transform of n = 2^L points is a Stockham auto-sort FFT: an optional radix-2 pass first (L odd),
// then radix-4 passes. Pass p has radix R and a "span" Ns (the product of the radices before it). Butterfly j of
// the pass (0 <= j < n/R), with k = j % Ns:
//   a_r = src[j + r * n/R]                              r = 0..R-1
//   a_r = a_r * tw[offset + (r-1) * Ns + k]             r >= 1, only when Ns > 1 (the first pass has no twiddles)
//   a   = R-point DFT of a (fft2 / fft4 below)
//   dst[(j / Ns) * Ns * R + k + r * Ns] = a_r
// The twiddles tw[offset + (r-1)*Ns + k] = exp(-2 pi i r k / (Ns R)) are computed once on the host in double
// and rounded to float once; both engines read the same bytes. Thread mapping and tiling may differ between
// engines, but every output value is produced by this exact sequence of operations on the same inputs.
//
// Inverse complex transforms are conj(forward(conj(x))) (negation is exact), unnormalised.
//
// Real transforms of n reals go through the complex transform of h = n/2 points of z[m] = x[2m] + i x[2m+1]:
//   forward:  Z = fft_h(z); X[0], X[h] from rfft_post_edges(Z[0]); X[k] = rfft_post(Z[k], Z[h-k], W^k)
//   inverse:  Z'[k] = rfft_pre(X[k], X[h-k], W^k) for k < h; z' = conj(fft_h(conj(Z'))); x[2m] = z'.re, x[2m+1] = z'.im
// with W^k = exp(-2 pi i k / n) from the host table. The inverse returns n * x.
//
// C++17, no libm, no allocation.
#pragma once

#include "kernels/complex.hpp"
#include "kernels/hd.hpp"

namespace lathe::kernels {

// Largest supported transform: 2^21 points (complex), 2^21 reals.
constexpr int kFftMaxLog2 = 21;

// One Stockham pass of an n-point complex transform.
struct FftPass {
  int radix;                 // 2 or 4
  long long span;            // Ns: product of the radices of the passes before this one
  long long twiddle_offset;  // first entry of this pass in the plan's twiddle table ((radix-1) * span entries)
};

// Number of passes of a 2^log2n-point complex transform (0 for one point).
LATHE_HD inline int fft_pass_count(int log2n) { return (log2n & 1) + log2n / 2; }

// Pass p (0 <= p < fft_pass_count(log2n)): radix 2 first when log2n is odd, radix 4 otherwise.
LATHE_HD inline FftPass fft_pass(int log2n, int p) {
  FftPass out{4, 1, 0};
  if ((log2n & 1) != 0) {
    if (p == 0) return FftPass{2, 1, 0};
    // after the radix-2 pass: spans 2, 8, 32, ...; offsets 1, 1 + 3*2, 1 + 3*(2+8), ...
    out.span = 2LL << (2 * (p - 1));
    out.twiddle_offset = 1 + 2 * ((1LL << (2 * (p - 1))) - 1);  // 1 + 3 * 2 * (4^(p-1) - 1) / 3
  } else {
    out.span = 1LL << (2 * p);
    out.twiddle_offset = (1LL << (2 * p)) - 1;  // 3 * (4^p - 1) / 3
  }
  return out;
}

// Entries of the twiddle table of a 2^log2n-point complex plan: sum over passes of (radix-1) * span = n - 1.
LATHE_HD inline long long fft_twiddle_count(int log2n) { return (1LL << log2n) - 1; }

LATHE_HD inline Complex cconj(Complex a) { return {a.re, -a.im}; }

// The butterflies are templates over the complex type so that the CPU engine can run the very same sequence of
// operations on SIMD lanes (a struct {re, im} of float vectors with cadd/csub/cmul overloads found by ADL);
// T = Complex everywhere else.

// 2-point DFT.
template <class T>
LATHE_HD inline void fft2(T& a0, T& a1) {
  const T t = a0;
  a0 = cadd(t, a1);
  a1 = csub(t, a1);
}

// 4-point forward DFT (w = -i):
//   t0 = a0 + a2, t1 = a0 - a2, t2 = a1 + a3, t3 = a1 - a3
//   y0 = t0 + t2, y2 = t0 - t2, y1 = t1 - i t3, y3 = t1 + i t3
template <class T>
LATHE_HD inline void fft4(T& a0, T& a1, T& a2, T& a3) {
  const T t0 = cadd(a0, a2);
  const T t1 = csub(a0, a2);
  const T t2 = cadd(a1, a3);
  const T t3 = csub(a1, a3);
  a0 = cadd(t0, t2);
  a2 = csub(t0, t2);
  a1 = T{t1.re + t3.im, t1.im - t3.re};
  a3 = T{t1.re - t3.im, t1.im + t3.re};
}

// The butterfly of one pass on R values in registers, twiddles w[0..R-2] (used only when `twiddle`).
template <class T>
LATHE_HD inline void fft_butterfly2(T* a, const T* w, bool twiddle) {
  if (twiddle) a[1] = cmul(a[1], w[0]);
  fft2(a[0], a[1]);
}
template <class T>
LATHE_HD inline void fft_butterfly4(T* a, const T* w, bool twiddle) {
  if (twiddle) {
    a[1] = cmul(a[1], w[0]);
    a[2] = cmul(a[2], w[1]);
    a[3] = cmul(a[3], w[2]);
  }
  fft4(a[0], a[1], a[2], a[3]);
}

// Destination index of output r of butterfly j in a pass of span ns and radix R (all powers of two).
LATHE_HD inline long long fft_dst_index(long long j, long long ns, int radix, int r) {
  const long long k = j & (ns - 1);
  return (j - k) * radix + k + r * ns;
}

// ---- phases: the CUDA engine's grouping of passes (emulated on the host by tests/kernels/test_fft.cpp) ----
//
// A phase runs the consecutive passes of 2^log2p points, on independent "columns" of one transform:
//  - the first phase (log2q0 = 0): column c in [0, n/2^log2p) is the 2^log2p-point sub-transform of the points
//    c + l * n/2^log2p (the first passes of a Stockham FFT act on such strided subsequences independently);
//  - a later phase (Q0 = 2^log2q0 = product of the earlier radices): column c = q + Q0 * G, q < Q0, works on the
//    points c + l * n/2^log2p and writes q + Q0 * (G * 2^log2p + l); its twiddle index is q + Q0 * k_local.
// Every butterfly of a phase sees the same inputs and twiddle entry as in the whole-array pass, so the grouping
// (and the single-phase limit, which depends on the device's shared memory) never changes a bit.
constexpr int kFftTileLog2 = 12;         // transforms up to 2^12 points are one phase on every device
constexpr int kFftSingleMaxLog2 = 14;    // ... and up to 2^14 where the device has the shared memory for it
constexpr int kFftMaxPhaseLog2 = 10;     // phases of larger transforms have at most 2^10 points
constexpr int kFftMaxPhases = 4;

struct FftPhase {
  int log2n;       // the complex transform
  int log2p;       // points per column
  int first_pass;  // global index of the phase's first pass
  int log2q0;      // log2 of the span of that pass
};

// Points of each phase of a 2^log2n-point transform: one phase up to 2^single_max (12..14); otherwise phases
// of at most 2^10 points, every phase after the first even (the first holds the radix-2 pass of an odd log2n).
LATHE_HD inline int fft_phase_count(int log2n, int single_max = kFftSingleMaxLog2) {
  return log2n <= single_max ? 1 : (log2n + kFftMaxPhaseLog2 - 1) / kFftMaxPhaseLog2;
}
LATHE_HD inline int fft_phase_log2p(int log2n, int i, int single_max = kFftSingleMaxLog2) {
  const int count = fft_phase_count(log2n, single_max);
  if (count == 1) return log2n;
  int bits[kFftMaxPhases] = {0, 0, 0, 0};
  int base = (log2n / count) & ~1;
  if (base < 2) base = 2;
  int first = log2n;
  for (int p = 1; p < count; ++p) {
    bits[p] = base;
    first -= base;
  }
  for (int p = count - 1; p >= 1 && first > kFftMaxPhaseLog2; --p) {
    while (first > kFftMaxPhaseLog2 && bits[p] + 2 <= kFftMaxPhaseLog2) {
      bits[p] += 2;
      first -= 2;
    }
  }
  bits[0] = first;
  return bits[i];
}
LATHE_HD inline FftPhase fft_phase(int log2n, int i, int single_max = kFftSingleMaxLog2) {
  FftPhase ph{log2n, fft_phase_log2p(log2n, 0, single_max), 0, 0};
  for (int p = 1; p <= i; ++p) {
    ph.first_pass += (ph.log2p & 1) + ph.log2p / 2;
    ph.log2q0 += ph.log2p;
    ph.log2p = fft_phase_log2p(log2n, p, single_max);
  }
  return ph;
}
// Offsets within one transform of point l of column c: where the phase reads it and where it writes it.
LATHE_HD inline long long fft_phase_src(const FftPhase& ph, long long c, long long l) {
  return c + (l << (ph.log2n - ph.log2p));
}
LATHE_HD inline long long fft_phase_dst(const FftPhase& ph, long long c, long long l) {
  const long long q = c & ((1LL << ph.log2q0) - 1);
  const long long g = c >> ph.log2q0;
  return q + (((g << ph.log2p) + l) << ph.log2q0);
}
// Twiddle table index of w_1 for local butterfly jl of column c in the phase's pass `pass` (w_r adds
// (r-1) * pass.span). Local span = pass.span >> log2q0.
LATHE_HD inline long long fft_phase_twiddle(const FftPhase& ph, const FftPass& pass, long long c, long long jl) {
  const long long ns = pass.span >> ph.log2q0;
  return pass.twiddle_offset + (c & ((1LL << ph.log2q0) - 1)) + ((jl & (ns - 1)) << ph.log2q0);
}

// Steps: within a phase (and in the CPU's whole-array loops) passes run two at a time in registers. Step s is
// the local passes 2s and 2s+1 (radices R1, R2; R2 = 1 when 2s+1 is past the last pass). A step of a column of
// P points has P / (R1 R2) groups; group g holds the R1 R2 values
//   v[m * R1 + r] = y[g + m * P/(R1 R2) + r * P/R1]      m < R2, r < R1
// and runs butterflies j = g + m * P/(R1 R2) (m < R2) of the first pass on v[m*R1 .. m*R1+R1-1]; their outputs
// would go to fft_dst_index(j, ns1, R1, r) = fft_dst_index(g, ns1, R1, r) + m * P/R2, which is input m of
// butterfly j2 = fft_dst_index(g, ns1, R1, r) of the second pass (this needs ns1 R1 R2 <= P, true within a
// phase). The second pass then runs butterflies j2 (r < R1) on (v[r], v[R1 + r], ...) and writes
// y'[fft_dst_index(j2, ns1 R1, R2, r2)]. Each butterfly sees exactly the inputs and twiddles of the
// pass-by-pass order, so steps never change a bit.
LATHE_HD inline int fft_step_count(int log2p) { return (fft_pass_count(log2p) + 1) / 2; }
LATHE_HD inline int fft_step_radix1(int log2p, int s) { return (s == 0 && (log2p & 1) != 0) ? 2 : 4; }
LATHE_HD inline int fft_step_radix2(int log2p, int s) { return 2 * s + 1 < fft_pass_count(log2p) ? 4 : 1; }

// Real transforms of more than one phase: the first phase of the inverse reads X[k] and X[h-k], the last
// phase of the forward writes X[k] from Z[k] and Z[h-k]. In both, with `cols` columns (a power of two), point
// l of column q holds k = q + cols * l, and h - k is point fft_real_partner_point of column
// fft_real_partner_column (q = 0 and q = cols/2 are their own partners). A single phase is the case cols = 1.
LATHE_HD inline long long fft_real_partner_column(long long cols, long long q) { return q == 0 ? 0 : cols - q; }
LATHE_HD inline long long fft_real_partner_point(long long points, long long q, long long l) {
  return q == 0 ? ((points - l) & (points - 1)) : points - 1 - l;
}
// The CUDA engine puts partners in the same block: block bb of a transform (of cols / C blocks) holds in
// slots s < C/2 the columns a = bb * C/2 + s, and in slots C/2 + s their partners (column cols/2 for a = 0).
LATHE_HD inline long long fft_mirror_slot_column(long long cols, int slots, long long bb, int s) {
  const int half = slots / 2;
  const long long a = bb * half + (s & (half - 1));
  return s < half ? a : (a == 0 ? cols / 2 : cols - a);
}

// ---- real transforms -----------------------------------------------------------------------------------

// Forward, k = 0 and k = h: X[0] = Z0.re + Z0.im, X[h] = Z0.re - Z0.im, imaginary parts zero.
LATHE_HD inline void rfft_post_edges(Complex z0, Complex& x0, Complex& xh) {
  x0 = Complex{z0.re + z0.im, 0.0f};
  xh = Complex{z0.re - z0.im, 0.0f};
}

// Forward, 0 < k < h: zk = Z[k], zm = Z[h-k], w = W^k.
//   Fe = (Z[k] + conj(Z[h-k])) / 2, Fo = -i (Z[k] - conj(Z[h-k])) / 2, X[k] = Fe + w Fo
LATHE_HD inline Complex rfft_post(Complex zk, Complex zm, Complex w) {
  const float fe_re = (zk.re + zm.re) * 0.5f;
  const float fe_im = (zk.im - zm.im) * 0.5f;
  const float d_re = zk.re - zm.re;
  const float d_im = zk.im + zm.im;
  const Complex fo{d_im * 0.5f, -(d_re * 0.5f)};
  return cadd(Complex{fe_re, fe_im}, cmul(w, fo));
}

// Inverse, 0 <= k < h: xk = X[k], xm = X[h-k], w = W^k.
//   S = X[k] + conj(X[h-k]), D = X[k] - conj(X[h-k]), Z'[k] = S + i (D conj(w))
// (twice the spectrum of z; the half-length inverse then yields n * x).
LATHE_HD inline Complex rfft_pre(Complex xk, Complex xm, Complex w) {
  const Complex s{xk.re + xm.re, xk.im - xm.im};
  const Complex d{xk.re - xm.re, xk.im + xm.im};
  const Complex t = cmul_conj(d, w);
  return Complex{s.re - t.im, s.im + t.re};
}

// The tables of a plan, as the host hands them to a device engine (host or device pointers).
struct FftTables {
  int log2n;                       // the plan: complex transforms of n = 2^log2n points, real of n reals
  const Complex* twiddles;         // fft_twiddle_count(log2n) entries: the n-point complex plan
  const Complex* half_twiddles;    // fft_twiddle_count(log2n - 1) entries: the n/2-point plan of real transforms
  const Complex* real_twiddles;    // n/2 entries W^k, 0 <= k < n/2 (host table, made in double: not per-sample)
};

}  // namespace lathe::kernels
