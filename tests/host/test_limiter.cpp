// True-peak limiter (kernels/limiter.hpp, host/dsp/limiter.*): no overs on music-like material against an
// independent 16x reference interpolator and libebur128, transparency, attack shape, release time constants,
// bit-exact determinism of the chunked/threaded driver against one unchunked run of the kernel phases, edge
// cases, parameter validation and the gain-reduction statistics.
#include <ebur128.h>
#include <gtest/gtest.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <stdexcept>
#include <vector>

#include "host/dsp/limiter.hpp"
#include "host/meter/meter.hpp"
#include "kernels/limiter.hpp"
#include "tests/signals.hpp"

namespace {

namespace kl = lathe::kernels::limiter;
using lathe::host::dsp::LimiterDesign;
using lathe::host::dsp::LimiterParams;
using lathe::host::dsp::LimiterResult;
using lathe::test::Planar;

constexpr double kPi = 3.14159265358979323846;

double db(double lin) { return 20.0 * std::log10(lin); }
double from_db(double d) { return std::pow(10.0, d / 20.0); }
double to_d(std::int64_t v) { return static_cast<double>(v); }
std::int64_t frames_of(const Planar& p) { return p.empty() ? 0 : static_cast<std::int64_t>(p[0].size()); }

std::vector<float*> ptrs(Planar& p) {
  std::vector<float*> v;
  for (auto& ch : p) v.push_back(ch.data());
  return v;
}

LimiterResult limit(Planar& p, int rate, const LimiterParams& lp = {}, bool keep = true) {
  const auto v = ptrs(p);
  return lathe::host::dsp::limit_track(lp, rate, v, frames_of(p), keep);
}

// ---- reference true peak ---------------------------------------------------------------------------------------
// Windowed sinc (Kaiser beta 9, 64 taps on each side: passband error < 5e-5 up to 0.47 fs) evaluated in double at
// 16 points per sample interval, samples outside the signal read as 0, intervals from (-1, 0) to (n-1, n).
// Screening keeps it fast: a shorter double interpolator (16 taps each side, 8 points per interval, within
// 0.3 dB of the truth for content below 0.46 fs) picks the intervals within `screen_db` of its own maximum, and
// only those are evaluated with the long filter. For content up to Nyquist pass a larger screen.
class Reference {
 public:
  Reference() : fine_(make(16, 64, 9.0)), coarse_(make(8, 16, 5.0)) {}

  double true_peak(const std::vector<float>& x, double screen_db = 1.0) const {
    const auto n = static_cast<std::int64_t>(x.size());
    if (n == 0) return 0.0;
    // Coarse pass over all intervals m = -1 .. n-1 (between x[m] and x[m+1]), in parallel blocks.
    std::vector<double> coarse(static_cast<std::size_t>(n + 1));
    tbb::parallel_for(std::int64_t{-1}, n, [&](std::int64_t m) {
      coarse[static_cast<std::size_t>(m + 1)] = interval(coarse_, x, m);
    });
    const double cmax = *std::max_element(coarse.begin(), coarse.end());
    const double thr = cmax * from_db(-screen_db);
    std::vector<std::int64_t> cand;
    for (std::int64_t m = -1; m < n; ++m)
      if (coarse[static_cast<std::size_t>(m + 1)] >= thr) cand.push_back(m);
    std::vector<double> fine(cand.size());
    tbb::parallel_for(std::size_t{0}, cand.size(), [&](std::size_t k) { fine[k] = interval(fine_, x, cand[k]); });
    return *std::max_element(fine.begin(), fine.end());
  }

 private:
  struct Filter {
    int phases = 0, half = 0;
    std::vector<double> c;  // [p][k], k = 0 .. 2*half-1 multiplies x[m - half + 1 + k]
  };
  static double i0(double v) {
    double s = 1, t = 1;
    for (int k = 1; k < 300; ++k) {
      t *= (v / (2 * k)) * (v / (2 * k));
      s += t;
      if (t < 1e-18 * s) break;
    }
    return s;
  }
  static Filter make(int phases, int half, double beta) {
    Filter f;
    f.phases = phases;
    f.half = half;
    f.c.resize(static_cast<std::size_t>(phases * 2 * half));
    const double i0b = i0(beta);
    for (int p = 0; p < phases; ++p)
      for (int k = 0; k < 2 * half; ++k) {
        const double tau = static_cast<double>(p) / phases - (k - half + 1);
        const double u = tau / half;
        const double w = std::abs(u) >= 1 ? 0.0 : i0(beta * std::sqrt(1 - u * u)) / i0b;
        const double s = std::abs(tau) < 1e-12 ? 1.0 : std::sin(kPi * tau) / (kPi * tau);
        f.c[static_cast<std::size_t>(p * 2 * half + k)] = s * w;
      }
    return f;
  }
  // max |value| at m + p / phases, p = 0 .. phases-1 (p = 0 is x[m] itself), plus x[m+1].
  static double interval(const Filter& f, const std::vector<float>& x, std::int64_t m) {
    const auto n = static_cast<std::int64_t>(x.size());
    const std::int64_t lo = std::max<std::int64_t>(0, m - f.half + 1), hi = std::min<std::int64_t>(n, m + f.half + 1);
    double peak = m + 1 < n ? std::abs(static_cast<double>(x[static_cast<std::size_t>(m + 1)])) : 0.0;
    for (int p = 0; p < f.phases; ++p) {
      const double* cp = f.c.data() + p * 2 * f.half;
      double a = 0;
      for (std::int64_t idx = lo; idx < hi; ++idx)
        a += static_cast<double>(x[static_cast<std::size_t>(idx)]) * cp[idx - m + f.half - 1];
      peak = std::max(peak, std::abs(a));
    }
    return peak;
  }
  Filter fine_, coarse_;
};

const Reference& reference() {
  static const Reference r;
  return r;
}

double reference_tp(const Planar& p, double screen_db = 1.0) {
  double m = 0;
  for (const auto& ch : p) m = std::max(m, reference().true_peak(ch, screen_db));
  return m;
}

double ebur128_tp(const Planar& p, int rate) {
  const auto nch = static_cast<unsigned>(p.size());
  ebur128_state* st = ebur128_init(nch, static_cast<unsigned long>(rate), EBUR128_MODE_TRUE_PEAK);
  const auto n = p[0].size();
  std::vector<float> inter(n * nch);
  for (std::size_t c = 0; c < nch; ++c)
    for (std::size_t i = 0; i < n; ++i) inter[i * nch + c] = p[c][i];
  ebur128_add_frames_float(st, inter.data(), n);
  double m = 0;
  for (unsigned c = 0; c < nch; ++c) {
    double v = 0;
    ebur128_true_peak(st, c, &v);
    m = std::max(m, v);
  }
  ebur128_destroy(&st);
  return m;
}

// ---- signals ---------------------------------------------------------------------------------------------------
// Low-pass FIR (Kaiser-windowed sinc, 127 taps, beta 8), cutoff `fc` in cycles per sample: what an ADC or a
// resampler leaves of a full-band mix.
std::vector<float> lowpass(const std::vector<float>& x, double fc) {
  constexpr int kTaps = 127, kHalf = kTaps / 2;
  auto i0 = [](double v) {
    double s = 1, t = 1;
    for (int k = 1; k < 300; ++k) {
      t *= (v / (2 * k)) * (v / (2 * k));
      s += t;
      if (t < 1e-18 * s) break;
    }
    return s;
  };
  std::vector<double> h(kTaps);
  double sum = 0;
  for (int k = 0; k < kTaps; ++k) {
    const double t = k - kHalf;
    const double u = t / (kHalf + 1);
    const double w = i0(8.0 * std::sqrt(1 - u * u)) / i0(8.0);
    h[static_cast<std::size_t>(k)] = (t == 0 ? 2 * fc : std::sin(2 * kPi * fc * t) / (kPi * t)) * w;
    sum += h[static_cast<std::size_t>(k)];
  }
  const auto n = static_cast<std::int64_t>(x.size());
  std::vector<float> y(x.size());
  for (std::int64_t i = 0; i < n; ++i) {
    double a = 0;
    for (int k = 0; k < kTaps; ++k) {
      const std::int64_t j = i + kHalf - k;
      if (j >= 0 && j < n) a += h[static_cast<std::size_t>(k)] * static_cast<double>(x[static_cast<std::size_t>(j)]);
    }
    y[static_cast<std::size_t>(i)] = static_cast<float>(a / sum);
  }
  return y;
}

// Music-like material: kick (decaying pitch-swept sine) on every beat, snare (noise + 190 Hz) and hats (noise
// bursts) on the off-beats, a bass line, a six-note chord, two quiet high partials, and a few single-sample
// clicks (transients), at 124 bpm; then low-passed at min(19.5 kHz, 0.44 fs) unless `full_band`, and
// normalised to a sample peak of 1.0. Channels differ (noise seeds, phases, click positions).
Planar music(int channels, double seconds, int rate, std::uint64_t seed, bool full_band = false) {
  const auto n = static_cast<std::int64_t>(seconds * rate);
  Planar p(static_cast<std::size_t>(channels), std::vector<float>(static_cast<std::size_t>(n)));
  const double fs = static_cast<double>(rate);
  for (int c = 0; c < channels; ++c) {
    lathe::test::Noise nz(seed * 7919 + static_cast<std::uint64_t>(c));
    const double beat = 60.0 / 124.0;
    auto& ch = p[static_cast<std::size_t>(c)];
    for (std::int64_t i = 0; i < n; ++i) {
      const double t = to_d(i) / fs;
      const double tb = std::fmod(t, beat);
      const double t8 = std::fmod(t, beat / 2);
      const double t2 = std::fmod(t + beat, 2 * beat);
      double v = 0.9 * std::exp(-tb * 18) * std::sin(2 * kPi * (50 * tb + 2.0 * (1 - std::exp(-tb * 30))));
      v += 0.25 * std::sin(2 * kPi * 55.0 * t + 0.1 * c) + 0.1 * std::sin(2 * kPi * 110.0 * t + 0.7);
      for (double f : {220.0, 277.18, 329.63, 440.0, 1318.5, 2637.0})
        v += 0.06 * std::sin(2 * kPi * f * t + f * 0.01 * (c + 1));
      v += 0.02 * std::sin(2 * kPi * 9000.0 * t) + 0.015 * std::sin(2 * kPi * 15000.0 * t + c);
      const double w = nz.next();
      v += 0.35 * std::exp(-t8 * 60) * w;                                                  // hats
      v += std::exp(-t2 * 25) * (0.4 * w + 0.3 * std::sin(2 * kPi * 190.0 * t2));          // snare
      if (i % (rate / 3) == 1000 + 17 * c) v += 0.8;                                         // clicks
      ch[static_cast<std::size_t>(i)] = static_cast<float>(v);
    }
    if (!full_band) ch = lowpass(ch, std::min(19500.0 / fs, 0.44));
  }
  float pk = 0;
  for (const auto& ch : p)
    for (float v : ch) pk = std::max(pk, std::abs(v));
  for (auto& ch : p)
    for (float& v : ch) v /= pk;
  return p;
}

void scale(Planar& p, double gain_db) {
  const double g = from_db(gain_db);
  for (auto& ch : p)
    for (float& v : ch) v = static_cast<float>(static_cast<double>(v) * g);
}

std::vector<float> sine(std::int64_t n, int rate, double freq, double amp, double phase = 0.0) {
  std::vector<float> x(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i)
    x[static_cast<std::size_t>(i)] =
        static_cast<float>(amp * std::sin(2 * kPi * freq * to_d(i) / rate + phase));
  return x;
}

double lathe_meter_tp(const Planar& p, int rate) {
  lathe::host::meter::TrackMeter m(rate, static_cast<int>(p.size()));
  std::vector<const float*> ptr;
  for (const auto& ch : p) ptr.push_back(ch.data());
  m.add(ptr, frames_of(p));
  return m.finish().true_peak_dbtp;
}

// ---- no overs ----------------------------------------------------------------------------------------------------
// The reference 16x interpolator is the judge: <= ceiling + 0.05 dB. libebur128 (1.2.6) reads high: its 49-tap
// Hann-windowed x4 interpolator has passband ripple, so it reads faded pure sines up to 0.11 dB above their true
// amplitude (LibEbur128Calibration), and broadband peaks more (the ripples of its phases add up): on this
// material it read -0.868 dBTP at a noise-burst peak where the reference reads -1.046 dBTP (a model of its filter
// located the peak at frame 10786 of the 44.1 kHz mono case). Its readings get 0.2 dB on top of the ceiling.
// lathe's own meter (what the caller verifies with) must read at most the ceiling.
constexpr double kRefToleranceDb = 0.05;
constexpr double kEburToleranceDb = 0.2;

TEST(Limiter, LibEbur128Calibration) {
  // Faded sines at 0.5 (-6.02 dBTP): libebur128's reading minus the truth, up to 0.4535 fs.
  double worst = -1;
  for (int rate : {44100, 48000}) {
    for (double f = 1000; f < 0.4535 * rate; f *= 1.07) {
      std::vector<float> x = sine(rate / 5, rate, f, 0.5, 0.3);
      const auto n = static_cast<std::int64_t>(x.size());
      const double fade = 0.02 * rate;
      for (std::int64_t i = 0; i < n; ++i) {
        const double e = std::min(1.0, std::min(to_d(i), to_d(n - 1 - i)) / fade);
        x[static_cast<std::size_t>(i)] *= static_cast<float>(0.5 - 0.5 * std::cos(kPi * e));
      }
      worst = std::max(worst, db(ebur128_tp(Planar{x}, rate) / 0.5));
    }
  }
  std::printf("[limiter] libebur128 overestimates faded sines by up to %.3f dB\n", worst);
  EXPECT_LT(worst, 0.12);
  EXPECT_GT(worst, 0.05);  // a tolerance is needed: the reading does exceed the truth
}

// Measured (kLimiterMarginDb = 0.05 dB), worst over the 12 cases: reference -1.0439 dBTP, lathe's meter
// -1.0108 dBTP, libebur128 -0.8880 dBTP. With no margin: reference -0.9939 (x4, the auto factor at these rates),
// -0.9989 (x8), -1.0000 (x16) dBTP; lathe's meter -0.9608 dBTP.
TEST(Limiter, NoOversOnMusic) {
  const double ceiling = -1.0;
  double worst_ref = -100, worst_ebur = -100, worst_meter = -100;
  for (int rate : {44100, 48000, 96000}) {
    for (int channels : {1, 2}) {
      const Planar base = music(channels, 2.0, rate, 5 + static_cast<std::uint64_t>(channels));
      for (double push : {6.0, 12.0}) {
        Planar p = base;
        scale(p, push);
        const LimiterResult r = limit(p, rate);
        const double ref = db(reference_tp(p));
        const double eb = db(ebur128_tp(p, rate));
        const double lm = lathe_meter_tp(p, rate);
        worst_ref = std::max(worst_ref, ref);
        worst_ebur = std::max(worst_ebur, eb);
        worst_meter = std::max(worst_meter, lm);
        std::printf("[limiter] %d Hz %d ch +%.0f dB: reference %.4f, lathe meter %.4f, libebur128 %.4f dBTP, "
                    "max GR %.2f dB\n", rate, channels, push, ref, lm, eb, r.max_gain_reduction_db);
        EXPECT_LE(ref, ceiling + kRefToleranceDb) << rate << " " << channels << " " << push;
        EXPECT_LE(eb, ceiling + kEburToleranceDb) << rate << " " << channels << " " << push;
        EXPECT_LE(lm, ceiling) << rate << " " << channels << " " << push;
        // And it does not give away loudness: the loudest peak lands close to the ceiling.
        EXPECT_GE(ref, ceiling - 0.3) << rate << " " << channels << " " << push;
        EXPECT_GT(r.max_gain_reduction_db, push);
      }
    }
  }
  std::printf("[limiter] music: worst reference %.4f, lathe meter %.4f, libebur128 %.4f dBTP (ceiling %.1f)\n",
              worst_ref, worst_meter, worst_ebur, ceiling);
}

// Full-band material (noise bursts and clicks up to the Nyquist frequency, no low-pass) is the documented
// limit: the 64-tap interpolator is flat to 0.47 fs, and a peak made of content above that is under-detected.
// Measured: reference -0.882 dBTP (0.12 dB over), libebur128 -0.911, lathe's meter -1.018 dBTP: BS.1770 meters
// see less of that content than the long reference.
TEST(Limiter, FullBandResidueIsBounded) {
  double worst_ref = -100, worst_ebur = -100, worst_meter = -100;
  for (int rate : {44100, 48000}) {
    Planar p = music(2, 2.0, rate, 3, /*full_band=*/true);
    scale(p, 12.0);
    limit(p, rate);
    worst_ref = std::max(worst_ref, db(reference_tp(p, 3.0)));
    worst_ebur = std::max(worst_ebur, db(ebur128_tp(p, rate)));
    worst_meter = std::max(worst_meter, lathe_meter_tp(p, rate));
  }
  std::printf("[limiter] full band: reference %.4f, lathe meter %.4f, libebur128 %.4f dBTP\n", worst_ref, worst_meter,
              worst_ebur);
  EXPECT_LE(worst_ebur, -1.0 + kEburToleranceDb);
  EXPECT_LE(worst_ref, -1.0 + 0.3);
}

// ---- transparency ------------------------------------------------------------------------------------------------
TEST(Limiter, TransparentBelowCeiling) {
  for (int rate : {44100, 96000}) {
    Planar p = music(2, 1.0, rate, 11);
    scale(p, -3.0);  // sample peak -3 dBFS: true peak well below -1 dBTP
    ASSERT_LT(db(reference_tp(p)), -1.5);
    const Planar before = p;
    const LimiterResult r = limit(p, rate);
    for (std::size_t c = 0; c < p.size(); ++c)
      EXPECT_EQ(0, std::memcmp(p[c].data(), before[c].data(), p[c].size() * sizeof(float))) << rate << " ch " << c;
    ASSERT_EQ(r.gain.size(), p[0].size());
    EXPECT_TRUE(std::all_of(r.gain.begin(), r.gain.end(), [](float g) { return g == 1.0f; }));
    EXPECT_EQ(r.max_gain_reduction_db, 0.0);
    EXPECT_EQ(r.mean_gain_reduction_db, 0.0);
    EXPECT_EQ(r.seconds_above_1db, 0.0);
    EXPECT_EQ(r.seconds_active, 0.0);
  }
}

// ---- attack --------------------------------------------------------------------------------------------------
TEST(Limiter, SmoothAttackNoOvershoot) {
  const int rate = 48000;
  // The step at a zero crossing (a jump in value would be a full-band click: see FullBandResidueIsBounded).
  const std::int64_t step = rate / 2, n = rate;
  std::vector<float> x = sine(n, rate, 1000.0, from_db(-20.0));
  const std::vector<float> loud = sine(n, rate, 1000.0, from_db(6.0));
  for (std::int64_t i = step; i < n; ++i) x[static_cast<std::size_t>(i)] = loud[static_cast<std::size_t>(i)];
  Planar p{x};
  LimiterParams lp;
  const LimiterDesign d = lathe::host::dsp::limiter_design(lp, rate);
  const LimiterResult r = limit(p, rate, lp);
  const std::int64_t la = d.shape.lookahead, k = d.shape.guard;
  // The first reduced frame: LA + K frames before the first frame that needs reduction (the first sample above
  // the ceiling, or the frame before it, whose interval reaches up to that sample).
  std::int64_t need = step;
  while (std::abs(x[static_cast<std::size_t>(need)]) <= d.ceiling) ++need;
  std::int64_t first = -1;
  for (std::int64_t i = 0; i < n && first < 0; ++i)
    if (r.gain[static_cast<std::size_t>(i)] < 1.0f) first = i;
  EXPECT_GE(first, need - 1 - la - k);
  EXPECT_LE(first, need - la - k);
  EXPECT_LT(first, step - la);
  // Monotone (never rising) from there to the step, and already at its final depth by the step.
  for (std::int64_t i = first + 1; i <= step + k; ++i)
    EXPECT_LE(r.gain[static_cast<std::size_t>(i)], r.gain[static_cast<std::size_t>(i - 1)]) << i;
  EXPECT_LE(db(r.gain[static_cast<std::size_t>(need)]), -7.0);
  // The output stays under the ceiling, the step included (reference over the whole output: a cut-out segment
  // would ring at its own edges).
  const double tp = db(reference_tp(p));
  std::printf("[limiter] step -20 -> +6 dBFS: first reduced frame %lld (step %lld, LA %lld, K %lld), peak %.4f dBTP\n",
              static_cast<long long>(first), static_cast<long long>(step), static_cast<long long>(la),
              static_cast<long long>(k), tp);
  EXPECT_LE(tp, -1.0 + kRefToleranceDb);
  EXPECT_GE(tp, -1.0 - lathe::host::dsp::kLimiterMarginDb - 0.05);  // and not far under it
}

// ---- release ---------------------------------------------------------------------------------------------------
// Frames from the end of the deepest reduction (last frame within 0.1% of it) until the reduction (1 - gain) is
// down to 1/e of it.
double recovery_seconds(const std::vector<float>& gain, int rate) {
  const float gmin = *std::min_element(gain.begin(), gain.end());
  const double dmax = 1.0 - static_cast<double>(gmin);
  std::int64_t last_deep = 0;
  const auto n = static_cast<std::int64_t>(gain.size());
  for (std::int64_t i = 0; i < n; ++i)
    if (1.0 - static_cast<double>(gain[static_cast<std::size_t>(i)]) >= 0.999 * dmax) last_deep = i;
  for (std::int64_t i = last_deep; i < n; ++i)
    if (1.0 - static_cast<double>(gain[static_cast<std::size_t>(i)]) <= dmax / std::exp(1.0))
      return to_d(i - last_deep) / rate;
  return std::numeric_limits<double>::infinity();
}

Planar burst(int rate, double seconds_before, double burst_s, double seconds_after, double level_db) {
  const auto n0 = static_cast<std::int64_t>(seconds_before * rate);
  const auto n1 = static_cast<std::int64_t>(burst_s * rate);
  const auto n2 = static_cast<std::int64_t>(seconds_after * rate);
  std::vector<float> x(static_cast<std::size_t>(n0 + n1 + n2), 0.0f);
  const std::vector<float> s = sine(n1, rate, 1000.0, from_db(level_db));
  std::copy(s.begin(), s.end(), x.begin() + n0);
  return Planar{x};
}

TEST(Limiter, ReleaseTimeConstant) {
  const int rate = 48000;
  for (double release_ms : {50.0, 100.0, 400.0}) {
    Planar p = burst(rate, 0.2, 0.05, 3.0 * release_ms / 1000 + 0.2, 6.0);
    LimiterParams lp;
    lp.auto_release = false;
    lp.release_ms = release_ms;
    const LimiterResult r = limit(p, rate, lp);
    // The smoothing (a mean over LA + 1 frames) delays the exponential by LA / 2.
    const double expected = release_ms / 1000 + lp.lookahead_ms / 2000;
    const double got = recovery_seconds(r.gain, rate);
    std::printf("[limiter] release %.0f ms: recovery to 1/e in %.2f ms (expected %.2f ms)\n", release_ms,
                got * 1000, expected * 1000);
    EXPECT_NEAR(got, expected, 0.05 * release_ms / 1000) << release_ms;
  }
}

TEST(Limiter, AutoReleaseDependsOnProgram) {
  // A short transient recovers with release_ms * kAutoFastRatio, sustained reduction with release_ms *
  // kAutoSlowRatio (after a quick partial recovery down to the slow envelope).
  const int rate = 48000;
  LimiterParams lp;
  lp.auto_release = true;
  lp.release_ms = 100.0;
  Planar transient = burst(rate, 0.2, 0.003, 1.5, 6.0);
  Planar sustained = burst(rate, 0.2, 2.0, 1.5, 6.0);
  const double t_fast = recovery_seconds(limit(transient, rate, lp).gain, rate);
  const double t_slow = recovery_seconds(limit(sustained, rate, lp).gain, rate);
  std::printf("[limiter] auto release 100 ms: transient %.1f ms, sustained %.1f ms\n", t_fast * 1000, t_slow * 1000);
  const double la_s = lp.lookahead_ms / 2000;
  EXPECT_NEAR(t_fast, 0.1 * lathe::host::dsp::kAutoFastRatio + la_s, 0.01);
  // Sustained for 2 s = 10 charge time constants: the slow envelope holds ~all of the reduction.
  EXPECT_NEAR(t_slow, 0.1 * lathe::host::dsp::kAutoSlowRatio + la_s, 0.03);
}

// ---- detection accuracy ------------------------------------------------------------------------------------------
TEST(Limiter, DetectionAccuracyOnSines) {
  // Every crest of a sine (0.5 amplitude, 1 .. 20 kHz, several phases) against the frame peaks around it: the
  // parabolic refinement takes x4's grid error (up to 0.56 dB at 20 kHz / 44.1 kHz) to a few hundredths of a dB.
  // Measured: x4 -0.028 .. +0.002 dB (grid alone -0.565), x8 -0.004, x16 -0.003 dB.
  for (int rate : {44100, 48000}) {
    for (int factor : {4, 8, 16}) {
      const kl::Interp& ip = lathe::host::dsp::limiter_interp(factor);
      double lo = 0, hi = -1, lo_grid = 0;
      for (double freq : {1000.0, 5000.0, 10000.0, 15000.0, 18000.0, 20000.0}) {
        for (double phase : {0.0, 0.3, 0.77, 1.3}) {
          const std::int64_t n = 2000;
          const std::vector<float> x = sine(n, rate, freq, 0.5, phase);
          const double w = 2 * kPi * freq / rate;
          for (std::int64_t i = 800; i < 1100; ++i) {
            // A crest at t with w t + phase = pi/2 + k pi inside (i - 1, i]?
            const double k0 = std::ceil((to_d(i - 1) * w + phase - kPi / 2) / kPi);
            const double tc = (kPi / 2 + k0 * kPi - phase) / w;
            if (!(tc > to_d(i - 1) && tc <= to_d(i))) continue;
            double pk = 0, grid = std::max(std::abs(x[static_cast<std::size_t>(i - 1)]),
                                           std::abs(x[static_cast<std::size_t>(i)]));
            for (std::int64_t j = i - 1; j <= i + 1; ++j)
              pk = std::max(pk, static_cast<double>(kl::frame_peak(ip, x.data(), n, j)));
            for (int p = 1; p < factor; ++p)
              grid = std::max(grid, static_cast<double>(std::abs(kl::interp_at(ip, x.data(), n, i, p))));
            lo = std::min(lo, db(pk / 0.5));
            hi = std::max(hi, db(pk / 0.5));
            lo_grid = std::min(lo_grid, db(grid / 0.5));
          }
        }
      }
      std::printf("[limiter] %d Hz x%d: crest estimate %.4f .. %.4f dB (grid alone from %.4f dB)\n", rate, factor, lo,
                  hi, lo_grid);
      EXPECT_GE(lo, factor == 4 ? -0.035 : -0.006) << rate << " x" << factor;
      EXPECT_LE(hi, 0.005) << rate << " x" << factor;
      if (factor == 4) {
        EXPECT_LT(lo_grid, -0.3) << rate;  // what the refinement is for
      }
    }
  }
}

TEST(Limiter, NonFiniteSampleStaysLocal) {
  // A NaN sample never raises a peak: the gain stays finite and only that sample of the output is NaN.
  const int rate = 48000;
  Planar p = music(1, 0.3, rate, 8);
  scale(p, 6.0);
  p[0][5000] = std::numeric_limits<float>::quiet_NaN();
  const LimiterResult r = limit(p, rate);
  for (float g : r.gain) ASSERT_FALSE(std::isnan(g));
  for (std::size_t i = 0; i < p[0].size(); ++i) ASSERT_EQ(std::isnan(p[0][i]), i == 5000) << i;
  EXPECT_FALSE(std::isnan(r.max_gain_reduction_db));
  EXPECT_FALSE(std::isnan(r.mean_gain_reduction_db));
}

// ---- determinism ---------------------------------------------------------------------------------------------
// The kernel phases over the whole track in one call each, detection frame by frame (no groups, no chunks).
LimiterResult reference_run(const LimiterDesign& d, Planar& p) {
  const std::int64_t n = frames_of(p);
  const std::int64_t la = d.shape.lookahead, w = kl::hold_window(d.shape);
  const auto un = static_cast<std::size_t>(n);
  std::vector<float> g(un), suf(un), r(un + static_cast<std::size_t>(la)), amin(un, 1.0f);
  const int nch = static_cast<int>(p.size());
  const int groups = d.linked ? 1 : nch;
  for (int grp = 0; grp < groups; ++grp) {
    std::vector<const float*> src;
    for (int c = 0; c < nch; ++c)
      if (d.linked || c == grp) src.push_back(p[static_cast<std::size_t>(c)].data());
    for (std::int64_t i = 0; i < n; ++i)
      g[static_cast<std::size_t>(i)] =
          kl::detect_frame(*d.interp, d.ceiling, src.data(), static_cast<int>(src.size()), n, i);
    kl::block_minima(g.data(), suf.data(), n, w, 0, (n + w - 1) / w);
    kl::hold_range(g.data(), suf.data(), n, d.shape, -la, n, r.data());
    kl::ReleaseState st = kl::release_init();
    kl::release_range(st, d.release, r.data(), n + la);
    kl::smooth_range(r.data(), d.shape, 0, n, g.data());
    for (int c = 0; c < nch; ++c)
      if (d.linked || c == grp) kl::apply_range(p[static_cast<std::size_t>(c)].data(), g.data(), 0, n);
    for (std::size_t i = 0; i < un; ++i) amin[i] = std::min(amin[i], g[i]);
  }
  LimiterResult res;
  res.gain = amin;
  return res;
}

TEST(Limiter, DriverMatchesUnchunkedKernelRun) {
  const int rate = 44100;
  const std::int64_t n = 5 * lathe::host::dsp::kLimiterChunk + 1234;
  Planar base = music(2, to_d(n) / rate + 0.001, rate, 21);
  for (auto& ch : base) ch.resize(static_cast<std::size_t>(n));
  scale(base, 9.0);
  for (bool linked : {true, false}) {
    for (bool auto_release : {true, false}) {
      LimiterParams lp;
      lp.linked = linked;
      lp.auto_release = auto_release;
      const LimiterDesign d = lathe::host::dsp::limiter_design(lp, rate);
      Planar a = base, b = base, c = base;
      const LimiterResult ra = limit(a, rate, lp);
      LimiterResult rc;
      {
        tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
        rc = limit(c, rate, lp);
      }
      const LimiterResult rb = reference_run(d, b);
      for (std::size_t ch = 0; ch < a.size(); ++ch) {
        EXPECT_EQ(0, std::memcmp(a[ch].data(), b[ch].data(), a[ch].size() * sizeof(float)))
            << "linked " << linked << " auto " << auto_release << " ch " << ch;
        EXPECT_EQ(0, std::memcmp(a[ch].data(), c[ch].data(), a[ch].size() * sizeof(float)))
            << "1 thread: linked " << linked << " auto " << auto_release << " ch " << ch;
      }
      EXPECT_EQ(0, std::memcmp(ra.gain.data(), rb.gain.data(), ra.gain.size() * sizeof(float)));
      EXPECT_EQ(ra.max_gain_reduction_db, rc.max_gain_reduction_db);
      EXPECT_EQ(ra.mean_gain_reduction_db, rc.mean_gain_reduction_db);
      EXPECT_GT(ra.max_gain_reduction_db, 6.0);
    }
  }
}

TEST(Limiter, DetectionAnyRangeSameBits) {
  // detect_range over arbitrary, unaligned ranges (groups start anywhere) equals the per-frame function.
  const int rate = 48000;
  Planar p = music(2, 0.3, rate, 4);
  scale(p, 8.0);
  const std::int64_t n = frames_of(p);
  for (int factor : {4, 8, 16}) {
    LimiterParams lp;
    lp.oversampling = factor;
    const LimiterDesign d = lathe::host::dsp::limiter_design(lp, rate);
    const float* src[2] = {p[0].data(), p[1].data()};
    std::vector<float> whole(static_cast<std::size_t>(n)), pieces(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) whole[static_cast<std::size_t>(i)] = kl::detect_frame(*d.interp, d.ceiling, src, 2, n, i);
    std::int64_t b = 0;
    for (std::int64_t len = 1; b < n; len = len * 3 % 97 + 1) {
      const std::int64_t e = std::min(n, b + len);
      kl::detect_range(*d.interp, d.ceiling, src, 2, n, b, e, pieces.data());
      b = e;
    }
    EXPECT_EQ(0, std::memcmp(whole.data(), pieces.data(), whole.size() * sizeof(float))) << factor;
    std::vector<float> host(static_cast<std::size_t>(n));
    lathe::host::dsp::limiter_detect(*d.interp, d.ceiling, src, n, 0, n, host.data());  // AVX2 build if present
    EXPECT_EQ(0, std::memcmp(whole.data(), host.data(), whole.size() * sizeof(float))) << factor;
    EXPECT_LT(*std::min_element(whole.begin(), whole.end()), 0.5f);
  }
}

// ---- edge cases ----------------------------------------------------------------------------------------------
TEST(Limiter, EmptyAndSingleFrame) {
  Planar empty(2);
  const LimiterResult r0 = limit(empty, 48000);
  EXPECT_TRUE(r0.gain.empty());
  EXPECT_EQ(r0.max_gain_reduction_db, 0.0);
  Planar one{{2.0f}};
  const LimiterResult r1 = limit(one, 48000);
  ASSERT_EQ(r1.gain.size(), 1u);
  EXPECT_LE(std::abs(one[0][0]), static_cast<float>(from_db(-1.0)));
  EXPECT_GT(std::abs(one[0][0]), static_cast<float>(from_db(-1.2)));
  Planar quiet{{0.25f}};
  limit(quiet, 48000);
  EXPECT_EQ(quiet[0][0], 0.25f);
}

TEST(Limiter, SilenceStaysSilentWithUnitGain) {
  Planar p(2, std::vector<float>(30000, 0.0f));
  const LimiterResult r = limit(p, 44100);
  for (const auto& ch : p)
    for (float v : ch) ASSERT_EQ(v, 0.0f);
  for (float g : r.gain) ASSERT_EQ(g, 1.0f);
  EXPECT_EQ(r.max_gain_reduction_db, 0.0);
  EXPECT_FALSE(std::isnan(r.mean_gain_reduction_db));
}

TEST(Limiter, FullScaleSquareAndImpulse) {
  const int rate = 44100;
  // A naive full-scale square wave (1 kHz): its reconstruction rings well above 0 dBFS.
  std::vector<float> sq(static_cast<std::size_t>(rate / 2));
  for (std::size_t i = 0; i < sq.size(); ++i) sq[i] = ((i * 2000 / static_cast<std::size_t>(rate)) % 2 == 0) ? 1.0f : -1.0f;
  Planar p{sq};
  const double before = db(reference_tp(p, 3.0));
  const LimiterResult r = limit(p, rate);
  const double after = db(reference_tp(p, 3.0));
  const double eb = db(ebur128_tp(p, rate));
  std::printf("[limiter] full-scale square: %.3f dBTP before, %.4f dBTP after (libebur128 %.4f), max GR %.2f dB\n",
              before, after, eb, r.max_gain_reduction_db);
  EXPECT_GT(before, 1.0);
  EXPECT_LE(eb, -1.0 + kEburToleranceDb);
  EXPECT_LE(after, -1.0 + 0.5);  // full-band content: see FullBandResidueIsBounded
  // A single full-scale impulse in silence: reduced to the ceiling, gain back to 1 far from it.
  std::vector<float> imp(10000 + rate, 0.0f);
  imp[10000] = 1.0f;
  Planar q{imp};
  const LimiterResult ri = limit(q, rate);
  EXPECT_LE(db(reference_tp(q)), -1.0 + kRefToleranceDb);
  EXPECT_NEAR(db(q[0][10000]), -1.0 - lathe::host::dsp::kLimiterMarginDb, 0.01);
  EXPECT_EQ(ri.gain[0], 1.0f);
  // 1 s later: released (auto release: the slow envelope, charged to 3% of the reduction during the hold,
  // still holds 0.001 dB).
  EXPECT_GT(ri.gain.back(), 0.999f);
  EXPECT_LT(ri.gain[10000], 0.95f);
}

TEST(Limiter, EightChannelsLinkedAndUnlinked) {
  const int rate = 48000;
  Planar base = music(8, 0.5, rate, 31);
  for (std::size_t c = 0; c < 8; ++c)
    for (float& v : base[c]) v *= static_cast<float>(from_db(3.0 * static_cast<double>(c) - 6.0));  // -6 .. +15 dB
  for (bool linked : {true, false}) {
    Planar p = base;
    LimiterParams lp;
    lp.linked = linked;
    limit(p, rate, lp);
    for (std::size_t c = 0; c < 8; ++c)
      EXPECT_LE(db(reference().true_peak(p[c])), -1.0 + kRefToleranceDb) << linked << " " << c;
    // Linked: one gain for every channel, so channel 0 (the quietest) is reduced with the loudest. Unlinked: the
    // quiet channel stays untouched.
    const double g0 = db(reference().true_peak(p[0]) / reference().true_peak(base[0]));
    if (linked) {
      EXPECT_LT(g0, -10.0);
    } else {
      EXPECT_EQ(0, std::memcmp(p[0].data(), base[0].data(), p[0].size() * sizeof(float)));
    }
  }
}

TEST(Limiter, OversamplingChoiceAndExtremeRates) {
  LimiterParams lp;
  EXPECT_EQ(lathe::host::dsp::limiter_oversampling(lp, 8000), 16);   // 8000 * 16 = 128000 < 176400: the max
  EXPECT_EQ(lathe::host::dsp::limiter_oversampling(lp, 11025), 16);
  EXPECT_EQ(lathe::host::dsp::limiter_oversampling(lp, 22050), 8);
  EXPECT_EQ(lathe::host::dsp::limiter_oversampling(lp, 32000), 8);
  EXPECT_EQ(lathe::host::dsp::limiter_oversampling(lp, 44100), 4);
  EXPECT_EQ(lathe::host::dsp::limiter_oversampling(lp, 48000), 4);
  EXPECT_EQ(lathe::host::dsp::limiter_oversampling(lp, 384000), 4);
  lp.oversampling = 16;
  EXPECT_EQ(lathe::host::dsp::limiter_oversampling(lp, 96000), 16);
  for (int rate : {8000, 384000}) {
    Planar p = music(1, 0.6, rate, 41);
    scale(p, 10.0);
    const LimiterResult r = limit(p, rate);
    const double tp = db(reference_tp(p));
    std::printf("[limiter] %d Hz: %.4f dBTP after limiting, max GR %.2f dB\n", rate, tp, r.max_gain_reduction_db);
    EXPECT_LE(tp, -1.0 + kRefToleranceDb) << rate;
    EXPECT_GT(r.max_gain_reduction_db, 9.0) << rate;
  }
}

TEST(Limiter, InvalidParametersThrow) {
  auto bad = [](auto mutate) {
    LimiterParams lp;
    mutate(lp);
    return lp;
  };
  const std::vector<LimiterParams> cases = {
      bad([](LimiterParams& p) { p.ceiling_dbtp = 0.5; }),
      bad([](LimiterParams& p) { p.ceiling_dbtp = -20.5; }),
      bad([](LimiterParams& p) { p.ceiling_dbtp = std::numeric_limits<double>::quiet_NaN(); }),
      bad([](LimiterParams& p) { p.lookahead_ms = 0.0; }),
      bad([](LimiterParams& p) { p.lookahead_ms = 100.5; }),
      bad([](LimiterParams& p) { p.release_ms = 0.5; }),
      bad([](LimiterParams& p) { p.release_ms = 5001.0; }),
      bad([](LimiterParams& p) { p.oversampling = 2; }),
      bad([](LimiterParams& p) { p.oversampling = 32; }),
  };
  for (const auto& lp : cases) {
    EXPECT_THROW(lathe::host::dsp::validate(lp), std::invalid_argument);
    Planar p{{0.5f, 0.5f}};
    EXPECT_THROW(limit(p, 48000, lp), std::invalid_argument);
  }
  try {
    lathe::host::dsp::validate(bad([](LimiterParams& p) { p.release_ms = 6000; }));
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("release_ms"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(lathe::host::dsp::validate(LimiterParams{}));
  EXPECT_NO_THROW(lathe::host::dsp::validate(bad([](LimiterParams& p) {
    p.ceiling_dbtp = 0.0;
    p.lookahead_ms = 100.0;
    p.release_ms = 5000.0;
    p.oversampling = 8;
  })));
  Planar p{{0.5f, 0.5f}};
  EXPECT_THROW(limit(p, 4000), std::invalid_argument);
  EXPECT_THROW(limit(p, 400000), std::invalid_argument);
  float* null_ch[1] = {nullptr};
  EXPECT_THROW(lathe::host::dsp::limit_track(LimiterParams{}, 48000, null_ch, 10, false), std::invalid_argument);
  EXPECT_THROW(lathe::host::dsp::limit_track(LimiterParams{}, 48000, ptrs(p), -1, false), std::invalid_argument);
}

// ---- statistics --------------------------------------------------------------------------------------------
TEST(Limiter, GainReductionStats) {
  // A constructed curve at 48 kHz: 0.25 s at 0.5 (6.0206 dB), 0.25 s at 0.95 (0.4455 dB), 0.25 s at 0.999
  // (0.0087 dB: below the 0.1 dB "active" threshold), 0.25 s at 1.
  const int rate = 48000;
  std::vector<float> g(48000, 1.0f);
  std::fill(g.begin(), g.begin() + 12000, 0.5f);
  std::fill(g.begin() + 12000, g.begin() + 24000, 0.95f);
  std::fill(g.begin() + 24000, g.begin() + 36000, 0.999f);
  const LimiterResult s = lathe::host::dsp::gain_reduction_stats(g, rate);
  const double d1 = -db(0.5f), d2 = -db(0.95f);
  EXPECT_NEAR(s.max_gain_reduction_db, d1, 1e-9);
  EXPECT_NEAR(s.mean_gain_reduction_db, (d1 + d2) / 2, 1e-9);
  EXPECT_NEAR(s.seconds_above_1db, 0.25, 1e-12);
  EXPECT_NEAR(s.seconds_active, 0.5, 1e-12);
  const LimiterResult tiny = lathe::host::dsp::gain_reduction_stats(std::vector<float>(100, 0.999f), rate);
  EXPECT_NEAR(tiny.max_gain_reduction_db, -db(0.999f), 1e-9);
  EXPECT_EQ(tiny.mean_gain_reduction_db, 0.0);
  EXPECT_EQ(tiny.seconds_active, 0.0);

  // End to end: 1 s of a 1 kHz sine at +6 dBFS between silences, fixed 50 ms release. Reduction: 7.05 dB
  // (6 dB + 1 dB ceiling + margin) during the sine; > 1 dB also over the attack ramp (most of LA + K before it)
  // and during the release until 1 - gain falls from 0.557 to 0.109: 50 ms * ln(0.557 / 0.109) = 82 ms. The
  // mean over the active frames (>= 0.1 dB) is lower than 7.05 dB: it includes the ramps and the release tail.
  Planar p = burst(rate, 0.5, 1.0, 1.0, 6.0);
  LimiterParams lp;
  lp.auto_release = false;
  lp.release_ms = 50.0;
  const LimiterResult r = limit(p, rate, lp);
  const double expected_gr = 6.0 + 1.0 + lathe::host::dsp::kLimiterMarginDb;
  EXPECT_NEAR(r.max_gain_reduction_db, expected_gr, 0.02);
  const double dmax = 1.0 - from_db(-expected_gr), d1db = 1.0 - from_db(-1.0);
  const double release_part = 0.05 * std::log(dmax / d1db);
  EXPECT_NEAR(r.seconds_above_1db, 1.0 + release_part + lp.lookahead_ms / 1000.0, 0.006);
  EXPECT_GT(r.mean_gain_reduction_db, expected_gr - 1.0);
  EXPECT_LT(r.mean_gain_reduction_db, expected_gr);
  EXPECT_GT(r.seconds_active, r.seconds_above_1db);
  // The same numbers from the returned curve.
  const LimiterResult again = lathe::host::dsp::gain_reduction_stats(r.gain, rate);
  EXPECT_EQ(again.max_gain_reduction_db, r.max_gain_reduction_db);
  EXPECT_EQ(again.seconds_above_1db, r.seconds_above_1db);
}

// ---- design ----------------------------------------------------------------------------------------------------
TEST(Limiter, InterpolatorDesign) {
  // Each float phase against the ideal fractional delay: |H(f) - e^{-j 2 pi f tau}| over 0 .. 0.4535 fs.
  for (int factor : {4, 8, 16}) {
    const kl::Interp& ip = lathe::host::dsp::limiter_interp(factor);
    ASSERT_EQ(ip.factor, factor);
    ASSERT_EQ(ip.taps, lathe::host::dsp::kLimiterTaps);
    double worst = 0, worst_abs_sum = 0;
    for (int p = 1; p < factor; ++p) {
      const float* c = ip.c + (p - 1) * ip.taps;
      double abs_sum = 0;
      for (int m = 0; m < ip.taps; ++m) abs_sum += std::abs(static_cast<double>(c[m]));
      worst_abs_sum = std::max(worst_abs_sum, abs_sum);
      for (double f = 0; f <= 0.4535; f += 0.0025) {
        double re = 0, im = 0;
        for (int m = 0; m < ip.taps; ++m) {
          const double off = m - ip.taps / 2 + 1 - static_cast<double>(p) / factor;  // position - point
          re += static_cast<double>(c[m]) * std::cos(2 * kPi * f * off);
          im -= static_cast<double>(c[m]) * std::sin(2 * kPi * f * off);
        }
        worst = std::max(worst, std::hypot(re - 1.0, im));
      }
    }
    EXPECT_LT(worst, 1e-3) << factor;  // 0.009 dB
    EXPECT_GE(static_cast<double>(ip.bound), kl::kRefineMaxGain * worst_abs_sum) << factor;
  }
}

}  // namespace
