#include "host/dsp/eq_design.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <functional>
#include <numbers>
#include <sstream>
#include <stdexcept>

#include "host/dsp/fft_double.hpp"
#include "host/dsp/kaiser.hpp"
#include "host/errors.hpp"
#include "host/profile/profile_table.hpp"

namespace lathe::host::dsp {
namespace {

// ---------------------------------------------------------------------------------------------------------------
// Profile parsing

const std::vector<std::string>& type_names() {
  static const std::vector<std::string> names = {"bell", "low_shelf", "high_shelf", "highpass", "lowpass", "tilt"};
  return names;
}

const char* type_name(EqBandType t) {
  switch (t) {
    case EqBandType::kBell: return "bell";
    case EqBandType::kLowShelf: return "low_shelf";
    case EqBandType::kHighShelf: return "high_shelf";
    case EqBandType::kHighPass: return "highpass";
    case EqBandType::kLowPass: return "lowpass";
    case EqBandType::kTilt: return "tilt";
  }
  return "bell";
}

const char* channels_name(EqChannels c) {
  switch (c) {
    case EqChannels::kStereo: return "stereo";
    case EqChannels::kMid: return "mid";
    case EqChannels::kSide: return "side";
  }
  return "stereo";
}

std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

std::string range_text(double lo, double hi, const char* unit) {
  return "must be between " + fmt(lo) + " and " + fmt(hi) + " " + unit;
}

const std::string& freq_range_text() {
  static const std::string s = "must be a number of Hz, at least " + fmt(kEqMinFreqHz) + " Hz and below " +
                               fmt(kEqMaxFreqHz) + " Hz (the Nyquist frequency of 384 kHz, the highest supported " +
                               "sample rate; each track's own Nyquist frequency is checked when it is processed)";
  return s;
}

// A required number in [lo, hi].
double required(ProfileTable& t, const std::string& key, double lo, double hi, const char* unit) {
  if (!t.has(key)) {
    t.consume(key);
    t.fail(key, "missing; " + range_text(lo, hi, unit));
  }
  return t.number(key, lo, hi, 0.0, unit);
}

// A frequency in [kEqMinFreqHz, kEqMaxFreqHz). Read here rather than by ProfileTable::number so that the upper
// bound can be exclusive and the message can say why.
double frequency(const toml::table& table, ProfileTable& t, const std::string& key) {
  t.consume(key);
  if (!table.contains(key)) t.fail(key, "missing; " + freq_range_text());
  const double v = t.number_value(key, freq_range_text());
  if (!std::isfinite(v) || v < kEqMinFreqHz || v >= kEqMaxFreqHz) t.fail(key, freq_range_text());
  return v;
}

EqBand parse_band(const toml::table& bt, const std::string& file, const std::string& base) {
  const toml::node* type_node = bt.get("type");
  std::string allowed;
  for (const auto& a : type_names()) allowed += (allowed.empty() ? "\"" : ", \"") + a + "\"";
  if (!type_node || !type_node->as_string()) {
    ProfileTable t(bt, file, base);
    t.fail("type", "missing or not a string; must be one of " + allowed);
  }
  const std::string label = base + " (" + type_node->as_string()->get() + ")";
  ProfileTable t(bt, file, label);
  const std::string type = t.choice("type", type_names(), "");
  EqBand b{};
  b.line = static_cast<int>(bt.source().begin.line);
  b.label = label;
  const std::string ch = t.choice("channels", {"stereo", "mid", "side"}, "stereo");
  b.channels = ch == "mid" ? EqChannels::kMid : ch == "side" ? EqChannels::kSide : EqChannels::kStereo;
  static constexpr const char* kQUnit = "(Q: higher is narrower)";
  static constexpr const char* kSlopeUnit = "(shelf slope S: 1 is the steepest without overshoot)";
  if (type == "bell") {
    b.type = EqBandType::kBell;
    b.freq_hz = frequency(bt, t, "freq_hz");
    b.gain_db = required(t, "gain_db", -kEqMaxGainDb, kEqMaxGainDb, "dB");
    b.q = required(t, "q", kEqMinQ, kEqMaxQ, kQUnit);
  } else if (type == "low_shelf" || type == "high_shelf") {
    b.type = type == "low_shelf" ? EqBandType::kLowShelf : EqBandType::kHighShelf;
    b.freq_hz = frequency(bt, t, "freq_hz");
    b.gain_db = required(t, "gain_db", -kEqMaxGainDb, kEqMaxGainDb, "dB");
    t.consume("q");
    t.consume("slope");
    const std::string both = "a shelf takes exactly one of q (" + fmt(kEqMinQ) + " to " + fmt(kEqMaxQ) +
                             ") or slope (" + fmt(kEqMinShelfSlope) + " to " + fmt(kEqMaxShelfSlope) + ")";
    if (t.has("q") && t.has("slope")) t.fail("slope", "q is given too; " + both);
    if (!t.has("q") && !t.has("slope")) t.fail("q", "missing; " + both);
    if (t.has("q"))
      b.q = t.number("q", kEqMinQ, kEqMaxQ, 0.0, kQUnit);
    else
      b.shelf_slope = t.number("slope", kEqMinShelfSlope, kEqMaxShelfSlope, 0.0, kSlopeUnit);
  } else if (type == "highpass" || type == "lowpass") {
    b.type = type == "highpass" ? EqBandType::kHighPass : EqBandType::kLowPass;
    b.freq_hz = frequency(bt, t, "freq_hz");
    const char* slope_unit = "dB/oct, a multiple of 6 (6 dB/oct per Butterworth order)";
    const double slope = t.number("slope_db_per_oct", 6.0, 48.0, 12.0, slope_unit);
    if (slope != 6.0 * std::round(slope / 6.0)) t.fail("slope_db_per_oct", range_text(6.0, 48.0, slope_unit));
    b.order = static_cast<int>(std::lround(slope / 6.0));
  } else {
    b.type = EqBandType::kTilt;
    b.db_per_oct = required(t, "db_per_oct", -kEqMaxTiltDbPerOct, kEqMaxTiltDbPerOct, "dB/oct");
    b.freq_hz = t.number("pivot_hz", kEqTiltLowHz, kEqTiltHighHz, 1000.0, "Hz");
  }
  t.reject_unknown_keys();
  return b;
}

// ---------------------------------------------------------------------------------------------------------------
// The curve

// A band with its constants computed once, so that the dense grid costs only + - * / sqrt (and one log2 and exp
// for a tilt) per point. eq_band_gain goes through the same code, so the grid and the single-point function agree
// bit for bit.
struct Prepared {
  EqBandType type = EqBandType::kBell;
  double f0 = 1;
  double a = 1;       // shelves: A; bell unused
  double k_num = 0;   // bell: A/Q; shelves: sqrt(A)/Q
  double k_den = 0;   // bell: 1/(A Q)
  int order = 1;
  double tilt = 0;    // tilt: dB per octave
};

Prepared prepare(const EqBand& b) {
  Prepared p;
  p.type = b.type;
  p.f0 = b.freq_hz;
  p.order = b.order;
  p.tilt = b.db_per_oct;
  const double a = std::pow(10.0, b.gain_db / 40.0);
  p.a = a;
  switch (b.type) {
    case EqBandType::kBell:
      p.k_num = a / b.q;
      p.k_den = 1.0 / (a * b.q);
      break;
    case EqBandType::kLowShelf:
    case EqBandType::kHighShelf: {
      double inv_q = 0;
      if (b.shelf_slope > 0)
        inv_q = std::sqrt((a + 1.0 / a) * (1.0 / b.shelf_slope - 1.0) + 2.0);  // RBJ cookbook
      else
        inv_q = 1.0 / b.q;
      p.k_num = std::sqrt(a) * inv_q;
      break;
    }
    default:
      break;
  }
  return p;
}

double ipow(double x, int n) {
  double r = 1.0;
  for (int i = 0; i < n; ++i) r *= x;
  return r;
}

double gain_of(const Prepared& p, double f) {
  const double x = f / p.f0;
  const double x2 = x * x;
  switch (p.type) {
    case EqBandType::kBell: {
      const double re = 1.0 - x2;
      const double ni = x * p.k_num, di = x * p.k_den;
      return std::sqrt((re * re + ni * ni) / (re * re + di * di));
    }
    case EqBandType::kLowShelf: {
      // A (s^2 + sqrt(A)/Q s + A) / (A s^2 + sqrt(A)/Q s + 1), s = jx
      const double nr = p.a - x2, dr = 1.0 - p.a * x2, im = x * p.k_num;
      return p.a * std::sqrt((nr * nr + im * im) / (dr * dr + im * im));
    }
    case EqBandType::kHighShelf: {
      // A (A s^2 + sqrt(A)/Q s + 1) / (s^2 + sqrt(A)/Q s + A)
      const double nr = 1.0 - p.a * x2, dr = p.a - x2, im = x * p.k_num;
      return p.a * std::sqrt((nr * nr + im * im) / (dr * dr + im * im));
    }
    case EqBandType::kHighPass: {
      if (!(f > 0)) return 0.0;
      const double r = ipow(p.f0 / f, 2 * p.order);  // (fc/f)^2n; may be +inf far below fc
      return std::isfinite(r) ? 1.0 / std::sqrt(1.0 + r) : 0.0;
    }
    case EqBandType::kLowPass: {
      const double r = ipow(x, 2 * p.order);
      return std::isfinite(r) ? 1.0 / std::sqrt(1.0 + r) : 0.0;
    }
    case EqBandType::kTilt: {
      const double fc = std::clamp(f, kEqTiltLowHz, kEqTiltHighHz);
      const double db = p.tilt * std::log2(fc / p.f0);
      return std::pow(10.0, db / 20.0);
    }
  }
  return 1.0;
}

// ---------------------------------------------------------------------------------------------------------------
// The design

constexpr int kMinLog2Taps = 6;
constexpr int kMaxLog2Taps = 20;
constexpr long kGridFactor = 4;        // dense grid: kGridFactor * (taps + 1) points over [0, rate)
// The window: a Kaiser window w (beta 8) sharpened to 1 - (1 - w)^3. Windowing smooths the sampled curve by
// the window's transform; a window that is flat to sixth order at its centre (1 - w ~ t^2, so 1 - w' ~ t^6)
// leaves smooth curves nearly untouched, and its tails (w' ~ 3w) keep the Kaiser window's leakage. Measured on
// the bands of tests/host/test_eq_design.cpp (and steep, narrow and deep ones), it needs half the taps of a
// plain Kaiser window of the best beta for the same +-0.05 dB; beta 8 was the best compromise between
// narrow features (low beta) and deep, wide cuts (high beta).
constexpr double kKaiserBeta = 8.0;
constexpr double kTolDb = 0.05;
constexpr double kFloorLinear = 1e-3;  // -60 dB
constexpr double kFloorAbsTol = 1e-4;  // -80 dB

// The narrowest feature of the curve in Hz (a bell's bandwidth, a shelf's or a filter's corner, the tilt's
// corner at 20 Hz). No FIR shorter than about rate / width can resolve it, so the search for a length starts
// at kMinCyclesPerFeature * rate / width; this also keeps the dense grid (4 points per 1/taps) fine enough to
// see every feature, so that the check on the grid cannot miss a narrow band between grid points.
constexpr double kMinCyclesPerFeature = 2.0;
double narrowest_feature_hz(std::span<const EqBand> bands) {
  double w = kEqTiltHighHz;
  for (const auto& b : bands) {
    switch (b.type) {
      case EqBandType::kBell:
        w = std::min(w, b.freq_hz * std::min(1.0, 1.0 / b.q));
        break;
      case EqBandType::kLowShelf:
      case EqBandType::kHighShelf: {
        const double q = b.shelf_slope > 0 ? 1.0 / std::sqrt((prepare(b).a + 1.0 / prepare(b).a) *
                                                                   (1.0 / b.shelf_slope - 1.0) + 2.0)
                                           : b.q;
        w = std::min(w, b.freq_hz * std::min(1.0, 1.0 / q));
        break;
      }
      case EqBandType::kHighPass:
      case EqBandType::kLowPass:
        w = std::min(w, b.freq_hz);
        break;
      case EqBandType::kTilt:
        w = std::min(w, kEqTiltLowHz);
        break;
    }
  }
  return w;
}

long grid_size(long taps) {
  long m = 8;
  while (m < kGridFactor * (taps + 1)) m *= 2;
  return m;
}

// The curve on the dense grid: m/2 + 1 samples at k * rate / m.
std::vector<double> curve_on_grid(std::span<const EqBand> bands, double rate_hz, long m) {
  std::vector<Prepared> prepared;
  prepared.reserve(bands.size());
  for (const auto& b : bands) prepared.push_back(prepare(b));
  const auto half = static_cast<std::size_t>(m / 2);
  std::vector<double> d(half + 1);
  for (std::size_t k = 0; k <= half; ++k) {
    const double f = static_cast<double>(k) * rate_hz / static_cast<double>(m);
    double g = 1.0;
    for (const auto& p : prepared) g *= gain_of(p, f);
    d[k] = g;
  }
  return d;
}

// Taps h[c], h[c+1], ... h[c+half] (centre outwards) of the windowed zero-phase design from the grid curve.
std::vector<double> design_half(const std::vector<double>& d, long m, long half, const RealFftDouble& plan,
                                double beta) {
  // d is real and even around 0 (and around rate/2), so its inverse DFT is real and even: h(n) = DFT(d)(n) / m.
  const auto mu = static_cast<std::size_t>(m);
  std::vector<double> full(mu);
  for (std::size_t k = 0; k <= mu / 2; ++k) full[k] = d[k];
  for (std::size_t k = mu / 2 + 1; k < mu; ++k) full[k] = d[mu - k];
  std::vector<std::complex<double>> spec(mu / 2 + 1);
  plan.forward(full, spec);
  const double i0b = bessel_i0(beta);
  std::vector<double> out(static_cast<std::size_t>(half) + 1);
  for (long i = 0; i <= half; ++i) {
    const double r = static_cast<double>(i) / static_cast<double>(half);
    const double kaiser = bessel_i0(beta * std::sqrt(std::max(0.0, 1.0 - r * r))) / i0b;
    const double u = 1.0 - kaiser;
    const double w = 1.0 - u * u * u;  // sharpened: see kKaiserBeta
    out[static_cast<std::size_t>(i)] = spec[static_cast<std::size_t>(i)].real() / static_cast<double>(m) * w;
  }
  return out;
}

// The realised zero-phase amplitude of the centre-outward half taps on the dense grid.
std::vector<double> realised_on_grid(std::span<const double> half_taps, long m, const RealFftDouble& plan) {
  const auto mu = static_cast<std::size_t>(m);
  std::vector<double> z(mu, 0.0);
  z[0] = half_taps[0];
  for (std::size_t i = 1; i < half_taps.size(); ++i) {
    z[i] = half_taps[i];
    z[mu - i] = half_taps[i];
  }
  std::vector<std::complex<double>> spec(mu / 2 + 1);
  plan.forward(z, spec);
  std::vector<double> a(mu / 2 + 1);
  for (std::size_t k = 0; k < a.size(); ++k) a[k] = spec[k].real();
  return a;
}

EqFirError grid_error(std::span<const double> d, std::span<const double> a, long m, double rate_hz,
                      EqCheckRange range) {
  EqFirError e;
  const auto k0 = static_cast<std::size_t>(std::ceil(range.low_hz * static_cast<double>(m) / rate_hz));
  const auto k1 = std::min(d.size() - 1,
                           static_cast<std::size_t>(std::floor(range.high_hz * static_cast<double>(m) / rate_hz)));
  for (std::size_t k = k0; k <= k1; ++k) {
    const double want = d[k], got = std::abs(a[k]);
    if (want >= kFloorLinear) {
      const double db = got > 0 ? std::abs(20.0 * std::log10(got / want)) : 1e9;
      e.db = std::max(e.db, db);
    } else {
      e.below_60db_abs = std::max(e.below_60db_abs, std::abs(got - want));
    }
  }
  return e;
}

void check_design_args(double rate_hz, long taps) {
  if (!(rate_hz > 0) || !std::isfinite(rate_hz)) throw std::invalid_argument("eq_design_fir: rate must be positive");
  if (taps < 3 || taps > kEqMaxFirTaps || taps % 2 == 0)
    throw std::invalid_argument("eq_design_fir: taps must be odd, 3 .. 2^20 - 1 (got " + std::to_string(taps) + ")");
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------

std::vector<EqBand> parse_eq_bands(const toml::table& stage_table, const std::string& file, const std::string& where) {
  std::vector<EqBand> bands;
  const toml::node* n = stage_table.get("bands");
  if (!n) return bands;
  ProfileTable stage(stage_table, file, where);
  const toml::array* arr = n->as_array();
  if (!arr || (!arr->empty() && !arr->is_array_of_tables()))
    stage.fail("bands",
               "must be an array of tables: bands = [ { type = \"bell\", freq_hz = 3000, gain_db = -2, q = 1.4 } ] "
               "or [[stage.bands]] tables");
  if (arr->size() > static_cast<std::size_t>(kEqMaxBands))
    stage.fail("bands", "at most " + std::to_string(kEqMaxBands) + " bands");
  int index = 0;
  for (const toml::node& item : *arr) {
    ++index;
    bands.push_back(parse_band(*item.as_table(), file, where + " band " + std::to_string(index)));
  }
  return bands;
}

toml::array eq_bands_to_toml(std::span<const EqBand> bands) {
  toml::array out;
  for (const auto& b : bands) {
    toml::table t;
    t.insert_or_assign("type", type_name(b.type));
    t.insert_or_assign("channels", channels_name(b.channels));
    switch (b.type) {
      case EqBandType::kBell:
        t.insert_or_assign("freq_hz", b.freq_hz);
        t.insert_or_assign("gain_db", b.gain_db);
        t.insert_or_assign("q", b.q);
        break;
      case EqBandType::kLowShelf:
      case EqBandType::kHighShelf:
        t.insert_or_assign("freq_hz", b.freq_hz);
        t.insert_or_assign("gain_db", b.gain_db);
        if (b.shelf_slope > 0)
          t.insert_or_assign("slope", b.shelf_slope);
        else
          t.insert_or_assign("q", b.q);
        break;
      case EqBandType::kHighPass:
      case EqBandType::kLowPass:
        t.insert_or_assign("freq_hz", b.freq_hz);
        t.insert_or_assign("slope_db_per_oct", static_cast<std::int64_t>(6 * b.order));
        break;
      case EqBandType::kTilt:
        t.insert_or_assign("db_per_oct", b.db_per_oct);
        t.insert_or_assign("pivot_hz", b.freq_hz);
        break;
    }
    out.push_back(std::move(t));
  }
  return out;
}

void eq_check_rate(std::span<const EqBand> bands, double rate_hz, const std::string& file) {
  const double nyquist = rate_hz / 2.0;
  for (const auto& b : bands) {
    if (b.type == EqBandType::kTilt || b.freq_hz < nyquist) continue;
    throw ProfileError(file + ":" + std::to_string(b.line) + ": " + b.label + ": freq_hz = " + fmt(b.freq_hz) +
                       ": must be below " + fmt(nyquist) + " Hz, the Nyquist frequency of this " + fmt(rate_hz) +
                       " Hz track (allowed: " + fmt(kEqMinFreqHz) + " Hz up to, not including, " + fmt(nyquist) +
                       " Hz)");
  }
}

double eq_band_gain(const EqBand& band, double f_hz) { return gain_of(prepare(band), f_hz); }

double eq_curve_gain(std::span<const EqBand> bands, double f_hz) {
  double g = 1.0;
  for (const auto& b : bands) g *= gain_of(prepare(b), f_hz);
  return g;
}

EqCheckRange eq_check_range(std::span<const EqBand> bands, double rate_hz) {
  double low = 20.0;
  for (const auto& b : bands)
    if (b.type != EqBandType::kTilt) low = std::min(low, b.freq_hz);
  return {low, std::min(20000.0, 0.45 * rate_hz)};
}

std::vector<double> design_linear_phase_fir(const std::function<double(double f_hz)>& gain, double rate_hz,
                                            long taps) {
  check_design_args(rate_hz, taps);
  const long half = (taps - 1) / 2;
  std::vector<double> h(static_cast<std::size_t>(taps), 0.0);
  const long m = grid_size(taps);
  const auto mh = static_cast<std::size_t>(m / 2);
  std::vector<double> d(mh + 1);
  for (std::size_t k = 0; k <= mh; ++k) d[k] = gain(static_cast<double>(k) * rate_hz / static_cast<double>(m));
  if (std::all_of(d.begin(), d.end(), [](double v) { return v == 1.0; })) {
    h[static_cast<std::size_t>(half)] = 1.0;
    return h;
  }
  const RealFftDouble plan(static_cast<std::size_t>(m));
  const std::vector<double> hh = design_half(d, m, half, plan, kKaiserBeta);
  for (long i = 0; i <= half; ++i) {
    h[static_cast<std::size_t>(half + i)] = hh[static_cast<std::size_t>(i)];
    h[static_cast<std::size_t>(half - i)] = hh[static_cast<std::size_t>(i)];
  }
  return h;
}

std::vector<double> eq_design_fir(std::span<const EqBand> bands, double rate_hz, long taps) {
  check_design_args(rate_hz, taps);
  if (bands.empty()) {
    std::vector<double> h(static_cast<std::size_t>(taps), 0.0);
    h[static_cast<std::size_t>((taps - 1) / 2)] = 1.0;
    return h;
  }
  std::vector<Prepared> prepared;
  prepared.reserve(bands.size());
  for (const auto& b : bands) prepared.push_back(prepare(b));
  // The same product, in the same order, as curve_on_grid: the taps are the same bits as before the refactor.
  return design_linear_phase_fir(
      [&](double f) {
        double g = 1.0;
        for (const auto& p : prepared) g *= gain_of(p, f);
        return g;
      },
      rate_hz, taps);
}

EqFirError eq_fir_error(std::span<const EqBand> bands, double rate_hz, std::span<const double> taps) {
  check_design_args(rate_hz, static_cast<long>(taps.size()));
  const long t = static_cast<long>(taps.size());
  const long half = (t - 1) / 2;
  const long m = grid_size(t);
  const std::vector<double> d = curve_on_grid(bands, rate_hz, m);
  const RealFftDouble plan(static_cast<std::size_t>(m));
  const std::vector<double> a = realised_on_grid(taps.subspan(static_cast<std::size_t>(half)), m, plan);
  return grid_error(d, a, m, rate_hz, eq_check_range(bands, rate_hz));
}

long eq_auto_fir_taps(std::span<const EqBand> bands, double rate_hz) {
  if (!(rate_hz > 0) || !std::isfinite(rate_hz)) throw std::invalid_argument("eq_auto_fir_taps: rate must be positive");
  if (bands.empty()) return (1L << kMinLog2Taps) - 1;
  const EqCheckRange range = eq_check_range(bands, rate_hz);
  const double min_taps = kMinCyclesPerFeature * rate_hz / narrowest_feature_hz(bands);
  for (int k = kMinLog2Taps; k <= kMaxLog2Taps; ++k) {
    const long taps = (1L << k) - 1;
    if (static_cast<double>(taps) < min_taps) continue;
    const long half = (taps - 1) / 2;
    const long m = grid_size(taps);
    const std::vector<double> d = curve_on_grid(bands, rate_hz, m);
    const RealFftDouble plan(static_cast<std::size_t>(m));
    const std::vector<double> hh = design_half(d, m, half, plan, kKaiserBeta);
    const std::vector<double> a = realised_on_grid(hh, m, plan);
    const EqFirError e = grid_error(d, a, m, rate_hz, range);
    if (e.db <= kTolDb && e.below_60db_abs <= kFloorAbsTol) return taps;
  }
  return 0;
}

double fir_gain(std::span<const double> taps, double rate_hz, double f_hz) {
  if (taps.empty()) return 0.0;
  // Phases relative to the centre keep the arguments small; the phasor is recomputed with cos/sin every 64 taps
  // and rotated in between, which keeps the sum accurate to ~1e-13 at a fraction of the cost of cos per tap.
  const double w = 2.0 * std::numbers::pi * f_hz / rate_hz;
  const double c = static_cast<double>(taps.size() - 1) / 2.0;
  const double rot_re = std::cos(w), rot_im = -std::sin(w);
  double sum_re = 0, sum_im = 0;
  constexpr std::size_t kBlock = 64;
  for (std::size_t start = 0; start < taps.size(); start += kBlock) {
    const double phase = -w * (static_cast<double>(start) - c);
    double pr = std::cos(phase), pi = std::sin(phase);
    const std::size_t end = std::min(taps.size(), start + kBlock);
    for (std::size_t n = start; n < end; ++n) {
      sum_re += taps[n] * pr;
      sum_im += taps[n] * pi;
      const double nr = pr * rot_re - pi * rot_im;
      pi = pr * rot_im + pi * rot_re;
      pr = nr;
    }
  }
  return std::hypot(sum_re, sum_im);
}

}  // namespace lathe::host::dsp
