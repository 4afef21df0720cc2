// The saturation stage: the shaper against tanh in double, the oversampling filters' stop bands, aliasing of a
// driven full-scale 10 kHz sine (and what happens without enough oversampling), the harmonic signature of each
// model, transparency (mix = 0 bit for bit, small signals at unity gain, latency alignment), segment invariance,
// every common rate, parameter validation, and the CUDA engine's bits (skipped without a GPU).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>
#include <string>
#include <vector>

#include "host/dsp/saturation.hpp"
#include "host/engine/engine.hpp"
#include "host/errors.hpp"
#include "host/io/memory_track.hpp"
#include "host/master.hpp"
#include "host/profile/profile.hpp"
#include "kernels/saturate.hpp"
#include "tests/mastering.hpp"
#include "tests/signals.hpp"

namespace lathe::test {
namespace {

constexpr double kPi = 3.14159265358979323846;

std::string sat_profile(const std::string& params) {
  return "[delivery]\nbits = \"32f\"\n[[stage]]\ntype = \"saturation\"\n" + params;
}

// Masters each planar signal with `profile` on `engine`; returns the float outputs (empty on failure).
constexpr auto master = [](const host::Profile& profile, const std::vector<Planar>& inputs, int rate_hz,
                           host::Engine& engine, std::int64_t segment_frames = 65536) {
  return master_floats(profile, inputs, rate_hz, engine, segment_frames);
};

std::vector<float> run(const std::string& params, const std::vector<float>& x, int rate_hz,
                       std::int64_t segment_frames = 65536) {
  const host::Profile profile = host::parse_profile(sat_profile(params), "sat");
  auto engine = host::make_cpu_engine();
  const auto out = master(profile, {Planar{x}}, rate_hz, *engine, segment_frames);
  if (out.empty() || out[0].empty()) return {};
  return out[0][0];
}

// A sine of frequency num/den * rate (exactly periodic: den samples per num cycles), `frames` long.
std::vector<float> periodic_sine(double amplitude, std::int64_t num, std::int64_t den, std::int64_t frames) {
  std::vector<float> x(static_cast<std::size_t>(frames));
  for (std::int64_t n = 0; n < frames; ++n)
    x[static_cast<std::size_t>(n)] =
        static_cast<float>(amplitude * std::sin(2.0 * kPi * static_cast<double>((num * n) % den) / static_cast<double>(den)));
  return x;
}

// Amplitude (linear, 1 = full-scale sine) of the component at frequency f of y[begin .. begin + len), with len
// a whole number of periods of f (rectangular window: no leakage between such frequencies).
double amplitude_at(const std::vector<float>& y, std::int64_t begin, std::int64_t len, double f, double rate) {
  std::complex<double> acc = 0;
  for (std::int64_t n = 0; n < len; ++n) {
    const double ph = 2.0 * kPi * f * static_cast<double>(n) / rate;
    acc += static_cast<double>(y[static_cast<std::size_t>(begin + n)]) * std::complex<double>(std::cos(ph), -std::sin(ph));
  }
  return (f == 0.0 ? 1.0 : 2.0) * std::abs(acc) / static_cast<double>(len);
}

double db(double a) { return 20.0 * std::log10(a + 1e-300); }

// A 10 kHz tone at 44.1 kHz repeats every 441 samples, so everything a time-invariant system makes of it (its
// harmonics, their aliases, rounding patterns) lies on multiples of 100 Hz. Returns the loudest component below
// `top_hz` that is not a harmonic of 10 kHz (DC counts as the 0th), in dBFS, and its frequency. The checks stop
// below 20 kHz (0.4535 fs, the audible band): the oversampling filters' stopband starts at fs - 0.4535 fs, so
// what their transition band lets fold lands between 20 and 22.05 kHz only (host/dsp/saturation.hpp).
struct Worst {
  double dbfs = -400;
  double hz = 0;
};
Worst worst_alias_10k(const std::vector<float>& y, std::int64_t begin, double top_hz = 20000.0) {
  const std::int64_t len = 441 * 20;
  Worst w;
  for (int q = 1; 100.0 * q < top_hz; ++q) {
    if (q % 100 == 0) continue;  // 10 kHz, 20 kHz
    const double a = db(amplitude_at(y, begin, len, 100.0 * q, 44100.0));
    if (a > w.dbfs) w = Worst{a, 100.0 * q};
  }
  return w;
}

// --- the shaper --------------------------------------------------------------------------------------------

TEST(SaturationShaper, TanhWithoutLibmIsAccurateOddMonotonicAndBounded) {
  namespace ks = kernels::saturate;
  double worst = 0, worst_drop = 0;
  float prev = -2.0f;
  for (int i = -240000; i <= 240000; ++i) {
    const float v = static_cast<float>(i) * 5e-5f;  // -12 .. 12
    const float t = ks::tanh_rational(v);
    worst = std::max(worst, std::fabs(static_cast<double>(t) - std::tanh(static_cast<double>(v))));
    EXPECT_EQ(ks::tanh_rational(-v), -t);
    // Monotonic up to float rounding: near +-1 the last rounding may step back by up to two ulps (1.2e-7, -138 dB).
    if (t < prev) worst_drop = std::max(worst_drop, static_cast<double>(prev) - t);
    prev = t;
    ASSERT_LE(std::fabs(t), 1.0f);
  }
  RecordProperty("max_abs_error", std::to_string(worst));
  RecordProperty("max_step_back", std::to_string(worst_drop));
  EXPECT_LT(worst, 3e-7);
  EXPECT_LE(worst_drop, 1.2e-7);  // two ulps just below 1
  EXPECT_EQ(ks::shape(ks::kTape, 0.0f), 0.0f);
  EXPECT_EQ(ks::shape(ks::kTube, 0.0f), 0.0f);
  // Slope 1 at the origin.
  EXPECT_NEAR(ks::shape(ks::kTube, 1e-4f) / 1e-4f, 1.0, 1e-3);
  EXPECT_NEAR(ks::shape(ks::kTape, 1e-4f) / 1e-4f, 1.0, 1e-6);
}

// --- the filters -------------------------------------------------------------------------------------------

// |H(f)| of taps h at rate `rate`.
double response(const std::vector<double>& h, double f, double rate) {
  std::complex<double> acc = 0;
  for (std::size_t k = 0; k < h.size(); ++k) {
    const double ph = 2.0 * kPi * f * static_cast<double>(k) / rate;
    acc += h[k] * std::complex<double>(std::cos(ph), -std::sin(ph));
  }
  return std::abs(acc);
}

TEST(SaturationFilters, ImagesAndAliasesAreAtLeast100dBDownAndThePassbandIsFlat) {
  for (const int rate : {44100, 192000}) {
    for (const int factor : {4, 16}) {
      host::dsp::SaturationParams p;
      p.oversampling = factor;
      const auto d = host::dsp::make_saturation_design(p, rate);
      const int R = d.factor;
      const int T = d.taps_per_phase;
      EXPECT_EQ(d.latency, T - 1);
      // The decimator, and the interpolator's prototype (phases interleaved back, gain R removed).
      std::vector<double> down(d.down.begin(), d.down.end());
      std::vector<double> up(static_cast<std::size_t>(R) * T);
      for (int q = 0; q < R; ++q)
        for (int k = 0; k < T; ++k)
          up[static_cast<std::size_t>(k * R + q)] = d.up[static_cast<std::size_t>(q * T + k)] / static_cast<double>(R);
      const double up_rate = static_cast<double>(R) * rate;
      double stop_worst = -400, pass_worst = 0;
      // The stopband starts at fs - 0.4535 fs = 0.5465 fs: the upsampler's images of the passband and what the
      // decimator folds onto the passband lie there; 0.5 .. 0.5465 fs only folds onto 0.4535 .. 0.5 fs (inaudible).
      const double stop = rate * (1.0 - host::dsp::kSaturationPassbandFraction);
      for (const auto* h : {&down, &up}) {
        for (int i = 0; i <= 400; ++i) {
          const double f = stop + (0.5 * up_rate - stop) * i / 400.0;
          stop_worst = std::max(stop_worst, db(response(*h, f, up_rate)));
        }
        for (int i = 0; i <= 100; ++i) {
          const double f = rate * (20000.0 / 44100.0) * i / 100.0;
          pass_worst = std::max(pass_worst, std::fabs(db(response(*h, f, up_rate))));
        }
      }
      EXPECT_LT(stop_worst, -100.0) << rate << " Hz x" << factor;
      EXPECT_LT(pass_worst, 0.001) << rate << " Hz x" << factor;
      RecordProperty("stop_" + std::to_string(rate) + "_x" + std::to_string(factor), std::to_string(stop_worst));
      RecordProperty("pass_" + std::to_string(rate) + "_x" + std::to_string(factor), std::to_string(pass_worst));
    }
  }
}

// --- aliasing ----------------------------------------------------------------------------------------------

TEST(SaturationAliasing, DrivenFullScale10kHzSineAliasesStayBelowMinus90dBFS) {
  const std::vector<float> x = periodic_sine(1.0, 100, 441, 441 * 40);
  for (const std::string model : {"tape", "tube"}) {
    const auto y = run("model = \"" + model + "\"\ndrive_db = 12\n", x, 44100);
    ASSERT_EQ(y.size(), x.size());
    const Worst w = worst_alias_10k(y, 441 * 10);
    RecordProperty("worst_alias_" + model, std::to_string(w.dbfs));
    // For information: up to 22 kHz, including the inaudible band the transition band may fold onto.
    RecordProperty("worst_alias_to_22k_" + model, std::to_string(worst_alias_10k(y, 441 * 10, 22050.0).dbfs));
    EXPECT_LT(w.dbfs, -90.0) << model << ": " << w.dbfs << " dBFS at " << w.hz << " Hz";
    // The wanted harmonics are there (the tone is really being saturated).
    EXPECT_GT(db(amplitude_at(y, 441 * 10, 441 * 20, 10000.0, 44100.0)), -20.0);
  }
}

// The same check catches aliasing: the shaper applied at 44.1 kHz without oversampling folds the 3rd harmonic
// (30 kHz) to 14.1 kHz, and 4x oversampling is not enough at 12 dB of drive (the 17th harmonic, 170 kHz, folds
// to 6.4 kHz), which is why the automatic factor grows with the drive.
TEST(SaturationAliasing, WithoutEnoughOversamplingTheCheckFails) {
  const std::vector<float> x = periodic_sine(1.0, 100, 441, 441 * 40);
  namespace ks = kernels::saturate;
  const float g = static_cast<float>(std::pow(10.0, 12.0 / 20.0));
  std::vector<float> naive(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) naive[i] = ks::shape(ks::kTape, g * x[i]) / g;
  const Worst w1 = worst_alias_10k(naive, 441 * 10);
  EXPECT_GT(w1.dbfs, -40.0);
  EXPECT_GT(db(amplitude_at(naive, 441 * 10, 441 * 20, 14100.0, 44100.0)), -40.0);
  const auto y4 = run("drive_db = 12\noversampling = 4\n", x, 44100);
  ASSERT_EQ(y4.size(), x.size());
  const Worst w4 = worst_alias_10k(y4, 441 * 10);
  RecordProperty("worst_alias_x4", std::to_string(w4.dbfs));
  EXPECT_GT(w4.dbfs, -90.0);
  EXPECT_GT(db(amplitude_at(y4, 441 * 10, 441 * 20, 6400.0, 44100.0)), -90.0);
}

// --- harmonics ---------------------------------------------------------------------------------------------

TEST(SaturationHarmonics, TapeIsOddTubeAddsEven) {
  // 1 kHz at 44.1 kHz: 441 samples hold 10 cycles.
  const std::vector<float> x = periodic_sine(0.5, 10, 441, 441 * 60);
  const auto tape = run("model = \"tape\"\ndrive_db = 12\n", x, 44100);
  const auto tube = run("model = \"tube\"\ndrive_db = 12\n", x, 44100);
  ASSERT_EQ(tape.size(), x.size());
  ASSERT_EQ(tube.size(), x.size());
  const std::int64_t b = 441 * 10, len = 441 * 40;
  const double t1 = db(amplitude_at(tape, b, len, 1000, 44100)), t2 = db(amplitude_at(tape, b, len, 2000, 44100)),
               t3 = db(amplitude_at(tape, b, len, 3000, 44100));
  const double u1 = db(amplitude_at(tube, b, len, 1000, 44100)), u2 = db(amplitude_at(tube, b, len, 2000, 44100)),
               u3 = db(amplitude_at(tube, b, len, 3000, 44100));
  RecordProperty("tape_h2_rel", std::to_string(t2 - t1));
  RecordProperty("tape_h3_rel", std::to_string(t3 - t1));
  RecordProperty("tube_h2_rel", std::to_string(u2 - u1));
  RecordProperty("tube_h3_rel", std::to_string(u3 - u1));
  EXPECT_GT(t3 - t1, -30.0) << "tape: 3rd harmonic";
  EXPECT_LT(t2 - t1, -100.0) << "tape: 2nd harmonic";
  EXPECT_GT(u2 - u1, -40.0) << "tube: 2nd harmonic";
  EXPECT_GT(u3 - u1, -40.0) << "tube: 3rd harmonic";
}

// --- transparency ------------------------------------------------------------------------------------------

TEST(SaturationTransparency, MixZeroIsBitTransparent) {
  const Planar x = make_signal(SignalKind::kMusicLike, 2, 50000, 44100);
  for (const std::string model : {"tape", "tube"}) {
    const host::Profile profile = host::parse_profile(sat_profile("model = \"" + model + "\"\ndrive_db = 24\nmix = 0\n"), "m");
    auto engine = host::make_cpu_engine();
    const auto out = master(profile, {x}, 44100, *engine, 7000);
    ASSERT_EQ(out[0].size(), 2u);
    EXPECT_TRUE(out[0] == x) << model;
  }
}

TEST(SaturationTransparency, SmallSignalsPassAtUnityGainAndAligned) {
  const std::vector<float> x = periodic_sine(0.001, 10, 441, 441 * 60);
  for (const std::string params : {"model = \"tape\"\ndrive_db = 0\n", "model = \"tube\"\ndrive_db = 0\n",
                                   "model = \"tape\"\ndrive_db = 12\n", "model = \"tube\"\ndrive_db = 24\nmix = 50\n"}) {
    const auto y = run(params, x, 44100);
    ASSERT_EQ(y.size(), x.size());
    const double in = amplitude_at(x, 441 * 10, 441 * 40, 1000, 44100);
    const double out = amplitude_at(y, 441 * 10, 441 * 40, 1000, 44100);
    EXPECT_LT(std::fabs(db(out / in)), 0.01) << params;
    // Aligned sample for sample (a one-sample shift would leave a difference of 14% of the amplitude).
    double diff = 0;
    for (std::size_t i = 441 * 10; i < x.size() - 441; ++i) diff = std::max(diff, std::fabs(static_cast<double>(y[i]) - x[i]));
    EXPECT_LT(diff, 0.001 * 0.01) << params;
  }
}

// --- segmentation, rates, validation -----------------------------------------------------------------------

TEST(SaturationStage, SegmentationNeverChangesABit) {
  const Planar x = make_signal(SignalKind::kMusicLike, 2, 60007, 44100);
  const Planar shorty = make_signal(SignalKind::kMusicLike, 1, 100, 44100);  // shorter than the latency
  const host::Profile profile = host::parse_profile(sat_profile("model = \"tube\"\ndrive_db = 18\nmix = 70\n"), "s");
  auto engine = host::make_cpu_engine();
  const auto whole = master(profile, {x, shorty}, 44100, *engine, std::int64_t{1} << 20);
  ASSERT_EQ(whole[0].size(), 2u);
  EXPECT_EQ(whole[0][0].size(), x[0].size());
  EXPECT_EQ(whole[1][0].size(), shorty[0].size());
  for (const std::int64_t seg : {37, 4096, 16385, 65536}) {
    const auto parts = master(profile, {x, shorty}, 44100, *engine, seg);
    EXPECT_TRUE(parts[0] == whole[0]) << "segments of " << seg;
    EXPECT_TRUE(parts[1] == whole[1]) << "segments of " << seg;
  }
}

TEST(SaturationStage, CommonRatesWorkWithAutomaticOversampling) {
  for (const int rate : {44100, 48000, 96000, 192000}) {
    host::dsp::SaturationParams p;
    const auto d = host::dsp::make_saturation_design(p, rate);
    EXPECT_GE(d.factor, 4);
    EXPECT_GE(static_cast<double>(d.factor) * rate, 176400.0);
    // 1 kHz-ish, -60 dBFS: unity gain and aligned; and a loud signal stays finite and bounded.
    const std::int64_t n = rate / 2;
    std::vector<float> x(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i)
      x[static_cast<std::size_t>(i)] = static_cast<float>(0.001 * std::sin(2.0 * kPi * 1000.0 * static_cast<double>(i) / rate));
    const auto y = run("drive_db = 6\n", x, rate);
    ASSERT_EQ(y.size(), x.size()) << rate;
    double diff = 0;
    for (std::size_t i = 1000; i + 1000 < x.size(); ++i) diff = std::max(diff, std::fabs(static_cast<double>(y[i]) - x[i]));
    EXPECT_LT(diff, 1e-5) << rate;
    const Planar loud = make_signal(SignalKind::kSquareFullScale, 1, rate / 4, rate);
    const auto z = run("model = \"tube\"\ndrive_db = 36\n", loud[0], rate);
    ASSERT_EQ(z.size(), loud[0].size());
    for (const float v : z) {
      ASSERT_TRUE(std::isfinite(v));
      ASSERT_LT(std::fabs(v), 1.0f);
    }
  }
  EXPECT_EQ(host::dsp::saturation_auto_factor(44100, 6), 4);
  EXPECT_EQ(host::dsp::saturation_auto_factor(44100, 12), 8);
  EXPECT_EQ(host::dsp::saturation_auto_factor(44100, 18), 16);
  EXPECT_EQ(host::dsp::saturation_auto_factor(96000, 12), 4);
  EXPECT_EQ(host::dsp::saturation_auto_factor(192000, 36), 4);
}

TEST(SaturationStage, BadParametersAreRejectedNamingTheKey) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"model = \"fuzz\"\n", "model"},     {"drive_db = 40\n", "drive_db"}, {"drive_db = -1\n", "drive_db"},
      {"bias = 1.5\n", "bias"},            {"mix = 101\n", "mix"},          {"output_db = 30\n", "output_db"},
      {"oversampling = 3\n", "oversampling"}, {"oversampling = 32\n", "oversampling"},
      {"drive = 3\n", "drive"},            {"mix = \"half\"\n", "mix"}};
  for (const auto& [text, key] : cases) {
    try {
      (void)host::parse_profile(sat_profile(text), "bad");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const host::ProfileError& e) {
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  }
  EXPECT_NO_THROW((void)host::parse_profile(
      sat_profile("model = \"tube\"\ndrive_db = 36\nbias = -1\nmix = 0\noutput_db = -24\noversampling = 16\n"), "ok"));
}

// The CPU engine's vectorised runner (outputs in SIMD lanes, polyphase rows) against the plain scalar per-output
// code of kernels/saturate.hpp that the CUDA kernel runs: the same bits, on the baseline and the AVX2 path, for
// every factor, both models, several rates and odd lengths (tails shorter than a vector, sub-chunk edges).
TEST(SaturationEngines, VectorisedCpuRunnerMatchesTheScalarKernelBitForBit) {
  namespace ks = kernels::saturate;
  struct Case {
    int rate;
    int factor;
    std::string model;
    double drive_db;
    double bias;
    double mix;
  };
  const std::vector<Case> cases = {{44100, 4, "tape", 3, 0, 50},    {44100, 8, "tube", 12, 0.2, 100},
                                   {44100, 16, "tape", 24, 0, 70},  {48000, 4, "tube", 36, -0.5, 100},
                                   {96000, 8, "tape", 6, 0.3, 30},  {192000, 16, "tube", 18, 0.2, 100}};
  std::uint32_t seed = 12345;
  auto noise = [&seed] {
    seed = seed * 1664525u + 1013904223u;
    return static_cast<float>(static_cast<double>(seed >> 8) / 16777216.0 * 2.0 - 1.0);
  };
  for (const Case& c : cases) {
    host::dsp::SaturationParams p;
    p.model = c.model;
    p.drive_db = c.drive_db;
    p.bias = c.bias;
    p.mix_percent = c.mix;
    p.oversampling = c.factor;
    const auto d = host::dsp::make_saturation_design(p, c.rate);
    const ks::Table t = d.table();
    for (const std::int64_t n : {std::int64_t{1}, std::int64_t{7}, std::int64_t{31}, std::int64_t{33},
                                 std::int64_t{1001}, std::int64_t{2049}, std::int64_t{4133}}) {
      // A loud, busy input (up to 1.5: the shaper's clamp is reached at high drive) with a sine under the noise.
      std::vector<float> xe(static_cast<std::size_t>(d.history + n));
      for (std::size_t i = 0; i < xe.size(); ++i)
        xe[i] = 0.5f * noise() + static_cast<float>(std::sin(0.05 * static_cast<double>(i)));
      const std::int64_t j0 = d.history, j1 = d.history + n;
      std::vector<float> want(static_cast<std::size_t>(n)), scratch(static_cast<std::size_t>(ks::scratch_floats(t, n)));
      ks::process_range(t, xe.data(), want.data(), j0, j1, scratch.data());
      for (const bool avx2 : {false, true}) {
        std::vector<float> got(static_cast<std::size_t>(n), -7.0f), work;
        host::dsp::saturate_range_cpu(t, xe.data(), got.data(), j0, j1, work, avx2);
        EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)), 0)
            << c.rate << " Hz x" << c.factor << " " << c.model << " n=" << n << (avx2 ? " avx2" : " baseline");
      }
    }
  }
}

TEST(SaturationEngines, CudaMatchesCpuBitForBit) {
  if (const std::string why = host::gpu_unavailable_reason(); !why.empty()) GTEST_SKIP() << "no GPU: " << why;
  const Planar a = make_signal(SignalKind::kMusicLike, 2, 70001, 44100);
  const Planar b = make_signal(SignalKind::kMusicLike, 1, 33333, 44100, 9);
  for (const std::string params : {"model = \"tape\"\ndrive_db = 12\n", "model = \"tube\"\ndrive_db = 24\nmix = 60\n",
                                   "model = \"tape\"\nmix = 0\n"}) {
    const host::Profile profile = host::parse_profile(sat_profile(params), "c");
    auto cpu = host::make_cpu_engine();
    auto gpu = host::make_cuda_engine();
    const auto c = master(profile, {a, b}, 44100, *cpu, 16384);
    const auto g = master(profile, {a, b}, 44100, *gpu, 16384);
    EXPECT_TRUE(c == g) << params;
  }
}

}  // namespace
}  // namespace lathe::test
