// CPU engine of the deterministic FFT (kernels/fft.hpp has the arithmetic and the pass structure).
//
// Data are split into re/im planes internally so that the pass loops vectorise; the loops perform exactly the
// scalar operations of kernels/fft.hpp (elementwise IEEE + - *, no reassociation, no FMA: -ffp-contract=off and
// no FMA-capable target). The same loops are compiled twice: for baseline x86-64 (SSE2) and, selected at run
// time, for AVX2 without FMA (target("avx2") does not enable FMA). Both give identical bits.
#include "host/dsp/fft.hpp"

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>

#include "host/util/cpu_features.hpp"

namespace lathe::host::dsp {

using kernels::Complex;

namespace {

// exp(-2 pi i idx / period) in double, reduced to the first octant so that symmetric values are exactly
// symmetric and 0 and +-1 are exact.
std::array<double, 2> twiddle(long long idx, long long period) {
  idx %= period;
  if (idx < 0) idx += period;
  // 4 idx = quadrant * period + rem
  const long long quadrant = (4 * idx) / period;
  const long long rem = 4 * idx - quadrant * period;  // angle within the quadrant = (pi/2) rem / period
  constexpr double kHalfPi = 1.57079632679489661923;
  double c, s;
  if (2 * rem <= period) {
    const double a = kHalfPi * static_cast<double>(rem) / static_cast<double>(period);
    c = std::cos(a);
    s = std::sin(a);
  } else {
    const double a = kHalfPi * static_cast<double>(period - rem) / static_cast<double>(period);
    c = std::sin(a);
    s = std::cos(a);
  }
  double cq, sq;  // cos and sin of quadrant * pi/2 + a
  switch (quadrant) {
    case 0: cq = c; sq = s; break;
    case 1: cq = -s; sq = c; break;
    case 2: cq = -c; sq = -s; break;
    default: cq = s; sq = -c; break;
  }
  return {cq, -sq};
}

FftComplexTables make_complex_tables(int log2n) {
  FftComplexTables t;
  t.log2n = log2n;
  const auto count = static_cast<std::size_t>(kernels::fft_twiddle_count(log2n));
  t.re.resize(count);
  t.im.resize(count);
  t.interleaved.resize(count);
  for (int p = 0; p < kernels::fft_pass_count(log2n); ++p) {
    const kernels::FftPass pass = kernels::fft_pass(log2n, p);
    const long long period = pass.span * pass.radix;
    for (int r = 1; r < pass.radix; ++r) {
      for (long long k = 0; k < pass.span; ++k) {
        const auto w = twiddle(r * k, period);
        const auto i = static_cast<std::size_t>(pass.twiddle_offset + (r - 1) * pass.span + k);
        t.re[i] = static_cast<float>(w[0]);
        t.im[i] = static_cast<float>(w[1]);
        t.interleaved[i] = Complex{t.re[i], t.im[i]};
      }
    }
  }
  return t;
}

#define LATHE_FFT_INLINE inline __attribute__((always_inline))

// ---- SIMD lanes --------------------------------------------------------------------------------------------
//
// Eight floats in a GCC vector: + - * act lane by lane with IEEE rounding, exactly the scalar operations (never
// contracted: -ffp-contract=off, no FMA target). In the AVX2 clones they are single AVX instructions, in the
// baseline clones pairs of SSE2 ones. VComplex holds eight complex values as planes; the butterflies of
// kernels/fft.hpp are templates and run on it unchanged.
// (The helpers below are always inlined into internal functions, so the ABI note GCC gives for 32-byte vectors
// passed by value in the baseline clone does not apply.)
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float Vec8 __attribute__((vector_size(32)));
constexpr std::size_t kLanes = 8;

struct VComplex {
  Vec8 re;
  Vec8 im;
};
LATHE_FFT_INLINE VComplex cadd(VComplex a, VComplex b) { return {a.re + b.re, a.im + b.im}; }
LATHE_FFT_INLINE VComplex csub(VComplex a, VComplex b) { return {a.re - b.re, a.im - b.im}; }
// Same sequence as kernels::cmul: four products, then one subtraction and one addition.
LATHE_FFT_INLINE VComplex cmul(VComplex a, VComplex b) {
  const Vec8 rr = a.re * b.re;
  const Vec8 ii = a.im * b.im;
  const Vec8 ri = a.re * b.im;
  const Vec8 ir = a.im * b.re;
  return {rr - ii, ri + ir};
}
LATHE_FFT_INLINE Vec8 vload(const float* p) {
  Vec8 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
LATHE_FFT_INLINE void vstore(float* p, Vec8 v) { std::memcpy(p, &v, sizeof(v)); }
LATHE_FFT_INLINE VComplex vcload(const float* re, const float* im, std::size_t i) {
  return {vload(re + i), vload(im + i)};
}
LATHE_FFT_INLINE void vcstore(float* re, float* im, std::size_t i, VComplex v) {
  vstore(re + i, v.re);
  vstore(im + i, v.im);
}

template <int R, class T>
LATHE_FFT_INLINE void butterfly(T* a, const T* w, bool twiddle) {
  if constexpr (R == 2)
    kernels::fft_butterfly2(a, w, twiddle);
  else
    kernels::fft_butterfly4(a, w, twiddle);
}

// ---- steps on split planes -----------------------------------------------------------------------------------
//
// The passes run two at a time (kernels/fft.hpp: steps) over the whole array of n points: group g holds
// v[m*R1 + r] = x[g + m*n/V + r*n/R1] (V = R1 R2), runs butterflies g + m*n/V of the first pass, then butterflies
// j2 = fft_dst_index(g, ns1, R1, r) of the second, and writes x'[fft_dst_index(j2, ns1 R1, R2, r2)]. Every
// butterfly sees the inputs and twiddles of the pass-by-pass order. twr/twi point at the first pass's
// twiddles, t2r/t2i at the second's.

// Step 0 (ns1 = 1: the first pass has no twiddles; the second has span R1, so group g's butterfly r uses the
// entries (m-1) * R1 + r). Output of group g: V consecutive values g*V + r + r2*R1. Eight groups at a time in
// SIMD lanes, stored lane by lane.
template <int R1, int R2>
LATHE_FFT_INLINE void step_first(const float* __restrict sr, const float* __restrict si, float* __restrict dr,
                                 float* __restrict di, std::size_t n, const float* __restrict t2r,
                                 const float* __restrict t2i) {
  constexpr int V = R1 * R2;
  const std::size_t groups = n / V;
  const std::size_t gstride = groups, rstride = n / R1;
  std::size_t g = 0;
  if (groups >= kLanes) {
    VComplex w2[R1][R2 > 1 ? R2 - 1 : 1];
    if constexpr (R2 > 1) {
      for (int r = 0; r < R1; ++r)
        for (int m = 1; m < R2; ++m) {
          const float wr = t2r[(m - 1) * R1 + r], wi = t2i[(m - 1) * R1 + r];
          w2[r][m - 1] = VComplex{Vec8{wr, wr, wr, wr, wr, wr, wr, wr}, Vec8{wi, wi, wi, wi, wi, wi, wi, wi}};
        }
    }
    for (; g < groups; g += kLanes) {
      VComplex v[V];
      for (int m = 0; m < R2; ++m)
        for (int r = 0; r < R1; ++r) v[m * R1 + r] = vcload(sr, si, g + m * gstride + r * rstride);
      for (int m = 0; m < R2; ++m) butterfly<R1>(&v[m * R1], &v[m * R1], false);
      VComplex o[V];  // o[r + r2*R1]: output offset within the group
      if constexpr (R2 == 1) {
        for (int r = 0; r < R1; ++r) o[r] = v[r];
      } else {
        for (int r = 0; r < R1; ++r) {
          VComplex b[R2];
          for (int m = 0; m < R2; ++m) b[m] = v[m * R1 + r];
          butterfly<R2>(b, w2[r], true);
          for (int r2 = 0; r2 < R2; ++r2) o[r + r2 * R1] = b[r2];
        }
      }
      for (std::size_t lane = 0; lane < kLanes; ++lane) {
        float* or_ = dr + (g + lane) * V;
        float* oi_ = di + (g + lane) * V;
        for (int e = 0; e < V; ++e) {
          or_[e] = o[e].re[lane];
          oi_[e] = o[e].im[lane];
        }
      }
    }
    return;
  }
  for (; g < groups; ++g) {  // fewer than eight groups: scalar
    Complex v[V];
    for (int m = 0; m < R2; ++m)
      for (int r = 0; r < R1; ++r) {
        const std::size_t i = g + m * gstride + r * rstride;
        v[m * R1 + r] = Complex{sr[i], si[i]};
      }
    for (int m = 0; m < R2; ++m) butterfly<R1>(&v[m * R1], &v[m * R1], false);
    for (int r = 0; r < R1; ++r) {
      if constexpr (R2 == 1) {
        dr[g * V + r] = v[r].re;
        di[g * V + r] = v[r].im;
      } else {
        Complex b[R2], w[R2 - 1];
        for (int m = 0; m < R2; ++m) b[m] = v[m * R1 + r];
        for (int m = 1; m < R2; ++m) w[m - 1] = Complex{t2r[(m - 1) * R1 + r], t2i[(m - 1) * R1 + r]};
        butterfly<R2>(b, w, true);
        for (int r2 = 0; r2 < R2; ++r2) {
          dr[g * V + r + r2 * R1] = b[r2].re;
          di[g * V + r + r2 * R1] = b[r2].im;
        }
      }
    }
  }
}

// A later step: ns1 >= 8 (a multiple of the lanes), so groups gb + k (k < ns1) run in lanes with contiguous
// inputs, twiddles (k + r*ns1 for the second pass) and outputs gb*V + k + r*ns1 + r2*ns1*R1.
template <int R2>
LATHE_FFT_INLINE void step_later(const float* __restrict sr, const float* __restrict si, float* __restrict dr,
                                 float* __restrict di, std::size_t n, std::size_t ns1, const float* __restrict twr,
                                 const float* __restrict twi, const float* __restrict t2r,
                                 const float* __restrict t2i) {
  constexpr int R1 = 4;
  constexpr int V = R1 * R2;
  const std::size_t groups = n / V;
  const std::size_t gstride = groups, rstride = n / R1, ns2 = ns1 * R1;
  for (std::size_t gb = 0; gb < groups; gb += ns1) {
    for (std::size_t k = 0; k < ns1; k += kLanes) {
      VComplex v[V];
      for (int m = 0; m < R2; ++m)
        for (int r = 0; r < R1; ++r) v[m * R1 + r] = vcload(sr, si, gb + k + m * gstride + r * rstride);
      VComplex w[R1 - 1];
      for (int r = 1; r < R1; ++r) w[r - 1] = vcload(twr, twi, (r - 1) * ns1 + k);
      for (int m = 0; m < R2; ++m) butterfly<R1>(&v[m * R1], w, true);
      const std::size_t o = gb * V + k;
      if constexpr (R2 == 1) {
        for (int r = 0; r < R1; ++r) vcstore(dr, di, o + r * ns1, v[r]);
      } else {
        for (int r = 0; r < R1; ++r) {
          VComplex b[R2], w2[R2 - 1];
          for (int m = 0; m < R2; ++m) b[m] = v[m * R1 + r];
          for (int m = 1; m < R2; ++m) w2[m - 1] = vcload(t2r, t2i, (m - 1) * ns2 + k + r * ns1);
          butterfly<R2>(b, w2, true);
          for (int r2 = 0; r2 < R2; ++r2) vcstore(dr, di, o + r * ns1 + r2 * ns2, b[r2]);
        }
      }
    }
  }
}

// From 2^14 points on, later steps run as two single passes: a radix-16 step reads and writes 32 planes at
// power-of-two strides, which thrashes the L1 sets once the strides reach 4 KiB (the grouping never changes bits).
constexpr int kSplitLog2 = 14;

// All passes of a 2^log2n-point complex transform, as steps. Input in planes A (ar, ai); the planes B are the
// other buffer. Returns whether the result ended in B.
LATHE_FFT_INLINE bool run_passes(const FftComplexTables& t, float* ar, float* ai, float* br, float* bi) {
  const int L = t.log2n;
  const std::size_t n = std::size_t{1} << L;
  bool in_b = false;
  int p = 0;
  for (int s = 0; s < kernels::fft_step_count(L); ++s) {
    const int R1 = kernels::fft_step_radix1(L, s), R2 = kernels::fft_step_radix2(L, s);
    const kernels::FftPass p1 = kernels::fft_pass(L, p);
    const kernels::FftPass p2 = kernels::fft_pass(L, R2 > 1 ? p + 1 : p);
    const float* sr = in_b ? br : ar;
    const float* si = in_b ? bi : ai;
    float* dr = in_b ? ar : br;
    float* di = in_b ? ai : bi;
    const float* twr = t.re.data() + p1.twiddle_offset;
    const float* twi = t.im.data() + p1.twiddle_offset;
    const float* t2r = t.re.data() + p2.twiddle_offset;
    const float* t2i = t.im.data() + p2.twiddle_offset;
    if (s == 0) {
      if (R1 == 2 && R2 == 1) step_first<2, 1>(sr, si, dr, di, n, t2r, t2i);
      else if (R1 == 2) step_first<2, 4>(sr, si, dr, di, n, t2r, t2i);
      else if (R2 == 1) step_first<4, 1>(sr, si, dr, di, n, t2r, t2i);
      else step_first<4, 4>(sr, si, dr, di, n, t2r, t2i);
    } else {
      const auto ns1 = static_cast<std::size_t>(p1.span);
      if (R2 == 1) {
        step_later<1>(sr, si, dr, di, n, ns1, twr, twi, t2r, t2i);
      } else if (L < kSplitLog2) {
        step_later<4>(sr, si, dr, di, n, ns1, twr, twi, t2r, t2i);
      } else {  // the same two passes one at a time (fewer power-of-two-strided streams: no L1 set thrashing)
        step_later<1>(sr, si, dr, di, n, ns1, twr, twi, twr, twi);
        in_b = !in_b;
        sr = in_b ? br : ar;
        si = in_b ? bi : ai;
        dr = in_b ? ar : br;
        di = in_b ? ai : bi;
        step_later<1>(sr, si, dr, di, n, ns1 * 4, t2r, t2i, t2r, t2i);
      }
    }
    p += R2 > 1 ? 2 : 1;
    in_b = !in_b;
  }
  return in_b;
}

LATHE_FFT_INLINE void complex_impl(const FftPlan& plan, Complex* data, bool inverse, float* scratch) {
  const FftComplexTables& t = plan.complex_tables();
  const std::size_t n = plan.size();
  float* ar = scratch;
  float* ai = scratch + n;
  float* br = scratch + 2 * n;
  float* bi = scratch + 3 * n;
  const float sign = inverse ? -1.0f : 1.0f;  // conj as a multiplication by -1: exact, like negation
  for (std::size_t i = 0; i < n; ++i) {
    ar[i] = data[i].re;
    ai[i] = data[i].im * sign;
  }
  const bool in_b = run_passes(t, ar, ai, br, bi);
  const float* zr = in_b ? br : ar;
  const float* zi = in_b ? bi : ai;
  for (std::size_t i = 0; i < n; ++i) data[i] = Complex{zr[i], zi[i] * sign};
}

LATHE_FFT_INLINE void rforward_impl(const FftPlan& plan, const float* in, Complex* out, float* scratch) {
  const FftComplexTables& t = plan.half_tables();
  const std::size_t h = plan.size() / 2;
  float* ar = scratch;
  float* ai = scratch + h;
  float* br = scratch + 2 * h;
  float* bi = scratch + 3 * h;
  for (std::size_t m = 0; m < h; ++m) {
    ar[m] = in[2 * m];
    ai[m] = in[2 * m + 1];
  }
  const bool in_b = run_passes(t, ar, ai, br, bi);
  const float* __restrict zr = in_b ? br : ar;
  const float* __restrict zi = in_b ? bi : ai;
  const float* __restrict wr = plan.real_twiddles_re().data();
  const float* __restrict wi = plan.real_twiddles_im().data();
  kernels::rfft_post_edges(Complex{zr[0], zi[0]}, out[0], out[h]);
  for (std::size_t k = 1; k < h; ++k)
    out[k] = kernels::rfft_post(Complex{zr[k], zi[k]}, Complex{zr[h - k], zi[h - k]}, Complex{wr[k], wi[k]});
}

LATHE_FFT_INLINE void rinverse_impl(const FftPlan& plan, const Complex* in, float* out, float* scratch) {
  const FftComplexTables& t = plan.half_tables();
  const std::size_t h = plan.size() / 2;
  float* ar = scratch;
  float* ai = scratch + h;
  float* br = scratch + 2 * h;
  float* bi = scratch + 3 * h;
  const float* __restrict wr = plan.real_twiddles_re().data();
  const float* __restrict wi = plan.real_twiddles_im().data();
  for (std::size_t k = 0; k < h; ++k) {
    const Complex z = kernels::rfft_pre(in[k], in[h - k], Complex{wr[k], wi[k]});
    ar[k] = z.re;
    ai[k] = -z.im;
  }
  const bool in_b = run_passes(t, ar, ai, br, bi);
  const float* __restrict zr = in_b ? br : ar;
  const float* __restrict zi = in_b ? bi : ai;
  for (std::size_t m = 0; m < h; ++m) {
    out[2 * m] = zr[m];
    out[2 * m + 1] = zi[m] * -1.0f;  // as the CUDA engine's sign_out
  }
}

// Baseline (SSE2) and AVX2 (without FMA) compilations of the same code.
void complex_sse2(const FftPlan& p, Complex* d, bool inv, float* s) { complex_impl(p, d, inv, s); }
void rforward_sse2(const FftPlan& p, const float* in, Complex* out, float* s) { rforward_impl(p, in, out, s); }
void rinverse_sse2(const FftPlan& p, const Complex* in, float* out, float* s) { rinverse_impl(p, in, out, s); }

#if defined(LATHE_HAVE_AVX2_PATHS)
__attribute__((target("avx2"))) void complex_avx2(const FftPlan& p, Complex* d, bool inv, float* s) {
  complex_impl(p, d, inv, s);
}
__attribute__((target("avx2"))) void rforward_avx2(const FftPlan& p, const float* in, Complex* out, float* s) {
  rforward_impl(p, in, out, s);
}
__attribute__((target("avx2"))) void rinverse_avx2(const FftPlan& p, const Complex* in, float* out, float* s) {
  rinverse_impl(p, in, out, s);
}
#endif

}  // namespace

FftPlan::FftPlan(int log2n) : log2n_(log2n), n_(std::size_t{1} << (log2n > 0 ? log2n : 0)) {
  if (log2n < 1 || log2n > kernels::kFftMaxLog2)
    throw std::invalid_argument("lathe FFT: log2n must be in [1, " + std::to_string(kernels::kFftMaxLog2) +
                                "], got " + std::to_string(log2n));
  full_ = make_complex_tables(log2n);
  half_ = make_complex_tables(log2n - 1);
  const std::size_t h = n_ / 2;
  real_re_.resize(h);
  real_im_.resize(h);
  real_.resize(h);
  for (std::size_t k = 0; k < h; ++k) {
    const auto w = twiddle(static_cast<long long>(k), static_cast<long long>(n_));
    real_re_[k] = static_cast<float>(w[0]);
    real_im_[k] = static_cast<float>(w[1]);
    real_[k] = Complex{real_re_[k], real_im_[k]};
  }
}

std::shared_ptr<const FftPlan> FftPlan::get(int log2n) {
  if (log2n < 1 || log2n > kernels::kFftMaxLog2)
    throw std::invalid_argument("lathe FFT: log2n must be in [1, " + std::to_string(kernels::kFftMaxLog2) +
                                "], got " + std::to_string(log2n));
  static std::mutex mutex;
  static std::shared_ptr<const FftPlan> cache[kernels::kFftMaxLog2 + 1];
  const std::lock_guard<std::mutex> lock(mutex);
  auto& slot = cache[log2n];
  if (!slot) slot = std::make_shared<const FftPlan>(log2n);
  return slot;
}

void fft_complex(const FftPlan& plan, Complex* data, bool inverse, float* scratch) {
#if defined(LATHE_HAVE_AVX2_PATHS)
  if (cpu_has_avx2()) return complex_avx2(plan, data, inverse, scratch);
#endif
  complex_sse2(plan, data, inverse, scratch);
}

void rfft_forward(const FftPlan& plan, const float* in, Complex* out, float* scratch) {
#if defined(LATHE_HAVE_AVX2_PATHS)
  if (cpu_has_avx2()) return rforward_avx2(plan, in, out, scratch);
#endif
  rforward_sse2(plan, in, out, scratch);
}

void rfft_inverse(const FftPlan& plan, const Complex* in, float* out, float* scratch) {
#if defined(LATHE_HAVE_AVX2_PATHS)
  if (cpu_has_avx2()) return rinverse_avx2(plan, in, out, scratch);
#endif
  rinverse_sse2(plan, in, out, scratch);
}

namespace {

template <typename F>
void for_each_transform(const FftPlan& plan, std::size_t count, F&& f) {
  tbb::enumerable_thread_specific<std::vector<float>> scratch(
      [&] { return std::vector<float>(plan.scratch_floats()); });
  const std::size_t grain = std::max<std::size_t>(1, (std::size_t{1} << 14) / plan.size());
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, count, grain), [&](const tbb::blocked_range<std::size_t>& r) {
    float* s = scratch.local().data();
    for (std::size_t b = r.begin(); b != r.end(); ++b) f(b, s);
  });
}

}  // namespace

void rfft_forward_batch(const FftPlan& plan, const float* in, std::size_t in_stride, Complex* out,
                        std::size_t out_stride, std::size_t count) {
  for_each_transform(plan, count,
                     [&](std::size_t b, float* s) { rfft_forward(plan, in + b * in_stride, out + b * out_stride, s); });
}

void rfft_inverse_batch(const FftPlan& plan, const Complex* in, std::size_t in_stride, float* out,
                        std::size_t out_stride, std::size_t count) {
  for_each_transform(plan, count,
                     [&](std::size_t b, float* s) { rfft_inverse(plan, in + b * in_stride, out + b * out_stride, s); });
}

void fft_complex_batch(const FftPlan& plan, Complex* data, std::size_t stride, std::size_t count, bool inverse) {
  for_each_transform(plan, count, [&](std::size_t b, float* s) { fft_complex(plan, data + b * stride, inverse, s); });
}

}  // namespace lathe::host::dsp
