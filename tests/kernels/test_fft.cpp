// lathe's deterministic FFT (kernels/fft.hpp, host/dsp/fft.hpp, kernels/cuda/fft.hpp): accuracy against FFTW in
// double, round trips, batch determinism, and bit-identity of the CUDA engine with the CPU engine.
#include <fftw3.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "host/dsp/fft.hpp"
#include "host/engine/engine.hpp"
#include "kernels/fft.hpp"

#ifdef LATHE_HAVE_CUDA
#include <cuda_runtime.h>

#include "kernels/cuda/fft.hpp"
#endif

namespace lathe::host::dsp {
namespace {

using kernels::Complex;

std::vector<float> random_floats(std::size_t count, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<Complex> random_complex(std::size_t count, std::uint32_t seed) {
  const std::vector<float> f = random_floats(2 * count, seed);
  std::vector<Complex> v(count);
  for (std::size_t i = 0; i < count; ++i) v[i] = Complex{f[2 * i], f[2 * i + 1]};
  return v;
}

// A Hermitian half spectrum: n/2+1 random bins with real DC and Nyquist.
std::vector<Complex> random_half_spectrum(std::size_t n, std::uint32_t seed) {
  std::vector<Complex> v = random_complex(n / 2 + 1, seed);
  v[0].im = 0.0f;
  v[n / 2].im = 0.0f;
  return v;
}

double rel_rms(const Complex* y, const fftw_complex* ref, std::size_t n) {
  double err = 0, norm = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double dr = y[i].re - ref[i][0], di = y[i].im - ref[i][1];
    err += dr * dr + di * di;
    norm += ref[i][0] * ref[i][0] + ref[i][1] * ref[i][1];
  }
  return std::sqrt(err / norm);
}

double rel_rms(const float* y, const double* ref, std::size_t n) {
  double err = 0, norm = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = y[i] - ref[i];
    err += d * d;
    norm += ref[i] * ref[i];
  }
  return std::sqrt(err / norm);
}

struct Errors {
  double complex_forward, complex_inverse, real_forward, real_inverse;
};

Errors measure(int log2n) {
  const auto plan = FftPlan::get(log2n);
  const std::size_t n = plan->size();
  const std::size_t h = n / 2;
  std::vector<float> scratch(plan->scratch_floats());
  auto* ci = static_cast<fftw_complex*>(fftw_malloc(sizeof(fftw_complex) * n));
  auto* co = static_cast<fftw_complex*>(fftw_malloc(sizeof(fftw_complex) * n));
  auto* ri = static_cast<double*>(fftw_malloc(sizeof(double) * n));
  Errors e{};

  for (const bool inverse : {false, true}) {
    std::vector<Complex> x = random_complex(n, 1000u + static_cast<std::uint32_t>(log2n) + (inverse ? 500u : 0u));
    for (std::size_t i = 0; i < n; ++i) {
      ci[i][0] = x[i].re;
      ci[i][1] = x[i].im;
    }
    fftw_plan p = fftw_plan_dft_1d(static_cast<int>(n), ci, co, inverse ? FFTW_BACKWARD : FFTW_FORWARD,
                                   FFTW_ESTIMATE);
    fftw_execute(p);
    fftw_destroy_plan(p);
    fft_complex(*plan, x.data(), inverse, scratch.data());
    (inverse ? e.complex_inverse : e.complex_forward) = rel_rms(x.data(), co, n);
  }

  {  // real forward
    const std::vector<float> x = random_floats(n, 2000u + static_cast<std::uint32_t>(log2n));
    for (std::size_t i = 0; i < n; ++i) ri[i] = x[i];
    fftw_plan p = fftw_plan_dft_r2c_1d(static_cast<int>(n), ri, co, FFTW_ESTIMATE);
    fftw_execute(p);
    fftw_destroy_plan(p);
    std::vector<Complex> y(h + 1);
    rfft_forward(*plan, x.data(), y.data(), scratch.data());
    e.real_forward = rel_rms(y.data(), co, h + 1);
  }
  {  // real inverse
    const std::vector<Complex> X = random_half_spectrum(n, 3000u + static_cast<std::uint32_t>(log2n));
    for (std::size_t k = 0; k <= h; ++k) {
      ci[k][0] = X[k].re;
      ci[k][1] = X[k].im;
    }
    fftw_plan p = fftw_plan_dft_c2r_1d(static_cast<int>(n), ci, ri, FFTW_ESTIMATE);
    fftw_execute(p);
    fftw_destroy_plan(p);
    std::vector<float> y(n);
    rfft_inverse(*plan, X.data(), y.data(), scratch.data());
    e.real_inverse = rel_rms(y.data(), ri, n);
  }
  fftw_free(ci);
  fftw_free(co);
  fftw_free(ri);
  return e;
}

TEST(Fft, PlanIsCachedAndValidated) {
  EXPECT_EQ(FftPlan::get(10).get(), FftPlan::get(10).get());
  EXPECT_EQ(FftPlan::get(10)->size(), 1024u);
  EXPECT_GE(FftPlan::get(10)->scratch_floats(), 4u * 1024u);
  EXPECT_THROW(FftPlan::get(0), std::invalid_argument);
  EXPECT_THROW(FftPlan::get(kernels::kFftMaxLog2 + 1), std::invalid_argument);
}

TEST(Fft, PassStructureAndTwiddleTable) {
  for (int log2n = 1; log2n <= 12; ++log2n) {
    long long product = 1, entries = 0;
    for (int p = 0; p < kernels::fft_pass_count(log2n); ++p) {
      const kernels::FftPass pass = kernels::fft_pass(log2n, p);
      EXPECT_EQ(pass.span, product) << log2n << " " << p;
      EXPECT_EQ(pass.twiddle_offset, entries) << log2n << " " << p;
      EXPECT_TRUE(pass.radix == 4 || (pass.radix == 2 && p == 0));
      entries += (pass.radix - 1) * pass.span;
      product *= pass.radix;
    }
    EXPECT_EQ(product, 1LL << log2n);
    EXPECT_EQ(entries, kernels::fft_twiddle_count(log2n));
  }
  const auto plan = FftPlan::get(14);
  const FftComplexTables& t = plan->complex_tables();
  double worst = 0;
  for (int p = 0; p < kernels::fft_pass_count(14); ++p) {
    const kernels::FftPass pass = kernels::fft_pass(14, p);
    for (int r = 1; r < pass.radix; ++r) {
      for (long long k = 0; k < pass.span; ++k) {
        const auto i = static_cast<std::size_t>(pass.twiddle_offset + (r - 1) * pass.span + k);
        const double a = -2.0 * M_PI * static_cast<double>(r * k) / static_cast<double>(pass.span * pass.radix);
        worst = std::max({worst, std::fabs(t.re[i] - std::cos(a)), std::fabs(t.im[i] - std::sin(a))});
        const Complex split{t.re[i], t.im[i]};
        ASSERT_EQ(std::memcmp(&t.interleaved[i], &split, sizeof(Complex)), 0);
      }
    }
  }
  EXPECT_LT(worst, 6.0e-8);  // rounded to float once
}

TEST(Fft, ImpulseGivesExactlyFlatSpectrum) {
  for (int log2n : {1, 2, 5, 6, 9, 12}) {
    const auto plan = FftPlan::get(log2n);
    const std::size_t n = plan->size();
    std::vector<float> scratch(plan->scratch_floats());
    std::vector<Complex> x(n, Complex{0.0f, 0.0f});
    x[0] = Complex{1.0f, 0.0f};
    fft_complex(*plan, x.data(), false, scratch.data());
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(x[i].re, 1.0f) << n << " " << i;
      ASSERT_EQ(x[i].im, 0.0f) << n << " " << i;
    }
  }
}

TEST(Fft, AccuracyAgainstFftwDouble) {
  std::printf("  relative RMS error vs FFTW double (random input, seeded)\n");
  std::printf("  %-6s %12s %12s %12s %12s\n", "n", "c2c fwd", "c2c inv", "r2c", "c2r");
  for (int log2n = 1; log2n <= kernels::kFftMaxLog2; ++log2n) {
    const Errors e = measure(log2n);
    std::printf("  2^%-4d %12.3e %12.3e %12.3e %12.3e\n", log2n, e.complex_forward, e.complex_inverse,
                e.real_forward, e.real_inverse);
    const double limit = log2n <= 16 ? 1.0e-6 : (log2n <= 20 ? 3.0e-6 : 4.0e-6);
    EXPECT_LE(e.complex_forward, limit) << "2^" << log2n;
    EXPECT_LE(e.complex_inverse, limit) << "2^" << log2n;
    EXPECT_LE(e.real_forward, limit) << "2^" << log2n;
    EXPECT_LE(e.real_inverse, limit) << "2^" << log2n;
  }
}

TEST(Fft, InverseOfForwardIsNTimesInput) {
  for (int log2n : {1, 2, 3, 5, 6, 11, 12, 13, 16, 20}) {
    const auto plan = FftPlan::get(log2n);
    const std::size_t n = plan->size();
    std::vector<float> scratch(plan->scratch_floats());
    const std::vector<float> x = random_floats(n, 77u + static_cast<std::uint32_t>(log2n));
    std::vector<Complex> X(n / 2 + 1);
    std::vector<float> y(n);
    rfft_forward(*plan, x.data(), X.data(), scratch.data());
    rfft_inverse(*plan, X.data(), y.data(), scratch.data());
    double err = 0, norm = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double d = static_cast<double>(y[i]) / static_cast<double>(n) - x[i];
      err += d * d;
      norm += static_cast<double>(x[i]) * x[i];
    }
    EXPECT_LE(std::sqrt(err / norm), 5.0e-6) << "real 2^" << log2n;

    const std::vector<Complex> z = random_complex(n, 88u + static_cast<std::uint32_t>(log2n));
    std::vector<Complex> w = z;
    fft_complex(*plan, w.data(), false, scratch.data());
    fft_complex(*plan, w.data(), true, scratch.data());
    err = norm = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double dr = static_cast<double>(w[i].re) / static_cast<double>(n) - z[i].re;
      const double di = static_cast<double>(w[i].im) / static_cast<double>(n) - z[i].im;
      err += dr * dr + di * di;
      norm += static_cast<double>(z[i].re) * z[i].re + static_cast<double>(z[i].im) * z[i].im;
    }
    EXPECT_LE(std::sqrt(err / norm), 5.0e-6) << "complex 2^" << log2n;
  }
}

// The expected results of a batch: each transform computed alone.
struct Singles {
  std::vector<Complex> rfwd;   // count x (h + 1 + pad)
  std::vector<float> rinv;     // count x (n + pad)
  std::vector<Complex> cfwd;   // count x (n + pad)
  std::vector<Complex> cinv;
};

struct BatchInput {
  std::size_t n, count, real_stride, bins_stride, complex_stride;
  std::vector<float> reals;
  std::vector<Complex> bins;
  std::vector<Complex> complex;
};

BatchInput make_batch_input(int log2n, std::size_t count) {
  BatchInput in;
  in.n = std::size_t{1} << log2n;
  in.count = count;
  in.real_stride = in.n + 2;        // padded (even: the GPU reads real data as complex pairs)
  in.bins_stride = in.n / 2 + 3;
  in.complex_stride = in.n + 1;
  in.reals = random_floats(in.real_stride * count, 11u + static_cast<std::uint32_t>(log2n));
  in.bins = random_complex(in.bins_stride * count, 12u + static_cast<std::uint32_t>(log2n));
  in.complex = random_complex(in.complex_stride * count, 13u + static_cast<std::uint32_t>(log2n));
  return in;
}

Singles compute_singles(const FftPlan& plan, const BatchInput& in) {
  Singles s;
  const std::size_t n = in.n;
  s.rfwd.assign(in.bins_stride * in.count, Complex{-7.0f, -7.0f});
  s.rinv.assign(in.real_stride * in.count, -7.0f);
  s.cfwd = in.complex;
  s.cinv = in.complex;
  std::vector<float> scratch(plan.scratch_floats());
  for (std::size_t b = 0; b < in.count; ++b) {
    rfft_forward(plan, in.reals.data() + b * in.real_stride, s.rfwd.data() + b * in.bins_stride, scratch.data());
    rfft_inverse(plan, in.bins.data() + b * in.bins_stride, s.rinv.data() + b * in.real_stride, scratch.data());
    fft_complex(plan, s.cfwd.data() + b * in.complex_stride, false, scratch.data());
    fft_complex(plan, s.cinv.data() + b * in.complex_stride, true, scratch.data());
  }
  (void)n;
  return s;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

TEST(Fft, BatchIsBitIdenticalToSingleCallsForAnyBatchSize) {
  for (int log2n : {1, 3, 6, 7, 12, 14}) {
    const auto plan = FftPlan::get(log2n);
    const BatchInput in = make_batch_input(log2n, 9);
    const Singles s = compute_singles(*plan, in);
    for (std::size_t count : {std::size_t{1}, std::size_t{4}, std::size_t{9}}) {
      std::vector<Complex> rfwd(in.bins_stride * in.count, Complex{-7.0f, -7.0f});
      std::vector<float> rinv(in.real_stride * in.count, -7.0f);
      std::vector<Complex> cfwd = in.complex, cinv = in.complex;
      rfft_forward_batch(*plan, in.reals.data(), in.real_stride, rfwd.data(), in.bins_stride, count);
      rfft_inverse_batch(*plan, in.bins.data(), in.bins_stride, rinv.data(), in.real_stride, count);
      fft_complex_batch(*plan, cfwd.data(), in.complex_stride, count, false);
      fft_complex_batch(*plan, cinv.data(), in.complex_stride, count, true);
      const std::size_t rb = count * in.bins_stride, rr = count * in.real_stride, cc = count * in.complex_stride;
      EXPECT_EQ(std::memcmp(rfwd.data(), s.rfwd.data(), rb * sizeof(Complex)), 0) << log2n << " " << count;
      EXPECT_EQ(std::memcmp(rinv.data(), s.rinv.data(), rr * sizeof(float)), 0) << log2n << " " << count;
      EXPECT_EQ(std::memcmp(cfwd.data(), s.cfwd.data(), cc * sizeof(Complex)), 0) << log2n << " " << count;
      EXPECT_EQ(std::memcmp(cinv.data(), s.cinv.data(), cc * sizeof(Complex)), 0) << log2n << " " << count;
    }
  }
}

// The CUDA engine's decomposition (kernels/fft.hpp phases, steps of two passes in registers, mirror-paired
// columns with the real pre/post-processing fused into the first/last phase), emulated on the host block by
// block with the same index functions and butterflies. It must reproduce the CPU engine's bits; the GPU test
// below then checks the device mapping itself.
enum class Emu { kComplex, kRealForward, kRealInverse };

// One step (kernels/fft.hpp) on a column y of P points, in place (all reads before all writes, like the GPU).
void emulate_step(const kernels::FftPhase& ph, const Complex* tw, long long cc, int step, std::vector<Complex>& y) {
  const long long P = 1LL << ph.log2p;
  const int R1 = kernels::fft_step_radix1(ph.log2p, step);
  const int R2 = kernels::fft_step_radix2(ph.log2p, step);
  int p1 = ph.first_pass;
  for (int s = 0; s < step; ++s) p1 += kernels::fft_step_radix2(ph.log2p, s) == 1 ? 1 : 2;
  const kernels::FftPass ps1 = kernels::fft_pass(ph.log2n, p1);
  EXPECT_EQ(ps1.radix, R1);
  const long long ns1 = ps1.span >> ph.log2q0;
  const long long V = R1 * R2, gpc = P / V;
  std::vector<Complex> out(y.size());
  for (long long g = 0; g < gpc; ++g) {
    Complex v[16];
    for (int m = 0; m < R2; ++m)
      for (int r = 0; r < R1; ++r) v[m * R1 + r] = y[static_cast<std::size_t>(g + m * gpc + r * (P / R1))];
    for (int m = 0; m < R2; ++m) {
      Complex w[3];
      if (ps1.span > 1) {
        const long long t1 = kernels::fft_phase_twiddle(ph, ps1, cc, g + m * gpc);
        for (int r = 1; r < R1; ++r) w[r - 1] = tw[t1 + (r - 1) * ps1.span];
      }
      if (R1 == 2)
        kernels::fft_butterfly2(&v[m * R1], w, ps1.span > 1);
      else
        kernels::fft_butterfly4(&v[m * R1], w, ps1.span > 1);
    }
    if (R2 == 1) {
      for (int r = 0; r < R1; ++r) out[static_cast<std::size_t>(kernels::fft_dst_index(g, ns1, R1, r))] = v[r];
      continue;
    }
    const kernels::FftPass ps2 = kernels::fft_pass(ph.log2n, p1 + 1);
    EXPECT_EQ(ps2.radix, R2);
    EXPECT_LE(ns1 * V, P);
    const long long ns2 = ps2.span >> ph.log2q0;
    for (int r = 0; r < R1; ++r) {
      const long long j2 = kernels::fft_dst_index(g, ns1, R1, r);
      Complex b[4], w[3];
      for (int m = 0; m < R2; ++m) b[m] = v[m * R1 + r];
      const long long t1 = kernels::fft_phase_twiddle(ph, ps2, cc, j2);
      for (int m = 1; m < R2; ++m) w[m - 1] = tw[t1 + (m - 1) * ps2.span];
      kernels::fft_butterfly4(b, w, true);
      for (int r2 = 0; r2 < R2; ++r2) out[static_cast<std::size_t>(kernels::fft_dst_index(j2, ns2, R2, r2))] = b[r2];
    }
  }
  y.swap(out);
}

// One transform of 2^L complex points through the phases, block by block (single_max: the device's one-phase
// limit, multi_tl: the tile of multi-phase blocks). kRealInverse reads h+1 bins and fuses the pre-processing
// into the first phase; kRealForward fuses the post-processing into the last phase and returns h+1 bins.
std::vector<Complex> emulate_phases(int L, const Complex* tw, const Complex* rtw, std::vector<Complex> cur, Emu mode,
                                    int single_max, int multi_tl) {
  const long long n = 1LL << L;
  const int phases = kernels::fft_phase_count(L, single_max);
  for (int i = 0; i < phases; ++i) {
    const kernels::FftPhase ph = kernels::fft_phase(L, i, single_max);
    EXPECT_TRUE(ph.log2p >= 1 || L == 0);
    const bool first = i == 0, last = i + 1 == phases;
    const bool pre = first && mode == Emu::kRealInverse;
    const bool post = last && mode == Emu::kRealForward;
    const int tl = phases == 1 ? std::max(kernels::kFftTileLog2, L) : multi_tl;
    EXPECT_LE(ph.log2p, tl);
    const long long P = 1LL << ph.log2p;
    const long long C = (1LL << tl) / P;
    const long long cols = n / P;
    const bool mirror = phases > 1 && (pre || post);
    if (mirror) {
      EXPECT_GE(cols, 2 * C);
    }
    std::vector<Complex> out(static_cast<std::size_t>(post ? n + 1 : n));
    const long long blocks = (cols + C - 1) / C;
    for (long long blk = 0; blk < blocks; ++blk) {
      std::vector<std::vector<Complex>> tile(static_cast<std::size_t>(C));
      std::vector<long long> col(static_cast<std::size_t>(C), -1);
      for (long long c = 0; c < C; ++c) {
        const long long cc = mirror ? kernels::fft_mirror_slot_column(cols, static_cast<int>(C), blk, static_cast<int>(c))
                                    : blk * C + c;
        if (cc >= cols) continue;
        col[static_cast<std::size_t>(c)] = cc;
        std::vector<Complex>& y = tile[static_cast<std::size_t>(c)];
        y.resize(static_cast<std::size_t>(P));
        for (long long l = 0; l < P; ++l) {
          const long long k = kernels::fft_phase_src(ph, cc, l);
          if (pre) {
            const Complex z = kernels::rfft_pre(cur[static_cast<std::size_t>(k)], cur[static_cast<std::size_t>(n - k)],
                                                rtw[k]);
            y[static_cast<std::size_t>(l)] = Complex{z.re, -z.im};
          } else {
            y[static_cast<std::size_t>(l)] = cur[static_cast<std::size_t>(k)];
          }
        }
        for (int s = 0; s < kernels::fft_step_count(ph.log2p); ++s) emulate_step(ph, tw, cc, s, y);
      }
      for (long long c = 0; c < C; ++c) {
        const long long cc = col[static_cast<std::size_t>(c)];
        if (cc < 0) continue;
        for (long long l = 0; l < P; ++l) {
          const long long k = kernels::fft_phase_dst(ph, cc, l);
          const Complex v = tile[static_cast<std::size_t>(c)][static_cast<std::size_t>(l)];
          if (!post) {
            out[static_cast<std::size_t>(k)] = v;
          } else if (k == 0) {
            kernels::rfft_post_edges(v, out[0], out[static_cast<std::size_t>(n)]);
          } else {
            const long long q0 = 1LL << ph.log2q0;
            const long long q = cc & (q0 - 1);
            const long long pq = kernels::fft_real_partner_column(q0, q);
            const long long pc = pq == q ? c : (c < C / 2 ? c + C / 2 : c - C / 2);
            const long long pl = kernels::fft_real_partner_point(P, q, l);
            EXPECT_EQ(col[static_cast<std::size_t>(pc)], pq);  // the partner is in the block
            EXPECT_EQ(kernels::fft_phase_dst(ph, pq, pl), n - k);
            out[static_cast<std::size_t>(k)] =
                kernels::rfft_post(v, tile[static_cast<std::size_t>(pc)][static_cast<std::size_t>(pl)], rtw[k]);
          }
        }
      }
    }
    cur.swap(out);
  }
  return cur;
}

TEST(Fft, DevicePhaseDecompositionEmulatedOnHostIsBitIdentical) {
  // (single-phase limit, multi-phase tile) pairs the CUDA engine may pick from the device's shared memory.
  const int configs[][2] = {{14, 13}, {13, 12}, {12, 12}};
  for (int log2n = 1; log2n <= kernels::kFftMaxLog2; ++log2n) {
    const auto plan = FftPlan::get(log2n);
    const std::size_t n = plan->size(), h = n / 2;
    std::vector<float> scratch(plan->scratch_floats());
    const Complex* rtw = plan->real_twiddles().data();
    for (const auto& cfg : configs) {
      if (log2n > 16 && cfg[0] != 14) continue;  // large sizes: the phases do not depend on the limit
      const int single_max = cfg[0], multi_tl = cfg[1];
      for (const bool inverse : {false, true}) {  // complex: conj on load and store
        const std::vector<Complex> x = random_complex(n, 500u + static_cast<std::uint32_t>(log2n));
        std::vector<Complex> ref = x;
        fft_complex(*plan, ref.data(), inverse, scratch.data());
        const float sign = inverse ? -1.0f : 1.0f;
        std::vector<Complex> in(n);
        for (std::size_t i = 0; i < n; ++i) in[i] = Complex{x[i].re, x[i].im * sign};
        std::vector<Complex> y = emulate_phases(log2n, plan->complex_tables().interleaved.data(), rtw, in,
                                                Emu::kComplex, single_max, multi_tl);
        for (Complex& v : y) v.im = v.im * sign;
        EXPECT_TRUE(same_bits(y, ref)) << "complex 2^" << log2n << (inverse ? " inverse" : " forward") << " limit "
                                       << single_max;
      }
      {  // real forward: half-length phases, the post-processing fused into the last phase
        const std::vector<float> x = random_floats(n, 600u + static_cast<std::uint32_t>(log2n));
        std::vector<Complex> ref(h + 1);
        rfft_forward(*plan, x.data(), ref.data(), scratch.data());
        std::vector<Complex> z(h);
        for (std::size_t m = 0; m < h; ++m) z[m] = Complex{x[2 * m], x[2 * m + 1]};
        const std::vector<Complex> X = emulate_phases(log2n - 1, plan->half_tables().interleaved.data(), rtw, z,
                                                      Emu::kRealForward, single_max, multi_tl);
        EXPECT_TRUE(same_bits(X, ref)) << "r2c 2^" << log2n << " limit " << single_max;
      }
      {  // real inverse: the pre-processing and conj fused into the first phase, conj into reals
        const std::vector<Complex> X = random_complex(h + 1, 700u + static_cast<std::uint32_t>(log2n));
        std::vector<float> ref(n);
        rfft_inverse(*plan, X.data(), ref.data(), scratch.data());
        const std::vector<Complex> y = emulate_phases(log2n - 1, plan->half_tables().interleaved.data(), rtw, X,
                                                      Emu::kRealInverse, single_max, multi_tl);
        std::vector<float> out(n);
        for (std::size_t m = 0; m < h; ++m) {
          out[2 * m] = y[m].re;
          out[2 * m + 1] = y[m].im * -1.0f;
        }
        EXPECT_TRUE(same_bits(out, ref)) << "c2r 2^" << log2n << " limit " << single_max;
      }
    }
  }
}

#ifdef LATHE_HAVE_CUDA
template <class T>
struct DeviceArray {
  T* ptr = nullptr;
  explicit DeviceArray(const std::vector<T>& host) {
    EXPECT_EQ(cudaMalloc(reinterpret_cast<void**>(&ptr), host.size() * sizeof(T)), cudaSuccess);
    EXPECT_EQ(cudaMemcpy(ptr, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice), cudaSuccess);
  }
  ~DeviceArray() { cudaFree(ptr); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  std::vector<T> download(std::size_t count) const {
    std::vector<T> host(count);
    EXPECT_EQ(cudaMemcpy(host.data(), ptr, count * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
    return host;
  }
};

template <class T>
std::string first_difference(const std::vector<T>& a, const std::vector<T>& b) {
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(T)) != 0) return "first difference at element " + std::to_string(i);
  return a.size() == b.size() ? "" : "sizes differ";
}
#endif

TEST(FftGpu, BitIdenticalToCpu) {
  if (const std::string why = gpu_unavailable_reason(); !why.empty()) {
    GTEST_SKIP() << why;
  }
#ifndef LATHE_HAVE_CUDA
  GTEST_SKIP() << "built without CUDA";
#else
  namespace kc = kernels::cuda;
  for (int log2n = 1; log2n <= kernels::kFftMaxLog2; ++log2n) {
    const auto plan = FftPlan::get(log2n);
    // Batches > 1 that do not fill the last block of transforms; > 2^22 points at 2^20 and 2^21 (several chunks).
    const std::size_t count = std::max<std::size_t>(3, (std::size_t{1} << 20 >> log2n) + 3);
    const BatchInput in = make_batch_input(log2n, count);
    const Singles s = compute_singles(*plan, in);
    std::unique_ptr<kc::DeviceFft> fft = kc::make_device_fft(*plan);
    ASSERT_EQ(fft->size(), plan->size());

    DeviceArray<float> reals(in.reals);
    DeviceArray<Complex> bins(in.bins);
    DeviceArray<Complex> cfwd(in.complex), cinv(in.complex);
    DeviceArray<Complex> rfwd(std::vector<Complex>(in.bins_stride * count, Complex{-7.0f, -7.0f}));
    DeviceArray<float> rinv(std::vector<float>(in.real_stride * count, -7.0f));
    ASSERT_EQ(kc::rfft_forward(*fft, reals.ptr, in.real_stride, rfwd.ptr, in.bins_stride, count, nullptr), 0);
    ASSERT_EQ(kc::rfft_inverse(*fft, bins.ptr, in.bins_stride, rinv.ptr, in.real_stride, count, nullptr), 0);
    ASSERT_EQ(kc::fft_complex(*fft, cfwd.ptr, in.complex_stride, count, false, nullptr), 0);
    ASSERT_EQ(kc::fft_complex(*fft, cinv.ptr, in.complex_stride, count, true, nullptr), 0);
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    const auto g_rfwd = rfwd.download(s.rfwd.size());
    const auto g_rinv = rinv.download(s.rinv.size());
    const auto g_cfwd = cfwd.download(s.cfwd.size());
    const auto g_cinv = cinv.download(s.cinv.size());
    EXPECT_TRUE(same_bits(g_rfwd, s.rfwd)) << "r2c 2^" << log2n << ": " << first_difference(g_rfwd, s.rfwd);
    EXPECT_TRUE(same_bits(g_rinv, s.rinv)) << "c2r 2^" << log2n << ": " << first_difference(g_rinv, s.rinv);
    EXPECT_TRUE(same_bits(g_cfwd, s.cfwd)) << "c2c fwd 2^" << log2n << ": " << first_difference(g_cfwd, s.cfwd);
    EXPECT_TRUE(same_bits(g_cinv, s.cinv)) << "c2c inv 2^" << log2n << ": " << first_difference(g_cinv, s.cinv);
  }
#endif
}

}  // namespace
}  // namespace lathe::host::dsp
