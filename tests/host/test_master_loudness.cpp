// `lathe master` measures every track's input and output with the BS.1770 meter and reports both.
#include <gtest/gtest.h>

#include <cmath>

#include "host/engine/engine.hpp"
#include "host/io/memory_track.hpp"
#include "host/master.hpp"
#include "host/profile/profile.hpp"
#include "host/report/report.hpp"
#include "tests/signals.hpp"

namespace lathe::test {
namespace {

// A 1 kHz sine with `peak_dbfs` peaks in every channel: -23 dBFS reads -23.0 LUFS in stereo (BS.1770).
Planar tone(int channels, double seconds, int rate, double peak_dbfs) {
  const auto n = static_cast<std::size_t>(seconds * rate);
  const double a = std::pow(10.0, peak_dbfs / 20.0);
  Planar p(static_cast<std::size_t>(channels), std::vector<float>(n));
  for (auto& ch : p)
    for (std::size_t i = 0; i < n; ++i)
      ch[i] = static_cast<float>(a * det_sin(2.0 * 3.14159265358979323846 * 1000.0 * static_cast<double>(i) / rate));
  return p;
}

host::MasterResult run(const host::Profile& profile, std::vector<Planar> inputs, int rate) {
  std::vector<std::unique_ptr<host::TrackIo>> tracks;
  for (std::size_t i = 0; i < inputs.size(); ++i)
    tracks.push_back(std::make_unique<host::MemoryTrack>("t" + std::to_string(i), std::move(inputs[i]), rate));
  auto engine = host::make_cpu_engine();
  return host::master_tracks(tracks, profile, *engine, host::MasterOptions{});
}
host::MasterResult run(const std::string& profile_name, std::vector<Planar> inputs, int rate) {
  return run(host::load_profile(profile_name), std::move(inputs), rate);
}

TEST(MasterLoudness, InputAndOutputAreMeasured) {
  const auto r = run("headroom-24", {tone(2, 12.0, 48000, -23.0)}, 48000);
  ASSERT_TRUE(r.tracks[0].ok) << r.tracks[0].error;
  const auto& in = r.tracks[0].input_loudness;
  const auto& out = r.tracks[0].output_loudness;
  ASSERT_TRUE(in.integrated_lufs.has_value());
  ASSERT_TRUE(out.integrated_lufs.has_value());
  EXPECT_NEAR(*in.integrated_lufs, -23.0, 0.1);
  EXPECT_NEAR(*out.integrated_lufs, -26.0, 0.1);  // headroom-24 trims 3 dB
  EXPECT_NEAR(*in.integrated_lufs - *out.integrated_lufs, 3.0, 0.01);
  EXPECT_NEAR(in.sample_peak_dbfs, -23.0, 0.01);
  EXPECT_NEAR(out.true_peak_dbtp, -26.0, 0.1);
}

TEST(MasterLoudness, SilenceIsBelowTheGateAndNullInTheReport) {
  Planar silence(2, std::vector<float>(48000, 0.0f));
  const auto r = run("hires-float", {silence}, 48000);
  ASSERT_TRUE(r.tracks[0].ok);
  EXPECT_FALSE(r.tracks[0].input_loudness.integrated_lufs.has_value());
  EXPECT_FALSE(r.tracks[0].output_loudness.integrated_lufs.has_value());
  EXPECT_TRUE(std::isinf(r.tracks[0].output_loudness.sample_peak_dbfs));
  const auto j = host::make_report(r, host::load_profile("hires-float"), host::OutputFormat::kWav,
                                   host::SampleBits::kFloat32);
  const auto& t = j["tracks"][0];
  EXPECT_TRUE(t["input_loudness"]["integrated_lufs"].is_null());
  EXPECT_TRUE(t["output_loudness"]["true_peak_dbtp"].is_null());
  EXPECT_FALSE(j.dump().find("NaN") != std::string::npos || j.dump().find("inf") != std::string::npos);
}

// A bass boost raises the measured loudness; dither alone (24-bit) does not change it, to 0.01 LU.
TEST(MasterLoudness, OutputMeterSeesTheChain) {
  const Planar music = make_signal(SignalKind::kMusicLike, 2, 48000 * 8, 48000);
  const auto plain = run("transparent", {music}, 48000);
  const auto eq = run(host::parse_profile("[[stage]]\ntype = \"eq\"\nbands = [ { type = \"low_shelf\", freq_hz = 200, "
                                           "gain_db = 6, q = 0.7 } ]\n", "bass.toml"),
                      {music}, 48000);
  ASSERT_TRUE(plain.tracks[0].ok && eq.tracks[0].ok);
  ASSERT_TRUE(plain.tracks[0].output_loudness.integrated_lufs && plain.tracks[0].input_loudness.integrated_lufs);
  EXPECT_NEAR(*plain.tracks[0].output_loudness.integrated_lufs, *plain.tracks[0].input_loudness.integrated_lufs, 0.01);
  ASSERT_TRUE(eq.tracks[0].output_loudness.integrated_lufs);
  EXPECT_GT(*eq.tracks[0].output_loudness.integrated_lufs - *eq.tracks[0].input_loudness.integrated_lufs, 0.5);
}

}  // namespace
}  // namespace lathe::test
