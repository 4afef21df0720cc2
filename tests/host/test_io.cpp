// I/O: AudioWriter -> AudioReader round trips in every output format, what AudioReader refuses, atomic outputs
// (nothing at the final name before commit, after a crash or on a full disk).
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "host/engine/engine.hpp"
#include "host/errors.hpp"
#include "host/io/atomic_file.hpp"
#include "host/io/audio_reader.hpp"
#include "host/io/audio_writer.hpp"
#include "host/master.hpp"
#include "host/profile/profile.hpp"
#include "tests/support.hpp"

namespace lathe::host {
namespace {

namespace fs = std::filesystem;
using test::read_audio;
using test::TempDir;
using test::write_audio;

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out << bytes;
}

std::vector<std::string> folder_entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

int bits_of(SampleBits b) { return static_cast<int>(b); }

// A left-justified int32 holding the signed `bits`-bit integer k (the dither stage's output layout).
std::int32_t left_justify(std::int32_t k, int bits) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(k) << (32 - bits));
}

// Deterministic integers spanning the whole `bits`-bit range, extremes first.
std::vector<std::vector<std::int32_t>> pcm_pattern(int channels, int frames, int bits, unsigned seed) {
  const std::int32_t lo = -(std::int32_t{1} << (bits - 1));
  const std::int32_t hi = (std::int32_t{1} << (bits - 1)) - 1;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::int32_t> dist(lo, hi);
  std::vector<std::vector<std::int32_t>> k(static_cast<std::size_t>(channels),
                                           std::vector<std::int32_t>(static_cast<std::size_t>(frames)));
  for (auto& ch : k) {
    for (auto& v : ch) v = dist(rng);
    ch[0] = lo;
    ch[1] = hi;
    ch[2] = 0;
    ch[3] = -1;
    ch[4] = 1;
  }
  return k;
}

void write_pcm_in_segments(AudioWriter& w, const std::vector<std::vector<std::int32_t>>& lj, int frames,
                           int segment) {
  for (int start = 0; start < frames; start += segment) {
    const int n = std::min(segment, frames - start);
    std::vector<const std::int32_t*> planar;
    for (const auto& ch : lj) planar.push_back(ch.data() + start);
    w.write_pcm(planar, n);
  }
}

// ---- every format x bits x rate x channel count -------------------------------------------------------

struct RoundTripCase {
  OutputFormat format;
  SampleBits bits;
  int rate_hz;
  int channels;
};

class IoRoundTrip : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(IoRoundTrip, WrittenSamplesReadBackBitExactly) {
  const RoundTripCase tc = GetParam();
  TempDir dir;
  const fs::path out = dir / ("out." + extension_of(tc.format));
  const WriterSpec spec{tc.format, tc.bits, tc.rate_hz, tc.channels, {}};
  constexpr int kFrames = 1000;

  if (tc.format == OutputFormat::kFlac && tc.bits == SampleBits::kFloat32) {
    EXPECT_THROW(check_format_supported(tc.format, tc.bits), UsageError);
    EXPECT_THROW(AudioWriter(out, spec, false), UsageError);
    EXPECT_TRUE(fs::is_empty(dir.path())) << "a refused writer leaves no temporary file";
    return;
  }
  EXPECT_NO_THROW(check_format_supported(tc.format, tc.bits));

  if (tc.bits != SampleBits::kFloat32) {
    const int bits = bits_of(tc.bits);
    const auto k = pcm_pattern(tc.channels, kFrames, bits, static_cast<unsigned>(tc.rate_hz + tc.channels));
    auto lj = k;
    for (auto& ch : lj)
      for (auto& v : ch) v = left_justify(v, bits);
    {
      AudioWriter w(out, spec, false);
      write_pcm_in_segments(w, lj, kFrames, 333);
      w.commit();
    }
    EXPECT_EQ(folder_entries(dir.path()), std::vector<std::string>{out.filename().string()});

    const auto back = read_audio(out);
    ASSERT_EQ(back.rate_hz, tc.rate_hz);
    ASSERT_EQ(back.channels, tc.channels);
    for (int c = 0; c < tc.channels; ++c) EXPECT_EQ(back.pcm[static_cast<std::size_t>(c)], lj[static_cast<std::size_t>(c)]) << "channel " << c;

    AudioReader reader(out);
    EXPECT_EQ(reader.info().rate_hz, tc.rate_hz);
    EXPECT_EQ(reader.info().channels, tc.channels);
    EXPECT_EQ(reader.info().frames, kFrames);
    std::vector<std::vector<float>> planar;
    ASSERT_EQ(reader.read_planar(planar, kFrames + 10), kFrames);
    const double scale = std::ldexp(1.0, bits - 1);
    for (int c = 0; c < tc.channels; ++c)
      for (int i = 0; i < kFrames; ++i)
        ASSERT_EQ(static_cast<double>(planar[static_cast<std::size_t>(c)][static_cast<std::size_t>(i)]),
                  static_cast<double>(k[static_cast<std::size_t>(c)][static_cast<std::size_t>(i)]) / scale)
            << "channel " << c << " frame " << i;
  } else {
    std::mt19937 rng(static_cast<unsigned>(tc.rate_hz * 10 + tc.channels));
    std::uniform_real_distribution<float> dist(-1.5f, 1.5f);
    std::vector<std::vector<float>> in(static_cast<std::size_t>(tc.channels),
                                       std::vector<float>(static_cast<std::size_t>(kFrames)));
    for (auto& ch : in) {
      for (auto& v : ch) v = dist(rng);
      ch[0] = 1.0f;
      ch[1] = -1.0f;
      ch[2] = 0.0f;
      ch[3] = 3.0f;  // over full scale: float delivery keeps it
      ch[4] = 1e-30f;
    }
    {
      AudioWriter w(out, spec, false);
      for (int start = 0; start < kFrames; start += 400) {
        const int n = std::min(400, kFrames - start);
        std::vector<const float*> planar;
        for (const auto& ch : in) planar.push_back(ch.data() + start);
        w.write_float(planar, n);
      }
      w.commit();
    }
    const auto back = read_audio(out);
    ASSERT_EQ(back.rate_hz, tc.rate_hz);
    ASSERT_EQ(back.channels, tc.channels);
    ASSERT_EQ(back.format & SF_FORMAT_SUBMASK, SF_FORMAT_FLOAT);
    for (int c = 0; c < tc.channels; ++c) {
      const auto& got = back.planar[static_cast<std::size_t>(c)];
      const auto& want = in[static_cast<std::size_t>(c)];
      ASSERT_EQ(got.size(), want.size());
      EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)), 0) << "channel " << c;
    }
    AudioReader reader(out);
    std::vector<std::vector<float>> planar;
    ASSERT_EQ(reader.read_planar(planar, kFrames), kFrames);
    for (int c = 0; c < tc.channels; ++c)
      EXPECT_EQ(std::memcmp(planar[static_cast<std::size_t>(c)].data(), in[static_cast<std::size_t>(c)].data(),
                            kFrames * sizeof(float)),
                0)
          << "channel " << c;
  }
}

std::vector<RoundTripCase> all_round_trip_cases() {
  std::vector<RoundTripCase> cases;
  for (OutputFormat f : {OutputFormat::kWav, OutputFormat::kFlac, OutputFormat::kAiff})
    for (SampleBits b : {SampleBits::k16, SampleBits::k24, SampleBits::kFloat32})
      for (int rate : {8000, 44100, 96000, 384000})
        for (int ch : {1, 2, 6, 8}) cases.push_back({f, b, rate, ch});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AllFormats, IoRoundTrip, ::testing::ValuesIn(all_round_trip_cases()),
                         [](const ::testing::TestParamInfo<RoundTripCase>& p) {
                           const auto& c = p.param;
                           return to_string(c.format) + "_" + to_string(c.bits) + "_" + std::to_string(c.rate_hz) +
                                  "Hz_" + std::to_string(c.channels) + "ch";
                         });

// ---- reading -------------------------------------------------------------------------------------------

TEST(IoReader, Pcm16And24ReadAsIntegerOverFullScaleExactly) {
  TempDir dir;
  for (int bits : {16, 24}) {
    const fs::path p = dir / ("known" + std::to_string(bits) + ".wav");
    const auto k = pcm_pattern(2, 500, bits, 7u + static_cast<unsigned>(bits));
    SF_INFO info{};
    info.samplerate = 48000;
    info.channels = 2;
    info.format = SF_FORMAT_WAV | (bits == 16 ? SF_FORMAT_PCM_16 : SF_FORMAT_PCM_24);
    SNDFILE* f = sf_open(p.c_str(), SFM_WRITE, &info);
    ASSERT_NE(f, nullptr);
    std::vector<int> inter(1000);
    for (int i = 0; i < 500; ++i)
      for (int c = 0; c < 2; ++c)
        inter[static_cast<std::size_t>(i * 2 + c)] = left_justify(k[static_cast<std::size_t>(c)][static_cast<std::size_t>(i)], bits);
    ASSERT_EQ(sf_writef_int(f, inter.data(), 500), 500);
    sf_close(f);

    AudioReader reader(p);
    EXPECT_NE(reader.info().encoding.find(std::to_string(bits)), std::string::npos) << reader.info().encoding;
    std::vector<std::vector<float>> planar;
    ASSERT_EQ(reader.read_planar(planar, 500), 500);
    const double scale = std::ldexp(1.0, bits - 1);
    for (std::size_t c = 0; c < 2; ++c)
      for (std::size_t i = 0; i < 500; ++i)
        ASSERT_EQ(static_cast<double>(planar[c][i]), k[c][i] / scale) << bits << "-bit, channel " << c << " frame " << i;
    EXPECT_EQ(planar[0][0], -1.0f);
  }
}

TEST(IoReader, ReadingInSegmentsGivesTheSameSamplesAsOneRead) {
  TempDir dir;
  const fs::path p = dir / "seg.wav";
  constexpr int kFrames = 2500;
  ASSERT_TRUE(write_audio(p, test::music_like(3, kFrames, 44100, 5), 44100, SF_FORMAT_WAV | SF_FORMAT_PCM_24));

  std::vector<float> whole(static_cast<std::size_t>(kFrames + 100) * 3);
  {
    AudioReader reader(p);
    ASSERT_EQ(reader.read_interleaved(whole.data(), kFrames + 100), kFrames);
    EXPECT_EQ(reader.read_interleaved(whole.data() + static_cast<std::size_t>(kFrames) * 3, 10), 0);
    whole.resize(static_cast<std::size_t>(kFrames) * 3);
  }
  for (std::int64_t chunk : {1, 7, 1000}) {
    AudioReader reader(p);
    for (int pass = 0; pass < 2; ++pass) {  // the second pass after rewind()
      std::vector<float> got;
      std::vector<float> buf(static_cast<std::size_t>(chunk) * 3);
      for (;;) {
        const std::int64_t n = reader.read_interleaved(buf.data(), chunk);
        ASSERT_GE(n, 0);
        ASSERT_LE(n, chunk);
        if (n == 0) break;
        got.insert(got.end(), buf.begin(), buf.begin() + n * 3);
      }
      EXPECT_EQ(got, whole) << "chunks of " << chunk << ", pass " << pass;
      reader.rewind();
    }
  }
}

void expect_refused(const fs::path& p, bool want_hint, const std::string& in_message = {}) {
  try {
    AudioReader reader(p);
    ADD_FAILURE() << "AudioReader accepted " << p;
  } catch (const InputError& e) {
    EXPECT_FALSE(std::string(e.what()).empty());
    if (want_hint) {
      EXPECT_FALSE(e.hint().empty()) << e.what();
    }
    if (!in_message.empty()) {
      EXPECT_NE(e.message().find(in_message), std::string::npos) << e.message();
    }
  }
}

TEST(IoReader, RefusesAMissingFile) {
  TempDir dir;
  expect_refused(dir / "nope.wav", true);
}

TEST(IoReader, RefusesAFolder) {
  TempDir dir;
  fs::create_directories(dir / "folder.wav");
  expect_refused(dir / "folder.wav", false, "folder");
}

TEST(IoReader, RefusesRandomBytesNamedWav) {
  TempDir dir;
  std::mt19937 rng(42);
  std::string bytes(8192, '\0');
  for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
  write_bytes(dir / "noise.wav", bytes);
  expect_refused(dir / "noise.wav", true);
}

TEST(IoReader, RefusesATextFile) {
  TempDir dir;
  write_bytes(dir / "notes.txt", "Track list\n1. Intro\n2. Outro\n");
  write_bytes(dir / "notes.wav", "Track list\n1. Intro\n2. Outro\n");
  expect_refused(dir / "notes.txt", true);
  expect_refused(dir / "notes.wav", true);
}

TEST(IoReader, RefusesAZeroByteFile) {
  TempDir dir;
  write_bytes(dir / "empty.wav", "");
  expect_refused(dir / "empty.wav", true);
}

TEST(IoReader, RefusesNineChannels) {
  TempDir dir;
  const fs::path p = dir / "nine.wav";
  if (!write_audio(p, test::music_like(9, 100, 48000), 48000, SF_FORMAT_WAV | SF_FORMAT_PCM_16))
    GTEST_SKIP() << "libsndfile cannot write a 9-channel WAV here";
  expect_refused(p, true, "9 channels");
}

TEST(IoReader, RefusesRatesOutsideTheLimits) {
  TempDir dir;
  for (int rate : {4000, 400000}) {
    const fs::path p = dir / ("r" + std::to_string(rate) + ".wav");
    if (!write_audio(p, test::music_like(1, 100, rate), rate, SF_FORMAT_WAV | SF_FORMAT_PCM_16))
      GTEST_SKIP() << "libsndfile cannot write a " << rate << " Hz WAV here";
    expect_refused(p, true, std::to_string(rate) + " Hz");
  }
}

// ---- metadata and containers ----------------------------------------------------------------------------

void write_short_output(const fs::path& p, OutputFormat f, const Metadata& md, int frames = 100) {
  AudioWriter w(p, WriterSpec{f, SampleBits::k24, 44100, 2, md}, false);
  std::vector<std::int32_t> a(static_cast<std::size_t>(frames)), b(static_cast<std::size_t>(frames));
  for (int i = 0; i < frames; ++i) {
    a[static_cast<std::size_t>(i)] = left_justify(i * 100, 24);
    b[static_cast<std::size_t>(i)] = left_justify(-i * 100, 24);
  }
  w.write_pcm({a.data(), b.data()}, frames);
  w.commit();
}

TEST(IoMetadata, TextMetadataSurvivesEachContainerAsFarAsLibsndfileStoresIt) {
  TempDir dir;
  const Metadata md{{"title", "Night Drive"},
                    {"artist", "The Lathe Ensemble"},
                    {"album", "Test Pressings"},
                    {"date", "2024-05-17"},
                    {"comment", "mastered by the tests"}};
  for (OutputFormat f : {OutputFormat::kWav, OutputFormat::kFlac, OutputFormat::kAiff}) {
    const fs::path p = dir / ("meta." + extension_of(f));
    write_short_output(p, f, md);
    AudioReader reader(p);
    const Metadata& got = reader.info().metadata;
    // WAV (LIST/INFO) and FLAC (Vorbis comments) hold all five. libsndfile 1.2's AIFF writer has chunks for
    // title (NAME), artist (AUTH), comment (ANNO) and copyright only: album and date are not stored in AIFF.
    std::vector<std::string> kept{"title", "artist", "comment"};
    if (f != OutputFormat::kAiff) {
      kept.push_back("album");
      kept.push_back("date");
    }
    for (const auto& key : kept) {
      ASSERT_TRUE(got.count(key)) << to_string(f) << " lost " << key;
      EXPECT_EQ(got.at(key), md.at(key)) << to_string(f) << " " << key;
    }
    ASSERT_TRUE(got.count("software")) << to_string(f);
    EXPECT_EQ(got.at("software").rfind("lathe ", 0), 0u) << got.at("software");
  }
}

std::uint32_t le32(const std::string& s, std::size_t at) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(s[at])) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 1])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 2])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 3])) << 24;
}
std::uint16_t le16(const std::string& s, std::size_t at) {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(s[at]) | static_cast<unsigned char>(s[at + 1]) << 8);
}

TEST(IoContainer, SmallWavOutputIsPlainRiffWave) {
  TempDir dir;
  const fs::path p = dir / "small.wav";
  constexpr int kFrames = 1234;
  write_short_output(p, OutputFormat::kWav, {{"title", "x"}}, kFrames);
  const std::string bytes = file_bytes(p);
  ASSERT_GE(bytes.size(), 44u);
  // RF64 auto-downgrade: under 4 GiB the header is plain RIFF/WAVE, which every player reads.
  EXPECT_EQ(bytes.substr(0, 4), "RIFF");
  EXPECT_EQ(bytes.substr(8, 4), "WAVE");
  EXPECT_EQ(le32(bytes, 4), bytes.size() - 8) << "RIFF size field";

  // Walk the chunks: they tile the file exactly, with one fmt and one data chunk that agree with the audio.
  std::size_t at = 12;
  bool saw_fmt = false, saw_data = false;
  while (at + 8 <= bytes.size()) {
    const std::string id = bytes.substr(at, 4);
    const std::uint32_t size = le32(bytes, at + 4);
    ASSERT_LE(at + 8 + size, bytes.size()) << "chunk " << id << " runs past the end";
    if (id == "fmt ") {
      saw_fmt = true;
      const std::uint16_t tag = le16(bytes, at + 8);
      ASSERT_TRUE(tag == 1 || tag == 0xFFFE) << "format tag " << tag;
      if (tag == 0xFFFE) {
        ASSERT_GE(size, 40u);
        EXPECT_EQ(le16(bytes, at + 8 + 24), 1) << "extensible sub-format is PCM";
      }
      EXPECT_EQ(le16(bytes, at + 8 + 2), 2) << "channels";
      EXPECT_EQ(le32(bytes, at + 8 + 4), 44100u) << "rate";
      EXPECT_EQ(le16(bytes, at + 8 + 12), 6) << "block align";
      EXPECT_EQ(le16(bytes, at + 8 + 14), 24) << "bits";
    } else if (id == "data") {
      saw_data = true;
      EXPECT_EQ(size, static_cast<std::uint32_t>(kFrames * 2 * 3));
    }
    at += 8 + size + (size & 1);
  }
  EXPECT_EQ(at, bytes.size());
  EXPECT_TRUE(saw_fmt);
  EXPECT_TRUE(saw_data);

  const auto back = read_audio(p);
  // libsndfile downgrades RF64 to WAVE_FORMAT_EXTENSIBLE ("WAVEX"), a plain RIFF/WAVE file as well.
  EXPECT_TRUE((back.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_WAV || (back.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_WAVEX)
      << std::hex << back.format;
  EXPECT_EQ(back.format & SF_FORMAT_SUBMASK, SF_FORMAT_PCM_24);
  ASSERT_EQ(back.pcm.size(), 2u);
  EXPECT_EQ(back.pcm[0].size(), static_cast<std::size_t>(kFrames));
  EXPECT_EQ(back.pcm[0][10], left_justify(1000, 24));
  EXPECT_EQ(back.pcm[1][10], left_justify(-1000, 24));
}

// ---- atomic outputs -----------------------------------------------------------------------------------

TEST(IoAtomic, WriterDestroyedWithoutCommitLeavesTheFolderEmpty) {
  TempDir dir;
  const fs::path out = dir / "never.wav";
  {
    AudioWriter w(out, WriterSpec{OutputFormat::kWav, SampleBits::k24, 48000, 2, {}}, false);
    std::vector<std::int32_t> zeros(4096, 0);
    for (int i = 0; i < 3; ++i) w.write_pcm({zeros.data(), zeros.data()}, 4096);
    EXPECT_FALSE(fs::exists(out)) << "nothing at the final name before commit()";
    const auto names = folder_entries(dir.path());
    ASSERT_EQ(names.size(), 1u);
    EXPECT_EQ(names[0].rfind(".never.wav.lathe-tmp-", 0), 0u) << names[0];
  }
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(IoAtomic, CommitMakesTheFinalFileAppear) {
  TempDir dir;
  const fs::path out = dir / "done.flac";
  write_short_output(out, OutputFormat::kFlac, {});
  EXPECT_EQ(folder_entries(dir.path()), std::vector<std::string>{"done.flac"});
  const auto back = read_audio(out);
  EXPECT_EQ(back.format & SF_FORMAT_TYPEMASK, SF_FORMAT_FLAC);
  ASSERT_EQ(back.pcm.size(), 2u);
  EXPECT_EQ(back.pcm[0][99], left_justify(9900, 24));
}

TEST(IoAtomic, ExistingOutputWithoutOverwriteIsRefusedAndUntouched) {
  TempDir dir;
  const fs::path out = dir / "taken.wav";
  write_bytes(out, "precious bytes, not audio");
  try {
    AudioWriter w(out, WriterSpec{OutputFormat::kWav, SampleBits::k24, 48000, 2, {}}, false);
    ADD_FAILURE() << "an existing output was accepted without overwrite";
  } catch (const OutputError& e) {
    EXPECT_NE(e.message().find("--overwrite"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find(out.string()), std::string::npos) << e.message();
  }
  EXPECT_EQ(file_bytes(out), "precious bytes, not audio");
  EXPECT_EQ(folder_entries(dir.path()), std::vector<std::string>{"taken.wav"});
}

TEST(IoAtomic, OverwriteReplacesTheExistingOutputOnlyAtCommit) {
  TempDir dir;
  const fs::path out = dir / "again.wav";
  write_bytes(out, "old master");
  {
    AudioWriter w(out, WriterSpec{OutputFormat::kWav, SampleBits::k16, 48000, 1, {}}, true);
    std::vector<std::int32_t> v(100, left_justify(1234, 16));
    w.write_pcm({v.data()}, 100);
    EXPECT_EQ(file_bytes(out), "old master") << "the old file stays until commit()";
    w.commit();
  }
  EXPECT_EQ(folder_entries(dir.path()), std::vector<std::string>{"again.wav"});
  const auto back = read_audio(out);
  ASSERT_EQ(back.pcm.size(), 1u);
  ASSERT_EQ(back.pcm[0].size(), 100u);
  EXPECT_EQ(back.pcm[0][50], left_justify(1234, 16));
}

TEST(IoAtomic, OutputThatAppearsBeforeCommitIsNotReplacedWithoutOverwrite) {
  TempDir dir;
  const fs::path out = dir / "race.wav";
  {
    AudioWriter w(out, WriterSpec{OutputFormat::kWav, SampleBits::k24, 48000, 1, {}}, false);
    std::vector<std::int32_t> v(100, 0);
    w.write_pcm({v.data()}, 100);
    write_bytes(out, "someone else's file");
    try {
      w.commit();
      ADD_FAILURE() << "commit() replaced a file that appeared meanwhile";
    } catch (const OutputError& e) {
      EXPECT_NE(e.message().find("--overwrite"), std::string::npos) << e.message();
    }
  }
  EXPECT_EQ(file_bytes(out), "someone else's file");
  EXPECT_EQ(folder_entries(dir.path()), std::vector<std::string>{"race.wav"});
}

TEST(IoAtomic, WriterIntoAMissingFolderIsAnOutputError) {
  TempDir dir;
  try {
    AudioWriter w(dir / "missing" / "x.wav", WriterSpec{OutputFormat::kWav, SampleBits::k24, 48000, 2, {}}, false);
    ADD_FAILURE() << "a writer was created in a missing folder";
  } catch (const OutputError& e) {
    EXPECT_FALSE(std::string(e.what()).empty());
    EXPECT_FALSE(e.hint().empty()) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(IoAtomic, TextWrittenAtomicallyReplacesTheOldText) {
  TempDir dir;
  const fs::path p = dir / "report.json";
  write_text_atomically(p, "first");
  write_text_atomically(p, "second, longer");
  EXPECT_EQ(file_bytes(p), "second, longer");
  EXPECT_EQ(folder_entries(dir.path()), std::vector<std::string>{"report.json"});
}

TEST(IoAtomic, KilledWriterLeavesNothingAtFinalName) {
  TempDir dir;
  const fs::path out = dir / "killed.wav";
  const pid_t pid = ::fork();
  ASSERT_NE(pid, -1);
  if (pid == 0) {
    // Child: no gtest assertions, no TBB; only the writer, then an un-catchable death mid-file.
    try {
      AudioWriter w(out, WriterSpec{OutputFormat::kWav, SampleBits::k24, 48000, 2, {}}, false);
      std::vector<std::int32_t> v(8192, left_justify(4242, 24));
      for (int i = 0; i < 4; ++i) w.write_pcm({v.data(), v.data()}, 8192);
      ::raise(SIGKILL);
    } catch (...) {
    }
    ::_exit(3);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  EXPECT_FALSE(fs::exists(out));
  // A hidden temporary file may be left behind by the killed process; nothing else may be.
  for (const auto& name : folder_entries(dir.path())) EXPECT_EQ(name.rfind(".killed.wav.lathe-tmp-", 0), 0u) << name;
}

// Runs in a child process: masters a 10 s stereo track into a folder where files may not grow past 64 KiB.
// Exit code 0: the track was reported failed, naming the disk/space/write, and nothing exists at the final name.
int master_onto_a_full_disk_in(const fs::path& dir) {
  const fs::path in = dir / "long.wav";
  const fs::path out = dir / "out" / "long.wav";
  if (!write_audio(in, test::music_like(2, 480000, 48000, 3), 48000)) return 10;
  ::signal(SIGXFSZ, SIG_IGN);  // writes past the limit fail with EFBIG instead of killing the process
  const rlimit lim{64 * 1024, 64 * 1024};
  if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) return 11;

  const Profile profile = load_profile("transparent");
  auto engine = make_cpu_engine();
  std::vector<std::unique_ptr<TrackIo>> tracks;
  tracks.push_back(make_file_track(Job{in, out}));
  const MasterResult r = master_tracks(tracks, profile, *engine, MasterOptions{});
  if (r.tracks.size() != 1) return 12;
  if (r.tracks[0].ok) return 13;
  std::string e = r.tracks[0].error;
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (e.find("disk") == std::string::npos && e.find("space") == std::string::npos &&
      e.find("write") == std::string::npos)
    return 14;
  if (fs::exists(out)) return 15;
  if (fs::exists(out.parent_path()) && !fs::is_empty(out.parent_path())) return 16;  // temporary file left
  return 0;
}

// Runs in a child process: masters a 10 s stereo track into a folder where files may not grow past 64 KiB.
// Exit code 0: the track was reported failed, naming the disk/space/write, and nothing exists at the final name.
[[noreturn]] void master_onto_a_full_disk(const fs::path& dir) {
  int code = 17;
  try {
    fs::create_directories(dir);
    code = master_onto_a_full_disk_in(dir);
  } catch (...) {
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  ::_exit(code);
}

TEST(IoAtomic, FullDiskFailsTheTrackAndLeavesNothingAtFinalName) {
  // The child must be a fresh process (fork + exec): master_tracks uses oneTBB, which does not support a
  // forked child of a process whose worker threads already ran. gtest's "threadsafe" death tests re-execute
  // this binary to run only this test, so the child starts clean.
  const std::string saved = GTEST_FLAG_GET(death_test_style);
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  std::random_device rd;
  const fs::path dir = fs::temp_directory_path() / ("lathe-test-diskfull-" + std::to_string(::getpid()) + "-" +
                                                    std::to_string(rd()));
  EXPECT_EXIT(master_onto_a_full_disk(dir), ::testing::ExitedWithCode(0), "");
  GTEST_FLAG_SET(death_test_style, saved);
}

}  // namespace
}  // namespace lathe::host
