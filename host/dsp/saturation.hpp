// Host-side design of the saturation stage (kernels/saturate.hpp): the oversampling filters and the shaper's
// constants, computed once per (parameters, sample rate) in double and rounded to float once; both engines run
// kernels::saturate on the same bytes.
//
// Filters: one linear-phase low-pass prototype (Kaiser-windowed sinc) at the oversampled rate R * fs serves both
// as the interpolator (gain R, split into R phases of T taps) and as the decimator (R * T taps). Specification,
// relative to the track's rate fs (the same rule at every rate):
//   passband  0 .. 0.4535 fs (20 kHz at 44.1 kHz)     ripple < 0.001 dB
//   stopband  0.5 fs and above                         designed for 110 dB (Kaiser), so images of the
//                                                      upsampler and aliases folded by the decimator stay
//                                                      below -100 dB
// T is set by the transition 0.4535 fs .. 0.5 fs, so it does not depend on the rate: T = 154, latency
// D = T - 1 = 153 samples at every rate and factor (3.5 ms at 44.1 kHz, 0.8 ms at 192 kHz).
//
// Oversampling: 4, 8 or 16, or automatic (0): the smallest of 4, 8, 16 giving an internal rate of at least
// 176.4 kHz for drive <= 6 dB, 352.8 kHz for drive <= 12 dB and 705.6 kHz above (harder drive makes the
// shaper's harmonics decay more slowly, so more of them must fit below the oversampled Nyquist frequency).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/saturate.hpp"

namespace lathe::host::dsp {

inline constexpr double kSaturationDesignAttenuationDb = 110.0;

struct SaturationParams {
  std::string model = "tape";   // "tape" or "tube"
  double drive_db = 6.0;        // 0 .. 36
  double bias = 0.0;            // -1 .. 1
  double mix_percent = 100.0;   // 0 .. 100
  double output_db = 0.0;       // -24 .. 24
  int oversampling = 0;         // 4, 8, 16, or 0 = automatic
};

struct SaturationDesign {
  int rate_hz = 0;
  int factor = 0;              // R
  int taps_per_phase = 0;      // T (even)
  std::int64_t latency = 0;    // D = T - 1 samples
  std::int64_t history = 0;    // H = 2D samples: the stream state per channel
  std::vector<float> up;       // R * T, phase-major
  std::vector<float> down;     // R * T, down[0] = 0
  kernels::saturate::Table params{};  // constants; pointers filled by table()
  // A view for kernels::saturate (valid while the design lives).
  kernels::saturate::Table table() const;
};

// The automatic factor for a rate and drive (see above).
int saturation_auto_factor(int rate_hz, double drive_db);

// Designs the saturator. Throws std::invalid_argument for a rate outside 8 kHz .. 768 kHz or bad parameters.
SaturationDesign make_saturation_design(const SaturationParams& params, int rate_hz);

}  // namespace lathe::host::dsp
