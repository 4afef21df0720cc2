#include "demo_set.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <string>
#include <string_view>
#include <utility>

namespace lathe::host {
namespace {

using Channels = std::vector<std::vector<float>>;

constexpr double kTwoPi = 2.0 * std::numbers::pi;
constexpr double kPieceLength_s = 8.0;
constexpr int kStepsPerBar = 16;  // drum and bass patterns are written on a 16th-note grid
constexpr int kBarsInLoop = 4;    // every piece cycles a four-chord progression
constexpr double kFadeIn_s = 0.003;
constexpr double kFadeOut_s = 0.15;  // the last notes are cut by the end of the piece, so fade rather than click

double db_to_gain(double gain_db) { return std::pow(10.0, gain_db / 20.0); }
double midi_to_hz(double note) { return 440.0 * std::pow(2.0, (note - 69.0) / 12.0); }
double cents_to_ratio(double cents) { return std::pow(2.0, cents / 1200.0); }

// SplitMix64: tiny, and its output depends only on the seed, so every call renders identical noise.
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
  int below(int n) { return static_cast<int>(unit() * n); }
 private:
  std::uint64_t state_;
};

// Transposed direct form II; double state keeps the narrow formant resonators clean even at 96 kHz.
struct Biquad {
  double b0 = 1.0, b1 = 0.0, b2 = 0.0, a1 = 0.0, a2 = 0.0;
  double z1 = 0.0, z2 = 0.0;
  double process(double x) {
    const double y = b0 * x + z1;
    z1 = b1 * x - a1 * y + z2;
    z2 = b2 * x - a2 * y;
    return y;
  }
};

enum class FilterKind { highpass, bandpass };

// Robert Bristow-Johnson's "Audio EQ Cookbook"; the band-pass is the constant 0 dB peak-gain variant,
// so a resonator's level does not depend on its Q.
Biquad design_biquad(FilterKind kind, double rate_hz, double freq_hz, double q) {
  const double w0 = kTwoPi * freq_hz / rate_hz;
  const double cos_w0 = std::cos(w0);
  const double alpha = std::sin(w0) / (2.0 * q);
  const double a0 = 1.0 + alpha;
  double b0 = 0.0, b1 = 0.0, b2 = 0.0;
  switch (kind) {
    case FilterKind::highpass: b0 = (1.0 + cos_w0) / 2.0; b1 = -(1.0 + cos_w0); b2 = b0; break;
    case FilterKind::bandpass: b0 = alpha; b1 = 0.0; b2 = -alpha; break;
  }
  return {b0 / a0, b1 / a0, b2 / a0, -2.0 * cos_w0 / a0, (1.0 - alpha) / a0};
}

// 6 dB/octave is enough to take the fizz off raw saws without adding a resonant "synth" character.
struct OnePole {
  double y = 0.0;
  double process(double x, double coeff) { return y += coeff * (x - y); }
};
double one_pole_coeff(double rate_hz, double cutoff_hz) { return 1.0 - std::exp(-kTwoPi * cutoff_hz / rate_hz); }

// Phase in cycles [0, 1); waveforms are read before advance().
struct Phasor {
  double phase = 0.0;
  double dt = 0.0;
  void set_freq(double freq_hz, double rate_hz) { dt = freq_hz / rate_hz; }
  void advance() { phase += dt; phase -= std::floor(phase); }
  double sine() const { return std::sin(kTwoPi * phase); }
  double triangle() const { return 1.0 - 4.0 * std::abs(phase - 0.5); }
  // PolyBLEP smooths the reset step so high notes do not alias audibly at 44.1 kHz.
  double saw() const {
    double y = 2.0 * phase - 1.0;
    if (phase < dt) {
      const double t = phase / dt;
      y -= t + t - t * t - 1.0;
    } else if (phase > 1.0 - dt) {
      const double t = (phase - 1.0) / dt;
      y -= t * t + t + t + 1.0;
    }
    return y;
  }
};

// Linear attack, flat sustain, linear release once the nominal duration is over.
double ar_envelope(double t_s, double dur_s, double attack_s, double release_s) {
  if (t_s < attack_s) return t_s / attack_s;
  if (t_s < dur_s) return 1.0;
  return std::max(0.0, 1.0 - (t_s - dur_s) / release_s);
}

// One mono layer of a piece; voices add into it from their start frame.
struct Canvas {
  double rate_hz;
  std::vector<float> data;
  Canvas(double rate, std::size_t frames) : rate_hz(rate), data(frames, 0.0f) {}
  std::size_t end_of(std::size_t start, double length_s) const {
    return std::min(data.size(), start + static_cast<std::size_t>(length_s * rate_hz));
  }
  double seconds(std::size_t start, std::size_t i) const { return static_cast<double>(i - start) / rate_hz; }
};

void add_kick(Canvas& c, std::size_t start, double gain) {
  constexpr double kStart_hz = 160.0, kEnd_hz = 45.0, kSweep_s = 0.035, kDecay_s = 0.16, kLength_s = 0.7;
  Phasor osc;
  for (std::size_t i = start, end = c.end_of(start, kLength_s); i < end; ++i) {
    const double t_s = c.seconds(start, i);
    osc.set_freq(kEnd_hz + (kStart_hz - kEnd_hz) * std::exp(-t_s / kSweep_s), c.rate_hz);
    c.data[i] += static_cast<float>(gain * std::exp(-t_s / kDecay_s) * osc.sine());
    osc.advance();
  }
}

void add_snare(Canvas& c, std::size_t start, double gain, Prng& rng) {
  constexpr double kBody_hz = 185.0, kBodyDecay_s = 0.05, kBodyLevel = 0.6;
  constexpr double kNoiseCentre_hz = 2500.0, kNoiseQ = 0.7, kNoiseDecay_s = 0.11, kLength_s = 0.5;
  Biquad band = design_biquad(FilterKind::bandpass, c.rate_hz, kNoiseCentre_hz, kNoiseQ);
  Phasor body;
  body.set_freq(kBody_hz, c.rate_hz);
  for (std::size_t i = start, end = c.end_of(start, kLength_s); i < end; ++i) {
    const double t_s = c.seconds(start, i);
    const double tone = kBodyLevel * std::exp(-t_s / kBodyDecay_s) * body.sine();
    const double noise = std::exp(-t_s / kNoiseDecay_s) * band.process(rng.bipolar());
    c.data[i] += static_cast<float>(gain * (tone + noise));
    body.advance();
  }
}

void add_hat(Canvas& c, std::size_t start, double gain, Prng& rng) {
  constexpr double kCutoff_hz = 7000.0, kQ = 0.707, kDecay_s = 0.03, kLength_s = 0.2;
  Biquad high = design_biquad(FilterKind::highpass, c.rate_hz, kCutoff_hz, kQ);
  for (std::size_t i = start, end = c.end_of(start, kLength_s); i < end; ++i) {
    const double t_s = c.seconds(start, i);
    c.data[i] += static_cast<float>(gain * std::exp(-t_s / kDecay_s) * high.process(rng.bipolar()));
  }
}

// The filter opens on the attack and closes fast: a round pluck that stays out of the kick's way.
void add_bass_note(Canvas& c, std::size_t start, double dur_s, double freq_hz, double gain) {
  constexpr double kAttack_s = 0.004, kRelease_s = 0.04;
  constexpr double kFloor_hz = 180.0, kSweepDepth_hz = 1400.0, kSweep_s = 0.07;
  Phasor osc;
  osc.set_freq(freq_hz, c.rate_hz);
  OnePole low;
  for (std::size_t i = start, end = c.end_of(start, dur_s + kRelease_s); i < end; ++i) {
    const double t_s = c.seconds(start, i);
    const double cutoff_hz = kFloor_hz + kSweepDepth_hz * std::exp(-t_s / kSweep_s);
    const double raw = osc.saw() + osc.sine();  // the sine keeps the fundamental solid
    const double env = ar_envelope(t_s, dur_s, kAttack_s, kRelease_s);
    c.data[i] += static_cast<float>(gain * env * low.process(raw, one_pole_coeff(c.rate_hz, cutoff_hz)));
    osc.advance();
  }
}

// Saw and triangle detuned in opposite directions beat slowly against each other, which reads as "pad".
void add_pad_note(Canvas& c, std::size_t start, double dur_s, double freq_hz, double detune_cents, double gain) {
  constexpr double kAttack_s = 0.06, kRelease_s = 0.3, kCutoff_hz = 1400.0, kTriangleLevel = 0.7;
  Phasor saw_osc, tri_osc;
  saw_osc.set_freq(freq_hz * cents_to_ratio(detune_cents), c.rate_hz);
  tri_osc.set_freq(freq_hz * cents_to_ratio(-detune_cents), c.rate_hz);
  OnePole low;
  const double coeff = one_pole_coeff(c.rate_hz, kCutoff_hz);
  for (std::size_t i = start, end = c.end_of(start, dur_s + kRelease_s); i < end; ++i) {
    const double t_s = c.seconds(start, i);
    const double raw = saw_osc.saw() + kTriangleLevel * tri_osc.triangle();
    c.data[i] += static_cast<float>(gain * ar_envelope(t_s, dur_s, kAttack_s, kRelease_s) * low.process(raw, coeff));
    saw_osc.advance();
    tri_osc.advance();
  }
}

// Adult male formant averages from Peterson & Barney (1952).
struct Vowel { char name; std::array<double, 3> formant_hz; };
constexpr std::array<Vowel, 5> kVowels = {{{'a', {730.0, 1090.0, 2440.0}}, {'e', {530.0, 1840.0, 2480.0}},
                                           {'i', {270.0, 2290.0, 3010.0}}, {'o', {570.0, 840.0, 2410.0}},
                                           {'u', {300.0, 870.0, 2240.0}}}};
constexpr std::array<double, 3> kFormantBandwidth_hz = {80.0, 100.0, 120.0};
constexpr std::array<double, 3> kFormantLevel = {1.0, 0.5, 0.25};  // falls with frequency, like a real voice

const Vowel& find_vowel(char name) {
  const auto it = std::ranges::find(kVowels, name, &Vowel::name);
  return it != kVowels.end() ? *it : kVowels.front();
}

void add_lead_note(Canvas& c, std::size_t start, double dur_s, double freq_hz, char vowel, double gain) {
  constexpr double kAttack_s = 0.03, kRelease_s = 0.12;
  constexpr double kVibrato_hz = 5.5, kVibratoDepth_cents = 30.0, kVibratoDelay_s = 0.15, kVibratoFadeIn_s = 0.2;
  std::array<Biquad, 3> resonators;
  for (std::size_t k = 0; k < resonators.size(); ++k) {
    const double centre_hz = find_vowel(vowel).formant_hz[k];
    resonators[k] = design_biquad(FilterKind::bandpass, c.rate_hz, centre_hz, centre_hz / kFormantBandwidth_hz[k]);
  }
  Phasor source, vibrato;
  vibrato.set_freq(kVibrato_hz, c.rate_hz);
  for (std::size_t i = start, end = c.end_of(start, dur_s + kRelease_s); i < end; ++i) {
    const double t_s = c.seconds(start, i);
    // Singers settle on the pitch before vibrato starts; wobbling from the first instant sounds synthetic.
    const double depth_cents = kVibratoDepth_cents * std::clamp((t_s - kVibratoDelay_s) / kVibratoFadeIn_s, 0.0, 1.0);
    source.set_freq(freq_hz * cents_to_ratio(depth_cents * vibrato.sine()), c.rate_hz);
    const double glottal = source.saw();
    double voiced = 0.0;
    for (std::size_t k = 0; k < resonators.size(); ++k) voiced += kFormantLevel[k] * resonators[k].process(glottal);
    c.data[i] += static_cast<float>(gain * ar_envelope(t_s, dur_s, kAttack_s, kRelease_s) * voiced);
    source.advance();
    vibrato.advance();
  }
}

struct Part {
  const Canvas* canvas;
  double pan;      // -1 hard left .. +1 hard right
  double haas_ms;  // delay on the channel opposite the pan, which widens without changing level
};

Channels mix_parts(const std::vector<Part>& parts, int channels, double rate_hz, std::size_t frames) {
  Channels out(static_cast<std::size_t>(channels), std::vector<float>(frames, 0.0f));
  for (const Part& part : parts) {
    const std::vector<float>& mono = part.canvas->data;
    if (channels == 1) {
      for (std::size_t i = 0; i < frames; ++i) out[0][i] += mono[i];
      continue;
    }
    // Equal-power pan law, normalised so a centred voice has unity gain in each channel.
    const double angle = (part.pan + 1.0) * std::numbers::pi / 4.0;
    const std::array<double, 2> gains = {std::numbers::sqrt2 * std::cos(angle), std::numbers::sqrt2 * std::sin(angle)};
    const std::size_t far_channel = part.pan > 0.0 ? 0 : 1;
    const auto delay = static_cast<std::size_t>(std::lround(part.haas_ms * rate_hz / 1000.0));
    for (std::size_t ch = 0; ch < 2; ++ch) {
      const std::size_t lag = ch == far_channel ? delay : 0;
      for (std::size_t i = lag; i < frames; ++i) out[ch][i] += static_cast<float>(gains[ch] * mono[i - lag]);
    }
  }
  return out;
}

void apply_fades(Channels& channels, double rate_hz) {
  for (auto& ch : channels) {
    const std::size_t n = ch.size();
    for (std::size_t i = 0; i < n; ++i) {
      const double from_start_s = static_cast<double>(i) / rate_hz;
      const double to_end_s = static_cast<double>(n - 1 - i) / rate_hz;
      ch[i] *= static_cast<float>(std::min({1.0, from_start_s / kFadeIn_s, to_end_s / kFadeOut_s}));
    }
  }
}

// Transparent below the knee; above it, tanh bends towards the ceiling without ever reaching it.
constexpr double kClipKnee = 0.6;  // fraction of the ceiling
double soft_clip(double x, double ceiling) {
  const double knee = kClipKnee * ceiling;
  const double magnitude = std::abs(x);
  if (magnitude <= knee) return x;
  const double room = ceiling - knee;
  return std::copysign(knee + room * std::tanh((magnitude - knee) / room), x);
}

double rms_after(const Channels& channels, double gain, double ceiling) {
  double sum_sq = 0.0;
  std::size_t count = 0;
  for (const auto& ch : channels) {
    for (float s : ch) sum_sq += std::pow(soft_clip(gain * s, ceiling), 2);
    count += ch.size();
  }
  return std::sqrt(sum_sq / static_cast<double>(count));
}

// Loud targets drive the clipper, which takes some level back, so the gain is refined a fixed number of times.
void master(Channels& channels, double rms_dbfs, double peak_dbfs) {
  constexpr int kGainPasses = 8;
  const double target_rms = db_to_gain(rms_dbfs);
  const double ceiling = db_to_gain(peak_dbfs);
  double gain = 1.0;
  for (int pass = 0; pass < kGainPasses; ++pass) {
    const double rms = rms_after(channels, gain, ceiling);
    if (rms <= 0.0) return;
    gain *= target_rms / rms;
  }
  for (auto& ch : channels)
    for (float& s : ch) s = static_cast<float>(soft_clip(gain * s, ceiling));
}

using Triad = std::array<int, 3>;  // semitones relative to the key

struct PieceSpec {
  std::string_view file_name, title;
  int rate_hz, channels;
  double tempo_bpm;
  int key_midi;  // lead register; pads sit an octave below and bass two octaves below
  std::array<Triad, kBarsInLoop> chords;
  std::array<int, kBarsInLoop> bass_roots;
  // 16 steps per bar: 'X' accent, 'x' normal hit, '.' rest.
  std::string_view kick, snare, hats, bass;
  std::string_view vowels;  // cycled note by note through the lead line
  double width;             // 0..1, scales every pan position
  double haas_ms, rms_dbfs, peak_dbfs;
  std::uint64_t seed;
};

constexpr std::array<PieceSpec, 5> kPieces = {{
    {"01-bright-pop.wav", "Bright Pop", 44100, 2, 118.0, 60,  // C major, I-V-vi-IV
     {{{0, 4, 7}, {-1, 2, 7}, {0, 4, 9}, {0, 5, 9}}}, {0, -5, -3, -7},
     "X.....x.X.......", "....X.......X...", "x.x.x.x.x.x.x.x.", "X..x..x.X..x..x.", "aoea",
     0.6, 0.0, -14.0, -1.0, 0x1001},
    {"02-quiet-ballad.wav", "Quiet Ballad", 48000, 2, 70.0, 57,  // A minor, i-VI-III-VII
     {{{0, 3, 7}, {-4, 0, 3}, {-2, 3, 7}, {-2, 2, 5}}}, {0, -4, 3, -2},
     "X.........x.....", "........x.......", "x...x...x...x...", "X.......x.......", "ouo",
     0.15, 0.0, -24.0, -1.0, 0x2002},
    {"03-loud-electro.wav", "Loud Electro", 44100, 2, 128.0, 65,  // F minor, i-VI-VII-v
     {{{0, 3, 7}, {-4, 0, 3}, {-2, 2, 5}, {-5, -2, 2}}}, {0, -4, -2, -5},
     "X...X...X...X...", "....X.......X...", "xxXxxxXxxxXxxxXx", ".xX..xX..xX..xX.", "aeia",
     1.0, 14.0, -10.0, -0.3, 0x3003},
    {"04-mono-groove.wav", "Mono Groove", 44100, 1, 96.0, 62,  // D dorian, i-IV-i-VII
     {{{0, 3, 7}, {-3, 0, 5}, {0, 3, 7}, {-2, 2, 5}}}, {0, -7, 0, -2},
     "X..x..X...X.....", "....X..x....X...", "x.xxx.xxx.xxx.xx", "X..X..x.X.x.x...", "oau",
     0.0, 0.0, -18.0, -1.0, 0x4004},
    {"05-hires-shuffle.wav", "Hi-Res Shuffle", 96000, 2, 90.0, 63,  // E-flat major, I-vi-IV-V
     {{{0, 4, 7}, {-3, 0, 4}, {-3, 0, 5}, {-5, -1, 2}}}, {0, -3, -7, -5},
     "X.......X..x....", "....X.......X..x", "x.x.x.x.x.x.x.x.", "X...x...X...x.x.", "eiae",
     0.45, 0.0, -16.0, -1.0, 0x5005},
}};

constexpr bool patterns_are_one_bar(const PieceSpec& p) {
  return p.kick.size() == kStepsPerBar && p.snare.size() == kStepsPerBar && p.hats.size() == kStepsPerBar &&
         p.bass.size() == kStepsPerBar && !p.vowels.empty();
}
static_assert(std::ranges::all_of(kPieces, patterns_are_one_bar));

double velocity(char step) { return step == 'X' ? 1.0 : step == 'x' ? 0.55 : 0.0; }

// Relative layer levels before mastering; mastering sets the absolute loudness.
constexpr double kKickLevel = 0.9, kSnareLevel = 0.5, kHatLevel = 0.25, kBassLevel = 0.42;
constexpr double kPadNoteLevel = 0.1, kLeadLevel = 0.6, kPadDetune_cents = 7.0;
constexpr double kLeadRestChance = 0.3;

DemoTrack render_piece(const PieceSpec& spec) {
  const double rate_hz = spec.rate_hz;
  const auto frames = static_cast<std::size_t>(kPieceLength_s * rate_hz);
  const double step_s = 60.0 / spec.tempo_bpm / 4.0;
  const double bar_s = step_s * kStepsPerBar;
  const int steps = static_cast<int>(std::ceil(kPieceLength_s / step_s));
  Prng noise(spec.seed);
  Prng melody(spec.seed ^ 0xA5A5A5A5ull);  // separate stream: changing a drum pattern leaves the tune alone
  Canvas kick(rate_hz, frames), snare(rate_hz, frames), hats(rate_hz, frames), bass(rate_hz, frames);
  Canvas pad_low(rate_hz, frames), pad_high(rate_hz, frames), lead(rate_hz, frames);

  int lead_busy_until = 0;
  std::size_t lead_notes = 0;
  for (int step = 0; step < steps; ++step) {
    const auto at = static_cast<std::size_t>(std::lround(step * step_s * rate_hz));
    const auto pos = static_cast<std::size_t>(step % kStepsPerBar);
    const auto bar = static_cast<std::size_t>(step / kStepsPerBar % kBarsInLoop);
    const Triad& chord = spec.chords[bar];
    if (const double v = velocity(spec.kick[pos]); v > 0.0) add_kick(kick, at, kKickLevel * v);
    if (const double v = velocity(spec.snare[pos]); v > 0.0) add_snare(snare, at, kSnareLevel * v, noise);
    if (const double v = velocity(spec.hats[pos]); v > 0.0) add_hat(hats, at, kHatLevel * v, noise);
    if (const double v = velocity(spec.bass[pos]); v > 0.0)
      add_bass_note(bass, at, 1.8 * step_s, midi_to_hz(spec.key_midi - 24 + spec.bass_roots[bar]), kBassLevel * v);
    if (pos == 0) {
      for (int note : chord) {
        const double freq_hz = midi_to_hz(spec.key_midi - 12 + note);
        add_pad_note(pad_low, at, bar_s, freq_hz, -kPadDetune_cents, kPadNoteLevel);
        add_pad_note(pad_high, at, bar_s, freq_hz, kPadDetune_cents, kPadNoteLevel);
      }
    }
    // Lead: on 8th notes, a rest or a chord tone lasting one to three 8ths.
    if (step % 2 == 0 && step >= lead_busy_until) {
      if (melody.unit() < kLeadRestChance) {
        lead_busy_until = step + 2;
      } else {
        const int length_steps = 2 * (1 + melody.below(3));
        const int note = spec.key_midi + chord[static_cast<std::size_t>(melody.below(3))];
        const char vowel = spec.vowels[lead_notes++ % spec.vowels.size()];
        add_lead_note(lead, at, 0.9 * length_steps * step_s, midi_to_hz(note), vowel, kLeadLevel);
        lead_busy_until = step + length_steps;
      }
    }
  }

  const double w = spec.width;
  // Kick, snare and bass anchor the centre; hats, pads and lead carry the width.
  const std::vector<Part> parts = {
      {&kick, 0.0, 0.0}, {&snare, 0.1 * w, 0.0}, {&bass, 0.0, 0.0}, {&hats, 0.5 * w, spec.haas_ms},
      {&pad_low, -0.8 * w, 0.0}, {&pad_high, 0.8 * w, spec.haas_ms}, {&lead, -0.15 * w, spec.haas_ms}};
  Channels samples = mix_parts(parts, spec.channels, rate_hz, frames);
  apply_fades(samples, rate_hz);
  master(samples, spec.rms_dbfs, spec.peak_dbfs);
  return {std::string(spec.file_name), std::string(spec.title), "lathe demo", spec.rate_hz, spec.channels,
          std::move(samples)};
}

}  // namespace

std::vector<DemoTrack> make_demo_set() {
  std::vector<DemoTrack> tracks;
  tracks.reserve(kPieces.size());
  for (const PieceSpec& spec : kPieces) tracks.push_back(render_piece(spec));
  return tracks;
}

}  // namespace lathe::host
