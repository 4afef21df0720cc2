// Seeded, libm-free test signals. Only + - * / on doubles and integer generators, so the same bits come out
// with any C library: the goldens judge the engines, never the test's own maths.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lathe::test {

using Planar = std::vector<std::vector<float>>;

// sin(x) in double: reduction to [-pi, pi] then an odd Taylor polynomial to x^23 (error < 1e-15 there).
inline double det_sin(double x) {
  const double two_pi = 6.283185307179586476925286766559;
  const double pi = 3.141592653589793238462643383279;
  const double k = static_cast<double>(static_cast<std::int64_t>(x / two_pi));
  x -= k * two_pi;
  if (x > pi) x -= two_pi;
  if (x < -pi) x += two_pi;
  const double x2 = x * x;
  double term = x, sum = x;
  for (int n = 1; n <= 11; ++n) {
    term = -term * x2 / static_cast<double>((2 * n) * (2 * n + 1));
    sum += term;
  }
  return sum;
}

// splitmix64 stream, uniform in [-1, 1).
class Noise {
 public:
  explicit Noise(std::uint64_t seed) : state_(seed) {}
  double next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * (2.0 / 9007199254740992.0) - 1.0;
  }

 private:
  std::uint64_t state_;
};

// Uniform white noise of amplitude `amp` (|x| < amp), channel c seeded with seed + c.
inline Planar noise_planar(int channels, std::size_t n, std::uint64_t seed, double amp) {
  Planar p(static_cast<std::size_t>(channels), std::vector<float>(n));
  for (std::size_t c = 0; c < p.size(); ++c) {
    Noise g(seed + c);
    for (auto& v : p[c]) v = static_cast<float>(amp * g.next());
  }
  return p;
}

enum class SignalKind { kSine, kSweep, kNoise, kImpulse, kSilence, kSquareFullScale, kDenormal, kMusicLike };

inline const char* name_of(SignalKind k) {
  switch (k) {
    case SignalKind::kSine: return "sine";
    case SignalKind::kSweep: return "sweep";
    case SignalKind::kNoise: return "noise";
    case SignalKind::kImpulse: return "impulse";
    case SignalKind::kSilence: return "silence";
    case SignalKind::kSquareFullScale: return "square0dBFS";
    case SignalKind::kDenormal: return "denormal";
    case SignalKind::kMusicLike: return "music";
  }
  return "?";
}

// `frames` per channel; channel c is slightly different from the others (phase, seed) so that channel mix-ups
// change the hash.
inline Planar make_signal(SignalKind kind, int channels, std::int64_t frames, int rate_hz, std::uint64_t seed = 7) {
  const double pi = 3.141592653589793238462643383279;
  Planar p(static_cast<std::size_t>(channels), std::vector<float>(static_cast<std::size_t>(frames), 0.0f));
  for (int c = 0; c < channels; ++c) {
    auto& ch = p[static_cast<std::size_t>(c)];
    Noise noise(seed * 1000003 + static_cast<std::uint64_t>(c));
    double sweep_phase = 0;
    for (std::int64_t i = 0; i < frames; ++i) {
      const double t = static_cast<double>(i) / rate_hz;
      double v = 0;
      switch (kind) {
        case SignalKind::kSine: v = 0.5 * det_sin(2 * pi * 997.0 * t + 0.3 * c); break;
        case SignalKind::kSweep: {
          // Exponential 20 Hz -> 20 kHz over the signal's length, -3 dBFS.
          const double dur = static_cast<double>(frames) / rate_hz;
          const double f = 20.0 * (1.0 + 999.0 * t / (dur > 0 ? dur : 1.0));  // 20 .. 20000 Hz, linear-ish
          sweep_phase += 2 * pi * f / rate_hz;
          v = 0.708 * det_sin(sweep_phase + 0.5 * c);
          break;
        }
        case SignalKind::kNoise: v = 0.25 * noise.next(); break;
        case SignalKind::kImpulse: v = (i == 10 + c) ? 1.0 : 0.0; break;
        case SignalKind::kSilence: v = 0; break;
        case SignalKind::kSquareFullScale: v = (((i * 1000) / rate_hz) % 2 == 0) ? 1.0 : -1.0; break;
        case SignalKind::kDenormal: v = 1e-40 * noise.next(); break;
        case SignalKind::kMusicLike:
          v = 0.3 * det_sin(2 * pi * 110.0 * t) + 0.2 * det_sin(2 * pi * (440.0 + 3.0 * c) * t) *
                  (0.5 + 0.5 * det_sin(2 * pi * 2.0 * t)) + 0.05 * noise.next();
          break;
      }
      ch[static_cast<std::size_t>(i)] = static_cast<float>(v);
    }
  }
  return p;
}

}  // namespace lathe::test
