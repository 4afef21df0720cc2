// Sample-rate conversion: the per-sample arithmetic of a rational polyphase resampler (windowed sinc).
//
// The rates fs_in -> fs_out are reduced by their gcd to L / M (fs_out = fs_in * L / M). Conceptually the input is
// upsampled by L (zeros inserted), filtered by a linear-phase low-pass prototype at the rate L * fs_in, and every
// M-th sample is kept. Only the products that are not zero are computed: output n needs one of the L phases of
// the prototype, T taps long. The host (host/dsp/resample_design.cpp) designs the prototype in double, rounds
// it to float once and hands both engines the same L * T floats.
//
// Indexing (all integer maths in 64 bits: n * M exceeds 2^31 after a few minutes of audio):
//   position of output n in the upsampled grid   P = n * M
//   phase                                        p = P mod L
//   base input index                             b = P / L        (integer division, P >= 0)
//   y[n] = sum_{k=0}^{T-1} h[p*T + k] * x[b + T/2 - k]             (T is even)
// with h[p*T + k] = prototype((k - T/2) * L + p), the prototype being centred (symmetric about 0) in units of
// upsampled samples. Output n therefore sits at time n / fs_out exactly: the conversion adds no latency and no
// fractional delay (input sample i sits at upsampled position i * L, output n at n * M). Input samples outside
// [0, n_in) read as 0 (the track is silent before its start and after its end); they are simply not read.
//
// Summation order (fixed, the same on every engine and for any chunking of the output range): two float
// accumulators, each running from the outer (small) taps towards the centre, where the large taps are:
//   lo = sum over k =  0 .. T/2-1 ascending,   hi = sum over k = T-1 .. T/2 descending,   y = lo + hi.
// Adding the small products first keeps the partial sums small while they are rounded, so the rounding noise of
// the float accumulation is set by the last few (large) products. Measured against a double sum of the same
// products (GCC 12, 0.5-amplitude DC and 1 kHz inputs): -145 to -169 dB re the signal with this order, against
// -123 to -136 dB for one accumulator running k = 0 .. T-1 (worst at 384 kHz -> 8 kHz, T = 8778). Products whose
// input index lies outside [0, n_in) are skipped; skipping them gives exactly the bits of adding them as zeros
// (an accumulator that starts at +0 never becomes -0 under round-to-nearest, and a + (+-0) == a otherwise).
//
// Every output is a pure function of (table, whole input, n): any split of the output range into chunks, and any
// thread mapping, gives the same bits. No libm, no allocation, no exceptions: float + and *, integer + - * /
// and comparisons only.
#pragma once

#include "kernels/hd.hpp"

namespace lathe::kernels::resample {

// A view of a designed resampler: plain values and one pointer (host or device memory, L * T floats,
// phase-major: phase p's T taps are coeffs[p*T .. p*T + T)). The host owns the storage.
struct ResampleTable {
  std::int32_t L;        // up factor   (fs_out / gcd)
  std::int32_t M;        // down factor (fs_in / gcd)
  std::int32_t T;        // taps per phase, even
  const float* coeffs;   // L * T taps, phase-major
};

// Number of output frames for n_in input frames: ceil(n_in * L / M), i.e. the outputs whose time n / fs_out lies
// before the end of the input, n_in / fs_in. (n_in * L must fit in 63 bits: n_in < 2^44 at any supported pair.)
LATHE_HD inline std::int64_t output_frames(std::int64_t n_in, std::int64_t L, std::int64_t M) {
  return n_in <= 0 ? 0 : (n_in * L + M - 1) / M;
}
LATHE_HD inline std::int64_t output_frames(const ResampleTable& t, std::int64_t n_in) {
  return output_frames(n_in, t.L, t.M);
}

// Base input index b of output n (the newest input sample at or before it): floor(n * M / L).
LATHE_HD inline std::int64_t base_index(const ResampleTable& t, std::int64_t n) {
  return (n * static_cast<std::int64_t>(t.M)) / static_cast<std::int64_t>(t.L);
}

// The input samples that outputs [out_begin, out_end) read (before clipping to [0, n_in)): the half-open range
// [first, end). A streaming caller that holds at least these samples (those inside [0, n_in)) in a window can
// use resample_range_window and gets the bits of the whole-input call. out_begin < out_end.
struct InputSpan {
  std::int64_t first;
  std::int64_t end;
};
LATHE_HD inline InputSpan input_span(const ResampleTable& t, std::int64_t out_begin, std::int64_t out_end) {
  const std::int64_t half = t.T / 2;
  return InputSpan{base_index(t, out_begin) + half - (t.T - 1), base_index(t, out_end - 1) + half + 1};
}

// One output sample. `x` holds the input samples [x_begin, x_end) (x[0] is input sample x_begin); input samples
// outside that window read as 0. For the whole input, x_begin = 0 and x_end = n_in.
LATHE_HD inline float resample_one_window(const ResampleTable& t, const float* x, std::int64_t x_begin,
                                          std::int64_t x_end, std::int64_t n) {
  const std::int64_t L = t.L;
  const std::int64_t T = t.T;
  const std::int64_t half = T / 2;
  const std::int64_t pos = n * static_cast<std::int64_t>(t.M);
  const std::int64_t b = pos / L;
  const std::int64_t p = pos - b * L;
  const float* h = t.coeffs + p * T;
  // Tap k reads input sample i = top - k; it is inside the window for k in [k_lo, k_hi].
  const std::int64_t top = b + half;
  const std::int64_t k_lo = top - (x_end - 1) > 0 ? top - (x_end - 1) : 0;
  const std::int64_t k_hi = top - x_begin < T - 1 ? top - x_begin : T - 1;
  const std::int64_t off = top - x_begin;  // x[off - k] is input sample top - k
  // Lower half, outer taps first: k = k_lo .. min(k_hi, T/2 - 1), ascending.
  float lo = 0.0f;
  const std::int64_t lo_end = k_hi < half - 1 ? k_hi : half - 1;
  for (std::int64_t k = k_lo; k <= lo_end; ++k) lo = lo + h[k] * x[off - k];
  // Upper half, outer taps first: k = k_hi .. max(k_lo, T/2), descending.
  float hi = 0.0f;
  const std::int64_t hi_end = k_lo > half ? k_lo : half;
  for (std::int64_t k = k_hi; k >= hi_end; --k) hi = hi + h[k] * x[off - k];
  return lo + hi;
}

// One output sample from the whole input x[0 .. n_in).
LATHE_HD inline float resample_one(const ResampleTable& t, const float* x, std::int64_t n_in, std::int64_t n) {
  return resample_one_window(t, x, 0, n_in, n);
}

// Outputs [out_begin, out_end) from the whole input x[0 .. n_in). y is indexed by offset: y[0] receives output
// out_begin, y[out_end - out_begin - 1] output out_end - 1. Outputs past output_frames(t, n_in) are legal (they
// read only zeros past the end, or the filter's tail) but a caller normally stops there.
LATHE_HD inline void resample_range(const ResampleTable& t, const float* x, std::int64_t n_in, float* y,
                                    std::int64_t out_begin, std::int64_t out_end) {
  for (std::int64_t n = out_begin; n < out_end; ++n) y[n - out_begin] = resample_one_window(t, x, 0, n_in, n);
}

// The same from a window of the input: x holds input samples [x_begin, x_end) (those outside read as 0).
// Identical bits to resample_range when the window contains input_span(out_begin, out_end) clipped to [0, n_in)
// and x_end <= n_in.
LATHE_HD inline void resample_range_window(const ResampleTable& t, const float* x, std::int64_t x_begin,
                                           std::int64_t x_end, float* y, std::int64_t out_begin,
                                           std::int64_t out_end) {
  for (std::int64_t n = out_begin; n < out_end; ++n) y[n - out_begin] = resample_one_window(t, x, x_begin, x_end, n);
}

}  // namespace lathe::kernels::resample
