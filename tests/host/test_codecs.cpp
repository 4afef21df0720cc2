// Lossy and compressed inputs that libsndfile decodes (Ogg Vorbis, Ogg Opus, MP3 where the installed
// libsndfile supports them) go through the whole master path like PCM does.
#include <gtest/gtest.h>
#include <sndfile.h>

#include "host/engine/engine.hpp"
#include "host/master.hpp"
#include "host/profile/profile.hpp"
#include "tests/support.hpp"

namespace lathe::host {
namespace {

struct Codec {
  const char* name;
  const char* ext;
  int format;
  int rate_hz;
};

class CodecInput : public ::testing::TestWithParam<Codec> {};

TEST_P(CodecInput, IsDecodedAndMastered) {
  const Codec codec = GetParam();
  SF_INFO probe{};
  probe.samplerate = codec.rate_hz;
  probe.channels = 2;
  probe.format = codec.format;
  if (!sf_format_check(&probe)) GTEST_SKIP() << "this libsndfile cannot write " << codec.name;
  test::TempDir dir;
  const auto in = dir / (std::string("in.") + codec.ext);
  const std::int64_t frames = codec.rate_hz;  // 1 s
  if (!test::write_audio(in, test::music_like(2, frames, codec.rate_hz, 3), codec.rate_hz, codec.format))
    GTEST_SKIP() << "this libsndfile could not encode " << codec.name;

  std::vector<std::unique_ptr<TrackIo>> tracks;
  tracks.push_back(make_file_track(Job{in, dir / "out" / "in.wav"}));
  std::filesystem::create_directories(dir / "out");
  auto engine = make_cpu_engine();
  const MasterResult r = master_tracks(tracks, load_profile("transparent"), *engine, MasterOptions{});
  ASSERT_TRUE(r.tracks[0].ok) << r.tracks[0].error;
  EXPECT_EQ(r.tracks[0].rate_hz, codec.rate_hz);
  EXPECT_EQ(r.tracks[0].channels, 2);
  // Codecs add priming/padding frames; the length stays within 100 ms of the original.
  EXPECT_NEAR(static_cast<double>(r.tracks[0].frames), static_cast<double>(frames), 0.1 * codec.rate_hz);
  const auto back = test::read_audio(dir / "out" / "in.wav");
  ASSERT_EQ(back.channels, 2);
  double energy = 0;
  for (float x : back.planar[0]) energy += static_cast<double>(x) * x;
  EXPECT_GT(energy / static_cast<double>(back.planar[0].size()), 1e-3) << "decoded audio is not silent";
}

INSTANTIATE_TEST_SUITE_P(Codecs, CodecInput,
                         ::testing::Values(Codec{"ogg_vorbis", "ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 44100},
                                           Codec{"ogg_opus", "opus", SF_FORMAT_OGG | SF_FORMAT_OPUS, 48000},
                                           Codec{"mp3", "mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100},
                                           Codec{"w64_float", "w64", SF_FORMAT_W64 | SF_FORMAT_FLOAT, 96000},
                                           Codec{"rf64_pcm24", "rf64", SF_FORMAT_RF64 | SF_FORMAT_PCM_24, 48000}),
                         [](const ::testing::TestParamInfo<Codec>& param) { return std::string(param.param.name); });

}  // namespace
}  // namespace lathe::host
