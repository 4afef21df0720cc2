// lathe_bench_measure: how well a set of masters hits a loudness target, measured by libebur128 (the named
// baseline meter, not lathe's own), and a generator of varied-loudness, music-like input files for
// bench/bench_loudnorm.sh.
//
//   lathe_bench_measure INPUT... [--target LUFS] [--ceiling DBTP] [--threads N] [--summary-only]
//                                [--summary-tsv FILE] [--files-tsv FILE]
//   lathe_bench_measure --generate DIR [--tracks N] [--seconds S] [--rate HZ]
//   lathe_bench_measure --click FILE [--seconds S] [--rate HZ]
//
// Measuring: every folder given is one set (its audio files, searched recursively, hidden files skipped, the set
// named after the folder); files given by name form one set called "files". For every file: integrated loudness
// (libebur128 EBUR128_MODE_I), |error| to the target, true peak (EBUR128_MODE_TRUE_PEAK, max over channels, dBTP)
// and whether it is over the ceiling (above it by any amount); then one summary line per set: mean and max |error|,
// max true peak, overs. Files decode through lathe's AudioReader (every format lathe reads), in parallel over
// files with oneTBB. --summary-tsv appends one tab-separated line per set (label, files, measured, mean |error|,
// max |error|, max true peak, overs) and --files-tsv one per file (label, name, integrated LUFS or "gate", true peak
// dBTP), for scripts.
//
// Generating: N stereo 24-bit WAV files of S seconds: drums (kick, snare, hats, crash), bass, pad chords and a
// lead, in 4-bar sections (intro, verses, choruses, a bridge) at different levels, so loudness range differs per
// track; each track has its own tempo, key, drum punch (crest factor) and width, and is set to its own integrated
// loudness, spread from -30 to -8 LUFS (the loud ones soft-clipped under -0.3 dBFS like a hot premaster).
// Deterministic: the same files for the same options.
#include <CLI/CLI.hpp>
#include <ebur128.h>
#include <sndfile.h>
#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <numbers>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "host/io/audio_reader.hpp"

namespace {

namespace fs = std::filesystem;
using namespace lathe::host;

constexpr double kTwoPi = 2.0 * std::numbers::pi;
constexpr std::int64_t kSegmentFrames = std::int64_t{1} << 16;

double db_to_gain(double db) { return std::pow(10.0, db / 20.0); }
double to_db(double lin) { return lin > 0 ? 20.0 * std::log10(lin) : -HUGE_VAL; }
double midi_to_hz(double note) { return 440.0 * std::pow(2.0, (note - 69.0) / 12.0); }

// ---- generator ----------------------------------------------------------------------------------------------

// SplitMix64: the same numbers for the same seed on every machine.
class Prng {
 public:
  explicit Prng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double bipolar() { return 2.0 * unit() - 1.0; }
  double range(double lo, double hi) { return lo + (hi - lo) * unit(); }
  int below(int n) { return static_cast<int>(unit() * n); }

 private:
  std::uint64_t state_;
};

// RBJ cookbook high-pass and band-pass (constant 0 dB peak), transposed direct form II in double.
struct Biquad {
  double b0 = 1, b1 = 0, b2 = 0, a1 = 0, a2 = 0, z1 = 0, z2 = 0;
  double process(double x) {
    const double y = b0 * x + z1;
    z1 = b1 * x - a1 * y + z2;
    z2 = b2 * x - a2 * y;
    return y;
  }
  static Biquad make(bool highpass, double rate_hz, double freq_hz, double q) {
    const double w0 = kTwoPi * freq_hz / rate_hz, c = std::cos(w0), alpha = std::sin(w0) / (2 * q), a0 = 1 + alpha;
    Biquad f;
    if (highpass) {
      f.b0 = (1 + c) / 2 / a0;
      f.b1 = -(1 + c) / a0;
      f.b2 = f.b0;
    } else {
      f.b0 = alpha / a0;
      f.b2 = -alpha / a0;
    }
    f.a1 = -2 * c / a0;
    f.a2 = (1 - alpha) / a0;
    return f;
  }
};

// One mono layer; voices add into it from their start frame.
struct Layer {
  double rate_hz;
  std::vector<float> x;
  std::size_t end(std::size_t start, double length_s) const {
    return std::min(x.size(), start + static_cast<std::size_t>(length_s * rate_hz));
  }
  double t(std::size_t start, std::size_t i) const { return static_cast<double>(i - start) / rate_hz; }
};

void kick(Layer& l, std::size_t at, double gain) {
  double phase = 0;
  for (std::size_t i = at, e = l.end(at, 0.6); i < e; ++i) {
    const double t = l.t(at, i);
    phase += (45.0 + 120.0 * std::exp(-t / 0.03)) / l.rate_hz;
    l.x[i] += static_cast<float>(gain * std::exp(-t / 0.17) * std::sin(kTwoPi * phase));
  }
}

void snare(Layer& l, std::size_t at, double gain, Prng& rng) {
  Biquad band = Biquad::make(false, l.rate_hz, 2500.0, 0.7);
  for (std::size_t i = at, e = l.end(at, 0.5); i < e; ++i) {
    const double t = l.t(at, i);
    const double tone = 0.6 * std::exp(-t / 0.05) * std::sin(kTwoPi * 185.0 * t);
    l.x[i] += static_cast<float>(gain * (tone + 1.4 * std::exp(-t / 0.11) * band.process(rng.bipolar())));
  }
}

// Closed hat (short) or crash (long): high-passed noise bursts, the brightest transients of the mix.
void metal(Layer& l, std::size_t at, double gain, double decay_s, Prng& rng) {
  Biquad high = Biquad::make(true, l.rate_hz, decay_s > 0.2 ? 4500.0 : 7000.0, 0.707);
  for (std::size_t i = at, e = l.end(at, 6 * decay_s); i < e; ++i) {
    const double t = l.t(at, i);
    l.x[i] += static_cast<float>(gain * std::exp(-t / decay_s) * high.process(rng.bipolar()));
  }
}

double saw(double phase) { return 2.0 * (phase - std::floor(phase)) - 1.0; }

// Saw plus sine through a one-pole low-pass that closes after the attack.
void bass(Layer& l, std::size_t at, double dur_s, double freq_hz, double gain) {
  double y = 0;
  for (std::size_t i = at, e = l.end(at, dur_s + 0.03); i < e; ++i) {
    const double t = l.t(at, i);
    const double env = std::min({1.0, t / 0.004, std::max(0.0, 1.0 - (t - dur_s) / 0.03)});
    const double coeff = 1.0 - std::exp(-kTwoPi * (200.0 + 1200.0 * std::exp(-t / 0.08)) / l.rate_hz);
    y += coeff * (saw(freq_hz * t) + std::sin(kTwoPi * freq_hz * t) - y);
    l.x[i] += static_cast<float>(gain * env * y);
  }
}

// Two detuned saws, low-passed: sustained chords under everything.
void pad(Layer& l, std::size_t at, double dur_s, double freq_hz, double gain) {
  double y = 0;
  const double coeff = 1.0 - std::exp(-kTwoPi * 1500.0 / l.rate_hz);
  for (std::size_t i = at, e = l.end(at, dur_s + 0.3); i < e; ++i) {
    const double t = l.t(at, i);
    const double env = std::min({1.0, t / 0.08, std::max(0.0, 1.0 - (t - dur_s) / 0.3)});
    y += coeff * (saw(freq_hz * 1.004 * t) + saw(freq_hz * 0.996 * t + 0.3) - y);
    l.x[i] += static_cast<float>(gain * env * y);
  }
}

// A vibrato saw through two formant band-passes: a voice-like line.
void lead(Layer& l, std::size_t at, double dur_s, double freq_hz, double gain) {
  Biquad f1 = Biquad::make(false, l.rate_hz, 700.0, 6.0), f2 = Biquad::make(false, l.rate_hz, 1800.0, 12.0);
  double phase = 0;
  for (std::size_t i = at, e = l.end(at, dur_s + 0.1); i < e; ++i) {
    const double t = l.t(at, i);
    const double env = std::min({1.0, t / 0.02, std::max(0.0, 1.0 - (t - dur_s) / 0.1)});
    phase += freq_hz * (1.0 + 0.012 * std::min(1.0, t / 0.3) * std::sin(kTwoPi * 5.5 * t)) / l.rate_hz;
    const double src = saw(phase);
    l.x[i] += static_cast<float>(gain * env * (f1.process(src) + 0.6 * f2.process(src)));
  }
}

// Transparent below the knee, then tanh towards the ceiling (never reaching it): a hot premaster's clipper.
double soft_clip(double x, double ceiling) {
  const double knee = 0.7 * ceiling, m = std::fabs(x);
  if (m <= knee) return x;
  return std::copysign(knee + (ceiling - knee) * std::tanh((m - knee) / (ceiling - knee)), x);
}

double integrated_lufs(const std::vector<float>& interleaved, int rate_hz) {
  ebur128_state* st = ebur128_init(2, static_cast<unsigned long>(rate_hz), EBUR128_MODE_I);
  if (!st) throw std::runtime_error("ebur128_init failed");
  ebur128_add_frames_float(st, interleaved.data(), interleaved.size() / 2);
  double v = -HUGE_VAL;
  ebur128_loudness_global(st, &v);
  ebur128_destroy(&st);
  return v;
}

// Integrated loudness of track `index` of `tracks`: a permutation of -30 .. -8 LUFS, so the order looks random.
double target_loudness(int index, int tracks) {
  if (tracks == 1) return -20.0;
  int step = 7;
  while (std::gcd(step, tracks) != 1) ++step;
  return -30.0 + 22.0 * static_cast<double>((index * step) % tracks) / (tracks - 1);
}

std::vector<float> make_song(int index, int tracks, double seconds, int rate_hz) {
  Prng rng(0x1A7E0000ull + static_cast<std::uint64_t>(index));
  Prng noise(0xB0B0B0B0ull ^ static_cast<std::uint64_t>(index));
  const auto frames = static_cast<std::size_t>(seconds * rate_hz);
  const double tempo = rng.range(80, 140), step_s = 60.0 / tempo / 4.0;  // 16th notes
  const int root = 40 + rng.below(12);                                     // bass root, E2 .. D#3
  const double punch = rng.range(0.35, 1.1), dynamics = rng.range(0.2, 1.0), width = rng.range(0.2, 1.0);
  const double hat_level = rng.range(0.08, 0.3);
  static constexpr std::array<std::array<int, 4>, 4> kProgressions = {
      {{0, 7, 9, 5}, {0, 8, 3, 10}, {0, 5, 7, 5}, {9, 5, 0, 7}}};
  const auto& prog = kProgressions[static_cast<std::size_t>(rng.below(4))];
  const bool minor = rng.unit() < 0.5;

  // 4-bar sections: section gain (dB, scaled by the track's dynamics) and which parts play.
  struct Section {
    double gain_db;
    bool drums, bass, lead, crash;
  };
  static constexpr std::array<Section, 7> kForm = {{{-12, false, false, false, false},  // intro: pad and hats
                                                    {-6, true, true, false, false},     // verse
                                                    {0, true, true, true, true},        // chorus
                                                    {-6, true, true, false, false},
                                                    {0, true, true, true, true},
                                                    {-10, false, true, true, false},    // bridge
                                                    {1, true, true, true, true}}};      // last chorus

  Layer kicks{double(rate_hz), std::vector<float>(frames)}, snares = kicks, hats = kicks, basses = kicks,
      pads = kicks, leads = kicks;
  const int steps = static_cast<int>(seconds / step_s) + 1;
  int lead_free = 0;
  for (int s = 0; s < steps; ++s) {
    const auto at = static_cast<std::size_t>(std::llround(s * step_s * rate_hz));
    if (at >= frames) break;
    const int pos = s % 16, bar = s / 16;
    const Section& sec = kForm[static_cast<std::size_t>(std::min(bar / 4, static_cast<int>(kForm.size()) - 1))];
    const double g = db_to_gain(dynamics * sec.gain_db);
    const int chord_root = root + prog[static_cast<std::size_t>(bar % 4)];
    if (sec.drums) {
      if (pos == 0 || pos == 8 || (pos == 10 && bar % 2 == 1)) kick(kicks, at, 0.9 * punch * g);
      if (pos == 4 || pos == 12) snare(snares, at, 0.5 * punch * g, noise);
      if (pos == 15 && bar % 4 == 3) snare(snares, at, 0.3 * punch * g, noise);
    }
    if (pos % 2 == 0) metal(hats, at, hat_level * g * (pos % 4 == 0 ? 1.0 : 0.6), 0.03, noise);
    if (sec.crash && pos == 0 && bar % 4 == 0) metal(hats, at, 0.5 * punch * g, 0.6, noise);
    if (sec.bass && pos % 4 != 1) bass(basses, at, 1.6 * step_s, midi_to_hz(chord_root), 0.35 * g);
    if (pos == 0)
      for (int iv : {12, minor ? 15 : 16, 19}) pad(pads, at, 16 * step_s, midi_to_hz(chord_root + iv), 0.07 * g);
    if (sec.lead && pos % 2 == 0 && s >= lead_free) {
      if (rng.unit() < 0.3) {
        lead_free = s + 2;
      } else {
        static constexpr std::array<int, 5> kScale = {0, 3, 5, 7, 10};
        const int len = 2 * (1 + rng.below(3));
        lead(leads, at, 0.9 * len * step_s, midi_to_hz(chord_root + 24 + kScale[static_cast<std::size_t>(rng.below(5))]),
             0.5 * g);
        lead_free = s + len;
      }
    }
  }

  // Mix: kick, snare and bass in the centre, the rest panned by the track's width (hats with a short delay).
  struct Part {
    const Layer* layer;
    double pan;
    std::size_t delay;
  };
  const auto haas = static_cast<std::size_t>(0.012 * width * rate_hz);
  const std::array<Part, 6> parts = {{{&kicks, 0, 0},
                                      {&snares, 0.1 * width, 0},
                                      {&basses, 0, 0},
                                      {&hats, 0.5 * width, haas},
                                      {&pads, -0.6 * width, 0},
                                      {&leads, 0.2 * width, 0}}};
  std::vector<double> mix(frames * 2, 0.0);
  for (const Part& p : parts) {
    const double angle = (p.pan + 1.0) * std::numbers::pi / 4.0;
    const std::array<double, 2> gains = {std::numbers::sqrt2 * std::cos(angle), std::numbers::sqrt2 * std::sin(angle)};
    for (std::size_t c = 0; c < 2; ++c) {
      const std::size_t lag = (p.pan > 0) == (c == 0) ? p.delay : 0;  // the far side lags
      for (std::size_t i = lag; i < frames; ++i) mix[i * 2 + c] += gains[c] * p.layer->x[i - lag];
    }
  }
  // Fades: 5 ms in, 0.5 s out.
  for (std::size_t i = 0; i < frames; ++i) {
    const double f = std::min({1.0, static_cast<double>(i) / (0.005 * rate_hz),
                               static_cast<double>(frames - 1 - i) / (0.5 * rate_hz)});
    mix[i * 2] *= f;
    mix[i * 2 + 1] *= f;
  }

  // Level: a few measure-and-scale rounds through the clipper (which takes level back from the loud ones).
  const double target = target_loudness(index, tracks), ceiling = db_to_gain(-0.3);
  std::vector<float> out(frames * 2);
  double gain = 1.0;
  for (int round = 0; round < 6; ++round) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(soft_clip(gain * mix[i], ceiling));
    const double measured = integrated_lufs(out, rate_hz);
    if (!std::isfinite(measured) || std::fabs(measured - target) < 0.01) break;
    gain *= db_to_gain(target - measured);
  }
  return out;
}

// A stereo 32-bit float WAV of S seconds: one sample at 1.0 on both channels, then silence. Rendered through a
// reverb stage, it gives that stage's impulse response as a file (bench/bench_chain.sh).
int write_click(const fs::path& path, double seconds, int rate_hz) {
  std::vector<float> x(static_cast<std::size_t>(seconds * rate_hz) * 2, 0.0f);
  x[0] = x[1] = 1.0f;
  SF_INFO info{};
  info.samplerate = rate_hz;
  info.channels = 2;
  info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  if (!f) {
    std::cerr << "lathe_bench_measure: cannot write " << path << "\n";
    return 1;
  }
  const auto frames = static_cast<sf_count_t>(x.size() / 2);
  const bool ok = sf_writef_float(f, x.data(), frames) == frames;
  sf_close(f);
  return ok ? 0 : 1;
}

int generate(const fs::path& dir, int tracks, double seconds, int rate_hz) {
  fs::create_directories(dir);
  std::vector<std::string> failed(static_cast<std::size_t>(tracks));
  tbb::parallel_for(0, tracks, [&](int t) {
    char name[32];
    std::snprintf(name, sizeof name, "track%02d.wav", t + 1);
    const std::vector<float> x = make_song(t, tracks, seconds, rate_hz);
    SF_INFO info{};
    info.samplerate = rate_hz;
    info.channels = 2;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_24;
    const fs::path path = dir / name;
    SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
    const auto frames = static_cast<sf_count_t>(x.size() / 2);
    if (!f) {
      failed[static_cast<std::size_t>(t)] = path.string();
      return;
    }
    sf_command(f, SFC_SET_CLIPPING, nullptr, SF_TRUE);
    if (sf_writef_float(f, x.data(), frames) != frames) failed[static_cast<std::size_t>(t)] = path.string();
    sf_close(f);
  });
  for (const auto& f : failed)
    if (!f.empty()) {
      std::cerr << "lathe_bench_measure: cannot write " << f << "\n";
      return 1;
    }
  std::printf("lathe_bench_measure: wrote %d stereo 24-bit WAV files of %.0f s at %d Hz to %s "
              "(integrated loudness spread over -30 .. -8 LUFS)\n",
              tracks, seconds, rate_hz, dir.c_str());
  return 0;
}

// ---- measuring --------------------------------------------------------------------------------------------------

struct Measure {
  std::optional<double> integrated_lufs;  // nullopt: below the gate
  double true_peak_dbtp = -HUGE_VAL;
  std::string error;                      // could not be read
};

Measure measure_file(const fs::path& path) {
  Measure m;
  try {
    AudioReader reader(path);
    const int channels = reader.info().channels;
    ebur128_state* st = ebur128_init(static_cast<unsigned>(channels), static_cast<unsigned long>(reader.info().rate_hz),
                                     EBUR128_MODE_I | EBUR128_MODE_TRUE_PEAK);
    if (!st) throw std::runtime_error("ebur128_init failed");
    std::vector<float> buf(static_cast<std::size_t>(kSegmentFrames) * static_cast<std::size_t>(channels));
    for (std::int64_t got; (got = reader.read_interleaved(buf.data(), kSegmentFrames)) > 0;)
      ebur128_add_frames_float(st, buf.data(), static_cast<std::size_t>(got));
    double v = 0;
    if (ebur128_loudness_global(st, &v) == EBUR128_SUCCESS && std::isfinite(v)) m.integrated_lufs = v;
    double peak = 0;
    for (unsigned c = 0; c < static_cast<unsigned>(channels); ++c)
      if (ebur128_true_peak(st, c, &v) == EBUR128_SUCCESS) peak = std::max(peak, v);
    m.true_peak_dbtp = to_db(peak);
    ebur128_destroy(&st);
  } catch (const std::exception& e) {
    m.error = e.what();
  }
  return m;
}

struct Set {
  std::string label;
  fs::path root;  // names are printed relative to it (empty: as given)
  std::vector<fs::path> files;
};

std::vector<fs::path> audio_files_under(const fs::path& dir) {
  std::vector<fs::path> out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
    if (it->path().filename().string().starts_with(".")) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() && has_audio_extension(it->path())) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string fmt(double v, const char* spec) {
  if (!std::isfinite(v)) return v < 0 ? "-inf" : "nan";
  char b[32];
  std::snprintf(b, sizeof b, spec, v);
  return b;
}

struct Summary {
  int files = 0, measured = 0, overs = 0, unreadable = 0;
  double mean_err = 0, max_err = 0, max_tp = -HUGE_VAL;
};

Summary measure_set(const Set& set, double target, double ceiling, bool summary_only, std::ostream* files_tsv) {
  std::vector<Measure> ms(set.files.size());
  tbb::parallel_for(
      tbb::blocked_range<std::size_t>(0, set.files.size(), 1),
      [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t i = r.begin(); i != r.end(); ++i) ms[i] = measure_file(set.files[i]);
      },
      tbb::simple_partitioner());
  Summary s;
  s.files = static_cast<int>(set.files.size());
  if (!summary_only) std::printf("%s (%d files)\n", set.label.c_str(), s.files);
  double sum_err = 0;
  for (std::size_t i = 0; i < ms.size(); ++i) {
    const Measure& m = ms[i];
    const std::string name =
        set.root.empty() ? set.files[i].string() : set.files[i].lexically_relative(set.root).string();
    if (!m.error.empty()) {
      ++s.unreadable;
      std::printf("  %-28s error: %s\n", name.c_str(), m.error.c_str());
      continue;
    }
    const bool over = m.true_peak_dbtp > ceiling;
    s.overs += over ? 1 : 0;
    s.max_tp = std::max(s.max_tp, m.true_peak_dbtp);
    std::optional<double> err;
    if (m.integrated_lufs) {
      err = std::fabs(*m.integrated_lufs - target);
      ++s.measured;
      sum_err += *err;
      s.max_err = std::max(s.max_err, *err);
    }
    if (files_tsv)
      *files_tsv << set.label << '\t' << name << '\t'
                 << (m.integrated_lufs ? fmt(*m.integrated_lufs, "%.4f") : std::string("gate")) << '\t'
                 << fmt(m.true_peak_dbtp, "%.4f") << '\n';
    if (!summary_only)
      std::printf("  %-28s %9s LUFS  |error| %7s LU  %8s dBTP%s\n", name.c_str(),
                  m.integrated_lufs ? fmt(*m.integrated_lufs, "%.3f").c_str() : "gate",
                  err ? fmt(*err, "%.3f").c_str() : "-", fmt(m.true_peak_dbtp, "%.3f").c_str(),
                  over ? "  OVER" : "");
  }
  s.mean_err = s.measured > 0 ? sum_err / s.measured : 0.0;
  std::printf("summary %-20s %3d files: mean |error| %.3f LU, max |error| %.3f LU, max true peak %s dBTP, "
              "overs %d (ceiling %.1f dBTP)%s%s\n",
              (set.label + ":").c_str(), s.files, s.mean_err, s.max_err, fmt(s.max_tp, "%.3f").c_str(), s.overs,
              ceiling, s.measured < s.files - s.unreadable ? ", some below the gate (not in the errors)" : "",
              s.unreadable > 0 ? ", SOME UNREADABLE" : "");
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> inputs;
  double target = -14.0, ceiling = -1.0;
  int threads = 0;
  std::string summary_tsv, files_tsv;
  bool summary_only = false;
  std::string gen_dir, click;
  int tracks = 16;
  double seconds = 30;
  int rate_hz = 44100;
  CLI::App app{"lathe_bench_measure: integrated-loudness error and true peak of masters, by libebur128; "
               "--generate writes varied-loudness music-like test inputs"};
  app.add_option("inputs", inputs, "Files and folders to measure (each folder is one set; loose files one more)");
  app.add_option("--target", target, "Integrated loudness target, LUFS")->check(CLI::Range(-70.0, 0.0));
  app.add_option("--ceiling", ceiling, "True-peak ceiling, dBTP")->check(CLI::Range(-20.0, 0.0));
  app.add_option("--threads", threads, "Threads (0 = all)")->check(CLI::NonNegativeNumber);
  app.add_option("--summary-tsv", summary_tsv,
                 "Append one tab-separated line per set: label files measured mean_err max_err max_tp overs");
  app.add_option("--files-tsv", files_tsv,
                 "Append one tab-separated line per file: label name integrated_lufs|gate true_peak_dbtp");
  app.add_flag("--summary-only", summary_only, "Print only the summary line of each set");
  app.add_option("--generate", gen_dir, "Write generated input files into this folder instead of measuring");
  app.add_option("--click", click, "Write a stereo click (one sample at 1.0, then silence) to this WAV file");
  app.add_option("--tracks", tracks, "With --generate: stereo tracks")->check(CLI::PositiveNumber);
  app.add_option("--seconds", seconds, "With --generate: seconds per track; with --click: the file's length")->check(CLI::PositiveNumber);
  app.add_option("--rate", rate_hz, "With --generate or --click: sample rate in Hz")->check(CLI::Range(kMinRateHz, kMaxRateHz));
  CLI11_PARSE(app, argc, argv);
  std::unique_ptr<tbb::global_control> limit;
  if (threads > 0)
    limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                  static_cast<std::size_t>(threads));
  if (!gen_dir.empty()) return generate(gen_dir, tracks, seconds, rate_hz);
  if (!click.empty()) return write_click(click, seconds, rate_hz);
  if (inputs.empty()) {
    std::cerr << "lathe_bench_measure: nothing to measure (give files or folders, or --generate DIR)\n"
              << app.help();
    return 2;
  }

  std::vector<Set> sets;
  Set loose{"files", fs::path(), {}};
  for (const auto& in : inputs) {
    const fs::path p(in);
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      fs::path clean = fs::absolute(p).lexically_normal();
      if (clean.filename().empty()) clean = clean.parent_path();  // "out/lathe/" names the set "lathe"
      sets.push_back({clean.filename().string(), p, audio_files_under(p)});
    } else if (fs::exists(p, ec)) {
      loose.files.push_back(p);
    } else {
      std::cerr << "lathe_bench_measure: " << in << ": no such file or folder\n";
      return 2;
    }
  }
  if (!loose.files.empty()) sets.push_back(loose);

  int major = 0, minor = 0, patch = 0;
  ebur128_get_version(&major, &minor, &patch);
  std::printf("lathe_bench_measure: libebur128 %d.%d.%d (EBUR128_MODE_I | EBUR128_MODE_TRUE_PEAK), target %.1f LUFS, "
              "ceiling %.1f dBTP\n",
              major, minor, patch, target, ceiling);
  int status = 0;
  std::ofstream tsv, per_file;
  if (!summary_tsv.empty()) tsv.open(summary_tsv, std::ios::app);
  if (!files_tsv.empty()) per_file.open(files_tsv, std::ios::app);
  if ((!summary_tsv.empty() && !tsv) || (!files_tsv.empty() && !per_file)) {
    std::cerr << "lathe_bench_measure: cannot write the TSV file\n";
    return 2;
  }
  for (const Set& set : sets) {
    const Summary s = measure_set(set, target, ceiling, summary_only, per_file.is_open() ? &per_file : nullptr);
    if (s.unreadable > 0 || s.files == 0) status = 1;
    if (tsv.is_open())
      tsv << set.label << '\t' << s.files << '\t' << s.measured << '\t' << fmt(s.mean_err, "%.4f") << '\t'
          << fmt(s.max_err, "%.4f") << '\t' << fmt(s.max_tp, "%.3f") << '\t' << s.overs << '\n';
  }
  return status;
}
