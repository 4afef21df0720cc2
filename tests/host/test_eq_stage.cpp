// The eq stage end to end through the scheduler and the engines: the measured magnitude response against the
// specified curve at 44.1 to 192 kHz, linear phase and sample alignment, a flat EQ's null, mid/side isolation,
// segment invariance, latency flushing of short tracks, and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <string>
#include <vector>

#include "host/dsp/eq_design.hpp"
#include "host/dsp/fft_double.hpp"
#include "host/engine/engine.hpp"
#include "host/errors.hpp"
#include "host/io/memory_track.hpp"
#include "host/master.hpp"
#include "host/profile/profile.hpp"
#include "tests/mastering.hpp"
#include "tests/signals.hpp"

namespace lathe::test {
namespace {

std::string eq_profile(const std::string& bands, const std::string& extra = "") {
  return "[delivery]\nbits = \"32f\"\n[[stage]]\ntype = \"eq\"\n" + extra + "bands = [\n" + bands + "]\n";
}

// Masters each planar signal with `profile` on `engine`; returns the float outputs (empty on failure).
std::vector<Planar> master(const host::Profile& profile, const std::vector<Planar>& inputs, int rate_hz,
                           host::Engine& engine, std::int64_t segment_frames = 65536,
                           std::vector<std::string>* errors = nullptr) {
  std::vector<Planar> out;
  for (auto& t : master_in_memory(profile, inputs, rate_hz, engine, segment_frames)) {
    if (errors) errors->push_back(t.report.error);
    out.push_back(t.report.ok ? std::move(t.audio) : Planar{});
  }
  return out;
}

Planar impulse(int channels, std::int64_t frames, std::int64_t at) {
  Planar p(static_cast<std::size_t>(channels), std::vector<float>(static_cast<std::size_t>(frames), 0.0f));
  for (auto& ch : p) ch[static_cast<std::size_t>(at)] = 1.0f;
  return p;
}

struct Curve {
  std::string name;
  std::string bands;
};

const std::vector<Curve>& curves() {
  static const std::vector<Curve> c = {
      {"highpass30_24", "{ type = \"highpass\", freq_hz = 30, slope_db_per_oct = 24 },\n"},
      {"lowshelf100", "{ type = \"low_shelf\", freq_hz = 100, gain_db = 3, q = 0.7 },\n"},
      {"bell2k5", "{ type = \"bell\", freq_hz = 2500, gain_db = -2, q = 1.4 },\n"},
      {"highshelf10k", "{ type = \"high_shelf\", freq_hz = 10000, gain_db = 2, slope = 0.8 },\n"},
      {"tilt", "{ type = \"tilt\", db_per_oct = -0.5, pivot_hz = 1000 },\n"},
      {"mastering6",
       "{ type = \"highpass\", freq_hz = 25, slope_db_per_oct = 12 },\n"
       "{ type = \"low_shelf\", freq_hz = 90, gain_db = 1.5, q = 0.7 },\n"
       "{ type = \"bell\", freq_hz = 250, gain_db = -1.5, q = 1.0 },\n"
       "{ type = \"bell\", freq_hz = 3200, gain_db = 1.0, q = 2.0 },\n"
       "{ type = \"high_shelf\", freq_hz = 12000, gain_db = 1.5, slope = 0.7 },\n"
       "{ type = \"lowpass\", freq_hz = 21000, slope_db_per_oct = 12 },\n"},
  };
  return c;
}

struct ResponseCase {
  std::size_t curve;
  int rate_hz;
};

class EqResponse : public ::testing::TestWithParam<ResponseCase> {};

// An impulse through the whole chain: the output is the FIR itself, centred on the impulse (latency removed),
// whose DFT is the realised response. It must be within +-0.1 dB of the specified curve from 20 Hz to
// min(20 kHz, 0.45 rate), be symmetric about the impulse (linear phase) and keep the input's length.
TEST_P(EqResponse, MeasuredMagnitudeWithinATenthOfADecibel) {
  const auto [curve_index, rate] = GetParam();
  const Curve& curve = curves()[curve_index];
  if (curve.name == "mastering6" && rate < 44100) GTEST_SKIP();
  const host::Profile profile = host::parse_profile(eq_profile(curve.bands), curve.name);
  const std::int64_t n = std::int64_t{1} << 19;  // longer than any FIR designed here
  const std::int64_t at = n / 2;
  auto engine = host::make_cpu_engine();
  const auto out = master(profile, {impulse(1, n, at)}, rate, *engine);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].size(), 1u);
  const std::vector<float>& y = out[0][0];
  ASSERT_EQ(static_cast<std::int64_t>(y.size()), n);

  // Linear phase: symmetric about the impulse, to float rounding.
  double peak = 0, asym = 0;
  for (std::int64_t i = 1; i < at; ++i) {
    peak = std::max(peak, std::fabs(static_cast<double>(y[static_cast<std::size_t>(at + i)])));
    asym = std::max(asym, std::fabs(static_cast<double>(y[static_cast<std::size_t>(at + i)]) -
                                    static_cast<double>(y[static_cast<std::size_t>(at - i)])));
  }
  EXPECT_LT(asym, 1e-6) << "impulse response not symmetric about the input impulse";

  // Magnitude, on the DFT bins nearest a log grid.
  std::vector<double> yd(y.begin(), y.end());
  std::vector<std::complex<double>> spec(static_cast<std::size_t>(n / 2 + 1));
  host::dsp::RealFftDouble(static_cast<std::size_t>(n)).forward(yd, spec);
  const auto bands = host::dsp::parse_eq_bands(
      toml::parse(eq_profile(curve.bands))["stage"].as_array()->at(0).as_table()->ref<toml::table>(), "t", "s");
  const double top = std::min(20000.0, 0.45 * rate);
  double worst = 0, worst_f = 0;
  for (int i = 0; i <= 300; ++i) {
    const double f_want = 20.0 * std::pow(top / 20.0, i / 300.0);
    const auto k = static_cast<std::size_t>(std::llround(f_want * static_cast<double>(n) / rate));
    const double f = static_cast<double>(k) * rate / static_cast<double>(n);
    const double want_db = 20.0 * std::log10(host::dsp::eq_curve_gain(bands, f));
    if (want_db < -60.0) continue;
    const double got_db = 20.0 * std::log10(std::abs(spec[k]));
    if (std::fabs(got_db - want_db) > worst) worst = std::fabs(got_db - want_db), worst_f = f;
  }
  RecordProperty("worst_db", std::to_string(worst));
  EXPECT_LE(worst, 0.1) << curve.name << " at " << rate << " Hz: worst error " << worst << " dB at " << worst_f
                        << " Hz";
}

std::vector<ResponseCase> response_cases() {
  std::vector<ResponseCase> c;
  for (std::size_t i = 0; i < curves().size(); ++i)
    for (const int rate : {44100, 48000, 96000, 192000}) c.push_back({i, rate});
  return c;
}

INSTANTIATE_TEST_SUITE_P(BandsAndRates, EqResponse, ::testing::ValuesIn(response_cases()), [](const auto& param) {
  return curves()[param.param.curve].name + "_" + std::to_string(param.param.rate_hz);
});

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(static_cast<double>(a[i]) - b[i]));
  return d;
}

TEST(EqStage, FlatEqNullsWithItsInputBelowMinus120dBFS) {
  const host::Profile profile = host::parse_profile(eq_profile(""), "flat");
  const Planar x = make_signal(SignalKind::kMusicLike, 2, 150000, 48000);
  auto engine = host::make_cpu_engine();
  const auto out = master(profile, {x}, 48000, *engine);
  ASSERT_EQ(out[0].size(), 2u);
  for (int c = 0; c < 2; ++c) {
    ASSERT_EQ(out[0][c].size(), x[c].size());
    EXPECT_LT(20.0 * std::log10(max_abs_diff(out[0][c], x[c]) + 1e-30), -120.0) << "channel " << c;
  }
}

// A side-only band leaves a pure-mid signal (L == R) untouched, and a mid-only band a pure-side one (L == -R).
TEST(EqStage, MidSideBandsLeaveTheOtherComponentUntouched) {
  const Planar music = make_signal(SignalKind::kMusicLike, 1, 100000, 48000);
  Planar mid_only = {music[0], music[0]};
  Planar side_only = {music[0], music[0]};
  for (auto& v : side_only[1]) v = -v;
  auto engine = host::make_cpu_engine();
  const host::Profile side_band = host::parse_profile(
      eq_profile("{ type = \"bell\", freq_hz = 1000, gain_db = 6, q = 1, channels = \"side\" },\n"
                 "{ type = \"high_shelf\", freq_hz = 8000, gain_db = -4, q = 0.7, channels = \"side\" },\n"), "s");
  const host::Profile mid_band = host::parse_profile(
      eq_profile("{ type = \"bell\", freq_hz = 1000, gain_db = 6, q = 1, channels = \"mid\" },\n"), "m");
  const auto a = master(side_band, {mid_only}, 48000, *engine);
  EXPECT_LT(20.0 * std::log10(max_abs_diff(a[0][0], mid_only[0]) + 1e-30), -120.0);
  EXPECT_LT(20.0 * std::log10(max_abs_diff(a[0][1], mid_only[1]) + 1e-30), -120.0);
  const auto b = master(mid_band, {side_only}, 48000, *engine);
  EXPECT_LT(20.0 * std::log10(max_abs_diff(b[0][0], side_only[0]) + 1e-30), -120.0);
  EXPECT_LT(20.0 * std::log10(max_abs_diff(b[0][1], side_only[1]) + 1e-30), -120.0);
  // ... and the band does act on its own component.
  const auto c = master(side_band, {side_only}, 48000, *engine);
  EXPECT_GT(max_abs_diff(c[0][0], side_only[0]), 0.01);
}

TEST(EqStage, SegmentationNeverChangesABit) {
  const host::Profile profile =
      host::parse_profile(eq_profile(curves()[5].bands + "{ type = \"bell\", freq_hz = 500, gain_db = 2, q = 1, "
                                                         "channels = \"side\" },\n"),
                          "m6");
  const Planar x = make_signal(SignalKind::kMusicLike, 2, 300007, 44100);
  auto engine = host::make_cpu_engine();
  const auto whole = master(profile, {x}, 44100, *engine, std::int64_t{1} << 22);
  for (const std::int64_t seg : {1, 20000, 65536, 131072}) {
    const auto parts = master(profile, {x}, 44100, *engine, seg);
    EXPECT_TRUE(parts[0] == whole[0]) << "segments of " << seg;
  }
}

// Tracks shorter than the FIR's latency, mixed rates and channel counts in one batch.
TEST(EqStage, ShortTracksAndMixedBatchesKeepTheirLength) {
  const host::Profile profile = host::parse_profile(eq_profile(curves()[5].bands), "m6");
  auto engine = host::make_cpu_engine();
  for (const std::int64_t frames : {1, 2, 100, 5000}) {
    const auto out = master(profile, {make_signal(SignalKind::kNoise, 2, frames, 48000),
                                      make_signal(SignalKind::kNoise, 1, frames + 1, 48000)},
                            48000, *engine);
    ASSERT_EQ(out[0].size(), 2u);
    EXPECT_EQ(static_cast<std::int64_t>(out[0][0].size()), frames);
    EXPECT_EQ(static_cast<std::int64_t>(out[1][0].size()), frames + 1);
  }
}

TEST(EqStage, BandAtOrAboveTheTracksNyquistFailsThatTrackOnly) {
  const host::Profile profile =
      host::parse_profile(eq_profile("{ type = \"bell\", freq_hz = 30000, gain_db = 1, q = 1 },\n"), "air.toml");
  auto engine = host::make_cpu_engine();
  std::vector<std::string> errors;
  master(profile, {make_signal(SignalKind::kNoise, 2, 1000, 44100)}, 44100, *engine, 65536, &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("air.toml:"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("22050"), std::string::npos) << errors[0];
  errors.clear();
  const auto ok = master(profile, {make_signal(SignalKind::kNoise, 2, 1000, 96000)}, 96000, *engine, 65536, &errors);
  EXPECT_EQ(errors[0], "");
}

TEST(EqStage, BadProfilesNameTheLineAndTheRange) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"{ type = \"bell\", freq_hz = 192000, gain_db = 1, q = 1 },\n", "freq_hz"},
      {"{ type = \"bell\", freq_hz = 1000, gain_db = 1, q = 0 },\n", "q"},
      {"{ type = \"bell\", freq_hz = 1000, gain_db = 1, q = -1 },\n", "q"},
      {"{ type = \"bell\", freq_hz = 1000, gain_db = 25, q = 1 },\n", "gain_db"},
      {"{ type = \"highpass\", freq_hz = 30, slope_db_per_oct = 10 },\n", "slope_db_per_oct"},
      {"{ type = \"lowpass\", freq_hz = 30, slope_db_per_oct = 54 },\n", "slope_db_per_oct"},
  };
  for (const auto& [band, key] : bad) {
    try {
      host::parse_profile(eq_profile(band), "bad.toml");
      ADD_FAILURE() << "accepted: " << band;
    } catch (const host::ProfileError& e) {
      const std::string m = e.message();
      EXPECT_NE(m.find("bad.toml:6:"), std::string::npos) << m;
      EXPECT_NE(m.find(key), std::string::npos) << m;
    }
  }
  for (const char* taps : {"fir_taps = 2\n", "fir_taps = 1048577\n", "fir_taps = 100.5\n"}) {
    EXPECT_THROW(host::parse_profile(eq_profile("", taps), "bad.toml"), host::ProfileError) << taps;
  }
  // A FIR that would need more than 2^20 taps: a clear error for the track.
  const host::Profile narrow = host::parse_profile(
      eq_profile("{ type = \"bell\", freq_hz = 12, gain_db = 12, q = 20 },\n"), "narrow.toml");
  auto engine = host::make_cpu_engine();
  std::vector<std::string> errors;
  master(narrow, {make_signal(SignalKind::kNoise, 1, 100, 384000)}, 384000, *engine, 65536, &errors);
  EXPECT_NE(errors[0].find("fir_taps"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("narrow.toml:5:"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("1048575"), std::string::npos) << errors[0];
}

TEST(EqStage, ExplicitFirTapsAreUsedAsGiven) {
  const std::string bands = "{ type = \"bell\", freq_hz = 1000, gain_db = 3, q = 1 },\n";
  const host::Profile profile = host::parse_profile(eq_profile(bands, "fir_taps = 1023\n"), "t");
  auto engine = host::make_cpu_engine();
  const auto out = master(profile, {impulse(1, 4096, 2048)}, 48000, *engine);
  const auto& y = out[0][0];
  // The output is the designed 1023-tap FIR, centred on the impulse; nothing outside it.
  const auto parsed =
      host::dsp::parse_eq_bands(toml::parse(eq_profile(bands))["stage"].as_array()->at(0).as_table()->ref<toml::table>(),
                                "t", "s");
  const std::vector<double> h = host::dsp::eq_design_fir(parsed, 48000, 1023);
  double inside = 0, outside = 0;
  for (std::int64_t i = -2000; i < 2000; ++i) {
    const double v = y[static_cast<std::size_t>(2048 + i)];
    if (i >= -511 && i <= 511)
      inside = std::max(inside, std::fabs(v - h[static_cast<std::size_t>(511 + i)]));
    else
      outside = std::max(outside, std::fabs(v));
  }
  EXPECT_LT(inside, 1e-6);
  EXPECT_LT(outside, 1e-6);
}

}  // namespace
}  // namespace lathe::test
