// TrackMeter: drives kernels/meter.hpp on the CPU, then gates, windows and percentiles in double on the host.
// The choices (channel weights, windows, percentile, undefined results) are documented in meter.hpp's comments
// and README "Metering"; the short version sits next to each piece of code below.
#include "host/meter/meter.hpp"

#include <tbb/task_group.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "host/dsp/kaiser.hpp"
#include "host/engine/engine.hpp"
#include "host/meter/meter_jobs.hpp"
#include "host/util/cpu_features.hpp"
#include "kernels/meter.hpp"

#if defined(LATHE_HAVE_AVX2_PATHS)
#include <immintrin.h>
#endif

namespace lathe::host::meter {

namespace km = lathe::kernels::meter;

namespace {

constexpr double kPi = 3.14159265358979323846264338327950288;
constexpr double kLoudnessOffset = -0.691;
// Blocks / short-term values below -70 LUFS are gated out (compared as powers, like libebur128).
const double kAbsoluteGatePower = std::pow(10.0, (-70.0 - kLoudnessOffset) / 10.0);

double power_to_lufs(double p) { return kLoudnessOffset + 10.0 * std::log10(p); }

// ---- design (host, double) -----------------------------------------------------------------------------------
km::KWeightCoeffs design_kweighting(int rate_hz) {
  km::KWeightCoeffs k{};
  const double fs = static_cast<double>(rate_hz);
  {
    const double f0 = 1681.974450955533, g = 3.999843853973347, q = 0.7071752369554196;
    const double kk = std::tan(kPi * f0 / fs);
    const double vh = std::pow(10.0, g / 20.0);
    const double vb = std::pow(vh, 0.4996667741545416);
    const double a0 = 1.0 + kk / q + kk * kk;
    k.sb0 = (vh + vb * kk / q + kk * kk) / a0;
    k.sb1 = 2.0 * (kk * kk - vh) / a0;
    k.sb2 = (vh - vb * kk / q + kk * kk) / a0;
    k.sa1 = 2.0 * (kk * kk - 1.0) / a0;
    k.sa2 = (1.0 - kk / q + kk * kk) / a0;
  }
  {
    const double f0 = 38.13547087602444, q = 0.5003270373238773;
    const double kk = std::tan(kPi * f0 / fs);
    const double a0 = 1.0 + kk / q + kk * kk;
    k.ha1 = 2.0 * (kk * kk - 1.0) / a0;
    k.ha2 = (1.0 - kk / q + kk * kk) / a0;
  }
  return k;
}

// True-peak interpolator: a Kaiser-windowed sinc (beta 3, 32 taps per phase, cutoff at the input Nyquist
// frequency, so phase 0 is the sample itself), each phase normalised to unit DC gain, designed in double and
// rounded to float once.
constexpr int kTpTaps = 32;
constexpr double kTpBeta = 3.0;
constexpr double kTpCutoff = 1.0;

int oversampling_for(int rate_hz) { return rate_hz < 96000 ? 4 : (rate_hz < 192000 ? 2 : 1); }

km::TruePeakCoeffs design_true_peak(int rate_hz) {
  km::TruePeakCoeffs tc{};
  tc.factor = oversampling_for(rate_hz);
  tc.taps = kTpTaps;
  const double half = kTpTaps / 2.0;
  const double i0b = dsp::bessel_i0(kTpBeta);
  for (int p = 1; p < tc.factor; ++p) {
    double c[kTpTaps];
    double sum = 0.0;
    for (int k = 0; k < kTpTaps; ++k) {
      const double tau = static_cast<double>(p) / tc.factor - half + k;  // offset of x[i-k] from the point
      const double u = tau / half;
      const double w = std::abs(u) >= 1.0 ? 0.0 : dsp::bessel_i0(kTpBeta * std::sqrt(1.0 - u * u)) / i0b;
      const double s = std::sin(kPi * kTpCutoff * tau) / (kPi * tau);
      c[k] = s * w;
      sum += c[k];
    }
    double gain = 0.0;
    for (int k = 0; k < kTpTaps; ++k) {
      tc.c[(p - 1) * kTpTaps + k] = static_cast<float>(c[k] / sum);
      gain += std::abs(static_cast<double>(tc.c[(p - 1) * kTpTaps + k]));
    }
    tc.gain = std::max(tc.gain, static_cast<float>(gain * (1.0 + 1e-4)));
  }
  return tc;
}

// ---- per-sample kernels: baseline x86-64 (SSE2) and, selected at run time, AVX2 without FMA ------------------
// The same kernels/meter.hpp functions compiled twice (flatten inlines the whole call tree into each clone); the
// build has -ffp-contract=off and target("avx2") does not enable FMA, so both perform the same IEEE operations
// in the same order and give identical bits. Only the vector width differs.
void true_peak_segment_base(km::TruePeakState& st, const km::TruePeakCoeffs& tc, const float* x, std::int64_t n) {
  km::true_peak_segment(st, tc, x, n);
}
std::int64_t channel_segment_base(km::ChannelState& state, const km::KWeightCoeffs& k, const float* x,
                                  std::int64_t n, int rate_hz, bool loudness, double* bins_out) {
  return km::channel_segment(state, k, x, n, rate_hz, loudness, bins_out);
}
std::int64_t pair_segment_base(km::ChannelState& left, km::ChannelState& right, km::PairState& pair,
                               const km::KWeightCoeffs& k, const float* xl, const float* xr, std::int64_t n,
                               int rate_hz, double* bins_l, double* bins_r, double* cross_out) {
  return km::pair_segment(left, right, pair, k, xl, xr, n, rate_hz, bins_l, bins_r, cross_out);
}

#if defined(LATHE_HAVE_AVX2_PATHS)
// km::true_peak_run for factor 4 with AVX intrinsics: per output the same sum c[0]*w[j] + c[1]*w[j-1] + ...
// (multiply, then add, from 0.0f, in tap order), the same skip test and the same max / count updates, 8 lanes
// at a time. max_ps(a, b) is exactly `a > b ? a : b`; |v| clears the sign bit (the kernel's abs_f keeps -0.0,
// which no comparison here tells from +0.0). Other factors use the kernel's own loop.
__attribute__((target("avx2"))) inline float hmax_avx2(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
  m = _mm_max_ps(_mm_movehl_ps(m, m), m);
  m = _mm_max_ss(_mm_shuffle_ps(m, m, 1), m);
  return _mm_cvtss_f32(m);
}

__attribute__((target("avx2"))) void true_peak_run_avx2(const km::TruePeakCoeffs& tc, const float* w,
                                                         std::int64_t count, float& peak, std::uint64_t& overs) {
  if (tc.factor != 4) {
    km::true_peak_run(tc, w, count, peak, overs);
    return;
  }
  constexpr int kGroup = km::kTpGroup;
  const int taps = tc.taps;
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 one = _mm256_set1_ps(1.0f);
  __m256 pk0 = _mm256_setzero_ps(), pk1 = _mm256_setzero_ps();
  __m256i ov0 = _mm256_setzero_si256(), ov1 = _mm256_setzero_si256();
  const float* c1 = tc.c;
  const float* c2 = tc.c + taps;
  const float* c3 = tc.c + 2 * taps;
  float running = peak;
  std::int64_t i = 0;
  for (; i + kGroup <= count; i += kGroup) {
    __m256 lm0 = _mm256_setzero_ps(), lm1 = _mm256_setzero_ps();
    for (std::int64_t m = i - taps + 1;; m += kGroup) {
      const std::int64_t b = m + kGroup <= i + kGroup ? m : i;
      lm0 = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(w + b)), lm0);
      lm1 = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(w + b + 8)), lm1);
      if (b == i) break;
    }
    const float bound = hmax_avx2(_mm256_max_ps(lm1, lm0)) * tc.gain;
    if (bound <= running && bound <= 1.0f) continue;
    __m256 a10 = _mm256_setzero_ps(), a11 = _mm256_setzero_ps();
    __m256 a20 = _mm256_setzero_ps(), a21 = _mm256_setzero_ps();
    __m256 a30 = _mm256_setzero_ps(), a31 = _mm256_setzero_ps();
    for (int kk = 0; kk < taps; ++kk) {
      const float* src = w + i - kk;
      const __m256 s0 = _mm256_loadu_ps(src);
      const __m256 s1 = _mm256_loadu_ps(src + 8);
      const __m256 k1 = _mm256_set1_ps(c1[kk]);
      const __m256 k2 = _mm256_set1_ps(c2[kk]);
      const __m256 k3 = _mm256_set1_ps(c3[kk]);
      a10 = _mm256_add_ps(a10, _mm256_mul_ps(k1, s0));
      a11 = _mm256_add_ps(a11, _mm256_mul_ps(k1, s1));
      a20 = _mm256_add_ps(a20, _mm256_mul_ps(k2, s0));
      a21 = _mm256_add_ps(a21, _mm256_mul_ps(k2, s1));
      a30 = _mm256_add_ps(a30, _mm256_mul_ps(k3, s0));
      a31 = _mm256_add_ps(a31, _mm256_mul_ps(k3, s1));
    }
    const __m256 b10 = _mm256_andnot_ps(sign, a10), b11 = _mm256_andnot_ps(sign, a11);
    const __m256 b20 = _mm256_andnot_ps(sign, a20), b21 = _mm256_andnot_ps(sign, a21);
    const __m256 b30 = _mm256_andnot_ps(sign, a30), b31 = _mm256_andnot_ps(sign, a31);
    pk0 = _mm256_max_ps(b30, _mm256_max_ps(b20, _mm256_max_ps(b10, pk0)));
    pk1 = _mm256_max_ps(b31, _mm256_max_ps(b21, _mm256_max_ps(b11, pk1)));
    // A true comparison is all ones (-1): subtracting it counts one.
    ov0 = _mm256_sub_epi32(ov0, _mm256_castps_si256(_mm256_cmp_ps(b10, one, _CMP_GT_OQ)));
    ov0 = _mm256_sub_epi32(ov0, _mm256_castps_si256(_mm256_cmp_ps(b20, one, _CMP_GT_OQ)));
    ov0 = _mm256_sub_epi32(ov0, _mm256_castps_si256(_mm256_cmp_ps(b30, one, _CMP_GT_OQ)));
    ov1 = _mm256_sub_epi32(ov1, _mm256_castps_si256(_mm256_cmp_ps(b11, one, _CMP_GT_OQ)));
    ov1 = _mm256_sub_epi32(ov1, _mm256_castps_si256(_mm256_cmp_ps(b21, one, _CMP_GT_OQ)));
    ov1 = _mm256_sub_epi32(ov1, _mm256_castps_si256(_mm256_cmp_ps(b31, one, _CMP_GT_OQ)));
    const float g = hmax_avx2(_mm256_max_ps(pk1, pk0));
    running = g > running ? g : running;
  }
  alignas(32) float pk[kGroup];
  alignas(32) std::uint32_t ov[kGroup];
  _mm256_store_ps(pk, pk0);
  _mm256_store_ps(pk + 8, pk1);
  _mm256_store_si256(reinterpret_cast<__m256i*>(ov), ov0);
  _mm256_store_si256(reinterpret_cast<__m256i*>(ov + 8), ov1);
  km::true_peak_finish(tc, w, i, count, pk, ov, peak, overs);  // the kernel's own tail and merge
}

struct TruePeakRunAvx2 {
  __attribute__((target("avx2"))) void operator()(const km::TruePeakCoeffs& tc, const float* w, std::int64_t count,
                                                  float& peak, std::uint64_t& overs) const {
    true_peak_run_avx2(tc, w, count, peak, overs);
  }
};

__attribute__((target("avx2"))) void true_peak_segment_avx2(km::TruePeakState& st, const km::TruePeakCoeffs& tc,
                                                            const float* x, std::int64_t n) {
  km::true_peak_segment_with(st, tc, x, n, TruePeakRunAvx2{});
}
__attribute__((target("avx2"), flatten)) std::int64_t channel_segment_avx2(km::ChannelState& state,
                                                                           const km::KWeightCoeffs& k,
                                                                           const float* x, std::int64_t n,
                                                                           int rate_hz, bool loudness,
                                                                           double* bins_out) {
  return km::channel_segment(state, k, x, n, rate_hz, loudness, bins_out);
}
__attribute__((target("avx2"), flatten)) std::int64_t pair_segment_avx2(
    km::ChannelState& left, km::ChannelState& right, km::PairState& pair, const km::KWeightCoeffs& k,
    const float* xl, const float* xr, std::int64_t n, int rate_hz, double* bins_l, double* bins_r,
    double* cross_out) {
  return km::pair_segment(left, right, pair, k, xl, xr, n, rate_hz, bins_l, bins_r, cross_out);
}
#endif

void run_true_peak(km::TruePeakState& st, const km::TruePeakCoeffs& tc, const float* x, std::int64_t n) {
#if defined(LATHE_HAVE_AVX2_PATHS)
  if (cpu_has_avx2()) return true_peak_segment_avx2(st, tc, x, n);
#endif
  true_peak_segment_base(st, tc, x, n);
}
std::int64_t run_channel(km::ChannelState& state, const km::KWeightCoeffs& k, const float* x, std::int64_t n,
                             int rate_hz, bool loudness, double* bins_out) {
#if defined(LATHE_HAVE_AVX2_PATHS)
  if (cpu_has_avx2()) return channel_segment_avx2(state, k, x, n, rate_hz, loudness, bins_out);
#endif
  return channel_segment_base(state, k, x, n, rate_hz, loudness, bins_out);
}
std::int64_t run_pair(km::ChannelState& left, km::ChannelState& right, km::PairState& pair,
                          const km::KWeightCoeffs& k, const float* xl, const float* xr, std::int64_t n, int rate_hz,
                          double* bins_l, double* bins_r, double* cross_out) {
#if defined(LATHE_HAVE_AVX2_PATHS)
  if (cpu_has_avx2()) return pair_segment_avx2(left, right, pair, k, xl, xr, n, rate_hz, bins_l, bins_r, cross_out);
#endif
  return pair_segment_base(left, right, pair, k, xl, xr, n, rate_hz, bins_l, bins_r, cross_out);
}

// Channel weights by layout (WAV channel order). See meter.hpp / README "Metering".
std::vector<double> channel_weights(int channels) {
  switch (channels) {
    case 1: return {1.0};
    case 2: return {1.0, 1.0};
    case 3: return {1.0, 1.0, 1.0};                          // L R C
    case 4: return {1.0, 1.0, 1.41, 1.41};                   // L R Ls Rs
    case 5: return {1.0, 1.0, 1.0, 1.41, 1.41};              // L R C Ls Rs
    case 6: return {1.0, 1.0, 1.0, 0.0, 1.41, 1.41};         // L R C LFE Ls Rs
    case 7: return {1.0, 1.0, 1.0, 0.0, 1.41, 1.41, 1.41};   // L R C LFE Cs Ls Rs (6.1)
    case 8: return {1.0, 1.0, 1.0, 0.0, 1.41, 1.41, 1.41, 1.41};  // L R C LFE Lb Rb Ls Rs (7.1)
    default: return std::vector<double>(static_cast<std::size_t>(channels), 1.0);
  }
}

// Sum of w[a .. b) with the help of g (sums of aligned groups of 10): fixed order (head, groups, tail).
double window_sum(const std::vector<double>& w, const std::vector<double>& g, std::int64_t a, std::int64_t b) {
  double s = 0.0;
  std::int64_t i = a;
  while (i < b && i % 10 != 0) s += w[static_cast<std::size_t>(i++)];
  while (i + 10 <= b) {
    s += g[static_cast<std::size_t>(i / 10)];
    i += 10;
  }
  while (i < b) s += w[static_cast<std::size_t>(i++)];
  return s;
}

std::vector<double> group_sums(const std::vector<double>& w) {
  std::vector<double> g(w.size() / 10);
  for (std::size_t j = 0; j < g.size(); ++j) {
    double s = 0.0;
    for (std::size_t i = 0; i < 10; ++i) s += w[10 * j + i];
    g[j] = s;
  }
  return g;
}

// Window powers (mean square, weighted) of `len` bins at every `step` bins, starting at bin 0, full windows only.
std::vector<double> window_powers(const std::vector<double>& w, const std::vector<double>& g, int rate_hz,
                                  std::int64_t len, std::int64_t step) {
  std::vector<double> out;
  const auto nb = static_cast<std::int64_t>(w.size());
  for (std::int64_t a = 0; a + len <= nb; a += step) {
    const double n = static_cast<double>(km::bin_start(a + len, rate_hz) - km::bin_start(a, rate_hz));
    out.push_back(window_sum(w, g, a, a + len) / n);
  }
  return out;
}

std::optional<double> lufs_or_gate(double p) {
  if (!(p >= kAbsoluteGatePower)) return std::nullopt;
  return power_to_lufs(p);
}

double db_or_minus_inf(double linear) {
  return linear > 0.0 ? 20.0 * std::log10(linear) : -std::numeric_limits<double>::infinity();
}

}  // namespace

// ---- gating ------------------------------------------------------------------------------------------------------
std::optional<double> gated_loudness(std::span<const double> block_powers) {
  double sum = 0.0;
  std::size_t n = 0;
  for (double p : block_powers) {
    if (p >= kAbsoluteGatePower) {
      sum += p;
      ++n;
    }
  }
  if (n == 0) return std::nullopt;
  const double relative = sum / static_cast<double>(n) * 0.1;  // -10 LU
  double gsum = 0.0;
  std::size_t gn = 0;
  for (double p : block_powers) {
    if (p >= kAbsoluteGatePower && p >= relative) {
      gsum += p;
      ++gn;
    }
  }
  if (gn == 0) return std::nullopt;
  return power_to_lufs(gsum / static_cast<double>(gn));
}

// Tech 3342: absolute gate -70 LUFS, relative gate -20 LU below the power mean of what passed it, then the 10th
// and 95th percentiles by libebur128's nearest-rank rule: sorted values v[0..n), index (size_t)((n-1)*p + 0.5).
std::optional<double> loudness_range(std::span<const double> short_term_powers) {
  std::vector<double> v;
  v.reserve(short_term_powers.size());
  for (double p : short_term_powers)
    if (p >= kAbsoluteGatePower) v.push_back(p);
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  double sum = 0.0;
  for (double p : v) sum += p;
  const double relative = sum / static_cast<double>(v.size()) * 0.01;  // -20 LU
  const auto first = std::lower_bound(v.begin(), v.end(), relative);
  const auto n = static_cast<std::size_t>(v.end() - first);
  if (n < 2) return std::nullopt;
  const double lo = first[static_cast<std::size_t>(static_cast<double>(n - 1) * 0.10 + 0.5)];
  const double hi = first[static_cast<std::size_t>(static_cast<double>(n - 1) * 0.95 + 0.5)];
  return 10.0 * std::log10(hi / lo);
}

std::optional<double> album_integrated_lufs(std::span<const TrackReport> tracks) {
  std::vector<double> all;
  for (const auto& t : tracks) all.insert(all.end(), t.block_powers.begin(), t.block_powers.end());
  return gated_loudness(all);
}

std::optional<double> album_lra_lu(std::span<const TrackReport> tracks) {
  std::vector<double> all;
  for (const auto& t : tracks) all.insert(all.end(), t.short_term_powers.begin(), t.short_term_powers.end());
  return loudness_range(all);
}

// ---- TrackMeter --------------------------------------------------------------------------------------------------
struct TrackMeter::Impl {
  int rate = 0;
  int channels = 0;
  std::int64_t frames = 0;
  km::KWeightCoeffs kw{};
  km::TruePeakCoeffs tp{};
  std::vector<double> weights;
  std::vector<km::ChannelState> ch;
  std::vector<km::TruePeakState> tps;
  std::vector<std::uint64_t> nonfinite;
  std::vector<std::vector<double>> bins;  // per channel (empty for weight-0 channels)
  km::PairState pair{};
  std::vector<double> cross_bins;         // stereo: per-bin sum of K(L)*K(R)
  std::vector<std::vector<float>> scratch;  // sanitised copies, per channel
  std::int64_t pending = 0;               // frames of the segment prepared and not yet completed
  bool loudness_only = false;             // no true-peak jobs
  bool stereo() const { return channels == 2; }
  void prepare(std::span<const float* const> planar, std::int64_t n, std::vector<LoudnessJob>& loud,
               std::vector<TruePeakJob>& peaks);
  void complete();
};

TrackMeter::TrackMeter(int rate_hz, int channels, bool loudness_only) : impl_(std::make_unique<Impl>()) {
  if (rate_hz < 100 || rate_hz > 10'000'000)
    throw std::invalid_argument("TrackMeter: sample rate out of range: " + std::to_string(rate_hz));
  if (channels < 1 || channels > 1024)
    throw std::invalid_argument("TrackMeter: channel count out of range: " + std::to_string(channels));
  auto& m = *impl_;
  m.rate = rate_hz;
  m.channels = channels;
  m.loudness_only = loudness_only;
  m.kw = design_kweighting(rate_hz);
  m.tp = design_true_peak(rate_hz);
  m.weights = channel_weights(channels);
  const auto nch = static_cast<std::size_t>(channels);
  m.ch.assign(nch, km::channel_init(rate_hz));
  m.tps.assign(nch, km::true_peak_init());
  m.nonfinite.assign(nch, 0);
  m.bins.resize(nch);
  m.scratch.resize(nch);
}

TrackMeter::~TrackMeter() = default;
TrackMeter::TrackMeter(TrackMeter&&) noexcept = default;
TrackMeter& TrackMeter::operator=(TrackMeter&&) noexcept = default;

// ---- the jobs' CPU runner ---------------------------------------------------------------------------------------
void run_meter_jobs_cpu(std::span<const LoudnessJob> loudness, std::span<const TruePeakJob> peaks) {
  auto loudness_task = [&loudness](std::size_t j) {
    const LoudnessJob& job = loudness[j];
    if (job.right != nullptr)
      run_pair(*job.left, *job.right, *job.pair, *job.coeffs, job.x_left, job.x_right, job.frames, job.rate_hz,
               job.bins_left, job.bins_right, job.cross);
    else
      run_channel(*job.left, *job.coeffs, job.x_left, job.frames, job.rate_hz, job.loudness, job.bins_left);
  };
  auto peak_task = [&peaks](std::size_t j) {
    const TruePeakJob& job = peaks[j];
    run_true_peak(*job.state, *job.coeffs, job.x, job.frames);
  };
  std::int64_t work = 0;
  for (const auto& j : peaks) work += j.frames;
  // Small segments: threads cost more than they save (results are the same either way).
  if (work < 16384) {
    for (std::size_t j = 0; j < loudness.size(); ++j) loudness_task(j);
    for (std::size_t j = 0; j < peaks.size(); ++j) peak_task(j);
    return;
  }
  tbb::task_group tg;
  for (std::size_t j = 0; j < loudness.size(); ++j) tg.run([&loudness_task, j] { loudness_task(j); });
  for (std::size_t j = 0; j < peaks.size(); ++j) tg.run([&peak_task, j] { peak_task(j); });
  tg.wait();
}

// ---- TrackMeter: segment in, jobs out ----------------------------------------------------------------------------
// prepare() checks the segment, counts and sanitises non-finite samples, makes room for the bins and lists the
// kernel jobs; complete() advances the frame count once they have run (on any engine).
void TrackMeter::Impl::prepare(std::span<const float* const> planar, std::int64_t n, std::vector<LoudnessJob>& loud,
                               std::vector<TruePeakJob>& peaks) {
  if (static_cast<int>(planar.size()) != channels)
    throw std::invalid_argument("TrackMeter::add: expected " + std::to_string(channels) + " channel pointers");
  if (n <= 0) return;
  const auto nch = static_cast<std::size_t>(channels);
  const std::int64_t new_bins = km::bins_complete(frames + n, rate) - km::bins_complete(frames, rate);
  // Non-finite samples: counted, then measured as 0 through a sanitised copy.
  std::vector<const float*> src(nch);
  for (std::size_t c = 0; c < nch; ++c) {
    const std::int64_t bad = km::count_nonfinite(planar[c], n);
    src[c] = planar[c];
    if (bad > 0) {
      nonfinite[c] += static_cast<std::uint64_t>(bad);
      scratch[c].resize(static_cast<std::size_t>(n));
      km::sanitize_segment(planar[c], scratch[c].data(), n);
      src[c] = scratch[c].data();
    }
  }
  // Room for the new bins (resized before any job pointer is taken).
  std::vector<std::size_t> old_size(nch);
  for (std::size_t c = 0; c < nch; ++c) {
    old_size[c] = bins[c].size();
    if (weights[c] != 0.0 || stereo()) bins[c].resize(old_size[c] + static_cast<std::size_t>(new_bins));
  }
  const std::size_t old_cross = cross_bins.size();
  if (stereo()) cross_bins.resize(old_cross + static_cast<std::size_t>(new_bins));

  if (stereo()) {
    LoudnessJob j;
    j.left = &ch[0];
    j.right = &ch[1];
    j.pair = &pair;
    j.coeffs = &kw;
    j.x_left = src[0];
    j.x_right = src[1];
    j.frames = n;
    j.rate_hz = rate;
    j.bins = new_bins;
    j.bins_left = bins[0].data() + old_size[0];
    j.bins_right = bins[1].data() + old_size[1];
    j.cross = cross_bins.data() + old_cross;
    loud.push_back(j);
  } else {
    for (std::size_t c = 0; c < nch; ++c) {
      LoudnessJob j;
      j.left = &ch[c];
      j.coeffs = &kw;
      j.x_left = src[c];
      j.frames = n;
      j.rate_hz = rate;
      j.loudness = weights[c] != 0.0;
      j.bins = j.loudness ? new_bins : 0;
      j.bins_left = j.loudness ? bins[c].data() + old_size[c] : nullptr;
      loud.push_back(j);
    }
  }
  if (!loudness_only)
    for (std::size_t c = 0; c < nch; ++c) peaks.push_back(TruePeakJob{&tps[c], &tp, src[c], n});
  pending = n;
}

void TrackMeter::Impl::complete() {
  frames += pending;
  pending = 0;
}

void TrackMeter::add(std::span<const float* const> planar, std::int64_t frames) {
  std::vector<LoudnessJob> loud;
  std::vector<TruePeakJob> peaks;
  impl_->prepare(planar, frames, loud, peaks);
  run_meter_jobs_cpu(loud, peaks);
  impl_->complete();
}

void TrackMeter::add_many(Engine& engine, std::span<const SegmentInput> inputs) {
  std::vector<LoudnessJob> loud;
  std::vector<TruePeakJob> peaks;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    for (std::size_t k = 0; k < i; ++k)
      if (inputs[k].meter == inputs[i].meter)
        throw std::invalid_argument("TrackMeter::add_many: a meter appears twice in one call");
    inputs[i].meter->impl_->prepare(inputs[i].planar, inputs[i].frames, loud, peaks);
  }
  if (!loud.empty() || !peaks.empty()) engine.meter(loud, peaks);
  for (const auto& in : inputs) in.meter->impl_->complete();
}

void TrackMeter::add_interleaved(const float* interleaved, std::int64_t frames) {
  auto& m = *impl_;
  const auto nch = static_cast<std::size_t>(m.channels);
  // Deinterleave in slices so that memory stays bounded for any length.
  constexpr std::int64_t kSlice = 65536;
  std::vector<std::vector<float>> planar(nch, std::vector<float>(static_cast<std::size_t>(std::min(frames, kSlice))));
  std::vector<const float*> ptr(nch);
  for (std::int64_t done = 0; done < frames; done += kSlice) {
    const std::int64_t n = std::min(kSlice, frames - done);
    for (std::size_t c = 0; c < nch; ++c) {
      float* dst = planar[c].data();
      const float* s = interleaved + static_cast<std::size_t>(done) * nch + c;
      for (std::int64_t i = 0; i < n; ++i) dst[i] = s[static_cast<std::size_t>(i) * nch];
      ptr[c] = dst;
    }
    add(ptr, n);
  }
}

TrackReport TrackMeter::finish() {
  auto& m = *impl_;
  const auto nch = static_cast<std::size_t>(m.channels);
  TrackReport r;
  r.rate_hz = m.rate;
  r.channels = m.channels;
  r.frames = m.frames;
  r.oversampling = m.tp.factor;

  // Per channel: close clipped runs; flush the interpolator with taps/2 zeros (the track is followed by silence).
  std::vector<float> zeros(static_cast<std::size_t>(km::kTpMaxTaps), 0.0f);
  double sp_max = 0.0, tp_max = 0.0;
  std::int64_t first = -1, last = -1;
  r.per_channel.resize(nch);
  for (std::size_t c = 0; c < nch; ++c) {
    km::ChannelState st = m.ch[c];
    km::channel_close(st);
    km::TruePeakState tps = m.tps[c];
    run_true_peak(tps, m.tp, zeros.data(), m.tp.taps / 2);
    auto& cr = r.per_channel[c];
    cr.sample_peak = static_cast<double>(st.sample_peak);
    cr.true_peak = std::max(cr.sample_peak, static_cast<double>(tps.peak));
    cr.dc_offset = m.frames > 0 ? st.dc_sum / static_cast<double>(m.frames) : 0.0;
    cr.clipped_runs = st.clipped_runs;
    cr.clipped_samples = st.clipped_samples;
    cr.intersample_overs = tps.overs;
    cr.nonfinite_samples = m.nonfinite[c];
    sp_max = std::max(sp_max, cr.sample_peak);
    tp_max = std::max(tp_max, cr.true_peak);
    if (st.first_above >= 0) {
      first = first < 0 ? st.first_above : std::min(first, st.first_above);
      last = std::max(last, st.last_above);
    }
  }
  r.sample_peak_dbfs = db_or_minus_inf(sp_max);
  r.true_peak_dbtp = db_or_minus_inf(tp_max);
  const double rate = static_cast<double>(m.rate);
  if (first < 0) {
    r.leading_silence_s = r.trailing_silence_s = static_cast<double>(m.frames) / rate;
  } else {
    r.leading_silence_s = static_cast<double>(first) / rate;
    r.trailing_silence_s = static_cast<double>(m.frames - 1 - last) / rate;
  }

  // Weighted bin sums W_k = sum_c G_c S_c,k (channels in order); the partial last bin is not used.
  const std::size_t nb = static_cast<std::size_t>(km::bins_complete(m.frames, m.rate));
  std::vector<double> w(nb, 0.0);
  for (std::size_t c = 0; c < nch; ++c) {
    if (m.weights[c] == 0.0) continue;
    const auto& b = m.bins[c];
    const double g = m.weights[c];
    if (g == 1.0) {
      for (std::size_t k = 0; k < nb; ++k) w[k] += b[k];
    } else {
      for (std::size_t k = 0; k < nb; ++k) w[k] += g * b[k];
    }
  }
  const std::vector<double> groups = group_sums(w);
  const auto nbi = static_cast<std::int64_t>(nb);

  r.block_powers = window_powers(w, groups, m.rate, 40, 10);
  r.short_term_powers = window_powers(w, groups, m.rate, 300, 10);
  r.integrated_lufs = gated_loudness(r.block_powers);
  r.lra_lu = loudness_range(r.short_term_powers);

  // Max M / max S: full windows ending on every 10 ms bin boundary.
  auto max_window = [&](std::int64_t len) -> std::optional<double> {
    double best = -1.0;
    for (std::int64_t a = 0; a + len <= nbi; ++a) {
      const double n = static_cast<double>(km::bin_start(a + len, m.rate) - km::bin_start(a, m.rate));
      best = std::max(best, window_sum(w, groups, a, a + len) / n);
    }
    return lufs_or_gate(best);
  };
  r.momentary_max_lufs = max_window(40);
  r.short_term_max_lufs = max_window(300);

  // Curve: entry j is S at t = (j + 1) * 0.1 s (window ending there); undefined before 3 s.
  r.curve_step_s = 0.1;
  r.short_term_curve.assign(nb / 10, std::nullopt);
  for (std::size_t j = 29; j < r.short_term_curve.size(); ++j)
    r.short_term_curve[j] = lufs_or_gate(r.short_term_powers[j - 29]);

  // Stereo checks.
  if (m.stereo() && m.frames > 0) {
    const double n = static_cast<double>(m.frames);
    const double ml = m.ch[0].dc_sum / n, mr = m.ch[1].dc_sum / n;
    const double vl = m.pair.sum_ll / n - ml * ml, vr = m.pair.sum_rr / n - mr * mr;
    const double cov = m.pair.sum_lr / n - ml * mr;
    if (vl > 0.0 && vr > 0.0) r.correlation = std::clamp(cov / std::sqrt(vl * vr), -1.0, 1.0);

    auto integrated_of = [&](const std::vector<double>& wb) {
      const std::vector<double> g = group_sums(wb);
      return gated_loudness(window_powers(wb, g, m.rate, 40, 10));
    };
    std::vector<double> left(m.bins[0].begin(), m.bins[0].begin() + static_cast<std::ptrdiff_t>(nb));
    std::vector<double> right(m.bins[1].begin(), m.bins[1].begin() + static_cast<std::ptrdiff_t>(nb));
    const auto il = integrated_of(left), ir = integrated_of(right);
    if (il && ir) r.balance_lu = *il - *ir;
    // (L+R)/2 on both channels: 2 * mean((K(L)+K(R))/2)^2 = (S_L + S_R + 2 S_LR) / 2 per bin.
    std::vector<double> mono(nb);
    for (std::size_t k = 0; k < nb; ++k) mono[k] = std::max(0.0, (left[k] + right[k] + 2.0 * m.cross_bins[k]) * 0.5);
    const auto im = integrated_of(mono);
    if (r.integrated_lufs && im) r.mono_loss_lu = *r.integrated_lufs - *im;
  }
  return r;
}

}  // namespace lathe::host::meter
