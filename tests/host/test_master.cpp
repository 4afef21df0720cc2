// master_tracks over file tracks with the CPU engine and the "transparent" profile (TPDF dither to 24-bit WAV):
// refused inputs, batch and segment independence, dither statistics, clipping, limits of rate and channels.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "host/engine/engine.hpp"
#include "host/errors.hpp"
#include "host/master.hpp"
#include "host/profile/profile.hpp"
#include "tests/support.hpp"

namespace lathe::host {
namespace {

namespace fs = std::filesystem;
using test::read_audio;
using test::TempDir;
using test::write_audio;

using Planar = std::vector<std::vector<float>>;

MasterResult master(const std::vector<Job>& jobs, const MasterOptions& options = {}) {
  static const Profile profile = load_profile("transparent");
  auto engine = make_cpu_engine();
  std::vector<std::unique_ptr<TrackIo>> tracks;
  for (const auto& j : jobs) tracks.push_back(make_file_track(j));
  return master_tracks(tracks, profile, *engine, options);
}

Planar silence(int channels, std::int64_t frames) {
  return Planar(static_cast<std::size_t>(channels), std::vector<float>(static_cast<std::size_t>(frames), 0.0f));
}

// WAV output is RF64 auto-downgraded by libsndfile: plain WAVE or WAVE_FORMAT_EXTENSIBLE under 4 GiB.
bool is_wav(int format) {
  const int major = format & SF_FORMAT_TYPEMASK;
  return major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Output sample in LSB of `bits` (the left-justified int32 read back shifted down).
double lsb(int v, int bits) { return static_cast<double>(v >> (32 - bits)); }

// max |out - in * 2^23| over every sample, in 24-bit LSB.
double max_error_lsb(const Planar& in, const test::ReadBack& out) {
  double worst = 0;
  for (std::size_t c = 0; c < in.size(); ++c)
    for (std::size_t i = 0; i < in[c].size(); ++i)
      worst = std::max(worst, std::fabs(lsb(out.pcm[c][i], 24) - static_cast<double>(in[c][i]) * 8388608.0));
  return worst;
}

TEST(MasterInput, NonFiniteSamplesAreRefusedWithTimeAndChannelWhileOthersAreWritten) {
  TempDir dir;
  ASSERT_EQ(format_time(1.0), "0:01.000");
  ASSERT_EQ(format_time(0.5), "0:00.500");

  auto with_nan = test::music_like(2, 88200, 44100, 1);
  with_nan[1][44100] = std::nanf("");  // 1 s in, second channel
  auto with_inf = test::music_like(2, 88200, 44100, 2);
  with_inf[0][22050] = INFINITY;  // 0.5 s in, first channel
  ASSERT_TRUE(write_audio(dir / "nan.wav", with_nan, 44100));
  ASSERT_TRUE(write_audio(dir / "inf.wav", with_inf, 44100));
  ASSERT_TRUE(write_audio(dir / "good1.wav", test::music_like(2, 30000, 44100, 3), 44100));
  ASSERT_TRUE(write_audio(dir / "good2.wav", test::music_like(1, 20000, 44100, 4), 44100));

  const fs::path out = dir / "out";
  MasterOptions options;
  options.segment_frames = 4096;  // the bad samples sit in a later segment: their position must still be right
  const auto r = master({{dir / "nan.wav", out / "nan.wav"},
                         {dir / "good1.wav", out / "good1.wav"},
                         {dir / "inf.wav", out / "inf.wav"},
                         {dir / "good2.wav", out / "good2.wav"}},
                        options);
  ASSERT_EQ(r.tracks.size(), 4u);
  EXPECT_EQ(r.failed(), 2);

  EXPECT_FALSE(r.tracks[0].ok);
  EXPECT_TRUE(contains(r.tracks[0].error, "NaN")) << r.tracks[0].error;
  EXPECT_TRUE(contains(r.tracks[0].error, format_time(1.0))) << r.tracks[0].error;
  EXPECT_TRUE(contains(r.tracks[0].error, "channel 2")) << r.tracks[0].error;
  EXPECT_FALSE(fs::exists(out / "nan.wav"));

  EXPECT_FALSE(r.tracks[2].ok);
  EXPECT_TRUE(contains(r.tracks[2].error, "infinite")) << r.tracks[2].error;
  EXPECT_TRUE(contains(r.tracks[2].error, format_time(0.5))) << r.tracks[2].error;
  EXPECT_TRUE(contains(r.tracks[2].error, "channel 1")) << r.tracks[2].error;
  EXPECT_FALSE(fs::exists(out / "inf.wav"));

  for (std::size_t i : {std::size_t{1}, std::size_t{3}}) {
    EXPECT_TRUE(r.tracks[i].ok) << r.tracks[i].error;
    EXPECT_TRUE(r.tracks[i].error.empty());
    EXPECT_TRUE(fs::exists(r.tracks[i].output));
  }
  EXPECT_EQ(read_audio(out / "good1.wav").pcm.at(0).size(), 30000u);
  EXPECT_EQ(read_audio(out / "good2.wav").pcm.at(0).size(), 20000u);
  // Only the two masters: no temporary files of the refused tracks.
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(out)) ++entries;
  EXPECT_EQ(entries, 2u);
}

TEST(MasterInput, ZeroLengthFileFailsWithNoAudioAndSilenceIsWritten) {
  TempDir dir;
  ASSERT_TRUE(write_audio(dir / "empty.wav", silence(2, 0), 48000));
  ASSERT_TRUE(write_audio(dir / "silence.wav", silence(2, 48000), 48000));
  const auto r = master({{dir / "empty.wav", dir / "out" / "empty.wav"}, {dir / "silence.wav", dir / "out" / "silence.wav"}});
  ASSERT_EQ(r.tracks.size(), 2u);
  EXPECT_FALSE(r.tracks[0].ok);
  EXPECT_TRUE(contains(r.tracks[0].error, "no audio")) << r.tracks[0].error;
  EXPECT_FALSE(fs::exists(dir / "out" / "empty.wav"));

  ASSERT_TRUE(r.tracks[1].ok) << r.tracks[1].error;
  EXPECT_EQ(r.tracks[1].frames, 48000);
  EXPECT_DOUBLE_EQ(r.tracks[1].duration_s, 1.0);
  EXPECT_EQ(r.tracks[1].clipped_samples, 0u);
  const auto back = read_audio(dir / "out" / "silence.wav");
  ASSERT_EQ(back.channels, 2);
  ASSERT_EQ(back.pcm[0].size(), 48000u);
  for (const auto& ch : back.pcm)
    for (int v : ch) ASSERT_LE(std::fabs(lsb(v, 24)), 1.0);
}

TEST(MasterInput, TruncatedWavIsRefusedAndNothingIsWritten) {
  TempDir dir;
  const fs::path in = dir / "cut.wav";
  constexpr std::int64_t kFrames = 96000;  // 2 s at 48 kHz, 16-bit stereo
  ASSERT_TRUE(write_audio(in, test::music_like(2, kFrames, 48000, 9), 48000, SF_FORMAT_WAV | SF_FORMAT_PCM_16));
  fs::resize_file(in, fs::file_size(in) / 2);

  // libsndfile 1.2 clamps the frame count of a WAV whose data chunk runs past the end of the file; lathe reads
  // libsndfile's log to notice, and refuses the track rather than master half a song without a word.
  const auto r = master({{in, dir / "out" / "cut.wav"}});
  ASSERT_EQ(r.tracks.size(), 1u);
  EXPECT_FALSE(r.tracks[0].ok);
  EXPECT_NE(r.tracks[0].error.find("truncated"), std::string::npos) << r.tracks[0].error;
  EXPECT_FALSE(fs::exists(dir / "out" / "cut.wav"));
}

TEST(MasterInput, CorruptFileInABatchFailsWhileTheOthersAreWritten) {
  TempDir dir;
  {
    std::ofstream bad(dir / "bad.wav", std::ios::binary);
    std::mt19937 rng(7);
    for (int i = 0; i < 10000; ++i) bad.put(static_cast<char>(rng() & 0xff));
  }
  ASSERT_TRUE(write_audio(dir / "a.wav", test::music_like(2, 10000, 44100, 1), 44100));
  ASSERT_TRUE(write_audio(dir / "b.wav", test::music_like(2, 12000, 44100, 2), 44100));
  const auto r = master({{dir / "a.wav", dir / "out" / "a.wav"},
                         {dir / "bad.wav", dir / "out" / "bad.wav"},
                         {dir / "b.wav", dir / "out" / "b.wav"}});
  ASSERT_EQ(r.tracks.size(), 3u);
  EXPECT_EQ(r.failed(), 1);
  EXPECT_FALSE(r.tracks[1].ok);
  EXPECT_FALSE(r.tracks[1].error.empty());
  EXPECT_FALSE(fs::exists(dir / "out" / "bad.wav"));
  EXPECT_TRUE(r.tracks[0].ok) << r.tracks[0].error;
  EXPECT_TRUE(r.tracks[2].ok) << r.tracks[2].error;
  EXPECT_EQ(read_audio(dir / "out" / "a.wav").pcm.at(0).size(), 10000u);
  EXPECT_EQ(read_audio(dir / "out" / "b.wav").pcm.at(0).size(), 12000u);
}

TEST(MasterInput, ExistingOutputIsNotReplacedWithoutOverwrite) {
  TempDir dir;
  ASSERT_TRUE(write_audio(dir / "a.wav", test::music_like(2, 1000, 44100, 1), 44100));
  {
    std::ofstream(dir / "a.out.wav") << "keep me";
  }
  auto r = master({{dir / "a.wav", dir / "a.out.wav"}});
  ASSERT_EQ(r.tracks.size(), 1u);
  EXPECT_FALSE(r.tracks[0].ok);
  EXPECT_TRUE(contains(r.tracks[0].error, "--overwrite")) << r.tracks[0].error;
  EXPECT_EQ(fs::file_size(dir / "a.out.wav"), 7u);

  MasterOptions options;
  options.overwrite = true;
  r = master({{dir / "a.wav", dir / "a.out.wav"}}, options);
  ASSERT_TRUE(r.tracks[0].ok) << r.tracks[0].error;
  EXPECT_EQ(read_audio(dir / "a.out.wav").pcm.at(0).size(), 1000u);
}

TEST(MasterInput, FloatFlacDeliveryIsAUsageError) {
  TempDir dir;
  ASSERT_TRUE(write_audio(dir / "a.wav", test::music_like(1, 100, 44100, 1), 44100));
  MasterOptions options;
  options.format = OutputFormat::kFlac;
  options.bits = SampleBits::kFloat32;
  EXPECT_THROW(master({{dir / "a.wav", dir / "a.flac"}}, options), UsageError);
  EXPECT_FALSE(fs::exists(dir / "a.flac"));
}

// ---- independence of segments and batches ----------------------------------------------------------------

TEST(MasterDeterminism, OutputDoesNotDependOnSegmentSizeOrBatchWidth) {
  TempDir dir;
  // Three tracks of different lengths and channel counts, so batches hold ragged segments.
  ASSERT_TRUE(write_audio(dir / "a.wav", test::music_like(2, 5000, 8000, 1), 8000));
  ASSERT_TRUE(write_audio(dir / "b.wav", test::music_like(1, 3001, 8000, 2), 8000));
  ASSERT_TRUE(write_audio(dir / "c.wav", test::music_like(6, 4100, 8000, 3), 8000));
  const std::vector<std::string> names{"a.wav", "b.wav", "c.wav"};

  std::map<std::string, test::ReadBack> reference;
  for (std::int64_t seg : {65536, 4096, 7, 1}) {
    for (int width : {1, 3}) {
      const fs::path out = dir / ("out-" + std::to_string(seg) + "-" + std::to_string(width));
      std::vector<Job> jobs;
      for (const auto& n : names) jobs.push_back({dir / n, out / n});
      MasterOptions options;
      options.segment_frames = seg;
      options.batch_tracks = width;
      const auto r = master(jobs, options);
      ASSERT_EQ(r.failed(), 0);
      for (std::size_t t = 0; t < names.size(); ++t) {
        const auto back = read_audio(out / names[t]);
        ASSERT_FALSE(back.pcm.empty());
        if (!reference.count(names[t])) {
          reference[names[t]] = back;
          continue;
        }
        EXPECT_EQ(back.pcm, reference[names[t]].pcm)
            << names[t] << " with segments of " << seg << " frames, " << width << " tracks per batch";
      }
    }
  }
}

TEST(MasterDeterminism, TrackAloneOrInABatchGetsTheSameBits) {
  TempDir dir;
  ASSERT_TRUE(write_audio(dir / "a.wav", test::music_like(2, 20000, 44100, 1), 44100));
  ASSERT_TRUE(write_audio(dir / "b.wav", test::music_like(2, 15000, 44100, 2), 44100));
  ASSERT_TRUE(write_audio(dir / "c.wav", test::music_like(1, 25000, 44100, 3), 44100));
  const auto alone = master({{dir / "a.wav", dir / "alone" / "a.wav"}});
  const auto batch = master({{dir / "b.wav", dir / "batch" / "b.wav"},
                             {dir / "a.wav", dir / "batch" / "a.wav"},
                             {dir / "c.wav", dir / "batch" / "c.wav"}});
  ASSERT_EQ(alone.failed(), 0);
  ASSERT_EQ(batch.failed(), 0);
  EXPECT_EQ(alone.tracks[0].content_key, batch.tracks[1].content_key);
  EXPECT_EQ(read_audio(dir / "alone" / "a.wav").pcm, read_audio(dir / "batch" / "a.wav").pcm);
}

TEST(MasterDeterminism, DifferentAudioGetsDifferentDitherAndRenamedAudioTheSameBits) {
  TempDir dir;
  // On digital silence the output is the dither noise itself.
  ASSERT_TRUE(write_audio(dir / "x.wav", silence(2, 48000), 48000));
  ASSERT_TRUE(write_audio(dir / "y.wav", silence(2, 48001), 48000));  // different content: one frame longer
  fs::create_directories(dir / "elsewhere");
  fs::copy_file(dir / "x.wav", dir / "elsewhere" / "renamed.wav");
  const auto r = master({{dir / "x.wav", dir / "out" / "x.wav"},
                         {dir / "y.wav", dir / "out" / "y.wav"},
                         {dir / "elsewhere" / "renamed.wav", dir / "out" / "renamed.wav"}});
  ASSERT_EQ(r.failed(), 0);
  EXPECT_NE(r.tracks[0].content_key, r.tracks[1].content_key);
  EXPECT_EQ(r.tracks[0].content_key, r.tracks[2].content_key);
  EXPECT_EQ(r.tracks[0].content_key.size(), 16u);

  const auto x = read_audio(dir / "out" / "x.wav");
  const auto y = read_audio(dir / "out" / "y.wav");
  const auto renamed = read_audio(dir / "out" / "renamed.wav");
  EXPECT_EQ(x.pcm, renamed.pcm);
  // Independent TPDF noise agrees on a sample with probability (3/4)^2 + 2 (1/8)^2 = 0.59375.
  for (std::size_t c = 0; c < 2; ++c) {
    std::size_t differ = 0;
    for (std::size_t i = 0; i < 48000; ++i) differ += x.pcm[c][i] != y.pcm[c][i];
    EXPECT_GT(differ, 48000u * 30 / 100) << "channel " << c;
    EXPECT_LT(differ, 48000u * 50 / 100) << "channel " << c;
  }
}

// ---- what the default profile does to the samples ------------------------------------------------------

TEST(MasterDither, DefaultProfileChangesSamplesByAtMostDitherPlusRounding) {
  TempDir dir;
  const auto in = test::music_like(2, 44100, 44100, 11);
  ASSERT_TRUE(write_audio(dir / "in.wav", in, 44100));
  const auto r = master({{dir / "in.wav", dir / "out.wav"}});
  ASSERT_TRUE(r.tracks[0].ok) << r.tracks[0].error;
  const auto out = read_audio(dir / "out.wav");
  EXPECT_TRUE(is_wav(out.format)) << std::hex << out.format;
  EXPECT_EQ(out.format & SF_FORMAT_SUBMASK, SF_FORMAT_PCM_24);
  EXPECT_EQ(out.rate_hz, 44100);
  // TPDF noise in (-1, 1) LSB, then rounding to the nearest step: |out - in * 2^23| <= 1.5 LSB.
  EXPECT_LE(max_error_lsb(in, out), 1.5);
  // ... and the dither is really there: many samples differ from plain rounding, with no bias.
  std::size_t not_rounded = 0, n = 0;
  double sum = 0;
  for (std::size_t c = 0; c < 2; ++c)
    for (std::size_t i = 0; i < in[c].size(); ++i, ++n) {
      const double x = static_cast<double>(in[c][i]) * 8388608.0;
      const double o = lsb(out.pcm[c][i], 24);
      not_rounded += o != std::nearbyint(x);
      sum += o - x;
    }
  EXPECT_GT(not_rounded, n / 5);
  EXPECT_LT(std::fabs(sum / static_cast<double>(n)), 0.02);
  EXPECT_EQ(r.tracks[0].clipped_samples, 0u);
}

TEST(MasterDither, TpdfNoiseOnSilenceHasTheExactDistributionOfRoundedTriangularNoise) {
  TempDir dir;
  constexpr std::size_t kFrames = 50000;  // x 2 channels = 100k samples
  ASSERT_TRUE(write_audio(dir / "silence.wav", silence(2, kFrames), 48000));
  const auto r = master({{dir / "silence.wav", dir / "out.wav"}});
  ASSERT_TRUE(r.tracks[0].ok) << r.tracks[0].error;
  const auto out = read_audio(dir / "out.wav");
  ASSERT_EQ(out.pcm.size(), 2u);

  // The noise is U1 - U2 (triangular on (-1, 1)); rounding half-to-even gives 0 for |v| <= 1/2 and +-1 beyond:
  // P(0) = 1 - 2 * (1/2)(1/2)^2 = 3/4, P(+1) = P(-1) = 1/8; mean 0, variance 1/4 LSB^2.
  // With 100k samples one standard error is about 0.0014 for each of these; the tolerance is 0.01.
  std::map<int, std::size_t> counts;
  double sum = 0, sum2 = 0, cross = 0;
  for (std::size_t i = 0; i < kFrames; ++i) {
    const int a = out.pcm[0][i] >> 8, b = out.pcm[1][i] >> 8;
    ASSERT_EQ(out.pcm[0][i] & 0xff, 0);
    ++counts[a];
    ++counts[b];
    sum += a + b;
    sum2 += a * a + b * b;
    cross += a * b;
  }
  const double n = 2.0 * kFrames;
  EXPECT_EQ(counts.size(), 3u) << "values other than -1, 0, 1";
  EXPECT_EQ(counts[-1] + counts[0] + counts[1], 2 * kFrames);
  EXPECT_NEAR(static_cast<double>(counts[0]) / n, 0.75, 0.01);
  EXPECT_NEAR(static_cast<double>(counts[1]) / n, 0.125, 0.01);
  EXPECT_NEAR(static_cast<double>(counts[-1]) / n, 0.125, 0.01);
  const double mean = sum / n;
  EXPECT_NEAR(mean, 0.0, 0.01);
  EXPECT_NEAR(sum2 / n - mean * mean, 0.25, 0.01);
  // The two channels get independent noise: correlation ~ 0 (standard error ~0.0045 for 50k pairs).
  EXPECT_NEAR((cross / kFrames) / 0.25, 0.0, 0.03);
}

TEST(MasterDither, SixteenBitFullScaleSquareCountsClipsAndStaysAtTheRails) {
  TempDir dir;
  constexpr std::size_t kFrames = 48000;
  Planar square(2, std::vector<float>(kFrames));
  for (std::size_t c = 0; c < 2; ++c)
    for (std::size_t i = 0; i < kFrames; ++i) square[c][i] = ((i / 100) % 2 == 0) ? 1.0f : -1.0f;
  ASSERT_TRUE(write_audio(dir / "square.wav", square, 48000));
  MasterOptions options;
  options.bits = SampleBits::k16;
  const auto r = master({{dir / "square.wav", dir / "out.wav"}}, options);
  ASSERT_TRUE(r.tracks[0].ok) << r.tracks[0].error;
  EXPECT_GT(r.tracks[0].clipped_samples, 0u);
  EXPECT_LE(r.tracks[0].clipped_samples, 2 * kFrames);
  const auto out = read_audio(dir / "out.wav");
  EXPECT_TRUE(is_wav(out.format)) << std::hex << out.format;
  EXPECT_EQ(out.format & SF_FORMAT_SUBMASK, SF_FORMAT_PCM_16);
  for (std::size_t c = 0; c < 2; ++c)
    for (std::size_t i = 0; i < kFrames; ++i) {
      const int v = out.pcm[c][i] >> 16;
      if (square[c][i] > 0)
        ASSERT_EQ(v, 32767) << "channel " << c << " frame " << i;
      else
        ASSERT_TRUE(v == -32768 || v == -32767) << v << " at channel " << c << " frame " << i;
    }
}

TEST(MasterDither, DenormalInputIsProcessedLikeSilence) {
  TempDir dir;
  Planar tiny(2, std::vector<float>(20000));
  for (std::size_t c = 0; c < 2; ++c)
    for (std::size_t i = 0; i < tiny[c].size(); ++i) tiny[c][i] = (i % 3 == 0 ? -1e-40f : 1e-40f);
  ASSERT_EQ(std::fpclassify(tiny[0][0]), FP_SUBNORMAL);
  ASSERT_TRUE(write_audio(dir / "tiny.wav", tiny, 44100));
  const auto r = master({{dir / "tiny.wav", dir / "out.wav"}});
  ASSERT_TRUE(r.tracks[0].ok) << r.tracks[0].error;
  EXPECT_EQ(r.tracks[0].clipped_samples, 0u);
  EXPECT_EQ(r.tracks[0].frames, 20000);
  const auto out = read_audio(dir / "out.wav");
  ASSERT_EQ(out.pcm.size(), 2u);
  ASSERT_EQ(out.pcm[0].size(), 20000u);
  for (const auto& ch : out.pcm)
    for (int v : ch) ASSERT_LE(std::fabs(lsb(v, 24)), 1.0);
}

TEST(MasterLimits, OneAndEightChannelsAtTheLowestAndHighestRatesAreMastered) {
  TempDir dir;
  std::vector<Job> jobs;
  std::vector<Planar> inputs;
  std::vector<std::pair<int, int>> cases;  // channels, rate
  for (int ch : {1, 8})
    for (int rate : {8000, 384000}) {
      const std::string name = std::to_string(ch) + "ch-" + std::to_string(rate) + ".wav";
      inputs.push_back(test::music_like(ch, 3000, rate, static_cast<unsigned>(ch + rate)));
      ASSERT_TRUE(write_audio(dir / name, inputs.back(), rate));
      jobs.push_back({dir / name, dir / "out" / name});
      cases.emplace_back(ch, rate);
    }
  const auto r = master(jobs);
  ASSERT_EQ(r.tracks.size(), cases.size());
  for (std::size_t t = 0; t < cases.size(); ++t) {
    const auto [ch, rate] = cases[t];
    ASSERT_TRUE(r.tracks[t].ok) << jobs[t].input << ": " << r.tracks[t].error;
    EXPECT_EQ(r.tracks[t].channels, ch);
    EXPECT_EQ(r.tracks[t].rate_hz, rate);
    EXPECT_EQ(r.tracks[t].frames, 3000);
    const auto out = read_audio(jobs[t].output);
    ASSERT_EQ(out.channels, ch);
    EXPECT_EQ(out.rate_hz, rate);
    ASSERT_EQ(out.pcm[0].size(), 3000u);
    EXPECT_LE(max_error_lsb(inputs[t], out), 1.5) << jobs[t].input;
  }
}

TEST(MasterMetadata, InputMetadataIsCarriedToTheOutput) {
  TempDir dir;
  {
    SF_INFO info{};
    info.samplerate = 44100;
    info.channels = 1;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE* f = sf_open((dir / "tagged.wav").c_str(), SFM_WRITE, &info);
    ASSERT_NE(f, nullptr);
    sf_set_string(f, SF_STR_TITLE, "Tagged Title");
    sf_set_string(f, SF_STR_ARTIST, "Tagged Artist");
    std::vector<short> s(1000, 100);
    ASSERT_EQ(sf_writef_short(f, s.data(), 1000), 1000);
    sf_close(f);
  }
  const auto r = master({{dir / "tagged.wav", dir / "out.wav"}});
  ASSERT_TRUE(r.tracks[0].ok) << r.tracks[0].error;
  EXPECT_EQ(r.tracks[0].metadata.at("title"), "Tagged Title");
  SF_INFO info{};
  SNDFILE* f = sf_open((dir / "out.wav").c_str(), SFM_READ, &info);
  ASSERT_NE(f, nullptr);
  const char* title = sf_get_string(f, SF_STR_TITLE);
  const char* artist = sf_get_string(f, SF_STR_ARTIST);
  EXPECT_STREQ(title ? title : "", "Tagged Title");
  EXPECT_STREQ(artist ? artist : "", "Tagged Artist");
  sf_close(f);
}

}  // namespace
}  // namespace lathe::host
