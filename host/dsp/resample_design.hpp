// Host-side design of the sample-rate converter (kernels/resample.hpp): a Kaiser-windowed sinc low-pass
// prototype at the upsampled rate L * fs_in, split into L phases of T taps, computed once per rate pair in
// double and rounded to float once. Both engines run kernels::resample on the same bytes.
//
// Specification (the same rule at every rate pair; f_min = min(fs_in, fs_out)):
//   passband  0 .. min(20000, f_min * 20000 / 44100) Hz    flat within +-0.01 dB (measured: < 4e-6 dB)
//   stopband  f_min / 2 and above                          at least 125 dB down (designed for 130 dB,
//                                                          measured 128.7 .. 129.8 dB with the float taps)
// So at 44.1 kHz the passband ends at 20 kHz and the stopband starts at 22.05 kHz; at lower rates both scale with
// the rate (0.4535 f_min and 0.5 f_min); at 48 kHz and above the passband stays 20 kHz and the transition widens
// (shorter filters). Content between the two edges is attenuated progressively (the transition band).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/resample.hpp"

namespace lathe::host::dsp {

inline constexpr int kResampleMinRateHz = 8000;
inline constexpr int kResampleMaxRateHz = 384000;
inline constexpr std::int64_t kResampleMaxCoeffs = std::int64_t{16} << 20;  // L * T floats (64 MiB)
inline constexpr double kResampleDesignAttenuationDb = 130.0;  // Kaiser design target; the spec is 125 dB
inline constexpr std::int64_t kResampleChunk = 16384;          // outputs per task in resample_channel

struct ResampleDesign {
  int rate_in = 0;
  int rate_out = 0;
  int L = 0;                 // rate_out / gcd
  int M = 0;                 // rate_in / gcd
  int taps_per_phase = 0;    // T, even
  std::vector<float> coeffs; // L * T, phase-major (see kernels/resample.hpp for the indexing and centring)
  double passband_hz = 0;    // end of the flat passband
  double stopband_hz = 0;    // start of the stopband
  double cutoff_hz = 0;      // the sinc's cutoff: (passband + stopband) / 2
  double kaiser_beta = 0;
  // A view of `coeffs` for kernels::resample (valid while the design lives; cached designs live forever).
  kernels::resample::ResampleTable table() const;
};

// The design for rate_in -> rate_out, computed on first use and cached for the program's life (thread-safe;
// the reference stays valid). Rates are integer Hz in [8000, 384000].
// Throws std::invalid_argument when a rate is out of range, when the rates are equal ("no conversion needed":
// the caller skips the stage), or when the reduced ratio L/M needs more than 16 Mi coefficients (L * T; e.g.
// 96001 -> 44100 Hz, whose gcd is 1), with a message that says so and what to do (convert to a rate with a
// larger common divisor, such as 44100, 48000 or 96000 Hz). Common pairs (44.1/48/88.2/96/192 kHz) design in
// milliseconds; the largest accepted tables (~8 Mi coefficients, e.g. 44101 -> 44100 Hz) take ~0.25 s on 2 cores.
const ResampleDesign& resample_design(int rate_in, int rate_out);

// The same, not cached (the cache calls it; tests may too).
ResampleDesign make_resample_design(int rate_in, int rate_out);

// The CPU engine's driver for one channel: all output_frames(n_in) outputs of x[0 .. n_in), computed by
// tbb::parallel_for over fixed chunks of kResampleChunk outputs, each one kernels::resample::resample_range call.
// Same bits as a single resample_range call over the whole output (every output is a function of the whole
// input only). n_in = 0 gives an empty vector; a negative n_in throws std::invalid_argument.
std::vector<float> resample_channel(const ResampleDesign& design, const float* x, std::int64_t n_in);

}  // namespace lathe::host::dsp
