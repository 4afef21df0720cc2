// Loudness meter: EBU Tech 3341/3342 cases, analytic true-peak signals, a 16x reference interpolator,
// agreement with libebur128, edge cases and segmentation invariance. Signals are generated here (no files).
#include <ebur128.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "host/meter/meter.hpp"
#include "kernels/meter.hpp"
#include "tests/signals.hpp"

namespace {

using lathe::host::meter::TrackMeter;
using lathe::host::meter::TrackReport;
using lathe::test::Planar;

constexpr double kPi = 3.14159265358979323846;

double db_to_amp(double db) { return std::pow(10.0, db / 20.0); }

TrackReport measure(const Planar& p, int rate, std::int64_t segment = 0) {
  TrackMeter m(rate, static_cast<int>(p.size()));
  const auto frames = static_cast<std::int64_t>(p.empty() ? 0 : p[0].size());
  if (segment <= 0) segment = frames > 0 ? frames : 1;
  std::vector<const float*> ptr(p.size());
  for (std::int64_t done = 0; done < frames; done += segment) {
    const std::int64_t n = std::min(segment, frames - done);
    for (std::size_t c = 0; c < p.size(); ++c) ptr[c] = p[c].data() + done;
    m.add(ptr, n);
  }
  return m.finish();
}

// A 1 kHz sine made of consecutive (seconds, dBFS peak) sections, the same on `channels` channels (phase
// continuous). A level of -inf dB (or below -200) is silence.
Planar tone_sections(const std::vector<std::pair<double, double>>& sections, int rate, int channels = 2,
                     double freq = 1000.0) {
  std::vector<float> ch;
  std::int64_t i = 0;
  for (const auto& [secs, db] : sections) {
    const auto n = static_cast<std::int64_t>(std::llround(secs * rate));
    const double a = db < -200 ? 0.0 : db_to_amp(db);
    for (std::int64_t k = 0; k < n; ++k, ++i)
      ch.push_back(static_cast<float>(a * std::sin(2 * kPi * freq * static_cast<double>(i) / rate)));
  }
  return Planar(static_cast<std::size_t>(channels), ch);
}

// ---- EBU Tech 3341 ---------------------------------------------------------------------------------------------
TEST(Meter, Tech3341Case1And2) {
  for (double level : {-23.0, -33.0}) {
    const auto r = measure(tone_sections({{20.0, level}}, 48000), 48000);
    ASSERT_TRUE(r.integrated_lufs && r.momentary_max_lufs && r.short_term_max_lufs);
    EXPECT_NEAR(*r.integrated_lufs, level, 0.1);
    EXPECT_NEAR(*r.momentary_max_lufs, level, 0.1);
    EXPECT_NEAR(*r.short_term_max_lufs, level, 0.1);
  }
}

TEST(Meter, Tech3341Cases3To5) {
  const std::vector<std::vector<std::pair<double, double>>> cases = {
      {{10, -36}, {60, -23}, {10, -36}},
      {{10, -72}, {10, -36}, {60, -23}, {10, -36}, {10, -72}},
      {{20, -26}, {20.1, -20}, {20, -26}},
  };
  for (const auto& c : cases) {
    const auto r = measure(tone_sections(c, 48000), 48000);
    ASSERT_TRUE(r.integrated_lufs);
    EXPECT_NEAR(*r.integrated_lufs, -23.0, 0.1);
  }
}

TEST(Meter, Tech3341Case6Surround) {
  const double levels[5] = {-28, -28, -24, -30, -30};  // L R C Ls Rs
  Planar p;
  for (double l : levels) p.push_back(tone_sections({{20.0, l}}, 48000, 1)[0]);
  const auto r = measure(p, 48000);
  ASSERT_TRUE(r.integrated_lufs);
  EXPECT_NEAR(*r.integrated_lufs, -23.0, 0.1);
}

TEST(Meter, Tech3341Case9And12Constant) {
  // Case 9: 1.34 s at -20, 1.66 s at -30, repeated: S = -23 after 3 s. Case 12: 0.18 / 0.22 s: M = -23.
  std::vector<std::pair<double, double>> c9, c12;
  for (int k = 0; k < 5; ++k) c9.insert(c9.end(), {{1.34, -20}, {1.66, -30}});
  for (int k = 0; k < 25; ++k) c12.insert(c12.end(), {{0.18, -20}, {0.22, -30}});
  const auto r9 = measure(tone_sections(c9, 48000), 48000);
  for (std::size_t j = 29; j < r9.short_term_curve.size(); ++j) {
    ASSERT_TRUE(r9.short_term_curve[j]);
    EXPECT_NEAR(*r9.short_term_curve[j], -23.0, 0.1) << "t=" << static_cast<double>(j + 1) * 0.1;
  }
  ASSERT_TRUE(r9.short_term_max_lufs);
  EXPECT_NEAR(*r9.short_term_max_lufs, -23.0, 0.1);
  // Case 12 through the public block powers (M at 100 ms steps) and the 10 ms-grid max.
  const auto r12 = measure(tone_sections(c12, 48000), 48000);
  for (std::size_t j = 6; j < r12.block_powers.size(); ++j)
    EXPECT_NEAR(-0.691 + 10 * std::log10(r12.block_powers[j]), -23.0, 0.1) << j;
  ASSERT_TRUE(r12.momentary_max_lufs);
  EXPECT_NEAR(*r12.momentary_max_lufs, -23.0, 0.1);
}

TEST(Meter, Tech3341Cases10And13ShiftedBursts) {
  // A 3 s (case 10) or 0.4 s (case 13) burst at -23 dBFS in silence, started off any 10 ms grid.
  for (double shift_ms : {0.0, 1.3, 4.7, 23.1, 57.9}) {
    const auto r10 = measure(tone_sections({{1.0 + shift_ms / 1000, -300}, {3.0, -23}, {1.0, -300}}, 48000), 48000);
    ASSERT_TRUE(r10.short_term_max_lufs);
    EXPECT_NEAR(*r10.short_term_max_lufs, -23.0, 0.1) << shift_ms;
    const auto r13 = measure(tone_sections({{1.0 + shift_ms / 1000, -300}, {0.4, -23}, {1.0, -300}}, 48000), 48000);
    ASSERT_TRUE(r13.momentary_max_lufs);
    EXPECT_NEAR(*r13.momentary_max_lufs, -23.0, 0.1) << shift_ms;
  }
}

// ---- EBU Tech 3342 ---------------------------------------------------------------------------------------------
TEST(Meter, Tech3342Cases1To4) {
  const std::vector<std::pair<std::vector<double>, double>> cases = {
      {{-20, -30}, 10}, {{-20, -15}, 5}, {{-40, -20}, 20}, {{-50, -35, -20, -35, -50}, 15}};
  for (const auto& [levels, expected] : cases) {
    std::vector<std::pair<double, double>> s;
    for (double l : levels) s.push_back({20.0, l});
    const auto r = measure(tone_sections(s, 48000), 48000);
    ASSERT_TRUE(r.lra_lu);
    EXPECT_NEAR(*r.lra_lu, expected, 1.0);
    EXPECT_NEAR(*r.lra_lu, expected, 0.1);  // tighter than the spec: it is exact in practice
  }
}

// ---- true peak -------------------------------------------------------------------------------------------------
// A sine with raised-cosine fades of 50 ms at both ends (CASES.md: abrupt edges ring in every interpolator).
std::vector<float> faded_sine(double cycles_per_sample, double phase, double amp, std::int64_t n, int rate) {
  std::vector<float> x(static_cast<std::size_t>(n));
  const double fade = 0.05 * rate;
  for (std::int64_t i = 0; i < n; ++i) {
    const double e = std::min(1.0, std::min(static_cast<double>(i), static_cast<double>(n - 1 - i)) / fade);
    const double g = 0.5 - 0.5 * std::cos(kPi * e);
    x[static_cast<std::size_t>(i)] =
        static_cast<float>(amp * g * std::sin(2 * kPi * cycles_per_sample * static_cast<double>(i) + phase));
  }
  return x;
}

TEST(Meter, TruePeakAnalyticSignals) {
  struct Case {
    double cps, phase, amp, tp_db, sp_db;
  };
  const Case cases[] = {
      {0.25, kPi / 4, 0.5, -6.02, -9.03},
      {0.25, kPi / 4, std::sqrt(2.0), 3.01, 0.0},
      {1.0 / 6, 0.0, 0.5, -6.02, -7.27},  // samples at 0, 60, 120 ... degrees: never on the crest
      {0.125, kPi / 8, 0.5, -6.02, -6.71},
  };
  for (int rate : {44100, 48000}) {
    for (const auto& c : cases) {
      const auto x = faded_sine(c.cps, c.phase, c.amp, rate, rate);
      const auto r = measure(Planar{x, x}, rate);
      EXPECT_LE(r.true_peak_dbtp, c.tp_db + 0.2) << c.cps << " " << c.amp;
      EXPECT_GE(r.true_peak_dbtp, c.tp_db - 0.4) << c.cps << " " << c.amp;
      EXPECT_NEAR(r.sample_peak_dbfs, c.sp_db, 0.01);
      std::printf("[tp] rate %d f=fs*%.4f amp %.3f: %.3f dBTP (expected %.2f)\n", rate, c.cps, c.amp,
                  r.true_peak_dbtp, c.tp_db);
    }
  }
}

// Reference: a long Kaiser-windowed sinc (256 samples each side, beta 14) evaluated directly in double at 16x.
double reference_true_peak(const std::vector<float>& x) {
  constexpr int kR = 16, kH = 256;
  const double beta = 14.0;
  auto i0 = [](double v) {
    double s = 1, t = 1;
    for (int k = 1; k < 300; ++k) {
      t *= (v / (2 * k)) * (v / (2 * k));
      s += t;
      if (t < 1e-18 * s) break;
    }
    return s;
  };
  const double i0b = i0(beta);
  std::vector<double> c(static_cast<std::size_t>(kR * 2 * kH));
  for (int p = 0; p < kR; ++p)
    for (int k = 0; k < 2 * kH; ++k) {
      const double tau = static_cast<double>(p) / kR - (k - kH + 1);
      const double u = tau / kH;
      const double w = std::abs(u) >= 1 ? 0.0 : i0(beta * std::sqrt(1 - u * u)) / i0b;
      const double s = std::abs(tau) < 1e-12 ? 1.0 : std::sin(kPi * tau) / (kPi * tau);
      c[static_cast<std::size_t>(p * 2 * kH + k)] = s * w;
    }
  const auto n = static_cast<std::int64_t>(x.size());
  double peak = 0;
  for (std::int64_t m = -1; m < n; ++m)
    for (int p = 0; p < kR; ++p) {
      double a = 0;
      const double* cp = c.data() + p * 2 * kH;
      const std::int64_t lo = std::max<std::int64_t>(0, m - kH + 1), hi = std::min<std::int64_t>(n, m + kH + 1);
      for (std::int64_t idx = lo; idx < hi; ++idx) a += x[static_cast<std::size_t>(idx)] * cp[idx - m + kH - 1];
      peak = std::max(peak, std::abs(a));
    }
  return peak;
}

TEST(Meter, TruePeakAgainst16xReference) {
  // Sines up to about 0.35 fs: within +0.2 / -0.4 dB (x4's own grid limits it near fs/2).
  double worst_sine_lo = 0, worst_sine_hi = -1;
  for (int rate : {44100, 48000, 96000}) {
    for (double f : {997.0, 5000.0, 9000.0, 12345.0, 15000.0}) {
      for (double phase : {0.1, 1.3}) {
        const auto x = faded_sine(f / rate, phase, 0.5, rate / 5, rate);
        const double ref = reference_true_peak(x);
        const auto r = measure(Planar{x}, rate);
        const double e = 20 * std::log10(r.per_channel[0].true_peak / ref);
        worst_sine_lo = std::min(worst_sine_lo, e);
        worst_sine_hi = std::max(worst_sine_hi, e);
        EXPECT_LE(e, 0.2) << rate << " " << f;
        EXPECT_GE(e, -0.4) << rate << " " << f;
      }
    }
  }
  // Music-like material (tests/signals.hpp): within +-0.1 dB.
  double worst_music = 0;
  for (int rate : {44100, 48000, 96000}) {
    for (std::uint64_t seed : {1u, 2u, 3u}) {
      const auto p = lathe::test::make_signal(lathe::test::SignalKind::kMusicLike, 2, rate / 2, rate, seed);
      const auto r = measure(p, rate);
      for (std::size_t c = 0; c < 2; ++c) {
        const double ref = reference_true_peak(p[c]);
        const double e = 20 * std::log10(r.per_channel[c].true_peak / ref);
        worst_music = std::max(worst_music, std::abs(e));
        EXPECT_NEAR(e, 0.0, 0.1) << rate << " seed " << seed << " ch " << c;
      }
    }
  }
  std::printf("[tp] vs 16x reference: sines %+.3f .. %+.3f dB, music-like max |error| %.3f dB\n", worst_sine_lo,
              worst_sine_hi, worst_music);
}

// ---- libebur128 ----------------------------------------------------------------------------------------------
// Music-like material with a slow level envelope (so that LRA is not trivially small).
Planar dynamic_music(int channels, double seconds, int rate, std::uint64_t seed) {
  const auto n = static_cast<std::int64_t>(seconds * rate);
  auto p = lathe::test::make_signal(lathe::test::SignalKind::kMusicLike, channels, n, rate, seed);
  for (auto& ch : p)
    for (std::int64_t i = 0; i < n; ++i) {
      const double t = static_cast<double>(i) / rate;
      const double env_db = -6.0 + 6.0 * std::sin(2 * kPi * t / 11.0) + 2.0 * std::sin(2 * kPi * t / 3.7);
      ch[static_cast<std::size_t>(i)] = static_cast<float>(ch[static_cast<std::size_t>(i)] * db_to_amp(env_db));
    }
  return p;
}

TEST(Meter, AgreesWithLibebur128) {
  for (int rate : {44100, 48000, 96000}) {
    for (int channels : {1, 2}) {
      const auto p = dynamic_music(channels, 25.0, rate, 11 + static_cast<std::uint64_t>(channels));
      const auto frames = p[0].size();
      std::vector<float> inter(frames * static_cast<std::size_t>(channels));
      for (std::size_t i = 0; i < frames; ++i)
        for (std::size_t c = 0; c < p.size(); ++c) inter[i * p.size() + c] = p[c][i];
      ebur128_state* st = ebur128_init(static_cast<unsigned>(channels), static_cast<unsigned long>(rate),
                                       EBUR128_MODE_I | EBUR128_MODE_LRA | EBUR128_MODE_TRUE_PEAK |
                                           EBUR128_MODE_SAMPLE_PEAK);
      ASSERT_NE(st, nullptr);
      const auto t0 = std::chrono::steady_clock::now();
      ASSERT_EQ(ebur128_add_frames_float(st, inter.data(), frames), EBUR128_SUCCESS);
      double ref_i = 0, ref_lra = 0;
      ebur128_loudness_global(st, &ref_i);
      ebur128_loudness_range(st, &ref_lra);
      const auto t1 = std::chrono::steady_clock::now();
      TrackMeter m(rate, channels);
      m.add_interleaved(inter.data(), static_cast<std::int64_t>(frames));
      const auto r = m.finish();
      const auto t2 = std::chrono::steady_clock::now();
      ASSERT_TRUE(r.integrated_lufs);
      ASSERT_TRUE(r.lra_lu);
      EXPECT_NEAR(*r.integrated_lufs, ref_i, 0.01) << rate << " ch " << channels;
      EXPECT_NEAR(*r.lra_lu, ref_lra, 0.05) << rate << " ch " << channels;
      double ref_tp_max = 0;
      for (int c = 0; c < channels; ++c) {
        double sp = 0, tp = 0;
        ebur128_sample_peak(st, static_cast<unsigned>(c), &sp);
        ebur128_true_peak(st, static_cast<unsigned>(c), &tp);
        EXPECT_EQ(r.per_channel[static_cast<std::size_t>(c)].sample_peak, sp);
        ref_tp_max = std::max(ref_tp_max, tp);
      }
      const double ms_ref = std::chrono::duration<double, std::milli>(t1 - t0).count();
      const double ms_ours = std::chrono::duration<double, std::milli>(t2 - t1).count();
      std::printf("[ebur128] %d Hz %d ch: I %.4f vs %.4f, LRA %.4f vs %.4f, TP %.3f vs %.3f dB; %.0f ms vs %.0f ms\n",
                  rate, channels, *r.integrated_lufs, ref_i, *r.lra_lu, ref_lra, r.true_peak_dbtp,
                  20 * std::log10(ref_tp_max), ms_ours, ms_ref);
      ebur128_destroy(&st);
    }
  }
}

// lathe takes a short-term value every 100 ms for LRA (Tech 3342: at least 10 per second); libebur128 takes one
// per second (windows ending at 3 s, 4 s, ...). On a slow, wide swell the two rates give different LRAs; taking
// every 10th of lathe's values (the same windows libebur128 uses) brings them back together, which shows that the
// rate is the whole difference (README "Metering").
TEST(Meter, LraDifferenceWithLibebur128IsTheShortTermRate) {
  const int rate = 48000;
  const auto n = static_cast<std::size_t>(40 * rate);
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / rate;
    // A 1 kHz tone whose level swings by +-9 dB with an 11 s period.
    x[i] = static_cast<float>(0.25 * db_to_amp(9.0 * std::sin(2 * kPi * t / 11.0)) * std::sin(2 * kPi * 1000.0 * t));
  }
  ebur128_state* st = ebur128_init(1, static_cast<unsigned long>(rate), EBUR128_MODE_LRA);
  ASSERT_NE(st, nullptr);
  ASSERT_EQ(ebur128_add_frames_float(st, x.data(), n), EBUR128_SUCCESS);
  double ref_lra = 0;
  ebur128_loudness_range(st, &ref_lra);
  ebur128_destroy(&st);
  TrackMeter m(rate, 1);
  m.add_interleaved(x.data(), static_cast<std::int64_t>(n));
  const auto r = m.finish();
  ASSERT_TRUE(r.lra_lu);
  std::vector<double> every_second;
  for (std::size_t j = 0; j < r.short_term_powers.size(); j += 10) every_second.push_back(r.short_term_powers[j]);
  const auto lra_1s = lathe::host::meter::loudness_range(every_second);
  ASSERT_TRUE(lra_1s);
  std::printf("[lra] 10/s %.3f LU, 1/s %.3f LU, libebur128 %.3f LU\n", *r.lra_lu, *lra_1s, ref_lra);
  EXPECT_NEAR(*lra_1s, ref_lra, 0.05);
  EXPECT_GT(std::abs(*r.lra_lu - ref_lra), 0.1);  // the rates do differ here
}

// ---- edge cases ---------------------------------------------------------------------------------------------
TEST(Meter, SilenceIsBelowGate) {
  const auto r = measure(Planar(2, std::vector<float>(48000 * 5, 0.0f)), 48000);
  EXPECT_FALSE(r.integrated_lufs);
  EXPECT_FALSE(r.momentary_max_lufs);
  EXPECT_FALSE(r.short_term_max_lufs);
  EXPECT_FALSE(r.lra_lu);
  EXPECT_FALSE(r.correlation);
  EXPECT_FALSE(r.balance_lu);
  EXPECT_FALSE(r.mono_loss_lu);
  EXPECT_EQ(r.sample_peak_dbfs, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(r.true_peak_dbtp, -std::numeric_limits<double>::infinity());
  EXPECT_DOUBLE_EQ(r.leading_silence_s, 5.0);
  for (const auto& v : r.short_term_curve) EXPECT_FALSE(v);
}

TEST(Meter, ShorterThan400msIsUndefined) {
  const auto r = measure(tone_sections({{0.3, -20}}, 48000), 48000);
  EXPECT_FALSE(r.integrated_lufs);
  EXPECT_FALSE(r.momentary_max_lufs);
  EXPECT_FALSE(r.lra_lu);
  EXPECT_TRUE(r.block_powers.empty());
  EXPECT_NEAR(r.sample_peak_dbfs, -20.0, 0.01);
  const auto empty = measure(Planar(2), 48000);
  EXPECT_FALSE(empty.integrated_lufs);
  EXPECT_EQ(empty.frames, 0);
}

TEST(Meter, DcOnly) {
  // K-weighting's high-pass removes DC: only the onset step (the first few blocks) passes the gates, so the
  // integrated loudness is that of the step's transient, far below the DC level; peaks and DC offset read 0.5.
  const auto r = measure(Planar(2, std::vector<float>(48000 * 5, 0.5f)), 48000);
  if (r.integrated_lufs) {
    EXPECT_LT(*r.integrated_lufs, -20.0);
    std::printf("[dc] I %.2f LUFS (onset transient), TP %.3f dBTP\n", *r.integrated_lufs, r.true_peak_dbtp);
  }
  ASSERT_GE(r.short_term_powers.size(), 3u);
  EXPECT_LT(r.short_term_powers.back(), 1e-12);  // the transient has decayed
  EXPECT_NEAR(r.per_channel[0].dc_offset, 0.5, 1e-12);
  EXPECT_NEAR(r.sample_peak_dbfs, -6.02, 0.01);
  // The interpolator has unit DC gain; the only overshoot is the step at the start and at the end.
  EXPECT_GE(r.true_peak_dbtp, -6.03);
  EXPECT_LE(r.true_peak_dbtp, -6.02 + 1.5);
}

TEST(Meter, FullScaleSquare) {
  const auto p = lathe::test::make_signal(lathe::test::SignalKind::kSquareFullScale, 2, 48000 * 5, 48000);
  const auto r = measure(p, 48000);
  ASSERT_TRUE(r.integrated_lufs);
  // A 500 Hz full-scale square: mean square 1 per channel, K-weighting adds its gain over the harmonics.
  EXPECT_GT(*r.integrated_lufs, -1.0);
  EXPECT_LT(*r.integrated_lufs, 3.5);
  EXPECT_DOUBLE_EQ(r.sample_peak_dbfs, 0.0);
  EXPECT_GT(r.true_peak_dbtp, 0.5);  // Gibbs overshoot between samples
  EXPECT_GT(r.per_channel[0].intersample_overs, 0u);
  EXPECT_GT(r.per_channel[0].clipped_runs, 1000u);  // 48-sample runs on each rail
  EXPECT_EQ(r.per_channel[0].clipped_samples, static_cast<std::uint64_t>(48000 * 5));
  std::printf("[square] I %.3f LUFS, TP %.3f dBTP, overs %llu\n", *r.integrated_lufs, r.true_peak_dbtp,
              static_cast<unsigned long long>(r.per_channel[0].intersample_overs));
}

TEST(Meter, OneSilentChannel) {
  auto p = tone_sections({{10.0, -20}}, 48000);
  std::fill(p[1].begin(), p[1].end(), 0.0f);
  const auto r = measure(p, 48000);
  ASSERT_TRUE(r.integrated_lufs);
  // One channel of a stereo -20 dBFS sine (-20 LUFS): 3.01 dB less.
  EXPECT_NEAR(*r.integrated_lufs, -23.01, 0.1);
  EXPECT_FALSE(r.correlation);   // undefined: no variance in R
  EXPECT_FALSE(r.balance_lu);    // R alone is below the gate
  ASSERT_TRUE(r.mono_loss_lu);   // (L+0)/2 on both channels: 6.02 - 3.01 dB quieter
  EXPECT_NEAR(*r.mono_loss_lu, 3.01, 0.05);
}

TEST(Meter, StereoChecks) {
  auto p = tone_sections({{10.0, -20}}, 48000);
  auto r = measure(p, 48000);
  ASSERT_TRUE(r.correlation && r.balance_lu && r.mono_loss_lu);
  EXPECT_NEAR(*r.correlation, 1.0, 1e-9);
  EXPECT_NEAR(*r.balance_lu, 0.0, 1e-9);
  EXPECT_NEAR(*r.mono_loss_lu, 0.0, 1e-6);
  for (auto& v : p[1]) v = v * 0.5f;
  r = measure(p, 48000);
  ASSERT_TRUE(r.balance_lu);
  EXPECT_NEAR(*r.balance_lu, 6.02, 0.01);
  for (auto& v : p[1]) v = -2.0f * v;
  r = measure(p, 48000);
  ASSERT_TRUE(r.correlation);
  EXPECT_NEAR(*r.correlation, -1.0, 1e-9);
  EXPECT_FALSE(r.mono_loss_lu);  // L = -R: the fold-down is silent
}

TEST(Meter, NonFiniteCountedAsSilence) {
  auto p = tone_sections({{2.0, -20}}, 48000);
  const auto clean = measure(p, 48000);
  p[0][1000] = std::numeric_limits<float>::quiet_NaN();
  p[0][2000] = std::numeric_limits<float>::infinity();
  p[1][3000] = -std::numeric_limits<float>::infinity();
  const auto r = measure(p, 48000);
  EXPECT_EQ(r.per_channel[0].nonfinite_samples, 2u);
  EXPECT_EQ(r.per_channel[1].nonfinite_samples, 1u);
  ASSERT_TRUE(r.integrated_lufs);
  EXPECT_TRUE(std::isfinite(r.true_peak_dbtp));
  EXPECT_NEAR(*r.integrated_lufs, *clean.integrated_lufs, 0.01);
}

TEST(Meter, SilenceAndClipDetection) {
  auto p = tone_sections({{1.0, -300}, {2.0, -20}, {0.5, -300}}, 48000, 1);
  p[0][60000] = 1.0f;
  p[0][60001] = 1.2f;
  p[0][60002] = 1.0f;
  p[0][70000] = -1.0f;
  p[0][70001] = -1.0f;  // a run of 2: not counted
  const auto r = measure(p, 48000);
  EXPECT_NEAR(r.leading_silence_s, 1.0, 0.001);
  EXPECT_NEAR(r.trailing_silence_s, 0.5, 0.001);
  EXPECT_EQ(r.per_channel[0].clipped_runs, 1u);
  EXPECT_EQ(r.per_channel[0].clipped_samples, 3u);
}

// ---- segmentation invariance -------------------------------------------------------------------------------------
bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }
bool same_opt(const std::optional<double>& a, const std::optional<double>& b) {
  return a.has_value() == b.has_value() && (!a || same_bits(*a, *b));
}

void expect_identical(const TrackReport& a, const TrackReport& b) {
  EXPECT_TRUE(same_opt(a.integrated_lufs, b.integrated_lufs));
  EXPECT_TRUE(same_opt(a.momentary_max_lufs, b.momentary_max_lufs));
  EXPECT_TRUE(same_opt(a.short_term_max_lufs, b.short_term_max_lufs));
  EXPECT_TRUE(same_opt(a.lra_lu, b.lra_lu));
  EXPECT_TRUE(same_opt(a.correlation, b.correlation));
  EXPECT_TRUE(same_opt(a.mono_loss_lu, b.mono_loss_lu));
  EXPECT_TRUE(same_opt(a.balance_lu, b.balance_lu));
  EXPECT_TRUE(same_bits(a.true_peak_dbtp, b.true_peak_dbtp));
  EXPECT_TRUE(same_bits(a.sample_peak_dbfs, b.sample_peak_dbfs));
  EXPECT_TRUE(same_bits(a.leading_silence_s, b.leading_silence_s));
  EXPECT_TRUE(same_bits(a.trailing_silence_s, b.trailing_silence_s));
  ASSERT_EQ(a.block_powers.size(), b.block_powers.size());
  for (std::size_t i = 0; i < a.block_powers.size(); ++i) EXPECT_TRUE(same_bits(a.block_powers[i], b.block_powers[i]));
  ASSERT_EQ(a.short_term_powers.size(), b.short_term_powers.size());
  for (std::size_t i = 0; i < a.short_term_powers.size(); ++i)
    EXPECT_TRUE(same_bits(a.short_term_powers[i], b.short_term_powers[i]));
  ASSERT_EQ(a.per_channel.size(), b.per_channel.size());
  for (std::size_t c = 0; c < a.per_channel.size(); ++c) {
    const auto &x = a.per_channel[c], &y = b.per_channel[c];
    EXPECT_TRUE(same_bits(x.true_peak, y.true_peak) && same_bits(x.sample_peak, y.sample_peak) &&
                same_bits(x.dc_offset, y.dc_offset));
    EXPECT_EQ(x.clipped_runs, y.clipped_runs);
    EXPECT_EQ(x.clipped_samples, y.clipped_samples);
    EXPECT_EQ(x.intersample_overs, y.intersample_overs);
    EXPECT_EQ(x.nonfinite_samples, y.nonfinite_samples);
  }
}

TEST(Meter, SegmentationNeverChangesABit) {
  for (int rate : {11025, 44100}) {
    for (int channels : {2, 3}) {
      auto p = dynamic_music(channels, 6.0, rate, 5);
      p[0][100] = 1.5f;  // a clipped run and intersample overs
      p[0][101] = 1.5f;
      p[0][102] = 1.5f;
      const auto whole = measure(p, rate);
      for (std::int64_t seg : {1, 7, 15, 16, 17, 441, 4096, 100003}) {
        SCOPED_TRACE(testing::Message() << rate << " Hz " << channels << " ch, segments of " << seg);
        expect_identical(whole, measure(p, rate, seg));
      }
      // Irregular segments.
      TrackMeter m(rate, channels);
      const auto frames = static_cast<std::int64_t>(p[0].size());
      std::vector<const float*> ptr(p.size());
      std::int64_t done = 0, step = 1;
      while (done < frames) {
        const std::int64_t n = std::min(step, frames - done);
        for (std::size_t c = 0; c < p.size(); ++c) ptr[c] = p[c].data() + done;
        m.add(ptr, n);
        done += n;
        step = (step * 7 + 3) % 20011;
      }
      expect_identical(whole, m.finish());
    }
  }
}

// ---- rates and layouts ------------------------------------------------------------------------------------------
TEST(Meter, RatesAndLayouts) {
  for (int rate : {8000, 384000}) {
    for (int channels = 1; channels <= 8; ++channels) {
      const auto p = tone_sections({{4.0, -20}}, rate, channels, 997.0);
      const auto r = measure(p, rate);
      ASSERT_TRUE(r.integrated_lufs) << rate << " " << channels;
      EXPECT_EQ(r.oversampling, rate == 8000 ? 4 : 1);
      EXPECT_NEAR(r.sample_peak_dbfs, -20.0, 0.01);
      EXPECT_NEAR(r.true_peak_dbtp, -20.0, 0.05);
      // Weighted channel count of each layout (LFE excluded, surrounds 1.41); -20 dBFS at 997 Hz ~ -23.0 LUFS per
      // unit weight.
      static const double kWeight[9] = {0, 1, 2, 3, 4.82, 5.82, 5.82, 7.23, 8.64};
      EXPECT_NEAR(*r.integrated_lufs, -23.0 + 10 * std::log10(kWeight[channels]), 0.1) << rate << " " << channels;
    }
  }
}

TEST(Meter, AlbumGatesAllBlocksTogether) {
  const auto a = measure(tone_sections({{10.0, -20}}, 48000), 48000);
  const auto b = measure(tone_sections({{10.0, -30}}, 48000), 48000);
  const std::vector<TrackReport> album = {a, b};
  const auto i = lathe::host::meter::album_integrated_lufs(album);
  ASSERT_TRUE(i);
  // The -30 LUFS track is within 10 LU of the mean power, so both count: the power mean of -20 and -30 LUFS.
  EXPECT_NEAR(*i, 10 * std::log10((std::pow(10.0, -2.0) + std::pow(10.0, -3.0)) / 2), 0.05);
  const auto lra = lathe::host::meter::album_lra_lu(album);
  ASSERT_TRUE(lra);
  EXPECT_NEAR(*lra, 10.0, 0.1);
}

}  // namespace
