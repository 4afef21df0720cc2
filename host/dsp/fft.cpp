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
#include <mutex>
#include <stdexcept>
#include <string>

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

// ---- passes on split planes ------------------------------------------------------------------------------

// One row of a twiddled radix-4 pass: k = 0..ns-1. Separate __restrict parameters (kept through inlining) let the
// compiler vectorise without aliasing checks between the four outputs.
#define LATHE_R __restrict
LATHE_FFT_INLINE void pass4_row(const float* LATHE_R s0r, const float* LATHE_R s0i, const float* LATHE_R s1r,
                                const float* LATHE_R s1i, const float* LATHE_R s2r, const float* LATHE_R s2i,
                                const float* LATHE_R s3r, const float* LATHE_R s3i, const float* LATHE_R w1r,
                                const float* LATHE_R w1i, const float* LATHE_R w2r, const float* LATHE_R w2i,
                                const float* LATHE_R w3r, const float* LATHE_R w3i, float* LATHE_R o0r,
                                float* LATHE_R o0i, float* LATHE_R o1r, float* LATHE_R o1i, float* LATHE_R o2r,
                                float* LATHE_R o2i, float* LATHE_R o3r, float* LATHE_R o3i, std::size_t ns) {
  for (std::size_t k = 0; k < ns; ++k) {
    Complex a[4] = {{s0r[k], s0i[k]}, {s1r[k], s1i[k]}, {s2r[k], s2i[k]}, {s3r[k], s3i[k]}};
    const Complex w[3] = {{w1r[k], w1i[k]}, {w2r[k], w2i[k]}, {w3r[k], w3i[k]}};
    kernels::fft_butterfly4(a, w, true);
    o0r[k] = a[0].re;
    o0i[k] = a[0].im;
    o1r[k] = a[1].re;
    o1i[k] = a[1].im;
    o2r[k] = a[2].re;
    o2i[k] = a[2].im;
    o3r[k] = a[3].re;
    o3i[k] = a[3].im;
  }
}
LATHE_FFT_INLINE void pass2_row(const float* LATHE_R s0r, const float* LATHE_R s0i, const float* LATHE_R s1r,
                                const float* LATHE_R s1i, const float* LATHE_R w1r, const float* LATHE_R w1i,
                                float* LATHE_R o0r, float* LATHE_R o0i, float* LATHE_R o1r, float* LATHE_R o1i,
                                std::size_t ns) {
  for (std::size_t k = 0; k < ns; ++k) {
    Complex a[2] = {{s0r[k], s0i[k]}, {s1r[k], s1i[k]}};
    const Complex w[1] = {{w1r[k], w1i[k]}};
    kernels::fft_butterfly2(a, w, true);
    o0r[k] = a[0].re;
    o0i[k] = a[0].im;
    o1r[k] = a[1].re;
    o1i[k] = a[1].im;
  }
}
#undef LATHE_R

LATHE_FFT_INLINE void pass2(const float* __restrict sr, const float* __restrict si, float* __restrict dr,
                            float* __restrict di, std::size_t n, std::size_t ns, const float* __restrict twr,
                            const float* __restrict twi) {
  const std::size_t q = n / 2;
  if (ns == 1) {
    for (std::size_t j = 0; j < q; ++j) {
      Complex a[2] = {{sr[j], si[j]}, {sr[j + q], si[j + q]}};
      kernels::fft_butterfly2(a, nullptr, false);
      dr[2 * j] = a[0].re;
      di[2 * j] = a[0].im;
      dr[2 * j + 1] = a[1].re;
      di[2 * j + 1] = a[1].im;
    }
    return;
  }
  for (std::size_t g = 0; g < q; g += ns)
    pass2_row(sr + g, si + g, sr + g + q, si + g + q, twr, twi, dr + 2 * g, di + 2 * g, dr + 2 * g + ns,
              di + 2 * g + ns, ns);
}

LATHE_FFT_INLINE void pass4(const float* __restrict sr, const float* __restrict si, float* __restrict dr,
                            float* __restrict di, std::size_t n, std::size_t ns, const float* __restrict twr,
                            const float* __restrict twi) {
  const std::size_t q = n / 4;
  if (ns == 1) {
    for (std::size_t j = 0; j < q; ++j) {
      Complex a[4] = {{sr[j], si[j]}, {sr[j + q], si[j + q]}, {sr[j + 2 * q], si[j + 2 * q]},
                      {sr[j + 3 * q], si[j + 3 * q]}};
      kernels::fft_butterfly4(a, nullptr, false);
      for (int r = 0; r < 4; ++r) {
        dr[4 * j + r] = a[r].re;
        di[4 * j + r] = a[r].im;
      }
    }
    return;
  }
  for (std::size_t g = 0; g < q; g += ns) {
    float* o_r = dr + 4 * g;
    float* o_i = di + 4 * g;
    pass4_row(sr + g, si + g, sr + g + q, si + g + q, sr + g + 2 * q, si + g + 2 * q, sr + g + 3 * q, si + g + 3 * q,
              twr, twi, twr + ns, twi + ns, twr + 2 * ns, twi + 2 * ns, o_r, o_i, o_r + ns, o_i + ns, o_r + 2 * ns,
              o_i + 2 * ns, o_r + 3 * ns, o_i + 3 * ns, ns);
  }
}

// All passes of a 2^log2n-point complex transform. Input in planes A (ar, ai); the planes B are the other
// buffer. Returns whether the result ended in B.
LATHE_FFT_INLINE bool run_passes(const FftComplexTables& t, float* ar, float* ai, float* br, float* bi) {
  const std::size_t n = std::size_t{1} << t.log2n;
  bool in_b = false;
  for (int p = 0; p < kernels::fft_pass_count(t.log2n); ++p) {
    const kernels::FftPass pass = kernels::fft_pass(t.log2n, p);
    const float* sr = in_b ? br : ar;
    const float* si = in_b ? bi : ai;
    float* dr = in_b ? ar : br;
    float* di = in_b ? ai : bi;
    const auto ns = static_cast<std::size_t>(pass.span);
    const float* twr = t.re.data() + pass.twiddle_offset;
    const float* twi = t.im.data() + pass.twiddle_offset;
    if (pass.radix == 2)
      pass2(sr, si, dr, di, n, ns, twr, twi);
    else
      pass4(sr, si, dr, di, n, ns, twr, twi);
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

#if defined(__x86_64__) && defined(__GNUC__)
#define LATHE_FFT_HAVE_AVX2 1
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

bool use_avx2() {
#if defined(LATHE_FFT_HAVE_AVX2)
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return yes;
#else
  return false;
#endif
}

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
#if defined(LATHE_FFT_HAVE_AVX2)
  if (use_avx2()) return complex_avx2(plan, data, inverse, scratch);
#endif
  complex_sse2(plan, data, inverse, scratch);
}

void rfft_forward(const FftPlan& plan, const float* in, Complex* out, float* scratch) {
#if defined(LATHE_FFT_HAVE_AVX2)
  if (use_avx2()) return rforward_avx2(plan, in, out, scratch);
#endif
  rforward_sse2(plan, in, out, scratch);
}

void rfft_inverse(const FftPlan& plan, const Complex* in, float* out, float* scratch) {
#if defined(LATHE_FFT_HAVE_AVX2)
  if (use_avx2()) return rinverse_avx2(plan, in, out, scratch);
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
