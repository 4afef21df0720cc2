// The linear-phase EQ design (host/dsp/eq_design): profile parsing of bands with messages that name the line and
// the allowed range, the exact curve of each band type, and FIR designs whose realised magnitude (a direct sum
// in double) follows the curve within 0.1 dB from 20 Hz to min(20 kHz, 0.45 rate) at every supported rate.
// Also the double FFT used by the design, against FFTW.
#include <fftw3.h>
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstring>
#include <numbers>
#include <span>
#include <cstdio>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "host/dsp/eq_design.hpp"
#include "host/dsp/fft_double.hpp"
#include "host/errors.hpp"

namespace lathe::host::dsp {
namespace {

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected to find \"" << part << "\" in:\n" << text;
}

double db(double lin) { return 20.0 * std::log10(lin); }

// ------------------------------------------------------------------------------------------------------------
// The FFT, against FFTW

TEST(EqFftDouble, RealForwardMatchesFftw) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (std::size_t n = 4; n <= (std::size_t{1} << 16); n *= 2) {
    SCOPED_TRACE(n);
    std::vector<double> x(n);
    for (auto& v : x) v = u(rng);
    std::vector<std::complex<double>> mine(n / 2 + 1);
    RealFftDouble(n).forward(x, mine);
    std::vector<double> in = x;
    std::vector<fftw_complex> ref(n / 2 + 1);
    fftw_plan plan = fftw_plan_dft_r2c_1d(static_cast<int>(n), in.data(), ref.data(), FFTW_ESTIMATE);
    fftw_execute(plan);
    fftw_destroy_plan(plan);
    double worst = 0;
    for (std::size_t k = 0; k <= n / 2; ++k)
      worst = std::max(worst, std::abs(mine[k] - std::complex<double>(ref[k][0], ref[k][1])));
    // Errors of a radix-2 FFT grow like log2(n) * eps * rms * sqrt(n).
    EXPECT_LT(worst, 1e-14 * std::sqrt(static_cast<double>(n)) * std::log2(static_cast<double>(n)));
  }
}

TEST(EqFftDouble, ComplexForwardAndInverseMatchFftw) {
  std::mt19937_64 rng(8);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{8}, std::size_t{1024}, std::size_t{1} << 15}) {
    SCOPED_TRACE(n);
    for (const bool inverse : {false, true}) {
      std::vector<std::complex<double>> a(n);
      for (auto& v : a) v = {u(rng), u(rng)};
      std::vector<fftw_complex> in(n), out(n);
      for (std::size_t i = 0; i < n; ++i) {
        in[i][0] = a[i].real();
        in[i][1] = a[i].imag();
      }
      fftw_plan plan = fftw_plan_dft_1d(static_cast<int>(n), in.data(), out.data(),
                                        inverse ? FFTW_BACKWARD : FFTW_FORWARD, FFTW_ESTIMATE);
      fftw_execute(plan);
      fftw_destroy_plan(plan);
      fft_double(a, inverse);
      double worst = 0;
      for (std::size_t k = 0; k < n; ++k)
        worst = std::max(worst, std::abs(a[k] - std::complex<double>(out[k][0], out[k][1])));
      EXPECT_LT(worst, 1e-12);
    }
  }
}

// ------------------------------------------------------------------------------------------------------------
// Parsing

std::vector<EqBand> parse_text(const std::string& text) {
  const toml::table root = toml::parse(text, std::string_view("eq.toml"));
  const toml::table& stage = *root["stage"].as_array()->front().as_table();
  return parse_eq_bands(stage, "eq.toml", "stage 2 (eq)");
}

// The ProfileError message for `text`, or "" and a failure.
std::string parse_error(const std::string& text) {
  try {
    parse_text(text);
  } catch (const ProfileError& e) {
    return e.message();
  }
  ADD_FAILURE() << "expected a ProfileError for:\n" << text;
  return "";
}

void expect_same_bands(const std::vector<EqBand>& a, const std::vector<EqBand>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(a[i].type, b[i].type);
    EXPECT_EQ(a[i].channels, b[i].channels);
    EXPECT_EQ(a[i].freq_hz, b[i].freq_hz);
    EXPECT_EQ(a[i].gain_db, b[i].gain_db);
    EXPECT_EQ(a[i].q, b[i].q);
    EXPECT_EQ(a[i].shelf_slope, b[i].shelf_slope);
    EXPECT_EQ(a[i].order, b[i].order);
    EXPECT_EQ(a[i].db_per_oct, b[i].db_per_oct);
  }
}

const char* const kInlineBands = R"(name = "x"
[[stage]]
type = "eq"
bands = [
  { type = "highpass", freq_hz = 30, slope_db_per_oct = 24 },
  { type = "low_shelf", freq_hz = 100, gain_db = 3, q = 0.707 },
  { type = "bell", freq_hz = 2500, gain_db = -2, q = 1.4, channels = "mid" },
  { type = "high_shelf", freq_hz = 10000, gain_db = 2.0, slope = 0.7, channels = "side" },
  { type = "lowpass", freq_hz = 18000 },
  { type = "tilt", db_per_oct = -0.5 },
]
)";

TEST(EqParse, InlineBandsParseWithDefaultsLinesAndLabels) {
  const std::vector<EqBand> b = parse_text(kInlineBands);
  ASSERT_EQ(b.size(), 6u);
  EXPECT_EQ(b[0].type, EqBandType::kHighPass);
  EXPECT_EQ(b[0].freq_hz, 30.0);
  EXPECT_EQ(b[0].order, 4);
  EXPECT_EQ(b[0].channels, EqChannels::kStereo);
  EXPECT_EQ(b[0].line, 5);
  EXPECT_EQ(b[0].label, "stage 2 (eq) band 1 (highpass)");
  EXPECT_EQ(b[1].type, EqBandType::kLowShelf);
  EXPECT_EQ(b[1].q, 0.707);
  EXPECT_EQ(b[1].shelf_slope, 0.0);
  EXPECT_EQ(b[2].type, EqBandType::kBell);
  EXPECT_EQ(b[2].channels, EqChannels::kMid);
  EXPECT_EQ(b[2].gain_db, -2.0);
  EXPECT_EQ(b[2].q, 1.4);
  EXPECT_EQ(b[2].line, 7);
  EXPECT_EQ(b[3].type, EqBandType::kHighShelf);
  EXPECT_EQ(b[3].channels, EqChannels::kSide);
  EXPECT_EQ(b[3].shelf_slope, 0.7);
  EXPECT_EQ(b[3].q, 0.0);
  EXPECT_EQ(b[4].type, EqBandType::kLowPass);
  EXPECT_EQ(b[4].order, 2) << "slope_db_per_oct defaults to 12";
  EXPECT_EQ(b[5].type, EqBandType::kTilt);
  EXPECT_EQ(b[5].db_per_oct, -0.5);
  EXPECT_EQ(b[5].freq_hz, 1000.0) << "pivot_hz defaults to 1000";
  EXPECT_EQ(b[5].label, "stage 2 (eq) band 6 (tilt)");
}

TEST(EqParse, ArrayOfTablesFormIsTheSame) {
  const std::vector<EqBand> b = parse_text(R"([[stage]]
type = "eq"
[[stage.bands]]
type = "highpass"
freq_hz = 30
slope_db_per_oct = 24
[[stage.bands]]
type = "bell"
freq_hz = 2500.0
gain_db = -2
q = 1.4
channels = "mid"
)");
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].order, 4);
  EXPECT_EQ(b[1].q, 1.4);
  EXPECT_EQ(b[1].channels, EqChannels::kMid);
  EXPECT_EQ(b[1].line, 7);
  EXPECT_EQ(b[1].label, "stage 2 (eq) band 2 (bell)");
}

TEST(EqParse, RoundTripsThroughToml) {
  const std::vector<EqBand> a = parse_text(kInlineBands);
  toml::table stage;
  stage.insert_or_assign("type", "eq");
  stage.insert_or_assign("bands", eq_bands_to_toml(a));
  toml::table root;
  toml::array stages;
  stages.push_back(stage);
  root.insert_or_assign("stage", stages);
  std::ostringstream os;
  os << root;
  const std::vector<EqBand> b = parse_text(os.str());
  expect_same_bands(a, b);
}

TEST(EqParse, AbsentOrEmptyBandsIsAFlatEq) {
  EXPECT_TRUE(parse_text("[[stage]]\ntype = \"eq\"\n").empty());
  EXPECT_TRUE(parse_text("[[stage]]\ntype = \"eq\"\nbands = []\n").empty());
}

struct BadCase {
  const char* band;              // the inline table of one band, on line 3
  std::vector<const char*> parts;  // what the message must contain besides the line
};

TEST(EqParse, BadBandsNameTheLineTheKeyAndTheAllowedRange) {
  const std::vector<BadCase> cases = {
      {R"({ type = "bell", freq_hz = 192000, gain_db = 1, q = 1 })", {"freq_hz = 192000", "10 Hz", "192000 Hz"}},
      {R"({ type = "bell", freq_hz = 250000, gain_db = 1, q = 1 })", {"freq_hz", "10 Hz", "192000 Hz"}},
      {R"({ type = "bell", freq_hz = 0, gain_db = 1, q = 1 })", {"freq_hz = 0", "at least 10 Hz"}},
      {R"({ type = "bell", freq_hz = -100, gain_db = 1, q = 1 })", {"freq_hz = -100", "at least 10 Hz"}},
      {R"({ type = "bell", freq_hz = 5, gain_db = 1, q = 1 })", {"freq_hz = 5", "at least 10 Hz"}},
      {R"({ type = "bell", freq_hz = "1k", gain_db = 1, q = 1 })", {"freq_hz", "10 Hz"}},
      {R"({ type = "bell", freq_hz = 1000, gain_db = 1, q = 0 })", {"q = 0", "between 0.1 and 20"}},
      {R"({ type = "bell", freq_hz = 1000, gain_db = 1, q = -1 })", {"q = -1", "between 0.1 and 20"}},
      {R"({ type = "bell", freq_hz = 1000, gain_db = 1, q = 25 })", {"q = 25", "between 0.1 and 20"}},
      {R"({ type = "bell", freq_hz = 1000, gain_db = 30, q = 1 })", {"gain_db = 30", "between -24 and 24 dB"}},
      {R"({ type = "low_shelf", freq_hz = 100, gain_db = -25, q = 1 })", {"gain_db = -25", "between -24 and 24 dB"}},
      {R"({ type = "bell", freq_hz = 1000, q = 1 })", {"gain_db = (absent)", "missing", "between -24 and 24 dB"}},
      {R"({ type = "bell", gain_db = 1, q = 1 })", {"freq_hz = (absent)", "missing", "10 Hz"}},
      {R"({ type = "bell", freq_hz = 1000, gain_db = 1 })", {"q = (absent)", "missing", "between 0.1 and 20"}},
      {R"({ type = "low_shelf", freq_hz = 100, gain_db = 3, q = 1, slope = 1 })", {"slope", "exactly one of q"}},
      {R"({ type = "high_shelf", freq_hz = 9000, gain_db = 3 })", {"missing", "exactly one of q", "0.1 to 1"}},
      {R"({ type = "high_shelf", freq_hz = 9000, gain_db = 3, slope = 1.5 })", {"slope = 1.5", "between 0.1 and 1"}},
      {R"({ type = "highpass", freq_hz = 30, slope_db_per_oct = 10 })",
       {"slope_db_per_oct = 10", "between 6 and 48 dB/oct", "multiple of 6"}},
      {R"({ type = "highpass", freq_hz = 30, slope_db_per_oct = 54 })", {"slope_db_per_oct = 54", "6 and 48"}},
      {R"({ type = "lowpass", freq_hz = 18000, slope_db_per_oct = 0 })", {"slope_db_per_oct = 0", "6 and 48"}},
      {R"({ type = "tilt", db_per_oct = 4 })", {"db_per_oct = 4", "between -3 and 3 dB/oct"}},
      {R"({ type = "tilt" })", {"db_per_oct = (absent)", "missing", "-3 and 3"}},
      {R"({ type = "tilt", db_per_oct = 1, pivot_hz = 5 })", {"pivot_hz = 5", "between 20 and 20000 Hz"}},
      {R"({ type = "bell", freq_hz = 1000, gain_db = 1, q = 1, channels = "left" })",
       {"channels = 'left'", "\"stereo\", \"mid\", \"side\""}},
      {R"({ type = "peak", freq_hz = 1000, gain_db = 1, q = 1 })", {"band 1 (peak): type = 'peak'", "\"bell\""}},
      {R"({ freq_hz = 1000, gain_db = 1, q = 1 })", {"band 1: type", "\"bell\""}},
      {R"({ type = "highpass", freq_hz = 30, q = 0.5 })", {"q = 0.5", "unknown key", "slope_db_per_oct"}},
      {R"({ type = "bell", freq_hz = 1000, gain_db = 1, q = 1, gian_db = 2 })", {"gian_db", "unknown key"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.band);
    const std::string msg = parse_error(std::string("[[stage]]\ntype = \"eq\"\nbands = [\n  ") + c.band + ",\n]\n");
    EXPECT_TRUE(Contains(msg, "eq.toml:4: stage 2 (eq) band 1"));
    for (const char* part : c.parts) EXPECT_TRUE(Contains(msg, part));
  }
  // A second band's mistake names its own line and index.
  const std::string msg = parse_error(R"([[stage]]
type = "eq"
bands = [
  { type = "bell", freq_hz = 1000, gain_db = 1, q = 1 },

  { type = "bell", freq_hz = 1000, gain_db = 1, q = 0 },
]
)");
  EXPECT_TRUE(Contains(msg, "eq.toml:6: stage 2 (eq) band 2 (bell): q = 0: must be between 0.1 and 20"));
  // Not an array of tables.
  EXPECT_TRUE(Contains(parse_error("[[stage]]\ntype = \"eq\"\nbands = 3\n"), "eq.toml:3: stage 2 (eq): bands"));
  EXPECT_TRUE(Contains(parse_error("[[stage]]\ntype = \"eq\"\nbands = [1, 2]\n"), "array of tables"));
}

TEST(EqParse, ExtremesOfTheRangesAreAccepted) {
  const std::vector<EqBand> b = parse_text(R"([[stage]]
type = "eq"
bands = [
  { type = "bell", freq_hz = 10, gain_db = -24, q = 0.1 },
  { type = "bell", freq_hz = 191999.9, gain_db = 24, q = 20 },
  { type = "low_shelf", freq_hz = 10, gain_db = 24, slope = 1 },
  { type = "high_shelf", freq_hz = 10, gain_db = -24, slope = 0.1 },
  { type = "highpass", freq_hz = 10, slope_db_per_oct = 6 },
  { type = "lowpass", freq_hz = 10, slope_db_per_oct = 48.0 },
  { type = "tilt", db_per_oct = -3, pivot_hz = 20 },
  { type = "tilt", db_per_oct = 3, pivot_hz = 20000 },
]
)");
  ASSERT_EQ(b.size(), 8u);
  EXPECT_EQ(b[5].order, 8);
  for (const auto& band : b)
    for (double f : {0.0, 1e-3, 10.0, 1000.0, 191999.0, 1e6}) {
      const double g = eq_band_gain(band, f);
      EXPECT_TRUE(std::isfinite(g) && g >= 0) << band.label << " at " << f << " Hz: " << g;
    }
}

TEST(EqParse, CheckRateRefusesBandsAtOrAboveNyquist) {
  const std::vector<EqBand> b = parse_text(R"([[stage]]
type = "eq"
bands = [
  { type = "tilt", db_per_oct = 1, pivot_hz = 20000 },
  { type = "bell", freq_hz = 22050, gain_db = 1, q = 1 },
]
)");
  EXPECT_NO_THROW(eq_check_rate(b, 48000, "eq.toml"));
  EXPECT_NO_THROW(eq_check_rate(b, 44101, "eq.toml"));
  try {
    eq_check_rate(b, 44100, "eq.toml");
    ADD_FAILURE() << "expected a ProfileError";
  } catch (const ProfileError& e) {
    const std::string msg = e.message();
    EXPECT_TRUE(Contains(msg, "eq.toml:5: stage 2 (eq) band 2 (bell): freq_hz = 22050"));
    EXPECT_TRUE(Contains(msg, "must be below 22050 Hz"));
    EXPECT_TRUE(Contains(msg, "44100 Hz track"));
  }
  EXPECT_THROW(eq_check_rate(b, 16000, "eq.toml"), ProfileError);
}

// ------------------------------------------------------------------------------------------------------------
// The curve

EqBand bell(double f, double g, double q) {
  EqBand b{};
  b.type = EqBandType::kBell;
  b.freq_hz = f;
  b.gain_db = g;
  b.q = q;
  return b;
}
EqBand shelf(EqBandType t, double f, double g, double q, double slope) {
  EqBand b{};
  b.type = t;
  b.freq_hz = f;
  b.gain_db = g;
  b.q = q;
  b.shelf_slope = slope;
  return b;
}
EqBand pass(EqBandType t, double f, int slope_db) {
  EqBand b{};
  b.type = t;
  b.freq_hz = f;
  b.order = slope_db / 6;
  return b;
}
EqBand tilt(double db_per_oct, double pivot = 1000) {
  EqBand b{};
  b.type = EqBandType::kTilt;
  b.db_per_oct = db_per_oct;
  b.freq_hz = pivot;
  return b;
}

TEST(EqCurve, BandsHaveTheirDefiningValues) {
  EXPECT_NEAR(db(eq_band_gain(bell(2500, -2, 1.4), 2500)), -2.0, 1e-12);
  EXPECT_NEAR(db(eq_band_gain(bell(2500, 6, 1.4), 2500)), 6.0, 1e-12);
  EXPECT_NEAR(db(eq_band_gain(bell(2500, 6, 1.4), 20)), 0.0, 1e-3);
  EXPECT_NEAR(db(eq_band_gain(bell(2500, 6, 1.4), 1e6)), 0.0, 1e-3);
  // Bell: the gain is symmetric in log frequency.
  EXPECT_NEAR(eq_band_gain(bell(1000, 5, 2), 700), eq_band_gain(bell(1000, 5, 2), 1000.0 / 0.7), 1e-12);
  // Shelves: full gain far on their side, 0 dB far on the other, half the dB gain at the corner.
  for (const EqBand& s : {shelf(EqBandType::kLowShelf, 100, 3, 0.707, 0), shelf(EqBandType::kLowShelf, 100, 3, 0, 1)}) {
    EXPECT_NEAR(db(eq_band_gain(s, 0.0)), 3.0, 1e-12);
    EXPECT_NEAR(db(eq_band_gain(s, 100)), 1.5, 1e-12);
    EXPECT_NEAR(db(eq_band_gain(s, 1e6)), 0.0, 1e-6);
  }
  const EqBand hs = shelf(EqBandType::kHighShelf, 10000, 2, 0, 0.7);
  EXPECT_NEAR(db(eq_band_gain(hs, 0.0)), 0.0, 1e-12);
  EXPECT_NEAR(db(eq_band_gain(hs, 10000)), 1.0, 1e-12);
  EXPECT_NEAR(db(eq_band_gain(hs, 1e9)), 2.0, 1e-6);
  // The cookbook: slope S = 1 is Q = 1/sqrt(2) for any gain.
  EXPECT_NEAR(eq_band_gain(shelf(EqBandType::kHighShelf, 5000, 6, 0, 1.0), 3000),
              eq_band_gain(shelf(EqBandType::kHighShelf, 5000, 6, std::sqrt(0.5), 0), 3000), 1e-12);
  // Butterworth: -3.01 dB at the corner for every order, n * 6.02 dB per octave far away, 0 at DC.
  for (int slope : {6, 12, 18, 24, 48}) {
    EXPECT_NEAR(db(eq_band_gain(pass(EqBandType::kHighPass, 30, slope), 30)), -3.0103, 1e-4);
    EXPECT_NEAR(db(eq_band_gain(pass(EqBandType::kLowPass, 18000, slope), 18000)), -3.0103, 1e-4);
    const double hp_slope = db(eq_band_gain(pass(EqBandType::kHighPass, 1000, slope), 2)) -
                            db(eq_band_gain(pass(EqBandType::kHighPass, 1000, slope), 1));
    EXPECT_NEAR(hp_slope, slope / 6 * 6.0206, 1e-3);
    EXPECT_EQ(eq_band_gain(pass(EqBandType::kHighPass, 30, slope), 0.0), 0.0);
    EXPECT_EQ(eq_band_gain(pass(EqBandType::kLowPass, 10, slope), 1e300), 0.0);
  }
  // Tilt: exact dB per octave between 20 Hz and 20 kHz, flat outside.
  EXPECT_EQ(eq_band_gain(tilt(1.5), 1000), 1.0);
  EXPECT_NEAR(db(eq_band_gain(tilt(1.5), 4000)), 3.0, 1e-12);
  EXPECT_NEAR(db(eq_band_gain(tilt(-1), 125)), 3.0, 1e-12);
  EXPECT_EQ(eq_band_gain(tilt(1), 5), eq_band_gain(tilt(1), 20));
  EXPECT_EQ(eq_band_gain(tilt(1), 0), eq_band_gain(tilt(1), 20));
  EXPECT_EQ(eq_band_gain(tilt(1), 40000), eq_band_gain(tilt(1), 20000));
  // The curve is the product of its bands.
  const std::vector<EqBand> two = {bell(1000, 3, 1), tilt(1)};
  EXPECT_EQ(eq_curve_gain(two, 700), eq_band_gain(two[0], 700) * eq_band_gain(two[1], 700));
  EXPECT_EQ(eq_curve_gain({}, 700), 1.0);
}

// ------------------------------------------------------------------------------------------------------------
// The design

struct Worst {
  double db = 0;
  double at_hz = 0;
};

// The worst |realised - curve| in dB over a log grid of `points` frequencies from 20 Hz to min(20 kHz, 0.45 rate)
// where the curve is at or above -60 dB; below, the absolute error must stay under 1e-4.
Worst check_design(const std::vector<EqBand>& bands, double rate, std::span<const double> taps, int points = 200) {
  Worst w;
  const double lo = 20.0, hi = std::min(20000.0, 0.45 * rate);
  for (int i = 0; i < points; ++i) {
    const double f = lo * std::pow(hi / lo, static_cast<double>(i) / (points - 1));
    const double want = eq_curve_gain(bands, f), got = fir_gain(taps, rate, f);
    if (want >= 1e-3) {
      const double e = std::abs(db(got / want));
      if (e > w.db) w = {e, f};
    } else {
      EXPECT_LT(std::abs(got - want), 1e-4) << f << " Hz";
    }
  }
  return w;
}

struct DesignCase {
  const char* name;
  std::vector<EqBand> bands;
};

std::vector<DesignCase> design_cases() {
  return {
      {"highpass 30 Hz 12 dB/oct", {pass(EqBandType::kHighPass, 30, 12)}},
      {"highpass 30 Hz 24 dB/oct", {pass(EqBandType::kHighPass, 30, 24)}},
      {"low shelf 100 Hz +3 dB q 0.707", {shelf(EqBandType::kLowShelf, 100, 3, 0.707, 0)}},
      {"bell 2.5 kHz -2 dB q 1.4", {bell(2500, -2, 1.4)}},
      {"high shelf 10 kHz +2 dB slope 0.7", {shelf(EqBandType::kHighShelf, 10000, 2, 0, 0.7)}},
      {"lowpass 18 kHz 12 dB/oct", {pass(EqBandType::kLowPass, 18000, 12)}},
      {"tilt +1 dB/oct", {tilt(1)}},
      {"tilt -1 dB/oct", {tilt(-1)}},
      {"six-band mastering curve",
       {pass(EqBandType::kHighPass, 30, 24), shelf(EqBandType::kLowShelf, 100, 3, 0.707, 0), bell(250, -1.5, 2),
        bell(2500, -2, 1.4), shelf(EqBandType::kHighShelf, 10000, 2, 0, 0.7), tilt(0.5)}},
  };
}

TEST(EqDesign, RealisedMagnitudeFollowsTheCurveAtEveryRate) {
  double worst_all = 0;
  for (const auto& c : design_cases()) {
    for (double rate : {44100.0, 48000.0, 96000.0, 192000.0}) {
      SCOPED_TRACE(std::string(c.name) + " at " + std::to_string(static_cast<int>(rate)) + " Hz");
      const long taps = eq_auto_fir_taps(c.bands, rate);
      ASSERT_GT(taps, 0);
      EXPECT_EQ(taps % 2, 1);
      const std::vector<double> h = eq_design_fir(c.bands, rate, taps);
      ASSERT_EQ(static_cast<long>(h.size()), taps);
      const Worst w = check_design(c.bands, rate, h);
      EXPECT_LT(w.db, 0.1) << "worst at " << w.at_hz << " Hz";
      // The design's own check on its dense grid agrees with the tolerance it was chosen for.
      const EqFirError e = eq_fir_error(c.bands, rate, h);
      EXPECT_LE(e.db, 0.05);
      worst_all = std::max(worst_all, w.db);
      std::printf("[ eq design ] %-34s %6.0f Hz: %7ld taps, worst %.4f dB at %.1f Hz\n", c.name, rate, taps, w.db,
                  w.at_hz);
    }
  }
  std::printf("[ eq design ] worst of all: %.4f dB\n", worst_all);
}

TEST(EqDesign, LowpassAtTheTopOfTheBandAndDeepCuts) {
  // A lowpass below 20 kHz, a steep highpass whose stopband falls under -60 dB inside the checked range, a
  // narrow deep bell and a broad deep bell.
  const std::vector<DesignCase> cases = {
      {"lowpass 2 kHz 48 dB/oct", {pass(EqBandType::kLowPass, 2000, 48)}},
      {"highpass 200 Hz 48 dB/oct", {pass(EqBandType::kHighPass, 200, 48)}},
      {"highpass 100 Hz 6 dB/oct", {pass(EqBandType::kHighPass, 100, 6)}},
      {"bell 1 kHz -24 dB q 20", {bell(1000, -24, 20)}},
      {"bell 40 Hz -24 dB q 0.1", {bell(40, -24, 0.1)}},
  };
  for (const auto& c : cases) {
    for (double rate : {44100.0, 96000.0}) {
      SCOPED_TRACE(std::string(c.name) + " at " + std::to_string(static_cast<int>(rate)) + " Hz");
      const long taps = eq_auto_fir_taps(c.bands, rate);
      ASSERT_GT(taps, 0);
      const std::vector<double> h = eq_design_fir(c.bands, rate, taps);
      const Worst w = check_design(c.bands, rate, h);
      EXPECT_LT(w.db, 0.1) << "worst at " << w.at_hz << " Hz";
      std::printf("[ eq design ] %-34s %6.0f Hz: %7ld taps, worst %.4f dB at %.1f Hz\n", c.name, rate, taps, w.db,
                  w.at_hz);
    }
  }
}

TEST(EqDesign, TapsAreSymmetricBitForBitAndDeterministic) {
  const std::vector<EqBand> bands = design_cases().back().bands;
  for (long taps : {3L, 63L, 1001L, 16383L}) {
    SCOPED_TRACE(taps);
    const std::vector<double> h = eq_design_fir(bands, 48000, taps);
    ASSERT_EQ(static_cast<long>(h.size()), taps);
    for (long i = 0; i < taps; ++i)
      ASSERT_EQ(std::memcmp(&h[static_cast<std::size_t>(i)], &h[static_cast<std::size_t>(taps - 1 - i)],
                            sizeof(double)),
                0)
          << i;
    const std::vector<double> again = eq_design_fir(bands, 48000, taps);
    ASSERT_EQ(std::memcmp(h.data(), again.data(), h.size() * sizeof(double)), 0);
    // The centre tap is the largest for this gentle curve.
    const std::size_t c = static_cast<std::size_t>((taps - 1) / 2);
    for (double v : h) EXPECT_LE(std::abs(v), h[c]);
  }
}

TEST(EqDesign, FlatEqIsAnExactUnitImpulse) {
  for (long taps : {3L, 63L, 4095L}) {
    for (const std::vector<EqBand>& bands :
         {std::vector<EqBand>{}, std::vector<EqBand>{bell(1000, 0, 1), shelf(EqBandType::kLowShelf, 80, 0, 0.7, 0)}}) {
      const std::vector<double> h = eq_design_fir(bands, 44100, taps);
      ASSERT_EQ(static_cast<long>(h.size()), taps);
      for (long i = 0; i < taps; ++i) {
        EXPECT_EQ(h[static_cast<std::size_t>(i)], i == (taps - 1) / 2 ? 1.0 : 0.0) << i;
      }
    }
  }
  EXPECT_EQ(eq_auto_fir_taps({}, 48000), 63);
}

TEST(EqDesign, TapsGrowWithLowerBandsAndHigherRates) {
  const auto taps_for = [](const EqBand& b, double rate) {
    const std::vector<EqBand> bands = {b};
    return eq_auto_fir_taps(bands, rate);
  };
  // Lower highpass corners need longer filters.
  const long hp120 = taps_for(pass(EqBandType::kHighPass, 120, 24), 48000);
  const long hp60 = taps_for(pass(EqBandType::kHighPass, 60, 24), 48000);
  const long hp30 = taps_for(pass(EqBandType::kHighPass, 30, 24), 48000);
  EXPECT_LT(hp120, hp60);
  EXPECT_LT(hp60, hp30);
  // Lower bells need longer filters, and narrower ones too.
  EXPECT_LT(taps_for(bell(2000, 3, 2), 48000), taps_for(bell(200, 3, 2), 48000));
  EXPECT_LT(taps_for(bell(200, 3, 1), 48000), taps_for(bell(200, 3, 8), 48000));
  // The same curve at a higher rate needs more taps (the same duration).
  const long r48 = taps_for(pass(EqBandType::kHighPass, 30, 24), 48000);
  const long r96 = taps_for(pass(EqBandType::kHighPass, 30, 24), 96000);
  const long r192 = taps_for(pass(EqBandType::kHighPass, 30, 24), 192000);
  EXPECT_LT(r48, r96);
  EXPECT_LT(r96, r192);
  std::printf("[ eq design ] highpass 24 dB/oct at 48 kHz: 120 Hz %ld, 60 Hz %ld, 30 Hz %ld taps; "
              "30 Hz at 96/192 kHz: %ld / %ld taps\n",
              hp120, hp60, hp30, r96, r192);
}

TEST(EqDesign, ImpossibleCurvesGiveZero) {
  EXPECT_EQ(eq_auto_fir_taps(std::vector<EqBand>{bell(12, 6, 20)}, 384000), 0);
  EXPECT_EQ(eq_auto_fir_taps(std::vector<EqBand>{bell(12, -12, 20)}, 384000), 0);
}

TEST(EqDesign, RefusesBadArguments) {
  const std::vector<EqBand> b = {bell(1000, 3, 1)};
  EXPECT_THROW(eq_design_fir(b, 48000, 64), std::invalid_argument);
  EXPECT_THROW(eq_design_fir(b, 48000, 1), std::invalid_argument);
  EXPECT_THROW(eq_design_fir(b, 48000, (1L << 20) + 1), std::invalid_argument);
  EXPECT_THROW(eq_design_fir(b, 0, 63), std::invalid_argument);
  EXPECT_NO_THROW(eq_design_fir(b, 48000, 3));
}

TEST(EqDesign, FirGainOfSimpleFilters) {
  const std::vector<double> impulse = {0.0, 0.0, 1.0, 0.0, 0.0};
  EXPECT_NEAR(fir_gain(impulse, 48000, 1234.5), 1.0, 1e-15);
  const std::vector<double> avg = {0.5, 0.5};  // |cos(pi f / rate)|
  for (double f : {0.0, 1000.0, 12000.0, 23999.0})
    EXPECT_NEAR(fir_gain(avg, 48000, f), std::abs(std::cos(std::numbers::pi * f / 48000)), 1e-14);
  // A long random filter against a direct complex sum with cos/sin per tap.
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> h(20001);
  for (auto& v : h) v = u(rng);
  for (double f : {17.0, 440.0, 15000.0}) {
    std::complex<double> s = 0;
    for (std::size_t n = 0; n < h.size(); ++n)
      s += h[n] * std::polar(1.0, -2.0 * std::numbers::pi * f / 48000 * static_cast<double>(n));
    EXPECT_NEAR(fir_gain(h, 48000, f), std::abs(s), 1e-9 * std::sqrt(static_cast<double>(h.size())));
  }
}

}  // namespace
}  // namespace lathe::host::dsp
