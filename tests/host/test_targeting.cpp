// Loudness targeting, the true-peak limiter in the chain, album mode and sample-rate conversion, end to end
// through master_tracks: every delivery profile lands on its target with no true-peak over (lathe's meter,
// libebur128 and a 16x reference interpolation in double), quiet and over-dynamic material is reported rather
// than crushed, silence is safe, an album keeps its relative levels, and tracks already below the ceiling are
// left alone by the limiter.
#include <ebur128.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "host/engine/engine.hpp"
#include "host/errors.hpp"
#include "host/io/memory_track.hpp"
#include "host/master.hpp"
#include "host/profile/profile.hpp"
#include "tests/signals.hpp"

namespace lathe::test {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Music-like material with transients: a decaying kick every 0.5 s, hats (a cluster of high partials, 6 to 15 kHz,
// with a random decaying envelope), a bass line and a pad whose level moves slowly. `level_db` scales the whole
// mix (0 dB: peaks near full scale). Everything stays below 20 kHz: the band in which lathe's limiter and meter
// promise their true-peak readings (README "Loudness targeting"); white noise up to the Nyquist frequency has
// inter-sample peaks that no finite interpolator agrees on.
Planar band_mix(int channels, double seconds, int rate, double level_db, std::uint64_t seed, double punch = 1.0) {
  const auto n = static_cast<std::size_t>(seconds * rate);
  const double g = std::pow(10.0, level_db / 20.0);
  Planar p(static_cast<std::size_t>(channels), std::vector<float>(n));
  for (std::size_t c = 0; c < p.size(); ++c) {
    Noise noise(seed * 31 + c);
    for (std::size_t i = 0; i < n; ++i) {
      const double t = static_cast<double>(i) / rate;
      const double beat = std::fmod(t, 0.5);
      const double kick = punch * 0.55 * std::exp(-beat * 18.0) * det_sin(2 * kPi * (50.0 + 90.0 * std::exp(-beat * 30.0)) * beat);
      const double hat_t = std::fmod(t + 0.25, 0.5);
      const double hat = punch * 0.12 * std::exp(-hat_t * 60.0) * (0.7 + 0.3 * noise.next()) *
                         (0.5 * det_sin(2 * kPi * 6150.0 * t) + 0.4 * det_sin(2 * kPi * 8730.0 * t + 1.0) +
                          0.3 * det_sin(2 * kPi * 11420.0 * t + 2.0) + 0.25 * det_sin(2 * kPi * 14870.0 * t + 0.5));
      const double bass = 0.18 * det_sin(2 * kPi * 55.0 * t + 0.3 * static_cast<double>(c));
      const double pad = 0.1 * (0.6 + 0.4 * det_sin(2 * kPi * 0.13 * t)) *
                         (det_sin(2 * kPi * 440.0 * t) + 0.7 * det_sin(2 * kPi * 554.37 * t + static_cast<double>(c)) +
                          0.5 * det_sin(2 * kPi * 659.26 * t));
      p[c][i] = static_cast<float>(g * (kick + hat + bass + pad));
    }
  }
  return p;
}

struct Output {
  host::TrackReport report;
  Planar delivered;  // as float (PCM words / 2^31)
  int rate = 0;
};

std::vector<Output> master(const host::Profile& profile, std::vector<std::pair<std::string, Planar>> inputs, int rate,
                           bool album = false) {
  std::vector<std::unique_ptr<host::TrackIo>> tracks;
  std::vector<host::MemoryTrack*> mem;
  for (auto& [name, audio] : inputs) {
    auto t = std::make_unique<host::MemoryTrack>(name, std::move(audio), rate);
    mem.push_back(t.get());
    tracks.push_back(std::move(t));
  }
  auto engine = host::make_cpu_engine();
  host::MasterOptions options;
  options.album = album;
  const auto result = host::master_tracks(tracks, profile, *engine, options);
  std::vector<Output> out;
  for (std::size_t k = 0; k < mem.size(); ++k) {
    Output o;
    o.report = result.tracks[k];
    o.rate = o.report.delivery.whole_track ? o.report.delivery.rate_hz : rate;
    if (!mem[k]->pcm().empty()) {
      for (const auto& ch : mem[k]->pcm()) {
        std::vector<float> f(ch.size());
        for (std::size_t i = 0; i < ch.size(); ++i) f[i] = static_cast<float>(ch[i]) * (1.0f / 2147483648.0f);
        o.delivered.push_back(std::move(f));
      }
    }
    for (const auto& ch : mem[k]->out_float())
      if (!ch.empty()) o.delivered.push_back(ch);
    out.push_back(std::move(o));
  }
  return out;
}

// The true peak (dBTP) by interpolating at 16 times the rate in double with a long Kaiser-windowed sinc
// (128 taps, beta 10: passband error far below 0.01 dB up to 0.45 fs). Only the neighbourhoods of samples within
// 6 dB of the largest sample are interpolated: inter-sample peaks above the ceiling can only happen there.
double reference_true_peak_db(const Planar& p) {
  constexpr int kHalf = 64, kFactor = 16;
  constexpr double kBeta = 10.0;
  auto i0 = [](double x) {
    double s = 1, t = 1;
    for (int k = 1; k < 200; ++k) {
      t *= (x / (2.0 * k)) * (x / (2.0 * k));
      s += t;
      if (t < 1e-18 * s) break;
    }
    return s;
  };
  std::vector<std::vector<double>> taps(kFactor, std::vector<double>(2 * kHalf));
  for (int ph = 0; ph < kFactor; ++ph) {
    const double frac = static_cast<double>(ph) / kFactor;
    for (int k = 0; k < 2 * kHalf; ++k) {
      const double d = static_cast<double>(k - kHalf + 1) - frac;  // x[i + k - kHalf + 1] at offset d from point
      const double u = d / (kHalf + 1);
      const double w = i0(kBeta * std::sqrt(std::max(0.0, 1.0 - u * u))) / i0(kBeta);
      taps[static_cast<std::size_t>(ph)][static_cast<std::size_t>(k)] = (d == 0.0 ? 1.0 : std::sin(kPi * d) / (kPi * d)) * w;
    }
  }
  double peak = 0.0;
  for (const auto& ch : p) {
    double smax = 0.0;
    for (float v : ch) smax = std::max(smax, static_cast<double>(std::fabs(v)));
    const double floor = smax * 0.5;
    const auto n = static_cast<std::int64_t>(ch.size());
    for (std::int64_t i = 0; i < n; ++i) {
      if (std::fabs(ch[static_cast<std::size_t>(i)]) < floor) continue;
      for (std::int64_t centre = std::max<std::int64_t>(0, i - 2); centre <= std::min(n - 1, i + 1); ++centre) {
        for (int ph = 0; ph < kFactor; ++ph) {
          double acc = 0.0;
          for (int k = 0; k < 2 * kHalf; ++k) {
            const std::int64_t j = centre + k - kHalf + 1;
            if (j >= 0 && j < n) acc += taps[static_cast<std::size_t>(ph)][static_cast<std::size_t>(k)] * ch[static_cast<std::size_t>(j)];
          }
          peak = std::max(peak, std::fabs(acc));
        }
      }
    }
  }
  return 20.0 * std::log10(peak);
}

double ebur128_true_peak_db(const Planar& p, int rate) {
  const auto frames = p[0].size();
  std::vector<float> inter(frames * p.size());
  for (std::size_t i = 0; i < frames; ++i)
    for (std::size_t c = 0; c < p.size(); ++c) inter[i * p.size() + c] = p[c][i];
  ebur128_state* st = ebur128_init(static_cast<unsigned>(p.size()), static_cast<unsigned long>(rate), EBUR128_MODE_TRUE_PEAK);
  ebur128_add_frames_float(st, inter.data(), frames);
  double m = 0;
  for (unsigned c = 0; c < p.size(); ++c) {
    double tp = 0;
    ebur128_true_peak(st, c, &tp);
    m = std::max(m, tp);
  }
  ebur128_destroy(&st);
  return 20.0 * std::log10(m);
}

// ---- every delivery profile -------------------------------------------------------------------------------------
class TargetingAtRate : public testing::TestWithParam<int> {};

TEST_P(TargetingAtRate, EveryDeliveryProfileHitsItsTargetWithoutOvers) {
  const char* profiles[] = {"streaming", "apple-music", "youtube", "amazon-music", "tidal",
                            "deezer",    "ebu-r128",    "atsc-a85", "cd",          "hi-res"};
  double worst_err = 0, worst_ref_margin = -100, worst_ebu_margin = -100;
  const int rate = GetParam();
  {
    for (const char* name : profiles) {
      const host::Profile profile = host::load_profile(name);
      // Three mixes: hot (peaks near full scale: turned down), quiet (needs gain and limiting), and mono.
      const auto outs = master(profile,
                               {{"hot", band_mix(2, 8.0, rate, -1.0, 1)},
                                {"quiet", band_mix(2, 8.0, rate, -14.0, 2)},
                                {"mono", band_mix(1, 8.0, rate, -8.0, 3, 0.4)}},
                               rate);
      for (const auto& o : outs) {
        SCOPED_TRACE(testing::Message() << name << " at " << rate << " Hz, " << o.report.input);
        ASSERT_TRUE(o.report.ok) << o.report.error;
        ASSERT_TRUE(o.report.delivery.whole_track);
        if (profile.delivery.sample_rate_hz) {
          EXPECT_EQ(o.rate, *profile.delivery.sample_rate_hz);
        }
        const double target = *profile.targets.integrated_lufs, ceiling = *profile.targets.ceiling_dbtp;
        EXPECT_TRUE(o.report.delivery.target_reached) << o.report.delivery.not_reached;
        ASSERT_TRUE(o.report.output_loudness.integrated_lufs);
        const double err = *o.report.output_loudness.integrated_lufs - target;
        EXPECT_LE(std::abs(err), 0.05) << "gain " << o.report.delivery.gain_db << " dB, GR "
                                       << o.report.delivery.max_gain_reduction_db << " dB, passes "
                                       << o.report.delivery.passes;
        EXPECT_LE(o.report.output_loudness.true_peak_dbtp, ceiling);
        const double ebu = ebur128_true_peak_db(o.delivered, o.rate);
        const double ref = reference_true_peak_db(o.delivered);
        EXPECT_LE(ebu, ceiling + 1e-6);
        EXPECT_LE(ref, ceiling + 0.005);
        worst_err = std::max(worst_err, std::abs(err));
        worst_ref_margin = std::max(worst_ref_margin, ref - ceiling);
        worst_ebu_margin = std::max(worst_ebu_margin, ebu - ceiling);
      }
    }
  }
  std::printf("[targeting] %d Hz: worst |I - target| %.4f LU; worst true peak - ceiling: 16x reference %+.4f dB, "
              "libebur128 %+.4f dB\n", rate, worst_err, worst_ref_margin, worst_ebu_margin);
}

INSTANTIATE_TEST_SUITE_P(Rates, TargetingAtRate, testing::Values(44100, 48000, 96000),
                         [](const testing::TestParamInfo<int>& param) { return std::to_string(param.param) + "Hz"; });

// ---- the mastering presets (issue 7): full chains that end in targeting ------------------------------------------
class PresetAtRate : public testing::TestWithParam<int> {};

TEST_P(PresetAtRate, EveryPresetHitsItsTargetWithoutOvers) {
  const int rate = GetParam();
  for (const char* name : {"streaming-warm", "streaming-bright-loud", "acoustic-gentle", "podcast-speech"}) {
    const host::Profile profile = host::load_profile(name);
    const auto outs = master(profile,
                             {{"hot", band_mix(2, 8.0, rate, -1.0, 21)},
                              {"quiet", band_mix(2, 8.0, rate, -14.0, 22)},
                              {"mono", band_mix(1, 8.0, rate, -8.0, 23, 0.4)}},
                             rate);
    const double target = *profile.targets.integrated_lufs, ceiling = *profile.targets.ceiling_dbtp;
    for (const auto& o : outs) {
      SCOPED_TRACE(testing::Message() << name << " at " << rate << " Hz, " << o.report.input);
      ASSERT_TRUE(o.report.ok) << o.report.error;
      EXPECT_TRUE(o.report.delivery.target_reached) << o.report.delivery.not_reached;
      ASSERT_TRUE(o.report.output_loudness.integrated_lufs);
      // Within 0.05 LU, unless the search stopped at one of the preset's caps (then within its tolerance).
      const bool at_cap = o.report.delivery.max_gain_reduction_db > profile.targets.max_gain_reduction_db - 0.1 ||
                          o.report.delivery.gain_db > profile.targets.max_gain_db - 0.1;
      EXPECT_NEAR(*o.report.output_loudness.integrated_lufs, target, at_cap ? profile.targets.tolerance_lu : 0.05)
          << "GR " << o.report.delivery.max_gain_reduction_db << " dB, gain " << o.report.delivery.gain_db << " dB";
      EXPECT_LE(o.report.output_loudness.true_peak_dbtp, ceiling);
      EXPECT_LE(ebur128_true_peak_db(o.delivered, o.rate), ceiling + 1e-6);
      EXPECT_LE(reference_true_peak_db(o.delivered), ceiling + 0.005);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Rates, PresetAtRate, testing::Values(44100, 48000),
                         [](const testing::TestParamInfo<int>& param) { return std::to_string(param.param) + "Hz"; });

// ---- full-band material -----------------------------------------------------------------------------------------
// Content up to the Nyquist frequency, where interpolators disagree: hats of white noise (every frequency to
// fs/2) over the band mix, the whole soft-clipped (tanh) as a hot master would be. Short meters (libebur128's
// 49-tap design, BS.1770 Annex 2) read such content above its true peak, and platforms measure with them: the
// delivery check holds the output under the ceiling by their readings too (host/dsp/true_peak_check.hpp).
Planar full_band_mix(int channels, double seconds, int rate, double drive_db, std::uint64_t seed) {
  Planar p = band_mix(channels, seconds, rate, -3.0, seed);
  const double drive = std::pow(10.0, drive_db / 20.0);
  for (std::size_t c = 0; c < p.size(); ++c) {
    Noise noise(seed * 977 + c);
    for (std::size_t i = 0; i < p[c].size(); ++i) {
      const double hat_t = std::fmod(static_cast<double>(i) / rate + 0.125, 0.25);
      const double hat = 0.25 * std::exp(-hat_t * 40.0) * noise.next();
      p[c][i] = static_cast<float>(std::tanh(drive * (p[c][i] + hat)));
    }
  }
  return p;
}

class FullBandAtRate : public testing::TestWithParam<int> {};

TEST_P(FullBandAtRate, NoOversByTheCommonMeters) {
  const int rate = GetParam();
  const auto profile = host::load_profile("streaming");
  const auto outs = master(profile,
                           {{"clipped", full_band_mix(2, 6.0, rate, 6.0, 11)},
                            {"noisy", full_band_mix(2, 6.0, rate, 0.0, 12)},
                            {"quiet", full_band_mix(1, 6.0, rate, -12.0, 13)}},
                           rate);
  double worst_ebu = -100, worst_ref = -100;
  for (const auto& o : outs) {
    SCOPED_TRACE(testing::Message() << rate << " Hz, " << o.report.input);
    ASSERT_TRUE(o.report.ok) << o.report.error;
    EXPECT_TRUE(o.report.delivery.target_reached) << o.report.delivery.not_reached;
    EXPECT_NEAR(*o.report.output_loudness.integrated_lufs, -14.0, 0.05);
    EXPECT_LE(o.report.output_loudness.true_peak_dbtp, -1.0);
    const double ebu = ebur128_true_peak_db(o.delivered, o.rate);
    const double ref = reference_true_peak_db(o.delivered);
    EXPECT_LE(ebu, -1.0 + 1e-6);
    EXPECT_LE(ref, -1.0 + 0.005);
    worst_ebu = std::max(worst_ebu, ebu);
    worst_ref = std::max(worst_ref, ref);
  }
  std::printf("[full band] %d Hz: worst true peak: libebur128 %+.4f dBTP, 16x reference %+.4f dBTP; corrections "
              "%.3f %.3f %.3f dB\n", rate, worst_ebu, worst_ref, outs[0].report.delivery.ceiling_correction_db,
              outs[1].report.delivery.ceiling_correction_db, outs[2].report.delivery.ceiling_correction_db);
}

INSTANTIATE_TEST_SUITE_P(Rates, FullBandAtRate, testing::Values(44100, 48000, 96000),
                         [](const testing::TestParamInfo<int>& param) { return std::to_string(param.param) + "Hz"; });

// ---- caps, silence, short tracks ---------------------------------------------------------------------------------
host::Profile profile_from(const std::string& targets, const std::string& delivery = "bits = 24") {
  return host::parse_profile("name = \"t\"\n[delivery]\n" + delivery + "\n[targets]\n" + targets + "\n", "test.toml");
}

TEST(Targeting, QuietMaterialIsCappedAndReported) {
  const auto p = profile_from("integrated_lufs = -14.0\nceiling_dbtp = -1.0\nmax_gain_db = 6.0");
  const auto outs = master(p, {{"quiet", band_mix(2, 6.0, 48000, -30.0, 3)}}, 48000);
  const auto& d = outs[0].report.delivery;
  ASSERT_TRUE(outs[0].report.ok) << outs[0].report.error;
  EXPECT_FALSE(d.target_reached);
  EXPECT_NEAR(d.gain_db, 6.0, 1e-9);
  EXPECT_NE(d.not_reached.find("max_gain_db"), std::string::npos) << d.not_reached;
  EXPECT_NEAR(*outs[0].report.output_loudness.integrated_lufs, *outs[0].report.input_loudness.integrated_lufs + 6.0, 0.05);
}

TEST(Targeting, NeverMoreLimitingThanTheCap) {
  // A hot, dynamic mix pushed to -6 LUFS would need far more than 3 dB of limiting.
  const auto p = profile_from("integrated_lufs = -6.0\nceiling_dbtp = -1.0\nmax_gain_reduction_db = 3.0");
  const auto outs = master(p, {{"hot", band_mix(2, 6.0, 44100, -1.0, 4)}}, 44100);
  const auto& d = outs[0].report.delivery;
  ASSERT_TRUE(outs[0].report.ok) << outs[0].report.error;
  EXPECT_FALSE(d.target_reached);
  EXPECT_LE(d.max_gain_reduction_db, 3.0 + 1e-9);
  EXPECT_GT(d.max_gain_reduction_db, 2.5);  // it went as far as the cap allows
  EXPECT_NE(d.not_reached.find("max_gain_reduction_db"), std::string::npos) << d.not_reached;
  EXPECT_LE(outs[0].report.output_loudness.true_peak_dbtp, -1.0);
}

TEST(Targeting, SilenceAndShortTracksAreSafe) {
  const auto p = host::load_profile("streaming");
  const auto outs = master(p, {{"silence", Planar(2, std::vector<float>(48000, 0.0f))},
                               {"short", band_mix(2, 0.2, 48000, -3.0, 5)},
                               {"one-frame", Planar(2, std::vector<float>(1, 0.5f))}},
                          48000);
  for (const auto& o : outs) {
    SCOPED_TRACE(o.report.input);
    ASSERT_TRUE(o.report.ok) << o.report.error;
    EXPECT_FALSE(o.report.delivery.target_reached);
    EXPECT_NE(o.report.delivery.not_reached.find("below gate"), std::string::npos) << o.report.delivery.not_reached;
    EXPECT_NEAR(o.report.delivery.gain_db, 0.0, 1e-12);
    for (const auto& ch : o.delivered)
      for (float v : ch) ASSERT_TRUE(std::isfinite(v));
    EXPECT_LE(o.report.output_loudness.true_peak_dbtp, -1.0);
  }
}

// ---- transparency ------------------------------------------------------------------------------------------------
TEST(Targeting, LimiterLeavesTracksBelowTheCeilingAlone) {
  // A limiter-only profile (no loudness target) on a track whose true peak is well below the ceiling delivers
  // exactly what the transparent profile delivers: the same dithered words.
  const auto lim = host::parse_profile("name = \"l\"\n[[stage]]\ntype = \"limiter\"\nceiling_dbtp = -1.0\n", "l.toml");
  const auto a = master(lim, {{"x", band_mix(2, 3.0, 44100, -8.0, 6)}}, 44100);
  const auto b = master(host::load_profile("transparent"), {{"x", band_mix(2, 3.0, 44100, -8.0, 6)}}, 44100);
  ASSERT_TRUE(a[0].report.ok && b[0].report.ok);
  EXPECT_EQ(a[0].report.delivery.max_gain_reduction_db, 0.0);
  EXPECT_EQ(a[0].delivered, b[0].delivered);
}

// ---- album mode --------------------------------------------------------------------------------------------------
TEST(Targeting, AlbumKeepsRelativeLevels) {
  const auto p = host::load_profile("streaming");
  const int rate = 44100;
  std::vector<std::pair<std::string, Planar>> in = {{"album/1", band_mix(2, 6.0, rate, -14.0, 7)},
                                                    {"album/2", band_mix(2, 6.0, rate, -20.0, 8)},
                                                    {"album/3", band_mix(2, 6.0, rate, -10.0, 9)}};
  const auto outs = master(p, in, rate, /*album=*/true);
  for (const auto& o : outs) {
    ASSERT_TRUE(o.report.ok) << o.report.error;
    EXPECT_TRUE(o.report.delivery.album);
    EXPECT_LE(o.report.output_loudness.true_peak_dbtp, -1.0);
  }
  // One common gain...
  EXPECT_EQ(outs[0].report.delivery.gain_db, outs[1].report.delivery.gain_db);
  EXPECT_EQ(outs[0].report.delivery.gain_db, outs[2].report.delivery.gain_db);
  // ...so the differences between tracks are kept where the limiter does not work.
  const auto in_l = [&](int k) { return *outs[static_cast<std::size_t>(k)].report.input_loudness.integrated_lufs; };
  const auto out_l = [&](int k) { return *outs[static_cast<std::size_t>(k)].report.output_loudness.integrated_lufs; };
  EXPECT_NEAR(out_l(1) - out_l(0), in_l(1) - in_l(0), 0.05);
  // The album as a whole is on target.
  ASSERT_TRUE(outs[0].report.delivery.album_lufs);
  EXPECT_NEAR(*outs[0].report.delivery.album_lufs, -14.0, 0.05);
  // Without album mode each track goes to -14 on its own (the quiet one as far as the limiting cap allows).
  const auto single = master(p, in, rate, false);
  EXPECT_NEAR(*single[0].report.output_loudness.integrated_lufs, -14.0, 0.05);
  EXPECT_GT(*single[1].report.output_loudness.integrated_lufs, out_l(1) + 1.0);
}

// The album as one file: 16-bit 44.1 kHz (CD frames on automatically), 1.5 s gaps, a fade-out on every track.
TEST(Targeting, AlbumFileWithGapsFadesAndCueSheet) {
  const auto p = host::parse_profile(
      "name = \"a\"\n[delivery]\nbits = 16\nsample_rate_hz = 44100\n[targets]\nintegrated_lufs = -14.0\n"
      "ceiling_dbtp = -1.0\nalbum = true\n[album]\ngap_s = 1.5\nfade_out_s = 0.5\nalbum_file = true\n",
      "a.toml");
  const int rate = 44100;
  std::vector<std::unique_ptr<host::TrackIo>> tracks;
  std::vector<host::MemoryTrack*> mem;
  const double lengths[] = {3.0, 2.5, 4.1};
  for (int k = 0; k < 3; ++k) {
    auto t = std::make_unique<host::MemoryTrack>("rec/" + std::to_string(k + 1),
                                                 band_mix(2, lengths[k], rate, -6.0 - 4.0 * k, 20 + k), rate);
    mem.push_back(t.get());
    tracks.push_back(std::move(t));
  }
  auto engine = host::make_cpu_engine();
  const auto result = host::master_tracks(tracks, p, *engine, host::MasterOptions{});
  ASSERT_EQ(result.albums.size(), 1u);
  const host::AlbumReport& a = result.albums[0];
  ASSERT_TRUE(a.error.empty()) << a.error;
  EXPECT_EQ(a.tracks, 3);
  // Every track padded to whole CD frames, each start on a CD frame, 1.5 s gaps rounded up to frames.
  std::int64_t expected = 0;
  for (int k = 0; k < 3; ++k) {
    ASSERT_TRUE(result.tracks[static_cast<std::size_t>(k)].ok);
    const auto n = static_cast<std::int64_t>(mem[static_cast<std::size_t>(k)]->pcm()[0].size());
    EXPECT_EQ(n % 588, 0);
    expected += n + (k > 0 ? (std::llround(1.5 * rate) + 587) / 588 * 588 : 0);
    // The fade-out ends in silence (dither aside: one LSB at 16 bits).
    EXPECT_LE(std::abs(mem[static_cast<std::size_t>(k)]->pcm()[0].back()), 1 << 16);
  }
  EXPECT_EQ(a.frames, expected);
  EXPECT_LE(a.loudness.true_peak_dbtp, -1.0);
  const auto& sib = mem[0]->siblings();
  ASSERT_EQ(sib.texts.size(), 1u);
  const std::string& cue = sib.texts.begin()->second;
  EXPECT_NE(cue.find("TRACK 03 AUDIO"), std::string::npos) << cue;
  EXPECT_NE(cue.find("INDEX 00"), std::string::npos) << cue;
  EXPECT_NE(cue.find("FILE \""), std::string::npos) << cue;
  // In input order, whatever order the tracks left the chain in (the 2.5 s track finishes first).
  EXPECT_LT(cue.find("TITLE \"1\""), cue.find("TITLE \"2\"")) << cue;
  EXPECT_LT(cue.find("TITLE \"2\""), cue.find("TITLE \"3\"")) << cue;
  ASSERT_EQ(sib.outputs.size(), 1u);
  EXPECT_EQ(static_cast<std::int64_t>(sib.outputs.begin()->second->pcm()[0].size()), expected);
}

// ---- sample-rate conversion ----------------------------------------------------------------------------------------
TEST(Targeting, CdProfileConvertsTo44100) {
  const auto p = host::load_profile("cd");
  const auto outs = master(p, {{"x", band_mix(2, 2.0, 96000, -6.0, 10)}}, 96000);
  ASSERT_TRUE(outs[0].report.ok) << outs[0].report.error;
  EXPECT_EQ(outs[0].report.delivery.rate_hz, 44100);
  // ceil(192000 * 147 / 320) frames.
  EXPECT_EQ(outs[0].delivered[0].size(), 88200u);
  EXPECT_EQ(outs[0].report.delivery.frames, 88200);
}

// ---- bad profile values -------------------------------------------------------------------------------------------
TEST(Targeting, AbsurdTargetsAreRefusedWithTheLine) {
  const char* bad[] = {"integrated_lufs = 3.0", "integrated_lufs = -80.0", "ceiling_dbtp = 0.5",
                       "max_gain_db = -1.0", "max_gain_reduction_db = 30.0", "album = 1"};
  for (const char* b : bad) {
    SCOPED_TRACE(b);
    EXPECT_THROW(profile_from(b), host::ProfileError);
  }
  EXPECT_THROW(host::parse_profile("[[stage]]\ntype = \"limiter\"\nlookahead_ms = 0\n", "x.toml"), host::ProfileError);
  EXPECT_THROW(host::parse_profile("[[stage]]\ntype = \"limiter\"\nlookahead_ms = 150\n", "x.toml"), host::ProfileError);
  EXPECT_THROW(host::parse_profile("[[stage]]\ntype = \"limiter\"\n[[stage]]\ntype = \"gain\"\n", "x.toml"),
               host::ProfileError);
  EXPECT_THROW(host::parse_profile("[delivery]\nsample_rate_hz = 1000\n", "x.toml"), host::ProfileError);
  EXPECT_THROW(host::parse_profile("[album]\ncrossfade_s = 2\ngap_s = 1\n", "x.toml"), host::ProfileError);
  EXPECT_THROW(host::parse_profile("[album]\ngap_s = -1\n", "x.toml"), host::ProfileError);
  EXPECT_THROW(host::parse_profile("[album]\nalbum_file = 2\n", "x.toml"), host::ProfileError);
  EXPECT_THROW(host::parse_profile("[album]\ncd_frames = \"yes\"\n", "x.toml"), host::ProfileError);
}

}  // namespace
}  // namespace lathe::test
