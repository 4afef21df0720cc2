// The engines' auxiliary buffers (copy_buffer, add_buffer, use_buffer) and the `multiband` stage end to end
// through master_tracks on 32-bit float delivery: the bands sum back to the input when nothing compresses
// (2, 3 and 4 bands), a compressed band leaves the others alone, segmenting does not change a bit, bad values
// name their key, describe() round-trips, and the CUDA engine matches the CPU engine.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "host/dsp/compressor.hpp"
#include "host/engine/engine.hpp"
#include "host/errors.hpp"
#include "host/io/memory_track.hpp"
#include "host/master.hpp"
#include "host/profile/profile.hpp"
#include "tests/mastering.hpp"
#include "tests/signals.hpp"

namespace lathe::test {
namespace {

constexpr double kPi = 3.141592653589793238462643383279;

// ---- engine buffers -------------------------------------------------------------------------------------------
void check_buffers(host::Engine& engine) {
  host::BlockBatch batch;
  batch.slots = 2;
  batch.bits = host::SampleBits::kFloat32;
  const std::int64_t lengths[3] = {5000, 70000, 123};
  std::uint32_t slot = 0;
  for (std::int64_t len : lengths) {
    float* p = batch.add_block(slot, 0, 0, len, 42 + slot);
    Noise g(9 + slot);
    for (std::int64_t i = 0; i < len; ++i) p[i] = static_cast<float>(0.5 * g.next());
    slot = (slot + 1) % 2;
  }
  const std::vector<float> x = batch.samples;
  const std::vector<float> gains = {2.0f, 0.25f};
  auto gain_of = [&](std::size_t i) {
    for (const auto& blk : batch.blocks)
      if (static_cast<std::int64_t>(i) >= blk.offset && static_cast<std::int64_t>(i) < blk.offset + blk.length_samples)
        return gains[blk.slot];
    return 1.0f;
  };

  engine.load(batch);
  engine.copy_buffer(0, 1);
  engine.use_buffer(1);
  engine.apply_gain(gains);  // buffer 1 = x * g
  engine.copy_buffer(1, 3);
  engine.use_buffer(3);
  engine.apply_gain(gains);  // buffer 3 = x * g * g
  engine.use_buffer(0);
  engine.add_buffer(1, 0);  // buffer 0 = x + x * g
  engine.add_buffer(3, 0);  // ... + x * g * g
  engine.store(batch);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float g = gain_of(i);
    const float want = (x[i] + x[i] * g) + (x[i] * g) * g;
    ASSERT_EQ(batch.samples[i], want) << i;
  }

  // load() makes buffer 0 current again; buffer 0 is what store() returns.
  batch.samples = x;
  engine.load(batch);
  engine.use_buffer(2);
  engine.load(batch);
  engine.apply_gain(gains);
  engine.store(batch);
  for (std::size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(batch.samples[i], x[i] * gain_of(i)) << i;
  }

  // Working in an auxiliary buffer leaves buffer 0 alone; copying it back is exact.
  batch.samples = x;
  engine.load(batch);
  engine.copy_buffer(0, 4);
  engine.use_buffer(4);
  const std::vector<float> scale(batch.blocks.size(), -1.0f), offset(batch.blocks.size(), 0.0f);
  const std::vector<std::int64_t> ends(batch.blocks.size(), 0);
  engine.scale_blocks(scale, offset, ends);
  engine.use_buffer(0);
  engine.store(batch);
  EXPECT_EQ(batch.samples, x);
  engine.copy_buffer(4, 0);
  engine.store(batch);
  for (std::size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(batch.samples[i], -x[i]) << i;
  }

  EXPECT_THROW(engine.use_buffer(host::Engine::kMaxAuxBuffers + 1), host::Error);
  EXPECT_THROW(engine.use_buffer(-1), host::Error);
  EXPECT_THROW(engine.copy_buffer(2, 2), host::Error);
  EXPECT_THROW(engine.add_buffer(0, 7), host::Error);
}

TEST(EngineBuffers, CpuCopyAddAndUse) {
  auto engine = host::make_cpu_engine();
  check_buffers(*engine);
}

TEST(EngineBuffers, CudaCopyAddAndUse) {
  if (const std::string why = host::gpu_unavailable_reason(); !why.empty()) GTEST_SKIP() << "no GPU: " << why;
  auto engine = host::make_cuda_engine();
  check_buffers(*engine);
}

// ---- helpers --------------------------------------------------------------------------------------------------
struct Out {
  host::TrackReport report;
  Planar audio;
};

std::string mb_profile(const std::string& stage) {
  return "name = \"t\"\n[delivery]\nbits = \"32f\"\n[[stage]]\ntype = \"multiband\"\n" + stage;
}

std::vector<Out> run_on(host::Engine& engine, const std::string& stage, const std::vector<Planar>& in, int rate,
                        std::int64_t segment = std::int64_t{1} << 16) {
  const host::Profile p = host::parse_profile(mb_profile(stage), "test.toml");
  std::vector<Out> out;
  for (auto& t : master_in_memory(p, in, rate, engine, segment)) out.push_back({t.report, std::move(t.audio)});
  return out;
}

Out run(const std::string& stage, const Planar& in, int rate, std::int64_t segment = std::int64_t{1} << 16) {
  auto engine = host::make_cpu_engine();
  return run_on(*engine, stage, {in}, rate, segment)[0];
}

bool same_bits(const Planar& a, const Planar& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t c = 0; c < a.size(); ++c) {
    if (a[c].size() != b[c].size()) return false;
    if (!std::equal(a[c].begin(), a[c].end(), b[c].begin(),
                    [](float x, float y) { return std::memcmp(&x, &y, sizeof x) == 0; }))
      return false;
  }
  return true;
}

// `bands` tables with the given thresholds and common settings.
std::string bands_text(const std::vector<double>& thresholds, const std::string& common) {
  std::string s = "bands = [";
  for (std::size_t k = 0; k < thresholds.size(); ++k)
    s += (k ? ", " : " ") + std::string("{ threshold_db = ") + std::to_string(thresholds[k]) + ", " + common + " }";
  return s + " ]\n";
}

Planar noise(int channels, std::size_t n, std::uint64_t seed, double amp) { return noise_planar(channels, n, seed, amp); }

// Amplitude of the component at `hz` over x[from, to) (a whole number of its periods), by correlation.
double amplitude(const std::vector<float>& x, double hz, int rate, std::size_t from, std::size_t to) {
  double a = 0, b = 0;
  for (std::size_t i = from; i < to; ++i) {
    const double w = 2 * kPi * hz * static_cast<double>(i) / rate;
    a += x[i] * std::cos(w);
    b += x[i] * std::sin(w);
  }
  const double n = static_cast<double>(to - from);
  return 2.0 * std::sqrt(a * a + b * b) / n;
}

// ---- null -----------------------------------------------------------------------------------------------------
TEST(Multiband, BandsSumBackToTheInput) {
  const char* crossovers[] = {"[120]", "[120, 2000]", "[120, 2000, 8000]"};
  struct Sig {
    const char* name;
    Planar x;
    int rate;
  };
  const std::vector<Sig> sigs = {
      {"noise", noise(2, 2 * 44100 + 17, 3, 0.25), 44100},
      {"music", make_signal(SignalKind::kMusicLike, 2, 2 * 48000, 48000, 4), 48000},
      {"music96", make_signal(SignalKind::kMusicLike, 1, 96000 + 5, 96000, 5), 96000},
  };
  for (std::size_t c = 0; c < 3; ++c) {
    const std::vector<double> thr(c + 2, 0.0);
    const std::string stage = std::string("crossovers_hz = ") + crossovers[c] + "\n" +
                              bands_text(thr, "ratio = 4, knee_db = 0, attack_ms = 1, release_ms = 100");
    for (const Sig& s : sigs) {
      SCOPED_TRACE(std::string(crossovers[c]) + " " + s.name);
      const Out o = run(stage, s.x, s.rate);
      ASSERT_TRUE(o.report.ok) << o.report.error;
      ASSERT_EQ(o.audio.size(), s.x.size());
      double worst = 0;
      for (std::size_t ch = 0; ch < s.x.size(); ++ch) {
        ASSERT_EQ(o.audio[ch].size(), s.x[ch].size());
        for (std::size_t i = 0; i < s.x[ch].size(); ++i)
          worst = std::max(worst, std::abs(static_cast<double>(o.audio[ch][i]) - s.x[ch][i]));
      }
      const double worst_db = 20 * std::log10(worst + 1e-30);
      std::printf("multiband null %-18s %-8s: output - input peak %.1f dBFS\n", crossovers[c], s.name, worst_db);
      EXPECT_LT(worst_db, -100.0);
      EXPECT_FALSE(same_bits(o.audio, s.x));  // the bands really went through their filters
    }
  }
}

// ---- band independence ----------------------------------------------------------------------------------------
TEST(Multiband, OnlyTheCompressedBandChanges) {
  const int rate = 48000;
  const std::size_t n = 4 * 48000;
  const double a_low = std::pow(10.0, -6.0 / 20), a_high = std::pow(10.0, -26.0 / 20);
  Planar in(2, std::vector<float>(n));
  for (std::size_t c = 0; c < 2; ++c)
    for (std::size_t i = 0; i < n; ++i) {
      const double t = static_cast<double>(i) / rate;
      in[c][i] = static_cast<float>(a_low * det_sin(2 * kPi * 60.0 * t) + a_high * det_sin(2 * kPi * 5000.0 * t));
    }
  const std::string stage =
      "crossovers_hz = [250, 2000]\n"
      "bands = [ { threshold_db = -20, ratio = 4, knee_db = 0, attack_ms = 0.01, release_ms = 2000 },\n"
      "          { threshold_db = 0, ratio = 4, knee_db = 0 },\n"
      "          { threshold_db = 0, ratio = 4, knee_db = 0 } ]\n";
  const Out o = run(stage, in, rate);
  ASSERT_TRUE(o.report.ok) << o.report.error;
  const std::size_t from = n - 48000, to = n;  // the last second: 60 and 5000 whole periods
  host::dsp::CompressorParams p;
  p.threshold_db = -20;
  p.ratio = 4;
  p.knee_db = 0;
  const double expect = host::dsp::compressor_static_reduction_db(p, 20 * std::log10(a_low));
  for (std::size_t c = 0; c < 2; ++c) {
    const double low_drop = 20 * std::log10(amplitude(in[c], 60, rate, from, to) /
                                            amplitude(o.audio[c], 60, rate, from, to));
    const double high_change = 20 * std::log10(amplitude(o.audio[c], 5000, rate, from, to) /
                                               amplitude(in[c], 5000, rate, from, to));
    std::printf("multiband: 60 Hz at -6 dBFS drops %.3f dB (static curve %.3f); 5 kHz at -26 dBFS changes %+.4f dB\n",
                low_drop, expect, high_change);
    EXPECT_NEAR(low_drop, expect, 0.3);
    EXPECT_NEAR(high_change, 0.0, 0.05);
  }
}

// ---- segments -------------------------------------------------------------------------------------------------
TEST(Multiband, SegmentInvariance) {
  const int rate = 44100;
  const std::vector<Planar> in = {make_signal(SignalKind::kMusicLike, 2, rate * 3, rate, 5),
                                  make_signal(SignalKind::kNoise, 1, rate * 2 + 7, rate, 8)};
  const std::string stage =
      "crossovers_hz = [150, 1500, 6000]\ndetection = \"rms\"\n" +
      bands_text({-30, -24, -28, -20}, "ratio = 4, knee_db = 6, attack_ms = 3, release_ms = 80, makeup_db = 2");
  auto engine = host::make_cpu_engine();
  const auto whole = run_on(*engine, stage, in, rate, std::int64_t{1} << 20);
  for (const auto& w : whole) {
    ASSERT_TRUE(w.report.ok) << w.report.error;
  }
  for (std::int64_t seg : {65536, 4099, 777}) {
    SCOPED_TRACE(seg);
    const auto parts = run_on(*engine, stage, in, rate, seg);
    ASSERT_EQ(parts.size(), whole.size());
    for (std::size_t k = 0; k < whole.size(); ++k) {
      EXPECT_TRUE(same_bits(parts[k].audio, whole[k].audio)) << "track " << k;
    }
  }
  EXPECT_FALSE(same_bits(whole[0].audio, in[0]));
}

// ---- profile --------------------------------------------------------------------------------------------------
TEST(Multiband, BadValuesNameTheKey) {
  const std::string two = bands_text({-20, -20}, "ratio = 2");
  const std::string three = bands_text({-20, -20, -20}, "ratio = 2");
  const std::pair<std::string, const char*> bad[] = {
      {"crossovers_hz = [2000, 120]\n" + three, "crossovers_hz"},
      {"crossovers_hz = [120, 120]\n" + three, "crossovers_hz"},
      {"crossovers_hz = [120, 2000]\n" + two, "bands"},
      {"crossovers_hz = [5]\n" + two, "crossovers_hz"},
      {"crossovers_hz = [100, 200, 400, 800]\n" + three, "crossovers_hz"},
      {"crossovers_hz = []\nbands = [ {} ]\n", "crossovers_hz"},
      {two, "crossovers_hz"},
      {"crossovers_hz = [120]\nbands = [ { ratio = 2 }, { ratio = 0.5 } ]\n", "ratio"},
      {"crossovers_hz = [120]\nbands = [ { attack_ms = 0 }, {} ]\n", "attack_ms"},
      {"crossovers_hz = [120]\nbands = [ { treshold_db = -10 }, {} ]\n", "treshold_db"},
      {"crossovers_hz = [120]\nbands = [ 1, 2 ]\n", "bands"},
      {"crossovers_hz = [120]\nslope_db_per_oct = 36\n" + two, "slope_db_per_oct"},
      {"crossovers_hz = [120]\nlink = \"sideways\"\n" + two, "link"},
  };
  for (const auto& [text, key] : bad) {
    SCOPED_TRACE(text);
    try {
      host::parse_profile(mb_profile(text), "bad.toml");
      ADD_FAILURE() << "accepted";
    } catch (const host::ProfileError& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  }
  // A crossover above 0.45 x the track's rate fails that track, naming the key.
  const Out o = run("crossovers_hz = [120, 12000]\n" + three, noise(1, 30000, 1, 0.1), 22050);
  EXPECT_FALSE(o.report.ok);
  EXPECT_NE(o.report.error.find("crossovers_hz"), std::string::npos) << o.report.error;
}

TEST(Multiband, DescribeRoundTrips) {
  const host::Profile p = host::parse_profile(
      mb_profile("crossovers_hz = [100, 1000.5, 9000]\nslope_db_per_oct = 48\ndetection = \"rms\"\nrms_ms = 20\n"
                 "link = \"unlinked\"\n" +
                 bands_text({-30, -20, -10, -5}, "ratio = 3, knee_db = 2, attack_ms = 4, release_ms = 90, "
                                                 "makeup_db = 1.5, mix = 80")),
      "m.toml");
  const std::string text = p.to_toml();
  for (const char* key : {"crossovers_hz", "slope_db_per_oct", "detection", "rms_ms", "link", "bands",
                          "threshold_db", "ratio", "knee_db", "attack_ms", "release_ms", "makeup_db", "mix"}) {
    EXPECT_NE(text.find(key), std::string::npos) << key << " in\n" << text;
  }
  const host::Profile again = host::parse_profile(text, "again.toml");
  EXPECT_EQ(again.to_toml(), text);
}

// ---- engines --------------------------------------------------------------------------------------------------
TEST(Multiband, CudaEngineMatchesCpuEngine) {
  if (const std::string why = host::gpu_unavailable_reason(); !why.empty()) GTEST_SKIP() << "no GPU: " << why;
  const auto cpu = host::make_cpu_engine();
  const auto gpu = host::make_cuda_engine();
  const int rate = 48000;
  std::vector<Planar> in;
  for (int k = 0; k < 4; ++k) in.push_back(make_signal(SignalKind::kMusicLike, 1 + k % 2, rate * 2 + k, rate, 30 + k));
  in.push_back(make_signal(SignalKind::kSquareFullScale, 2, rate / 2, rate));
  for (const std::string& stage :
       {"crossovers_hz = [200]\n" + bands_text({-30, -20}, "ratio = 6, knee_db = 10, attack_ms = 2"),
        "crossovers_hz = [120, 2000, 8000]\nlink = \"unlinked\"\ndetection = \"rms\"\n" +
            bands_text({-24, -30, -26, -20}, "ratio = 3, makeup_db = 3, mix = 70")}) {
    SCOPED_TRACE(stage);
    const auto a = run_on(*cpu, stage, in, rate, 4099);
    const auto b = run_on(*gpu, stage, in, rate, 4099);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t k = 0; k < a.size(); ++k) {
      ASSERT_TRUE(a[k].report.ok) << a[k].report.error;
      ASSERT_TRUE(b[k].report.ok) << b[k].report.error;
      EXPECT_TRUE(same_bits(a[k].audio, b[k].audio)) << "track " << k;
    }
  }
}

}  // namespace
}  // namespace lathe::test
