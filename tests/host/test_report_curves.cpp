// The curves a report keeps per track (host/report/curves.hpp, MasterOptions::curves): the reductions to plot
// points, and what master_tracks puts in them on real signals. Keeping curves must never change a bit.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "host/dsp/ltas.hpp"
#include "host/report/curves.hpp"
#include "host/report/report.hpp"
#include "tests/mastering.hpp"

namespace {

using lathe::host::MasterOptions;
using lathe::test::Planar;

TEST(ReportCurves, LoudnessPointsAreGroupMeanPowers) {
  EXPECT_EQ(lathe::host::curve_decimation(0), 1u);
  EXPECT_EQ(lathe::host::curve_decimation(400), 1u);
  EXPECT_EQ(lathe::host::curve_decimation(401), 2u);
  EXPECT_EQ(lathe::host::curve_decimation(36000), 90u);  // an hour at 0.1 s: 400 points of 9 s
  const std::vector<std::optional<double>> lufs = {-20.0, -20.0, std::nullopt, std::nullopt, -10.0, -30.0, -23.0};
  const std::vector<float> p = lathe::host::decimate_loudness(lufs, 2);
  ASSERT_EQ(p.size(), 4u);
  EXPECT_NEAR(p[0], -20.0, 1e-5);
  EXPECT_TRUE(std::isnan(p[1]));                                             // nothing defined in the group
  EXPECT_NEAR(p[2], 10.0 * std::log10((0.1 + 0.001) / 2.0), 1e-4);           // powers averaged, not dB
  EXPECT_NEAR(p[3], -23.0, 1e-5);                                            // the last group, partial
}

TEST(ReportCurves, GainReductionIsEachGroupsDeepestReduction) {
  const std::vector<float> envelope = {1.0f, 0.5f, 1.0f, 1.0f, 0.1f};
  const std::vector<float> gr = lathe::host::decimate_gain_reduction(envelope, 2);
  ASSERT_EQ(gr.size(), 3u);
  EXPECT_NEAR(gr[0], 6.0206, 1e-3);
  EXPECT_EQ(gr[1], 0.0f);
  EXPECT_FALSE(std::signbit(gr[1]));
  EXPECT_NEAR(gr[2], 20.0, 1e-4);
}

// A sine's band stands out; white noise measures the same per band at two rates (the bands are the rate's own
// integrals, not FFT bins), and rises 10 dB per decade (energy per band grows with the band's width).
TEST(ReportCurves, SpectrumBandsDoNotDependOnTheRate) {
  auto bands = [](const Planar& p, int rate, bool overlap = true) {
    lathe::host::dsp::LtasAccumulator acc(rate, static_cast<int>(p.size()), overlap);
    std::vector<const float*> ptr;
    for (const auto& ch : p) ptr.push_back(ch.data());
    acc.add(ptr, static_cast<std::int64_t>(p[0].size()));
    return lathe::host::spectrum_bands(acc.finish());
  };
  const auto n44 = bands(lathe::test::noise_planar(1, 44100 * 8, 3, 0.5), 44100);
  const auto n96 = bands(lathe::test::noise_planar(1, 96000 * 8, 3, 0.5), 96000);
  ASSERT_EQ(n44.hz.size(), 60u);  // 20 Hz .. 18.2 kHz in sixths of an octave
  ASSERT_EQ(n44.hz, n96.hz);
  // Per band the noise energy is the band's share of the total: the share of a fixed band falls as the rate
  // rises, by 10 log10(96000 / 44100) = 3.4 dB. Low bands hold few FFT bins, so they scatter more.
  for (std::size_t i = 30; i < n44.hz.size(); ++i) {
    EXPECT_NEAR(n44.db[i] - n96.db[i], 10.0 * std::log10(96000.0 / 44100.0), 0.6) << n44.hz[i] << " Hz";
  }
  EXPECT_NEAR(n44.db[50] - n44.db[44], 3.0, 0.6);  // an octave up: twice the width
  // Frames side by side (the report's curves) measure what overlapping frames measure, with half the frames.
  const auto side_by_side = bands(lathe::test::noise_planar(1, 44100 * 8, 3, 0.5), 44100, false);
  for (std::size_t i = 30; i < n44.hz.size(); ++i) {
    EXPECT_NEAR(side_by_side.db[i], n44.db[i], 0.6) << n44.hz[i] << " Hz";
  }
  const Planar sine = lathe::test::make_signal(lathe::test::SignalKind::kSine, 1, 44100 * 4, 44100);
  const auto s = bands(sine, 44100);
  std::size_t top = 0;
  for (std::size_t i = 0; i < s.db.size(); ++i)
    if (s.db[i] > s.db[top]) top = i;
  EXPECT_NEAR(s.hz[top], 1000.0, 60.0);  // 997 Hz falls in the band centred on 1008 Hz
  // A band below the Nyquist frequency only: at 8 kHz the last centre is below 4 kHz.
  const auto low = bands(lathe::test::noise_planar(1, 8000 * 4, 5, 0.5), 8000);
  ASSERT_FALSE(low.hz.empty());
  EXPECT_LT(low.hz.back() * std::pow(2.0, 1.0 / 12.0), 4000.0);
}

// master_tracks with curves: the input's and output's loudness curves share a time axis; the output sits at
// the target where the music plays; the limiter's reduction shows where it worked; the delivered bits are those
// of a run without curves.
TEST(ReportCurves, MasteringKeepsCurvesWithoutChangingABit) {
  const int rate = 44100;
  // 20 s of music-like signal, quiet, then a loud burst that the limiter must catch.
  Planar in = lathe::test::make_signal(lathe::test::SignalKind::kMusicLike, 2, rate * 20, rate);
  for (auto& ch : in)
    for (std::size_t i = 0; i < ch.size(); ++i) ch[i] *= (i > static_cast<std::size_t>(rate) * 12 && i < static_cast<std::size_t>(rate) * 13) ? 3.0f : 0.25f;
  const lathe::host::Profile profile = lathe::host::load_profile("streaming");
  auto engine = lathe::host::make_cpu_engine();
  MasterOptions plain;
  MasterOptions with_curves;
  with_curves.curves = true;
  const auto a = lathe::test::master_in_memory(profile, {in}, rate, *engine, plain);
  const auto b = lathe::test::master_in_memory(profile, {in}, rate, *engine, with_curves);
  ASSERT_TRUE(a[0].report.ok && b[0].report.ok) << a[0].report.error << b[0].report.error;
  EXPECT_EQ(a[0].audio, b[0].audio);
  EXPECT_FALSE(a[0].report.curves.has_value());
  ASSERT_TRUE(b[0].report.curves.has_value());
  const lathe::host::TrackCurves& c = *b[0].report.curves;
  EXPECT_DOUBLE_EQ(c.loudness_step_s, 0.1);
  EXPECT_EQ(c.short_term_in_lufs.size(), 200u);
  EXPECT_EQ(c.short_term_out_lufs.size(), c.short_term_in_lufs.size());
  // The first 2.9 s have no 3 s window yet: undefined.
  EXPECT_TRUE(std::isnan(c.short_term_in_lufs[10]));
  // Where the music is steady (5 .. 10 s), the output sits near the target and the gain is the delivery's.
  const double gain = b[0].report.delivery.gain_db;
  for (std::size_t i = 60; i < 100; ++i) {
    EXPECT_NEAR(c.short_term_out_lufs[i] - c.short_term_in_lufs[i], gain, 0.1) << i;
  }
  // The limiter worked on the burst (12 .. 13 s), hardly anywhere else.
  ASSERT_FALSE(c.gain_reduction_db.empty());
  EXPECT_NEAR(c.gain_reduction_step_s, 0.1, 1e-12);
  EXPECT_GT(c.gain_reduction_db[125], 3.0f);
  EXPECT_LT(c.gain_reduction_db[80], 0.5f);
  EXPECT_NEAR(*std::max_element(c.gain_reduction_db.begin(), c.gain_reduction_db.end()),
              b[0].report.delivery.max_gain_reduction_db, 1e-3);
  // The spectra: the same bands; the output's level is the input's plus about the gain in the steady bands.
  ASSERT_EQ(c.spectrum_hz.size(), 60u);
  ASSERT_EQ(c.spectrum_in_db.size(), 60u);
  ASSERT_EQ(c.spectrum_out_db.size(), 60u);
  std::size_t b440 = 0;
  for (std::size_t i = 0; i < c.spectrum_hz.size(); ++i)
    if (std::abs(std::log2(c.spectrum_hz[i] / 440.0)) < std::abs(std::log2(c.spectrum_hz[b440] / 440.0))) b440 = i;
  // Only the gain and the limiter move the spectrum: in every band with content, the output is the input plus
  // the gain, less at most the deepest reduction (the burst dominates the long-term spectrum, and it was limited).
  const double top = *std::max_element(c.spectrum_in_db.begin(), c.spectrum_in_db.end());
  const double gr = b[0].report.delivery.max_gain_reduction_db;
  int bands_with_content = 0;
  for (std::size_t i = 0; i < c.spectrum_hz.size(); ++i) {
    if (!(c.spectrum_in_db[i] > top - 40.0)) continue;
    ++bands_with_content;
    const double moved = c.spectrum_out_db[i] - c.spectrum_in_db[i];
    EXPECT_LE(moved, gain + 0.5) << c.spectrum_hz[i] << " Hz";
    EXPECT_GE(moved, gain - gr - 0.5) << c.spectrum_hz[i] << " Hz";
  }
  EXPECT_GE(bands_with_content, 4);
  EXPECT_GT(c.spectrum_in_db[b440], top - 20.0);
}

// Streamed delivery (no whole-track pass: the transparent profile) and the long-track path (from a temporary
// file) keep the same curves as the in-memory path would.
TEST(ReportCurves, StreamedAndLongTrackDeliveriesKeepCurves) {
  const int rate = 48000;
  const Planar in = lathe::test::make_signal(lathe::test::SignalKind::kMusicLike, 2, rate * 6, rate);
  auto engine = lathe::host::make_cpu_engine();
  MasterOptions opt;
  opt.curves = true;
  const auto streamed = lathe::test::master_in_memory(lathe::host::load_profile("transparent"), {in}, rate, *engine, opt);
  ASSERT_TRUE(streamed[0].report.ok) << streamed[0].report.error;
  ASSERT_TRUE(streamed[0].report.curves.has_value());
  EXPECT_EQ(streamed[0].report.curves->short_term_out_lufs.size(), 60u);
  EXPECT_TRUE(streamed[0].report.curves->gain_reduction_db.empty());  // no limiter
  EXPECT_EQ(streamed[0].report.curves->spectrum_out_db.size(), 60u);

  const lathe::host::Profile streaming = lathe::host::load_profile("streaming");
  const auto memory = lathe::test::master_in_memory(streaming, {in}, rate, *engine, opt);
  MasterOptions on_disk = opt;
  on_disk.track_memory_bytes = 1;  // every track through a SampleStore
  const auto stored = lathe::test::master_in_memory(streaming, {in}, rate, *engine, on_disk);
  ASSERT_TRUE(memory[0].report.ok && stored[0].report.ok);
  EXPECT_EQ(memory[0].audio, stored[0].audio);
  const auto& m = *memory[0].report.curves;
  const auto& s = *stored[0].report.curves;
  EXPECT_EQ(m.short_term_out_lufs.size(), s.short_term_out_lufs.size());
  for (std::size_t i = 0; i < m.short_term_out_lufs.size(); ++i) {
    if (std::isnan(m.short_term_out_lufs[i])) {
      EXPECT_TRUE(std::isnan(s.short_term_out_lufs[i]));
    } else {
      EXPECT_EQ(m.short_term_out_lufs[i], s.short_term_out_lufs[i]) << i;
    }
  }
  EXPECT_EQ(m.gain_reduction_db, s.gain_reduction_db);
  EXPECT_EQ(m.spectrum_out_db, s.spectrum_out_db);
}

}  // namespace

namespace {

// The report's text keeps arrays of numbers on one line and reads back as the same JSON.
TEST(ReportCurves, ReportTextKeepsNumberArraysOnOneLine) {
  nlohmann::json j = {{"schema", "lathe.report/1"},
                      {"tracks", {{{"input", "a [1].wav"},
                                   {"warnings", {"one", "two"}},
                                   {"curves", {{"short_term_in_lufs", {-20.5, nullptr, -1e-3, 3}},
                                               {"gain_reduction_db", nlohmann::json::array()}}}}}}};
  const std::string text = lathe::host::report_text(j);
  EXPECT_EQ(nlohmann::json::parse(text), j);
  EXPECT_NE(text.find("\"short_term_in_lufs\": [-20.5, null, -0.001, 3]"), std::string::npos) << text;
  EXPECT_NE(text.find("\"gain_reduction_db\": []"), std::string::npos) << text;
  // Arrays of words stay one per line, as JSON indents them.
  EXPECT_NE(text.find("\"warnings\": [\n"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
}

}  // namespace
