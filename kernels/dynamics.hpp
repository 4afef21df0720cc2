// The compressor: per-sample arithmetic shared by the CPU and CUDA engines (DESIGN.md section 2).
//
// Topology (feed-forward, log-domain gain computer, Giannoulis/Massberg/Reiss 2012):
//   detector input d = x, or x through a 2nd-order Butterworth high-pass (sidechain only, direct form I)
//   level             peak: |d|;  rms: a one-pole mean square ms = a*ms + (1-a)*d^2
//   link              linked: the largest level over the channels drives one gain; unlinked: one per channel
//   gain computer     L in dB; over = L - T;  gr = 0 below the knee, slope*(over + W/2)^2/(2W) inside it,
//                     slope*over above it (slope = 1 - 1/ratio); gr >= 0 is the reduction in dB
//   smoother          branching one-pole on gr: s = a_att*s + (1-a_att)*gr when gr > s (reduction grows),
//                     s = a_rel*s + (1-a_rel)*gr otherwise
//   output            g = 2^((makeup - s) / (20 log10 2));  y = x * (dry + wet*g)  (one rounding to float)
// When makeup - s is exactly 0 the factor is exactly 1.0 and y == x bit for bit. s below 1e-9 dB is set to
// 0 (so a released compressor returns to exact unity), and filter/mean-square states below 1e-200 to 0 (no
// subnormal crawl on the CPU). Levels at or below the knee's start (compared in the linear domain against a
// host-computed bound) take no logarithm at all.
//
// Everything is double (state and arithmetic); only the output is rounded to float. log2/exp2 are lathe's own
// (below), built from + - * / and exact exponent-field arithmetic, so both engines give the same bits.
// Coefficients (exp(-1/(t*fs)), the biquad, the linear knee bound) are designed on the host in double
// (host/dsp/compressor.cpp).
//
// Each track is one recurrence in time: process_track runs over a segment frame by frame, and the state it
// carries makes the result independent of where the track is cut into segments.
#pragma once

#include <cstring>

#include "kernels/block.hpp"
#include "kernels/hd.hpp"

namespace lathe::kernels::dynamics {

constexpr int kMaxChannels = 8;
constexpr double kGrFlushDb = 1e-9;      // smoothed reduction below this is exactly 0
constexpr double kStateFlush = 1e-200;   // filter and mean-square states below this are exactly 0

// ---- deterministic log2 / exp2 (double) ---------------------------------------------------------------------
// log2(x), x > 0 finite and normal: exponent field + ln of the mantissa m in [sqrt(1/2), sqrt(2)) by the atanh
// series 2*(s + s^3/3 + ... + s^23/23), s = (m-1)/(m+1), |s| <= 0.1716 (truncation < 1e-19 relative).
// exp2(y), |y| <= 1000: y = n + f with n = nearest integer, |f| <= 1/2; e^(f ln2) by Taylor to degree 16
// (truncation < 1e-20 relative), times 2^n built in the exponent field (2^n with n < -1022 by two steps).
// Measured against long double in tests/host/test_compressor.cpp: relative error ~1e-16, i.e. far below
// 1e-12 dB as a level.
LATHE_HD inline std::uint64_t bits_of(double x) {
#if defined(__CUDA_ARCH__)
  return static_cast<std::uint64_t>(__double_as_longlong(x));
#else
  std::uint64_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
#endif
}
LATHE_HD inline double from_bits(std::uint64_t u) {
#if defined(__CUDA_ARCH__)
  return __longlong_as_double(static_cast<long long>(u));
#else
  double x;
  std::memcpy(&x, &u, sizeof x);
  return x;
#endif
}

LATHE_HD inline double log2_d(double x) {
  const std::uint64_t u = bits_of(x);
  int e = static_cast<int>((u >> 52) & 0x7ffu) - 1023;
  double m = from_bits((u & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);  // [1, 2)
  if (m > 1.4142135623730951) {
    m = m * 0.5;
    e += 1;
  }
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = s * s;
  double p = 1.0 / 23.0;
  p = p * s2 + 1.0 / 21.0;
  p = p * s2 + 1.0 / 19.0;
  p = p * s2 + 1.0 / 17.0;
  p = p * s2 + 1.0 / 15.0;
  p = p * s2 + 1.0 / 13.0;
  p = p * s2 + 1.0 / 11.0;
  p = p * s2 + 1.0 / 9.0;
  p = p * s2 + 1.0 / 7.0;
  p = p * s2 + 1.0 / 5.0;
  p = p * s2 + 1.0 / 3.0;
  p = p * s2 + 1.0;
  const double ln_m = 2.0 * s * p;
  return static_cast<double>(e) + ln_m * 1.4426950408889634;  // 1/ln 2
}

// 2^n for integer n in [-1074, 1023] (exact).
LATHE_HD inline double pow2_int(int n) {
  if (n >= -1022) return from_bits(static_cast<std::uint64_t>(n + 1023) << 52);
  return from_bits(static_cast<std::uint64_t>(n + 1022 + 1023) << 52) * 2.2250738585072014e-308;  // * 2^-1022
}

LATHE_HD inline double exp2_d(double y) {
  if (y > 1000.0) y = 1000.0;
  if (y < -1000.0) y = -1000.0;
  // Nearest integer (ties away from zero), by truncation: exact for |y| <= 1000.
  const double shifted = y < 0.0 ? y - 0.5 : y + 0.5;
  const int n = static_cast<int>(shifted);
  const double r = (y - static_cast<double>(n)) * 0.6931471805599453;  // |r| <= ln2 / 2
  double p = 1.0 / 20922789888000.0;                                     // 1/16!
  p = p * r + 1.0 / 1307674368000.0;
  p = p * r + 1.0 / 87178291200.0;
  p = p * r + 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  return p * pow2_int(n);
}

// ---- parameters and state ------------------------------------------------------------------------------------
// Plain data, designed on the host (host/dsp/compressor.cpp) and copied as is to the device.
struct Params {
  double hb0, hb1, hb2, ha1, ha2;  // sidechain high-pass (when hpf != 0)
  double rms_a, rms_b;             // mean square: ms = rms_a*ms + rms_b*d^2 (rms_b = 1 - rms_a)
  double att_a, att_b;             // attack: s = att_a*s + att_b*gr (att_b = 1 - att_a)
  double rel_a, rel_b;             // release
  double threshold_db;             // T
  double knee_db;                  // W (0 = hard knee)
  double slope;                    // 1 - 1/ratio
  double knee_lo;                  // linear bound of the knee's start T - W/2: amplitude (peak) or mean square
  double level_scale;              // dB per log2 unit of the level: 20 log10 2 (peak) or 10 log10 2 (rms)
  double makeup_db;
  double dry, wet;                 // y = x * (dry + wet * g)
  std::int32_t hpf;                // 1: the detector runs through the high-pass
  std::int32_t rms;                // 1: rms detection, 0: peak
  std::int32_t linked;             // 1: one gain for all channels
  std::int32_t pad;
};

struct ChannelState {
  double x1, x2, y1, y2;  // high-pass history (direct form I)
  double ms;              // mean square (rms detection)
  double gr;              // smoothed gain reduction in dB (linked: channel 0's drives every channel)
};

struct State {
  ChannelState ch[kMaxChannels];
};

// One track's part in a batch: its blocks in channel order (same length).
struct Job {
  std::uint32_t blocks[kMaxChannels];
  std::int32_t channel_count;
};

// ---- per-sample pieces ---------------------------------------------------------------------------------------
LATHE_HD inline double abs_d(double v) { return v < 0.0 ? -v : v; }
LATHE_HD inline double flush_tiny(double v) { return abs_d(v) < kStateFlush ? 0.0 : v; }

// x - x is 0 for finite x, NaN for NaN and +-Inf: the detector treats non-finite samples as silence.
LATHE_HD inline double detector_input(float x) { return (x - x) == 0.0f ? static_cast<double>(x) : 0.0; }

LATHE_HD inline double highpass_step(ChannelState& s, const Params& p, double x) {
  const double y = (p.hb0 * x + p.hb1 * s.x1 + p.hb2 * s.x2 - p.ha2 * s.y2) - p.ha1 * s.y1;
  s.x2 = s.x1;
  s.x1 = x;
  s.y2 = s.y1;
  s.y1 = flush_tiny(y);
  return y;
}

// The detector level of one channel for one sample: |d| (peak) or the updated mean square (rms).
LATHE_HD inline double detect(ChannelState& s, const Params& p, float x) {
  double d = detector_input(x);
  if (p.hpf != 0) d = highpass_step(s, p, d);
  if (p.rms != 0) {
    s.ms = flush_tiny(p.rms_a * s.ms + p.rms_b * (d * d));
    return s.ms;
  }
  return abs_d(d);
}

// Static gain reduction in dB (>= 0) for a level in dB.
LATHE_HD inline double gain_computer_db(const Params& p, double level_db) {
  const double over = level_db - p.threshold_db;
  const double half = 0.5 * p.knee_db;
  if (over <= -half) return 0.0;
  if (over < half) {
    const double u = over + half;
    return p.slope * (u * u) / (2.0 * p.knee_db);
  }
  return p.slope * over;
}

// Target reduction for a detector level (linear amplitude, or mean square).
LATHE_HD inline double target_reduction_db(const Params& p, double level) {
  if (!(level > p.knee_lo)) return 0.0;  // at or below the knee's start (also 0 and NaN): no log
  return gain_computer_db(p, p.level_scale * log2_d(level));
}

LATHE_HD inline double smooth_step(const Params& p, double s, double gr) {
  const double n = gr > s ? p.att_a * s + p.att_b * gr : p.rel_a * s + p.rel_b * gr;
  return n < kGrFlushDb ? 0.0 : n;
}

// The output factor for a smoothed reduction s: exactly 1.0 when makeup - s is 0.
LATHE_HD inline double output_factor(const Params& p, double s) {
  const double gain_db = p.makeup_db - s;
  if (gain_db == 0.0) return 1.0;
  const double g = exp2_d(gain_db * 0.16609640474436813);  // 1 / (20 log10 2)
  return p.dry + p.wet * g;
}

LATHE_HD inline float apply(float x, double factor) {
  return static_cast<float>(static_cast<double>(x) * factor);
}

// Frames [0, n) of a track whose channel c lives at ch[c][0 .. n), in place, in order.
LATHE_HD inline void process_frames(const Params& p, State& st, float* const* ch, int nch, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    if (p.linked != 0) {
      double level = 0.0;
      for (int c = 0; c < nch; ++c) {
        const double l = detect(st.ch[c], p, ch[c][i]);
        level = l > level ? l : level;
      }
      st.ch[0].gr = smooth_step(p, st.ch[0].gr, target_reduction_db(p, level));
      const double f = output_factor(p, st.ch[0].gr);
      for (int c = 0; c < nch; ++c) ch[c][i] = apply(ch[c][i], f);
    } else {
      for (int c = 0; c < nch; ++c) {
        ChannelState& s = st.ch[c];
        s.gr = smooth_step(p, s.gr, target_reduction_db(p, detect(s, p, ch[c][i])));
        ch[c][i] = apply(ch[c][i], output_factor(p, s.gr));
      }
    }
  }
}

// One job over a batch: `samples` the batch's flat buffer, `blocks` its block table.
LATHE_HD inline void process_job(const Params& p, State& st, float* samples, const Block* blocks, const Job& job) {
  float* ch[kMaxChannels] = {};
  const int nch = job.channel_count < kMaxChannels ? job.channel_count : kMaxChannels;
  std::int64_t n = 0;
  for (int c = 0; c < nch; ++c) {
    const Block& b = blocks[job.blocks[c]];
    ch[c] = samples + b.offset;
    n = c == 0 || b.length_samples < n ? b.length_samples : n;
  }
  if (nch > 0) process_frames(p, st, ch, nch, n);
}

}  // namespace lathe::kernels::dynamics
