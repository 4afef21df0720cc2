// The compressor stage end to end through the scheduler and the engines: the static curve (hard and soft
// knee) against the textbook formula, attack and release time constants, exact unity when nothing is
// reduced, linked vs unlinked stereo, the sidechain high-pass, segment invariance, bad parameters, the
// accuracy of kernels/dynamics.hpp's own log2/exp2, and the CUDA engine against the CPU engine bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "host/dsp/compressor.hpp"
#include "host/engine/engine.hpp"
#include "host/errors.hpp"
#include "host/io/memory_track.hpp"
#include "host/master.hpp"
#include "host/profile/profile.hpp"
#include "kernels/dynamics.hpp"
#include "tests/mastering.hpp"
#include "tests/signals.hpp"

namespace lathe::test {
namespace {

constexpr double kPi = 3.141592653589793238462643383279;

std::string comp_profile(const std::string& params) {
  return "[delivery]\nbits = \"32f\"\n[[stage]]\ntype = \"compressor\"\n" + params;
}

// Masters each planar signal with `profile` on `engine`; returns the float outputs (empty on failure).
constexpr auto master = [](const host::Profile& profile, const std::vector<Planar>& inputs, int rate_hz,
                           host::Engine& engine, std::int64_t segment_frames = 65536) {
  return master_floats(profile, inputs, rate_hz, engine, segment_frames);
};

std::vector<Planar> master_cpu(const std::string& params, const std::vector<Planar>& inputs, int rate_hz,
                               std::int64_t segment_frames = 65536) {
  const host::Profile profile = host::parse_profile(comp_profile(params), "comp.toml");
  auto engine = host::make_cpu_engine();
  return master(profile, inputs, rate_hz, *engine, segment_frames);
}

// A sine of peak amplitude `amp` (1 kHz at 48 kHz: the crest falls exactly on sample 12 of each period).
std::vector<float> sine(double amp, double freq, int rate, std::int64_t frames) {
  std::vector<float> v(static_cast<std::size_t>(frames));
  for (std::int64_t i = 0; i < frames; ++i)
    v[static_cast<std::size_t>(i)] =
        static_cast<float>(amp * det_sin(2.0 * kPi * freq * static_cast<double>(i) / rate));
  return v;
}

double db(double lin) { return 20.0 * std::log10(lin); }

double peak(const std::vector<float>& v, std::size_t from, std::size_t to) {
  double p = 0;
  for (std::size_t i = from; i < to; ++i) p = std::max(p, static_cast<double>(std::abs(v[i])));
  return p;
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

// ---- log2 / exp2 ----------------------------------------------------------------------------------------------
TEST(CompressorMath, Log2Exp2AccuracyAgainstLongDouble) {
  namespace kd = kernels::dynamics;
  long double worst_log = 0, worst_exp = 0;
  Noise n(11);
  for (int k = 0; k < 200000; ++k) {
    // Levels from 1e-12 to 1e12, and exponents in [-40, 40].
    const double x = std::pow(10.0, 12.0 * n.next());
    const long double lref = std::log2(static_cast<long double>(x));
    const long double lerr = std::abs(static_cast<long double>(kd::log2_d(x)) - lref);
    worst_log = std::max(worst_log, lerr);
    const double y = 40.0 * n.next();
    const long double eref = std::exp2(static_cast<long double>(y));
    const long double eerr = std::abs(static_cast<long double>(kd::exp2_d(y)) / eref - 1.0L);
    worst_exp = std::max(worst_exp, eerr);
  }
  EXPECT_EQ(kd::log2_d(1.0), 0.0);
  EXPECT_EQ(kd::log2_d(0.25), -2.0);
  EXPECT_EQ(kd::exp2_d(0.0), 1.0);
  EXPECT_EQ(kd::exp2_d(-3.0), 0.125);
  std::printf("log2_d worst absolute error %.3Le (as a level: %.3Le dB); exp2_d worst relative error %.3Le\n",
              worst_log, worst_log * 6.0206L, worst_exp);
  EXPECT_LT(worst_log, 1e-14L);         // 6e-14 dB
  EXPECT_LT(worst_exp, 1e-15L);         // 1e-14 dB
}

// ---- static curve -------------------------------------------------------------------------------------------
struct CurveCase {
  const char* name;
  double knee_db;
};

class CompressorStaticCurve : public testing::TestWithParam<CurveCase> {};

TEST_P(CompressorStaticCurve, MatchesTextbookCurve) {
  const CurveCase cc = GetParam();
  const int rate = 48000;
  const std::int64_t frames = rate * 3 / 2;
  host::dsp::CompressorParams cp;
  cp.threshold_db = -20;
  cp.ratio = 4;
  cp.knee_db = cc.knee_db;
  std::vector<double> levels;
  for (double l = -40; l <= 0.001; l += 2) levels.push_back(l);
  for (double l = -25.5; l <= -14; l += 1.5) levels.push_back(l);  // inside the 12 dB knee (-26 .. -14)
  std::vector<Planar> inputs;
  for (double l : levels) inputs.push_back({sine(std::pow(10.0, l / 20.0), 1000.0, rate, frames)});
  const auto out = master_cpu("threshold_db = -20\nratio = 4\nknee_db = " + std::to_string(cc.knee_db) +
                                  "\nattack_ms = 0.01\nrelease_ms = 2000\n",
                              inputs, rate);
  double worst = 0;
  for (std::size_t k = 0; k < levels.size(); ++k) {
    ASSERT_EQ(out[k].size(), 1u);
    const auto from = static_cast<std::size_t>(frames - rate / 4), to = static_cast<std::size_t>(frames);
    const double in_db = db(peak(inputs[k][0], from, to));
    const double out_db = db(peak(out[k][0], from, to));
    const double expect = in_db - host::dsp::compressor_static_reduction_db(cp, in_db);
    EXPECT_NEAR(out_db, expect, 0.1) << "level " << levels[k] << " dBFS";
    worst = std::max(worst, std::abs(out_db - expect));
  }
  std::printf("static curve (%s): worst error %.4f dB over %zu levels\n", cc.name, worst, levels.size());
  // Inside the knee the reduction is neither 0 nor the full ratio's.
  const double mid = host::dsp::compressor_static_reduction_db(cp, -20.0);
  if (cc.knee_db > 0) {
    EXPECT_NEAR(mid, 0.75 * 36.0 / 24.0, 1e-12);
  }
}

INSTANTIATE_TEST_SUITE_P(CompressorKnees, CompressorStaticCurve,
                         testing::Values(CurveCase{"hard knee", 0.0}, CurveCase{"soft knee 12 dB", 12.0}),
                         [](const testing::TestParamInfo<CurveCase>& pi) { return pi.param.knee_db == 0.0 ? std::string("Hard")
                                                                                     : std::string("Soft12"); });

// ---- attack and release -------------------------------------------------------------------------------------
TEST(Compressor, AttackAndReleaseTimeConstants) {
  const int rate = 48000;
  const double attack_ms = 10, release_ms = 150;
  // A 100 Hz square wave (constant |x|, so the peak detector sees a clean step): -30 dBFS, then -6, then -30.
  const std::int64_t quiet1 = rate / 2, loud = rate, quiet2 = rate * 4, frames = quiet1 + loud + quiet2;
  std::vector<float> x(static_cast<std::size_t>(frames));
  for (std::int64_t i = 0; i < frames; ++i) {
    const double amp = (i >= quiet1 && i < quiet1 + loud) ? std::pow(10.0, -6.0 / 20) : std::pow(10.0, -30.0 / 20);
    x[static_cast<std::size_t>(i)] = static_cast<float>(((i / (rate / 200)) % 2 == 0) ? amp : -amp);
  }
  const auto out = master_cpu("threshold_db = -20\nratio = 4\nknee_db = 0\nattack_ms = 10\nrelease_ms = 150\n",
                              {{x}}, rate);
  ASSERT_EQ(out.size(), 1u);
  const auto& y = out[0][0];
  auto gr = [&](std::int64_t i) {
    const auto k = static_cast<std::size_t>(i);
    return -db(static_cast<double>(y[k]) / static_cast<double>(x[k]));
  };
  const double full = 14.0 * 0.75;  // 14 dB over the threshold at 4:1
  EXPECT_NEAR(gr(quiet1 - 1), 0.0, 1e-12);
  EXPECT_NEAR(gr(quiet1 + loud - 1), full, 1e-3);
  const double target = 1.0 - std::exp(-1.0);
  std::int64_t a = quiet1;
  while (a < quiet1 + loud && gr(a) < target * full) ++a;
  std::int64_t r = quiet1 + loud;
  while (r < frames && gr(r) > full * (1.0 - target)) ++r;
  // Sample i is the (i - step + 1)-th update of the smoother after the step.
  const double attack_measured = 1000.0 * static_cast<double>(a - quiet1 + 1) / rate;
  const double release_measured = 1000.0 * static_cast<double>(r - (quiet1 + loud) + 1) / rate;
  std::printf("attack: measured %.4f ms (set %.1f); release: measured %.4f ms (set %.1f)\n", attack_measured,
              attack_ms, release_measured, release_ms);
  EXPECT_NEAR(attack_measured, attack_ms, 0.05 * attack_ms);
  EXPECT_NEAR(release_measured, release_ms, 0.05 * release_ms);
  // Released to exact unity (below 1e-9 dB the reduction is 0) within the last 0.5 s.
  EXPECT_EQ(y.back(), x.back());
}

// ---- unity ----------------------------------------------------------------------------------------------------
TEST(Compressor, NoReductionIsBitExact) {
  const int rate = 44100;
  Planar music = make_signal(SignalKind::kMusicLike, 2, rate * 2, rate, 3);  // peaks near -5 dBFS
  Planar loud = make_signal(SignalKind::kSquareFullScale, 2, rate, rate);
  for (auto& ch : loud) {
    for (auto& v : ch) v *= 0.9f;
  }
  const Planar half = make_signal(SignalKind::kSine, 2, rate, rate);  // 0.5 peak
  const double music_peak = std::max(peak(music[0], 0, music[0].size()), peak(music[1], 0, music[1].size()));
  ASSERT_LT(music_peak, 1.0);
  struct Case {
    const char* params;
    const Planar* input;
  };
  const Case cases[] = {
      {"ratio = 1\nthreshold_db = -40\n", &music},
      {"ratio = 1\nthreshold_db = -60\nknee_db = 24\nmix = 50\ndetection = \"rms\"\nsidechain_hpf_hz = 100\n", &loud},
      {"threshold_db = 0\nknee_db = 0\nratio = 20\n", &music},
      {"threshold_db = 0\nknee_db = 0\nratio = 20\nlink = \"unlinked\"\nmix = 30\n", &loud},
      {"threshold_db = 0\nknee_db = 6\nratio = 8\n", &half},  // -6.02 dBFS, below the knee's start (-3)
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.params);
    const auto out = master_cpu(c.params, {*c.input}, rate);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(same_bits(out[0], *c.input));
  }
}

// ---- link -----------------------------------------------------------------------------------------------------
TEST(Compressor, LinkedVersusUnlinked) {
  const int rate = 48000;
  const std::int64_t frames = rate * 2;
  const Planar in = {sine(std::pow(10.0, -6.0 / 20), 1000.0, rate, frames),
                     sine(std::pow(10.0, -30.0 / 20), 1000.0, rate, frames)};
  const std::string common = "threshold_db = -20\nratio = 4\nknee_db = 0\nattack_ms = 0.01\nrelease_ms = 2000\n";
  const auto linked = master_cpu(common + "link = \"linked\"\n", {in}, rate);
  const auto unlinked = master_cpu(common + "link = \"unlinked\"\n", {in}, rate);
  ASSERT_EQ(linked.size(), 1u);
  ASSERT_EQ(unlinked.size(), 1u);
  const auto from = static_cast<std::size_t>(frames - rate / 4), to = static_cast<std::size_t>(frames);
  const double gr_left_linked = db(peak(in[0], from, to)) - db(peak(linked[0][0], from, to));
  const double gr_right_linked = db(peak(in[1], from, to)) - db(peak(linked[0][1], from, to));
  const double gr_left_unlinked = db(peak(in[0], from, to)) - db(peak(unlinked[0][0], from, to));
  std::printf("linked: left %.3f dB, right %.3f dB; unlinked: left %.3f dB, right 0 (bit exact)\n", gr_left_linked,
              gr_right_linked, gr_left_unlinked);
  EXPECT_NEAR(gr_left_linked, 10.5, 0.1);
  EXPECT_NEAR(gr_right_linked, 10.5, 0.1);  // the quiet channel follows the loud one
  EXPECT_NEAR(gr_left_unlinked, 10.5, 0.1);
  EXPECT_EQ(unlinked[0][1], in[1]);  // the quiet channel is below the threshold on its own
  EXPECT_EQ(linked[0][0], unlinked[0][0]);  // the loud channel drives both ways alike
}

// ---- sidechain high-pass --------------------------------------------------------------------------------------
TEST(Compressor, SidechainHighPassIgnoresBass) {
  const int rate = 44100;
  const std::int64_t frames = rate * 2;
  const Planar in = {sine(std::pow(10.0, -6.0 / 20), 30.0, rate, frames)};
  const std::string common = "threshold_db = -20\nratio = 4\nknee_db = 0\nattack_ms = 1\nrelease_ms = 500\n";
  const auto plain = master_cpu(common, {in}, rate);
  const auto hpf = master_cpu(common + "sidechain_hpf_hz = 150\n", {in}, rate);
  ASSERT_EQ(plain.size(), 1u);
  ASSERT_EQ(hpf.size(), 1u);
  const auto from = static_cast<std::size_t>(frames - rate / 2), to = static_cast<std::size_t>(frames);
  const double gr_plain = db(peak(in[0], from, to)) - db(peak(plain[0][0], from, to));
  const double gr_hpf = db(peak(in[0], from, to)) - db(peak(hpf[0][0], from, to));
  std::printf("30 Hz at -6 dBFS: reduction %.3f dB without, %.3f dB with a 150 Hz sidechain high-pass\n", gr_plain,
              gr_hpf);
  EXPECT_GT(gr_plain, 9.0);
  EXPECT_LT(gr_hpf, 0.5);
}

// ---- segments -------------------------------------------------------------------------------------------------
TEST(Compressor, SegmentInvariance) {
  const int rate = 44100;
  std::vector<Planar> in = {make_signal(SignalKind::kMusicLike, 2, rate * 3, rate, 5),
                            make_signal(SignalKind::kSweep, 1, rate * 2 + 123, rate, 6),
                            make_signal(SignalKind::kNoise, 2, rate * 2 + 7, rate, 8)};
  for (const char* params :
       {"threshold_db = -30\nratio = 6\nknee_db = 10\nattack_ms = 2\nrelease_ms = 80\nmakeup_db = 6\n",
        "threshold_db = -24\nratio = 3\ndetection = \"rms\"\nrms_ms = 20\nlink = \"unlinked\"\n"
        "sidechain_hpf_hz = 120\nmix = 60\n"}) {
    SCOPED_TRACE(params);
    const auto whole = master_cpu(params, in, rate, 1 << 20);
    for (std::int64_t seg : {65536, 4099, 777}) {
      SCOPED_TRACE(seg);
      const auto parts = master_cpu(params, in, rate, seg);
      ASSERT_EQ(parts.size(), whole.size());
      for (std::size_t k = 0; k < whole.size(); ++k) {
        EXPECT_TRUE(same_bits(parts[k], whole[k])) << "track " << k;
      }
    }
    // And the stage did something.
    EXPECT_FALSE(same_bits(whole[0], in[0]));
  }
}

// ---- profile --------------------------------------------------------------------------------------------------
TEST(Compressor, BadParametersNameTheKey) {
  const std::pair<const char*, const char*> bad[] = {
      {"ratio = 0.5\n", "ratio"},
      {"attack_ms = 0\n", "attack_ms"},
      {"threshold_db = 3\n", "threshold_db"},
      {"detection = \"average\"\n", "detection"},
      {"link = \"sideways\"\n", "link"},
      {"sidechain_hpf_hz = 10\n", "sidechain_hpf_hz"},
      {"release_ms = 9000\n", "release_ms"},
      {"knee_db = -1\n", "knee_db"},
      {"mix = 120\n", "mix"},
      {"makeup_db = \"auto\"\n", "makeup_db"},
      {"treshold_db = -10\n", "treshold_db"},
  };
  for (const auto& [text, key] : bad) {
    SCOPED_TRACE(text);
    try {
      host::parse_profile(comp_profile(text), "bad.toml");
      ADD_FAILURE() << "accepted";
    } catch (const host::ProfileError& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  }
}

TEST(Compressor, DescribeRoundTrips) {
  const host::Profile p = host::parse_profile(
      comp_profile("threshold_db = -24.5\nratio = 3\nknee_db = 4\nattack_ms = 0.5\nrelease_ms = 250\n"
                   "makeup_db = 2\ndetection = \"rms\"\nrms_ms = 30\nlink = \"unlinked\"\nsidechain_hpf_hz = 90\n"
                   "mix = 75\n"),
      "c.toml");
  const std::string text = p.to_toml();
  for (const char* key : {"threshold_db", "ratio", "knee_db", "attack_ms", "release_ms", "makeup_db", "detection",
                          "rms_ms", "link", "sidechain_hpf_hz", "mix"}) {
    EXPECT_NE(text.find(key), std::string::npos) << key << " in\n" << text;
  }
  const host::Profile again = host::parse_profile(text, "again.toml");
  EXPECT_EQ(again.to_toml(), text);
}

// ---- engines --------------------------------------------------------------------------------------------------
TEST(Compressor, CudaEngineMatchesCpuEngine) {
  if (const std::string why = host::gpu_unavailable_reason(); !why.empty()) GTEST_SKIP() << "no GPU: " << why;
  const auto cpu = host::make_cpu_engine();
  const auto gpu = host::make_cuda_engine();
  const int rate = 48000;
  std::vector<Planar> in;
  for (int k = 0; k < 5; ++k) in.push_back(make_signal(SignalKind::kMusicLike, 1 + k % 2, rate * 2 + k, rate, 20 + k));
  in.push_back(make_signal(SignalKind::kDenormal, 2, rate / 2, rate));
  in.push_back(make_signal(SignalKind::kSquareFullScale, 2, rate / 2, rate));
  for (const char* params :
       {"threshold_db = -30\nratio = 6\nknee_db = 10\nattack_ms = 2\nrelease_ms = 80\nmakeup_db = 6\n",
        "threshold_db = -24\nratio = 3\ndetection = \"rms\"\nlink = \"unlinked\"\nsidechain_hpf_hz = 120\nmix = 60\n"}) {
    SCOPED_TRACE(params);
    const host::Profile profile = host::parse_profile(comp_profile(params), "comp.toml");
    const auto a = master(profile, in, rate, *cpu, 4099);
    const auto b = master(profile, in, rate, *gpu, 4099);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t k = 0; k < a.size(); ++k) {
      EXPECT_TRUE(same_bits(a[k], b[k])) << "track " << k;
    }
  }
}

}  // namespace
}  // namespace lathe::test
