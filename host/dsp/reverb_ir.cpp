#include "host/dsp/reverb_ir.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>

#include "host/dsp/resample_design.hpp"
#include "host/errors.hpp"
#include "host/io/audio_reader.hpp"

namespace lathe::host::dsp {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Uniform in [-1, 1) from a counter (splitmix64 finaliser): the same sequence everywhere.
double noise_at(std::uint64_t seed, std::uint64_t i) {
  std::uint64_t z = seed + (i + 1) * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

struct Recipe {
  double t60_low, t60_high, buildup_ms, length_s;
  std::vector<double> reflections_ms;  // early reflections (left; the right channel's are 7% later)
};

const Recipe& recipe(const std::string& name) {
  static const Recipe room{0.55, 0.35, 8.0, 0.7, {3.1, 5.3, 7.9, 11.2, 13.7, 17.9, 23.3, 31.0}};
  static const Recipe plate{1.8, 1.2, 2.0, 2.0, {}};
  static const Recipe hall{2.6, 1.5, 25.0, 3.0, {12.0, 19.5, 27.0, 33.5, 41.0, 52.5, 67.0, 86.0}};
  if (name == "room") return room;
  if (name == "plate") return plate;
  return hall;
}

// y = biquad(x) in place, direct form I in double.
void biquad(std::vector<double>& x, double b0, double b1, double b2, double a1, double a2) {
  double x1 = 0, x2 = 0, y1 = 0, y2 = 0;
  for (double& v : x) {
    const double y = b0 * v + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
    x2 = x1;
    x1 = v;
    y2 = y1;
    y1 = y;
    v = y;
  }
}

// 2nd-order Butterworth (Q = 1/sqrt 2) by the bilinear transform (RBJ cookbook form).
void butterworth(std::vector<double>& x, double rate, double hz, bool highpass) {
  const double w = 2.0 * kPi * hz / rate, c = std::cos(w), alpha = std::sin(w) / (2.0 * std::sqrt(0.5));
  const double a0 = 1.0 + alpha;
  if (highpass)
    biquad(x, (1 + c) / 2 / a0, -(1 + c) / a0, (1 + c) / 2 / a0, -2 * c / a0, (1 - alpha) / a0);
  else
    biquad(x, (1 - c) / 2 / a0, (1 - c) / a0, (1 - c) / 2 / a0, -2 * c / a0, (1 - alpha) / a0);
}

}  // namespace

const std::vector<std::string>& builtin_ir_names() {
  static const std::vector<std::string> names = {"room", "plate", "hall"};
  return names;
}

std::vector<std::vector<double>> builtin_ir(const std::string& name, int rate_hz) {
  const Recipe& r = recipe(name);
  const double rate = rate_hz;
  const auto n = static_cast<std::size_t>(std::llround(r.length_s * rate));
  // Decay per sample for -60 dB over T60: exp(ln(10^-3) / (T60 * rate)).
  const double d_low = std::exp(std::log(1e-3) / (r.t60_low * rate));
  const double d_high = std::exp(std::log(1e-3) / (r.t60_high * rate));
  const double split = 1.0 - std::exp(-2.0 * kPi * 3000.0 / rate);  // one-pole low-pass coefficient
  const auto buildup = std::max<std::size_t>(1, static_cast<std::size_t>(r.buildup_ms * 1e-3 * rate));
  std::vector<std::vector<double>> ir(2, std::vector<double>(n, 0.0));
  for (std::size_t c = 0; c < 2; ++c) {
    double lp = 0, env_low = 1, env_high = 1;
    const std::uint64_t seed = 0x5eed0000ULL + c * 0x1000ULL + std::hash<std::string>{}(name) % 997;
    for (std::size_t i = 0; i < n; ++i) {
      const double w = noise_at(seed, i);
      lp += split * (w - lp);
      const double fade = i < buildup ? 0.5 - 0.5 * std::cos(kPi * static_cast<double>(i) / static_cast<double>(buildup)) : 1.0;
      ir[c][i] = fade * (lp * env_low + (w - lp) * env_high);
      env_low *= d_low;
      env_high *= d_high;
    }
    // Early reflections: decaying, alternating in sign, the right channel's 7% later than the left's.
    for (std::size_t k = 0; k < r.reflections_ms.size(); ++k) {
      const double ms = r.reflections_ms[k] * (c == 0 ? 1.0 : 1.07);
      const auto at = static_cast<std::size_t>(std::llround(ms * 1e-3 * rate));
      if (at < n) ir[c][at] += (k % 2 == 0 ? 1.0 : -1.0) * 3.0 * std::pow(0.8, static_cast<double>(k));
    }
  }
  return ir;
}

void shape_ir(std::vector<std::vector<double>>& ir, int rate_hz, const IrShaping& s) {
  const double rate = rate_hz;
  for (auto& ch : ir) {
    if (s.length_s > 0) ch.resize(std::min(ch.size(), static_cast<std::size_t>(std::llround(s.length_s * rate))));
    const auto fade = std::min(ch.size(), static_cast<std::size_t>(std::llround(s.fade_ms * 1e-3 * rate)));
    // k samples from the end: gain 0 at the last sample, rising to 1 at the start of the fade (no step).
    for (std::size_t k = 0; k < fade; ++k)
      ch[ch.size() - 1 - k] *= 0.5 - 0.5 * std::cos(kPi * static_cast<double>(k) / static_cast<double>(fade));
    if (s.highpass_hz > 0) butterworth(ch, rate, s.highpass_hz, true);
    if (s.lowpass_hz > 0) butterworth(ch, rate, s.lowpass_hz, false);
  }
  double energy = 0;
  for (const auto& ch : ir)
    for (double v : ch) energy += v * v;
  // Per output: a true-stereo IR's four responses feed two outputs.
  energy /= static_cast<double>(ir.size() == 4 ? 2 : ir.size());
  if (!(energy > 1e-30) || !std::isfinite(energy))
    throw Error("the impulse response is silent (or becomes silent once trimmed)", "check the IR file and ir_length_s");
  const double g = 1.0 / std::sqrt(energy);
  const auto pre = static_cast<std::size_t>(std::llround(s.predelay_ms * 1e-3 * rate));
  for (auto& ch : ir) {
    for (double& v : ch) v *= g;
    ch.insert(ch.begin(), pre, 0.0);
  }
}

std::vector<std::vector<double>> load_ir_file(const std::string& path, int rate_hz) {
  if (!std::filesystem::exists(path))
    throw Error("impulse response not found: " + path, "give a path relative to the profile file, or an absolute one");
  std::vector<std::vector<float>> planar;
  int channels = 0, rate = 0;
  try {
    AudioReader reader(path);
    channels = reader.info().channels;
    rate = reader.info().rate_hz;
    if (channels != 1 && channels != 2 && channels != 4)
      throw Error("impulse response " + path + " has " + std::to_string(channels) +
                      " channels; lathe takes mono, stereo or true-stereo (4-channel: L>L, L>R, R>L, R>R) IRs",
                  "export the IR as 1, 2 or 4 channels");
    planar.assign(static_cast<std::size_t>(channels), {});
    std::vector<std::vector<float>> part;
    for (;;) {
      const std::int64_t got = reader.read_planar(part, 1 << 16);
      if (got <= 0) break;
      for (std::size_t c = 0; c < planar.size(); ++c)
        planar[c].insert(planar[c].end(), part[c].begin(), part[c].begin() + got);
      if (planar[0].size() > (std::size_t{1} << 23)) throw Error("impulse response " + path + " is too long", "trim it");
    }
  } catch (const Error& e) {
    if (dynamic_cast<const InputError*>(&e) != nullptr)
      throw Error("cannot read impulse response " + path + ": " + e.message(), "give a readable audio file");
    throw;
  }
  if (planar.empty() || planar[0].empty()) throw Error("impulse response " + path + " holds no audio", "");
  std::vector<std::vector<double>> ir;
  for (auto& ch : planar) {
    for (float v : ch)
      if (!std::isfinite(v)) throw Error("impulse response " + path + " has non-finite samples", "repair the file");
    if (rate != rate_hz) {
      const ResampleDesign& d = resample_design(rate, rate_hz);
      ch = resample_channel(d, ch.data(), static_cast<std::int64_t>(ch.size()));
    }
    ir.emplace_back(ch.begin(), ch.end());
  }
  return ir;
}

}  // namespace lathe::host::dsp
