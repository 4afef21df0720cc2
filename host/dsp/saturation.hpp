// Host-side design of the saturation stage (kernels/saturate.hpp): the oversampling filters and the shaper's
// constants, computed once per (parameters, sample rate) in double and rounded to float once; both engines run
// kernels::saturate on the same bytes.
//
// Filters: one linear-phase low-pass prototype (Kaiser-windowed sinc) at the oversampled rate R * fs serves both
// as the interpolator (gain R, split into R phases of T taps) and as the decimator (R * T taps). Specification,
// relative to the track's rate fs (the same rule at every rate):
//   passband  0 .. 0.4535 fs (20 kHz at 44.1 kHz)     ripple < 0.001 dB (measured 0.00006 dB)
//   stopband  0.5465 fs (= fs - 0.4535 fs) and above   designed for 102 dB (Kaiser), measured >= 103 dB
// Only what lands in the audible band matters (standard practice for oversampled non-linearities): the
// decimator folds f onto fs - f, so content between 0.5 fs and 0.5465 fs, which its transition band lets through
// partly, folds onto 0.4535 .. 0.5 fs, above 20 kHz at 44.1 kHz; likewise the interpolator's images of the
// passband start at fs - 0.4535 fs, and only input content above 0.4535 fs has images in its transition band.
// Starting the stopband at 0.5465 fs instead of 0.5 fs doubles the transition width and halves T. A driven
// full-scale 10 kHz sine's aliases stay near -125 dBFS (tests/host/test_saturation.cpp checks < -90 dBFS below
// 20 kHz), as with the former 0.5 fs / 110 dB design.
// T is set by the transition 0.4535 fs .. 0.5465 fs, so it does not depend on the rate: T = 72, latency
// D = T - 1 = 71 samples at every rate and factor (1.6 ms at 44.1 kHz, 1.5 ms at 48 kHz, 0.37 ms at 192 kHz).
//
// The CPU engine (saturate_range_cpu) computes 16 or 32 outputs at a time in SIMD lanes, each lane with exactly
// the scalar per-output operations of kernels/saturate.hpp (the CUDA kernel's), so the engines' bits match.
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

inline constexpr double kSaturationDesignAttenuationDb = 102.0;
inline constexpr double kSaturationPassbandFraction = 20000.0 / 44100.0;  // of fs: the top of the passband

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

// The CPU engine's chunk: outputs j in [j_begin, j_end) (j_begin >= H) of the extended buffer xe into
// y[j - j_begin], bit for bit kernels::saturate::process_range (the scalar per-output code the CUDA kernel runs),
// computing 16 outputs at a time in SIMD lanes (AVX2 without FMA when the processor has it and allow_avx2).
// `scratch` is resized as needed.
void saturate_range_cpu(const kernels::saturate::Table& t, const float* xe, float* y, std::int64_t j_begin,
                        std::int64_t j_end, std::vector<float>& scratch, bool allow_avx2 = true);

// Designs the saturator. Throws std::invalid_argument for a rate outside 8 kHz .. 768 kHz or bad parameters.
SaturationDesign make_saturation_design(const SaturationParams& params, int rate_hz);

}  // namespace lathe::host::dsp
