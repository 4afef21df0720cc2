// Long tracks: whole-track delivery streamed from a temporary file (host/delivery/sample_store.hpp,
// deliver.cpp's segmented path) gives the very bits of the in-memory delivery, for every kind of delivery
// (targeting and the limiter, rate conversion, float output, album mode), and bounds the host memory of a
// long file (measured on the lathe binary).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "host/delivery/sample_store.hpp"
#include "host/engine/engine.hpp"
#include "host/profile/profile.hpp"
#include "tests/mastering.hpp"
#include "tests/signals.hpp"
#include "tests/support.hpp"

namespace lathe::test {
namespace {

namespace fs = std::filesystem;

TEST(SampleStore, RoundTripsBitsAndLeavesNoFileBehind) {
  TempDir dir;
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old ? old : "";
  ::setenv("TMPDIR", dir.path().c_str(), 1);
  {
    host::SampleStore store(3);
    ::setenv("TMPDIR", saved.c_str(), 1);
    if (!old) ::unsetenv("TMPDIR");
    // The file is unlinked at once: the folder stays empty while the store holds data.
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> u(-2.0f, 2.0f);
    std::vector<std::vector<float>> all(3);
    for (int piece = 0; piece < 7; ++piece) {
      const std::int64_t n = piece == 3 ? 0 : 10007 * piece + 3;
      std::vector<std::vector<float>> p(3, std::vector<float>(static_cast<std::size_t>(n)));
      for (auto& ch : p)
        for (auto& v : ch) v = u(rng);
      if (!p[1].empty()) p[1][0] = -0.0f;  // the sign of zero survives too
      std::vector<const float*> ptr{p[0].data(), p[1].data(), p[2].data()};
      store.append(ptr, n);
      for (int c = 0; c < 3; ++c) all[static_cast<std::size_t>(c)].insert(all[static_cast<std::size_t>(c)].end(),
                                                                           p[static_cast<std::size_t>(c)].begin(),
                                                                           p[static_cast<std::size_t>(c)].end());
    }
    store.append_zeros(5);
    for (auto& ch : all) ch.insert(ch.end(), 5, 0.0f);
    EXPECT_TRUE(fs::is_empty(dir.path()));
    ASSERT_EQ(store.frames(), static_cast<std::int64_t>(all[0].size()));
    for (const std::int64_t begin : {std::int64_t{0}, std::int64_t{1}, std::int64_t{40000}, store.frames() - 9}) {
      const std::int64_t n = std::min<std::int64_t>(store.frames() - begin, 70001);
      std::vector<std::vector<float>> back(3, std::vector<float>(static_cast<std::size_t>(n)));
      std::vector<float*> ptr{back[0].data(), back[1].data(), back[2].data()};
      store.read(begin, n, ptr);
      for (std::size_t c = 0; c < 3; ++c) {
        EXPECT_EQ(0, std::memcmp(back[c].data(), all[c].data() + begin, static_cast<std::size_t>(n) * sizeof(float)))
            << "channel " << c << " from " << begin;
      }
    }
    std::vector<float> one(1);
    std::vector<float*> ptr{one.data(), one.data(), one.data()};
    EXPECT_THROW(store.read(store.frames(), 1, ptr), std::out_of_range);
  }
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

// Masters `inputs` with every whole-track delivery in memory, then with every one streamed from a store
// (a budget of one byte), and expects the same delivered bits and the same report.
void expect_same_streamed(const host::Profile& profile, const std::vector<Planar>& inputs, int rate,
                          host::MasterOptions options) {
  auto engine = host::make_cpu_engine();
  options.segment_frames = 3001;  // long tracks go in segments of 12004 frames: many per track
  const auto in_memory = master_in_memory(profile, inputs, rate, *engine, options);
  options.track_memory_bytes = 1;
  const auto streamed = master_in_memory(profile, inputs, rate, *engine, options);
  ASSERT_EQ(in_memory.size(), streamed.size());
  for (std::size_t t = 0; t < inputs.size(); ++t) {
    const auto& a = in_memory[t];
    const auto& b = streamed[t];
    ASSERT_TRUE(a.report.ok) << a.report.error;
    ASSERT_TRUE(b.report.ok) << b.report.error;
    ASSERT_EQ(a.audio.size(), b.audio.size());
    for (std::size_t c = 0; c < a.audio.size(); ++c) {
      ASSERT_EQ(a.audio[c].size(), b.audio[c].size()) << "track " << t;
      EXPECT_EQ(0, std::memcmp(a.audio[c].data(), b.audio[c].data(), a.audio[c].size() * sizeof(float)))
          << "track " << t << " channel " << c << " differs";
    }
    EXPECT_EQ(a.report.delivery.gain_db, b.report.delivery.gain_db);
    EXPECT_EQ(a.report.delivery.max_gain_reduction_db, b.report.delivery.max_gain_reduction_db);
    EXPECT_EQ(a.report.delivery.mean_gain_reduction_db, b.report.delivery.mean_gain_reduction_db);
    EXPECT_EQ(a.report.delivery.ceiling_correction_db, b.report.delivery.ceiling_correction_db);
    EXPECT_EQ(a.report.delivery.target_reached, b.report.delivery.target_reached);
    EXPECT_EQ(a.report.delivery.rate_hz, b.report.delivery.rate_hz);
    EXPECT_EQ(a.report.output_loudness.integrated_lufs, b.report.output_loudness.integrated_lufs);
    EXPECT_EQ(a.report.output_loudness.true_peak_dbtp, b.report.output_loudness.true_peak_dbtp);
    EXPECT_EQ(a.report.clipped_samples, b.report.clipped_samples);
  }
}

std::vector<Planar> loud_inputs(int rate) {
  // Loud enough that the limiter works hard at -14 LUFS, one quiet track, one mono, one shorter than a segment.
  auto hot = music_like(2, 5 * rate + 11, rate, 4);
  for (auto& ch : hot)
    for (auto& v : ch) v *= 2.5f;
  return {hot, music_like(1, 3 * rate + 7, rate, 5), music_like(2, rate / 4, rate, 6),
          noise_planar(2, static_cast<std::size_t>(2 * rate), 9, 0.05)};
}

TEST(LongTracks, StreamedDeliveryGivesTheBitsOfTheInMemoryOne) {
  expect_same_streamed(host::load_profile("streaming"), loud_inputs(48000), 48000, {});
}

TEST(LongTracks, StreamedRateConversionAndSixteenBits) {
  // cd: 44.1 kHz, 16 bits, a loudness target and the limiter, from 48 kHz.
  expect_same_streamed(host::load_profile("cd"), loud_inputs(48000), 48000, {});
}

TEST(LongTracks, StreamedFloatDeliveryAndAFullChain) {
  host::MasterOptions o;
  o.bits = host::SampleBits::kFloat32;
  expect_same_streamed(host::load_profile("streaming-warm"), loud_inputs(44100), 44100, o);
}

TEST(LongTracks, AlbumModeKeepsItsTracksInMemory) {
  host::MasterOptions o;
  o.album = true;
  expect_same_streamed(host::load_profile("streaming"), loud_inputs(44100), 44100, o);
}

// Peak resident memory of the lathe binary mastering a 4-minute 96 kHz stereo file with a 64 MiB whole-track
// budget: its whole-track working set is about 1.6 GiB (measured), streamed it stays under 256 MiB (40 MiB measured).
TEST(LongTracks, HostMemoryStaysBoundedOnTheBinary) {
  TempDir dir;
  const int rate = 96000;
  const std::int64_t frames = std::int64_t{4} * 60 * rate;
  {
    auto audio = music_like(2, frames, rate, 11);
    ASSERT_TRUE(write_audio(dir / "long.wav", audio, rate, SF_FORMAT_WAV | SF_FORMAT_PCM_24));
  }
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string in = (dir / "long.wav").string(), out = (dir / "out").string();
    ::execl(LATHE_BINARY, LATHE_BINARY, "master", in.c_str(), "-o", out.c_str(), "--engine", "cpu",
            "--track-memory", "64", "-q", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  rusage usage{};
  ASSERT_EQ(::wait4(pid, &status, 0, &usage), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  const double peak_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
  EXPECT_LT(peak_mib, 256.0) << "peak resident memory " << peak_mib << " MiB";
  RecordProperty("peak_rss_mib", std::to_string(static_cast<int>(peak_mib)));
  const ReadBack back = read_audio(dir / "out" / "long.wav");
  ASSERT_EQ(back.channels, 2);
  EXPECT_EQ(static_cast<std::int64_t>(back.planar[0].size()), frames);
}

}  // namespace
}  // namespace lathe::test
