// The corrective, width and reverb stages, end to end through master_tracks on 32-bit float delivery (so the
// samples can be compared exactly): DC removal, polarity, swap and trim are exact; the subsonic and mono-bass
// filters act where they should and nowhere else; width scales the side and leaves the mid; the reverb equals a
// direct convolution with the shaped IR, keeps or cuts its tail, honours its predelay, resamples an IR file
// at another rate and refuses what it cannot use with the key named.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>

#include "host/engine/engine.hpp"
#include "host/errors.hpp"
#include "host/io/memory_track.hpp"
#include "host/master.hpp"
#include "host/profile/profile.hpp"
#include "tests/mastering.hpp"
#include "tests/signals.hpp"
#include "tests/support.hpp"

namespace lathe::test {
namespace {

constexpr double kPi = 3.14159265358979323846;

struct Out {
  host::TrackReport report;
  Planar audio;
};

Out run(const std::string& stages, const Planar& in, int rate, std::int64_t segment = std::int64_t{1} << 16) {
  const host::Profile p =
      host::parse_profile("name = \"t\"\n[delivery]\nbits = \"32f\"\n" + stages, "test.toml");
  auto engine = host::make_cpu_engine();
  auto t = master_in_memory(p, {in}, rate, *engine, segment);
  return {t[0].report, std::move(t[0].audio)};
}

Planar tone(int channels, std::size_t n, int rate, std::initializer_list<std::pair<double, double>> parts,
            double right_sign = 1.0) {
  Planar p(static_cast<std::size_t>(channels), std::vector<float>(n));
  for (std::size_t c = 0; c < p.size(); ++c)
    for (std::size_t i = 0; i < n; ++i) {
      double v = 0;
      for (const auto& [hz, amp] : parts) v += amp * det_sin(2 * kPi * hz * static_cast<double>(i) / rate);
      p[c][i] = static_cast<float>(c == 1 ? right_sign * v : v);
    }
  return p;
}

// RMS of x[from, to) in dB.
double rms_db(const std::vector<float>& x, std::size_t from, std::size_t to) {
  double s = 0;
  for (std::size_t i = from; i < to; ++i) s += static_cast<double>(x[i]) * x[i];
  return 10 * std::log10(s / static_cast<double>(to - from) + 1e-300);
}

Planar noise(int channels, std::size_t n, std::uint64_t seed, double amp) { return noise_planar(channels, n, seed, amp); }

// ---- corrective ----------------------------------------------------------------------------------------------
TEST(Corrective, DcPolaritySwapAndTrimAreExact) {
  const int rate = 48000;
  Planar in = noise(2, 30000, 1, 0.3);
  for (auto& v : in[0]) v += 0.1f;
  for (auto& v : in[1]) v -= 0.05f;
  // DC removal: the measured mean is subtracted (one rounding): the output mean is 0 to float precision.
  const Out dc = run("[[stage]]\ntype = \"corrective\"\n", in, rate);
  ASSERT_TRUE(dc.report.ok) << dc.report.error;
  for (std::size_t c = 0; c < 2; ++c) {
    double mean = 0;
    for (float v : dc.audio[c]) mean += v;
    mean /= static_cast<double>(dc.audio[c].size());
    EXPECT_LT(std::abs(mean), 1e-7) << c;
  }
  // Polarity, swap and trim with the DC kept: exact sample relations.
  const Out inv = run("[[stage]]\ntype = \"corrective\"\ndc = \"keep\"\npolarity = \"invert_right\"\n", in, rate);
  const Out swp = run("[[stage]]\ntype = \"corrective\"\ndc = \"keep\"\nswap_channels = true\n", in, rate);
  const Out trm = run("[[stage]]\ntype = \"corrective\"\ndc = \"keep\"\ntrim_db = -6.0\n", in, rate);
  const float g = static_cast<float>(std::pow(10.0, -6.0 / 20.0));
  for (std::size_t i = 0; i < in[0].size(); ++i) {
    ASSERT_EQ(inv.audio[0][i], in[0][i]);
    ASSERT_EQ(inv.audio[1][i], -in[1][i]);
    ASSERT_EQ(swp.audio[0][i], in[1][i]);
    ASSERT_EQ(swp.audio[1][i], in[0][i]);
    ASSERT_EQ(trm.audio[0][i], in[0][i] * g);
  }
}

TEST(Corrective, DcRemovalLeavesTheReverbTailSilent) {
  // A constant offset and nothing else: removed exactly, and the zero frames that carry the reverb's tail after
  // the track stay zero (the offset is applied to the track's audio only).
  const Planar in(2, std::vector<float>(20000, 0.2f));
  const Out o = run("[[stage]]\ntype = \"corrective\"\n[[stage]]\ntype = \"reverb\"\nir = \"room\"\n", in, 44100);
  ASSERT_TRUE(o.report.ok) << o.report.error;
  ASSERT_GT(o.audio[0].size(), in[0].size() + 20000);  // the room's tail was kept
  for (const auto& ch : o.audio)
    for (float v : ch) ASSERT_EQ(v, 0.0f);
}

TEST(Corrective, SubsonicAndMonoBassActOnlyBelowTheirCorners) {
  const int rate = 44100;
  const std::size_t n = 5 * 44100;
  // Subsonic 30 Hz, 24 dB/octave: 10 Hz is cut by the Butterworth's 38 dB (within the FIR's accuracy), 1 kHz
  // passes untouched.
  const Planar low = tone(1, n, rate, {{10.0, 0.5}});
  const Planar mid = tone(1, n, rate, {{1000.0, 0.5}});
  const std::string sub = "[[stage]]\ntype = \"corrective\"\nsubsonic_hz = 30\n";
  const Out a = run(sub, low, rate), b = run(sub, mid, rate);
  EXPECT_LT(rms_db(a.audio[0], n / 4, 3 * n / 4) - rms_db(low[0], n / 4, 3 * n / 4), -36.0);
  EXPECT_NEAR(rms_db(b.audio[0], n / 4, 3 * n / 4) - rms_db(mid[0], n / 4, 3 * n / 4), 0.0, 0.01);
  // Mono below 120 Hz: an anti-phase 40 Hz tone (pure side) is removed; an anti-phase 2 kHz tone stays.
  const std::string mono = "[[stage]]\ntype = \"corrective\"\nmono_below_hz = 120\n";
  const Out s_low = run(mono, tone(2, n, rate, {{40.0, 0.5}}, -1.0), rate);
  const Out s_high = run(mono, tone(2, n, rate, {{2000.0, 0.5}}, -1.0), rate);
  EXPECT_LT(rms_db(s_low.audio[0], n / 4, 3 * n / 4), rms_db(low[0], n / 4, 3 * n / 4) - 30.0);
  EXPECT_NEAR(rms_db(s_high.audio[1], n / 4, 3 * n / 4), rms_db(mid[0], n / 4, 3 * n / 4), 0.01);
}

TEST(Corrective, BadValuesNameTheKey) {
  const auto expect_error = [](const std::string& stage, const std::string& key) {
    try {
      host::parse_profile("name = \"t\"\n[[stage]]\ntype = \"corrective\"\n" + stage + "\n", "bad.toml");
      ADD_FAILURE() << "accepted: " << stage;
    } catch (const host::ProfileError& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  };
  expect_error("subsonic_hz = 5", "subsonic_hz");
  expect_error("subsonic_slope_db_per_oct = 20", "subsonic_slope_db_per_oct");
  expect_error("polarity = \"sideways\"", "polarity");
  expect_error("swap_channels = 3", "swap_channels");
  expect_error("trim_db = 40", "trim_db");
  expect_error("mono_below_hz = 1000", "mono_below_hz");
  expect_error("dc = \"maybe\"", "dc");
}

// ---- width -------------------------------------------------------------------------------------------------------
TEST(Width, HundredPercentNullsAndOtherWidthsScaleTheSide) {
  const int rate = 48000;
  const Planar in = noise(2, 40000, 7, 0.25);
  const Out same = run("[[stage]]\ntype = \"width\"\nwidth_pct = 100\n", in, rate);
  EXPECT_EQ(same.audio, in);
  const Out mono = run("[[stage]]\ntype = \"width\"\nwidth_pct = 0\n", in, rate);
  ASSERT_TRUE(mono.report.ok);
  ASSERT_TRUE(mono.report.output_loudness.correlation);
  EXPECT_GT(*mono.report.output_loudness.correlation, 0.99999);
  const Out wide = run("[[stage]]\ntype = \"width\"\nwidth_pct = 150\n", in, rate);
  double mid_err = 0, side_in = 0, side_out = 0;
  for (std::size_t i = 0; i < in[0].size(); ++i) {
    const double m0 = 0.5 * (in[0][i] + in[1][i]), s0 = 0.5 * (in[0][i] - in[1][i]);
    const double m1 = 0.5 * (wide.audio[0][i] + wide.audio[1][i]), s1 = 0.5 * (wide.audio[0][i] - wide.audio[1][i]);
    mid_err = std::max(mid_err, std::abs(m1 - m0));
    side_in += s0 * s0;
    side_out += s1 * s1;
  }
  EXPECT_LT(mid_err, 1e-6);
  EXPECT_NEAR(10 * std::log10(side_out / side_in), 20 * std::log10(1.5), 1e-4);
  // A mono track passes untouched; the report carries no correlation for it.
  const Planar m1 = noise(1, 10000, 9, 0.3);
  const Out mo = run("[[stage]]\ntype = \"width\"\nwidth_pct = 150\n", m1, rate);
  EXPECT_EQ(mo.audio, m1);
  EXPECT_FALSE(mo.report.output_loudness.correlation);
}

TEST(Width, BassMonoRemovesTheLowSide) {
  const int rate = 44100;
  const std::size_t n = 4 * 44100;
  const Out o = run("[[stage]]\ntype = \"width\"\nmono_below_hz = 150\n", tone(2, n, rate, {{50.0, 0.4}, {3000.0, 0.2}}, -1.0), rate);
  ASSERT_TRUE(o.report.ok) << o.report.error;
  // What is left of the side is the 3 kHz tone: its level (0.2 amplitude, -17 dB RMS), not the 50 Hz one's.
  EXPECT_NEAR(rms_db(o.audio[0], n / 4, 3 * n / 4), 20 * std::log10(0.2 / std::sqrt(2.0)), 0.05);
}

// ---- reverb ------------------------------------------------------------------------------------------------------
// Writes an IR file into `dir` (32-bit float WAV) and returns its path.
std::string write_ir(const TempDir& dir, const std::string& name, const Planar& ir, int rate) {
  const fs::path path = dir / name;
  EXPECT_TRUE(write_audio(path, ir, rate)) << path;
  return path.string();
}

Planar decaying_ir(int channels, std::size_t n, std::uint64_t seed) {
  Planar p = noise(channels, n, seed, 1.0);
  for (auto& ch : p)
    for (std::size_t i = 0; i < n; ++i) ch[i] *= static_cast<float>(1.0 / (1.0 + 0.01 * static_cast<double>(i)));
  return p;
}

TEST(Reverb, EqualsDirectConvolutionWithTheShapedIr) {
  const TempDir dir;
  const int rate = 44100;
  const Planar ir = decaying_ir(2, 1500, 21);
  const std::string path = write_ir(dir, "direct.wav", ir, rate);
  const Planar in = noise(2, 20000, 22, 0.3);
  const double wet_db = -6, dry_db = -3;
  const Out o = run("[[stage]]\ntype = \"reverb\"\nir = \"" + path + "\"\nwet_db = -6.0\ndry_db = -3.0\nir_fade_ms = 0\n",
                    in, rate, 4096);
  ASSERT_TRUE(o.report.ok) << o.report.error;
  ASSERT_EQ(o.audio[0].size(), in[0].size() + ir[0].size() - 1);  // tail kept
  // The reference in double: unit-energy IR (mean over channels), wet and dry gains, full convolution.
  double energy = 0;
  for (const auto& ch : ir)
    for (float v : ch) energy += static_cast<double>(v) * v;
  const double g = std::pow(10.0, wet_db / 20) / std::sqrt(energy / 2), dry = std::pow(10.0, dry_db / 20);
  double err = 0, ref_peak = 0;
  for (std::size_t c = 0; c < 2; ++c)
    for (std::size_t k = 0; k < o.audio[c].size(); ++k) {
      double acc = k < in[c].size() ? dry * in[c][k] : 0.0;
      for (std::size_t j = 0; j < ir[c].size() && j <= k; ++j)
        if (k - j < in[c].size()) acc += g * ir[c][j] * static_cast<double>(in[c][k - j]);
      err = std::max(err, std::abs(acc - o.audio[c][k]));
      ref_peak = std::max(ref_peak, std::abs(acc));
    }
  EXPECT_LT(20 * std::log10(err / ref_peak), -110.0);
  // Cut tail: the input's length, the same samples.
  const Out cut = run("[[stage]]\ntype = \"reverb\"\nir = \"" + path + "\"\nwet_db = -6.0\ndry_db = -3.0\nir_fade_ms = 0\ntail = \"cut\"\n",
                      in, rate, 4096);
  ASSERT_EQ(cut.audio[0].size(), in[0].size());
  EXPECT_TRUE(std::equal(cut.audio[0].begin(), cut.audio[0].end(), o.audio[0].begin()));
}

// A true-stereo IR (L>L, L>R, R>L, R>R) adds the cross paths. Mastered in one batch with a mono track, whose
// blocks must not pick up anything from the cross paths' buffer.
TEST(Reverb, TrueStereoEqualsDirectConvolution) {
  const TempDir dir;
  const int rate = 48000;
  const Planar ir = decaying_ir(4, 900, 51);
  const std::string path = write_ir(dir, "true-stereo.wav", ir, rate);
  const host::Profile p = host::parse_profile("name = \"t\"\n[delivery]\nbits = \"32f\"\n[[stage]]\ntype = \"reverb\"\n"
                                              "ir = \"" + path + "\"\nwet_db = -3.0\ndry_db = -2.0\nir_fade_ms = 0\n",
                                              "ts.toml");
  const Planar stereo = noise(2, 15000, 52, 0.3), mono = noise(1, 9000, 53, 0.3);
  std::vector<std::unique_ptr<host::TrackIo>> tracks;
  auto a = std::make_unique<host::MemoryTrack>("stereo", stereo, rate);
  auto b = std::make_unique<host::MemoryTrack>("mono", mono, rate);
  host::MemoryTrack* ma = a.get();
  host::MemoryTrack* mb = b.get();
  tracks.push_back(std::move(a));
  tracks.push_back(std::move(b));
  auto engine = host::make_cpu_engine();
  host::MasterOptions o;
  o.segment_frames = 4096;
  const auto r = host::master_tracks(tracks, p, *engine, o);
  ASSERT_TRUE(r.tracks[0].ok && r.tracks[1].ok) << r.tracks[0].error << r.tracks[1].error;
  // Unit energy per output: the four responses' energy over two outputs.
  double energy = 0;
  for (const auto& ch : ir)
    for (float v : ch) energy += static_cast<double>(v) * v;
  const double g = std::pow(10.0, -3.0 / 20) / std::sqrt(energy / 2), dry = std::pow(10.0, -2.0 / 20);
  auto conv = [](const std::vector<float>& h, const std::vector<float>& x, std::size_t k) {
    double acc = 0;
    for (std::size_t j = 0; j < h.size() && j <= k; ++j)
      if (k - j < x.size()) acc += static_cast<double>(h[j]) * x[k - j];
    return acc;
  };
  const auto& out = ma->out_float();
  ASSERT_EQ(out[0].size(), stereo[0].size() + ir[0].size() - 1);
  double err = 0, peak = 0;
  for (std::size_t k = 0; k < out[0].size(); ++k) {
    const double l = (k < stereo[0].size() ? dry * stereo[0][k] : 0.0) + g * (conv(ir[0], stereo[0], k) + conv(ir[2], stereo[1], k));
    const double rr = (k < stereo[1].size() ? dry * stereo[1][k] : 0.0) + g * (conv(ir[1], stereo[0], k) + conv(ir[3], stereo[1], k));
    err = std::max({err, std::abs(l - out[0][k]), std::abs(rr - out[1][k])});
    peak = std::max({peak, std::abs(l), std::abs(rr)});
  }
  EXPECT_LT(20 * std::log10(err / peak), -110.0);
  // The mono track: the mean response of both outputs, (LL + LR + RL + RR) / 2, and nothing else.
  const auto& mo = mb->out_float();
  double merr = 0, mpeak = 0;
  for (std::size_t k = 0; k < mo[0].size(); ++k) {
    double acc = k < mono[0].size() ? dry * mono[0][k] : 0.0;
    for (const auto& h : ir) acc += 0.5 * g * conv(h, mono[0], k);
    merr = std::max(merr, std::abs(acc - mo[0][k]));
    mpeak = std::max(mpeak, std::abs(acc));
  }
  EXPECT_LT(20 * std::log10(merr / mpeak), -110.0);
}

TEST(Reverb, PredelayMixAndSegmentsAndRates) {
  const TempDir dir;
  const int rate = 48000;
  Planar click(2, std::vector<float>(30000, 0.0f));
  click[0][1000] = click[1][1000] = 0.5f;
  // All wet (mix 100 %): nothing before the predelay.
  const Out o = run("[[stage]]\ntype = \"reverb\"\nir = \"plate\"\nmix_pct = 100\npredelay_ms = 20\ntail = \"cut\"\n", click, rate);
  ASSERT_TRUE(o.report.ok) << o.report.error;
  const std::size_t pre = 1000 + 20 * 48;
  for (std::size_t i = 0; i < pre; ++i) ASSERT_LT(std::abs(o.audio[0][i]), 1e-6f) << i;
  double after = 0;
  for (std::size_t i = pre; i < pre + 200; ++i) after = std::max(after, static_cast<double>(std::abs(o.audio[0][i])));
  EXPECT_GT(after, 1e-3);
  // Segment sizes never change a bit.
  const Planar music = noise(2, 70000, 31, 0.2);
  const std::string hall = "[[stage]]\ntype = \"reverb\"\nir = \"hall\"\nwet_db = -12\nwet_lowpass_hz = 8000\nwet_highpass_hz = 200\n";
  EXPECT_EQ(run(hall, music, rate, 16384).audio, run(hall, music, rate, 65536).audio);
  // An IR file at 96 kHz on a 44.1 kHz track: converted, and its length follows.
  const std::string path = write_ir(dir, "hires.wav", decaying_ir(1, 9600, 33), 96000);
  const Out r = run("[[stage]]\ntype = \"reverb\"\nir = \"" + path + "\"\n", noise(1, 10000, 34, 0.2), 44100);
  ASSERT_TRUE(r.report.ok) << r.report.error;
  EXPECT_NEAR(static_cast<double>(r.audio[0].size() - 10000), 9600.0 * 44100 / 96000, 40.0);
}

// tail = "fade": the output grows by tail_fade_s and the tail after the track's end is the kept tail times a
// smooth fade to silence; everything before the end is the same bits as with the whole tail kept.
TEST(Reverb, FadedTail) {
  const int rate = 44100;
  const Planar in = noise(2, 30000, 61, 0.3);
  const std::string base = "[[stage]]\ntype = \"corrective\"\nsubsonic_hz = 20\n[[stage]]\ntype = \"reverb\"\nir = \"hall\"\nwet_db = -6\n";
  const Out keep = run(base + "tail = \"keep\"\n", in, rate, 8192);
  const Out fade = run(base + "tail = \"fade\"\ntail_fade_s = 0.5\n", in, rate, 8192);
  ASSERT_TRUE(keep.report.ok && fade.report.ok) << keep.report.error << fade.report.error;
  const std::size_t n = in[0].size(), f = static_cast<std::size_t>(0.5 * rate);
  ASSERT_EQ(fade.audio[0].size(), n + f);
  ASSERT_GT(keep.audio[0].size(), n + f);
  for (std::size_t c = 0; c < 2; ++c) {
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(fade.audio[c][i], keep.audio[c][i]) << i;
    for (std::size_t k = 0; k < f; ++k) {
      const double t = static_cast<double>(k) / static_cast<double>(f);
      const float w = static_cast<float>(1.0 - t * t * (3.0 - 2.0 * t));
      ASSERT_EQ(fade.audio[c][n + k], keep.audio[c][n + k] * w) << k;
    }
  }
}

// A long IR: 10 s at 96 kHz (960,000 taps, 59 partitions of 16,384) on a 96 kHz track, tail kept; sample points
// across the track and deep in the tail equal a direct convolution in double.
TEST(Reverb, TenSecondIrAt96kHz) {
  const TempDir dir;
  const int rate = 96000;
  Planar ir = noise_planar(1, 10 * static_cast<std::size_t>(rate), 71, 1.0);
  for (std::size_t i = 0; i < ir[0].size(); ++i) ir[0][i] *= static_cast<float>(1.0 / (1.0 + 1e-5 * static_cast<double>(i)));
  const std::string path = write_ir(dir, "long.wav", ir, rate);
  const Planar in = noise(1, 20000, 72, 0.3);
  const Out o = run("[[stage]]\ntype = \"reverb\"\nir = \"" + path + "\"\nmix_pct = 100\nir_fade_ms = 0\n", in, rate);
  ASSERT_TRUE(o.report.ok) << o.report.error;
  ASSERT_EQ(o.audio[0].size(), in[0].size() + ir[0].size() - 1);
  double energy = 0;
  for (float v : ir[0]) energy += static_cast<double>(v) * v;
  const double g = 1.0 / std::sqrt(energy);
  double err = 0, peak = 0;
  for (std::size_t k : {std::size_t{0}, std::size_t{777}, std::size_t{19999}, std::size_t{123456}, std::size_t{500000},
                        std::size_t{900000}, o.audio[0].size() - 1}) {
    double acc = 0;
    for (std::size_t j = 0; j < in[0].size() && j <= k; ++j)
      if (k - j < ir[0].size()) acc += g * static_cast<double>(ir[0][k - j]) * in[0][j];
    err = std::max(err, std::abs(acc - o.audio[0][k]));
    peak = std::max(peak, std::abs(acc));
  }
  EXPECT_LT(err, 1e-5 * peak + 1e-7);
}

TEST(Reverb, BuiltinIrsDecayAtTheirRecipesRate) {
  // Schroeder backward integration of the stage's output for a click (all wet): the -5 to -35 dB slope gives a
  // T60 between the recipe's high-band and low-band values.
  struct Case {
    const char* name;
    double t60_high, t60_low;
  };
  for (const Case& k : {Case{"room", 0.35, 0.55}, Case{"plate", 1.2, 1.8}, Case{"hall", 1.5, 2.6}}) {
    Planar click(1, std::vector<float>(100, 0.0f));
    click[0][0] = 1.0f;
    const Out o = run(std::string("[[stage]]\ntype = \"reverb\"\nmix_pct = 100\nir = \"") + k.name + "\"\n", click, 48000);
    ASSERT_TRUE(o.report.ok) << o.report.error;
    const auto& y = o.audio[0];
    std::vector<double> edc(y.size() + 1, 0.0);
    for (std::size_t i = y.size(); i-- > 0;) edc[i] = edc[i + 1] + static_cast<double>(y[i]) * y[i];
    auto when = [&](double db) {
      for (std::size_t i = 0; i < y.size(); ++i)
        if (10 * std::log10(edc[i] / edc[0]) < db) return static_cast<double>(i) / 48000;
      return 0.0;
    };
    const double t60 = 2.0 * (when(-35) - when(-5));
    SCOPED_TRACE(k.name);
    EXPECT_GT(t60, 0.9 * k.t60_high);
    EXPECT_LT(t60, 1.1 * k.t60_low);
  }
}

TEST(Reverb, RefusesWhatItCannotUse) {
  const TempDir dir;
  const auto expect_error = [](const std::string& stage, const std::string& key) {
    try {
      const auto p = host::parse_profile("name = \"t\"\n[[stage]]\ntype = \"reverb\"\n" + stage + "\n", "bad.toml");
      // Some problems show only at a track's rate.
      Planar in(1, std::vector<float>(1000, 0.0f));
      std::vector<std::unique_ptr<host::TrackIo>> tracks;
      tracks.push_back(std::make_unique<host::MemoryTrack>("x", in, 8000));
      auto engine = host::make_cpu_engine();
      const auto r = host::master_tracks(tracks, p, *engine, {});
      ASSERT_FALSE(r.tracks[0].ok) << stage;
      EXPECT_NE(r.tracks[0].error.find(key), std::string::npos) << r.tracks[0].error;
    } catch (const host::ProfileError& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  };
  expect_error("", "ir");
  expect_error("ir = \"/nonexistent/ir.wav\"", "ir");
  expect_error("ir = \"plate\"\nmix_pct = 50\nwet_db = -3", "mix_pct");
  expect_error("ir = \"plate\"\nwet_db = 20", "wet_db");
  expect_error("ir = \"plate\"\npredelay_ms = -1", "predelay_ms");
  expect_error("ir = \"plate\"\ntail = \"ring\"", "tail");
  expect_error("ir = \"plate\"\ntail = \"fade\"\ntail_fade_s = 0", "tail_fade_s");
  expect_error("ir = \"plate\"\nwet_lowpass_hz = 6000", "wet_lowpass_hz");  // above 0.45 x 8 kHz
  const std::string three = write_ir(dir, "three.wav", decaying_ir(3, 100, 40), 48000);
  expect_error("ir = \"" + three + "\"", "3 channels");
}

}  // namespace
}  // namespace lathe::test
