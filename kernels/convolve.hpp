// Uniformly partitioned overlap-save convolution: the per-sample steps both engines run (DESIGN.md sections 2
// and 3). The FFTs between the steps are kernels/fft.hpp's.
//
// A FIR of L taps is cut into P partitions of B taps; partition p's spectrum H_p is the 2B-point real FFT of
// its taps zero-padded to 2B, scaled by 1/(2B) (so the unnormalised inverse FFT gives the right level), made
// once on the host in double and rounded to float once.
//
// A stream is convolved segment by segment (one block of a batch: one channel of one track; S samples, a
// multiple of B except for a track's last segment), zero-padded to T = ceil(S/B) blocks of B. Frame j of the
// stream is its samples [(j-2)B, jB) (zeros before the start); X_j its spectrum. Output block t of the segment
// is the last B samples of
//     IFFT( sum_{p=0}^{P-1} X_{P+t-p} * H_p )
// summed in increasing p, always; its frames X_P .. X_{P+T-1} end in this segment, the first P-1 come from the
// previous one. So a stream's state between segments is its last B input samples and the spectra of its last
// P-1 frames (zeros at the start of a track). Every frame, sum and output block depends only on the stream's
// samples at fixed positions, never on where a segment starts, so a track gives the same bits in any
// segmentation and any batch. The output is the causal convolution: it lags the input by the FIR's delay,
// which the scheduler removes (Stage TrackPlan::latency_frames).
//
// State layout (floats): [B time samples | (P-1) * bins Complex spectra, oldest first].
#pragma once

#include "kernels/complex.hpp"
#include "kernels/hd.hpp"

namespace lathe::kernels {

// Sample `z_index` of z = [history (history_len samples) | input (count samples) | zeros]. New frame t of a
// segment (X_{P+t}) is z[tB, tB + 2B) with the state's B time samples as the history.
LATHE_HD inline float conv_stream_sample(const float* history, std::int64_t history_len, const float* input,
                                         std::int64_t count, std::int64_t z_index) {
  if (z_index < history_len) return history[z_index];
  const std::int64_t i = z_index - history_len;
  return i < count ? input[i] : 0.0f;
}

// X_j (1 <= j < P+T) of a segment: the state's spectra for j < P, the segment's fresh ones after.
LATHE_HD inline const Complex* conv_frame_spectrum(const Complex* old, const Complex* fresh, std::int64_t partitions,
                                                   std::int64_t bins, std::int64_t j) {
  return j < partitions ? old + (j - 1) * bins : fresh + (j - partitions) * bins;
}

// Bin k of the spectral sum for output block t: sum over p = 0..P-1, in that order, of X_{P+t-p}[k] * H_p[k].
LATHE_HD inline Complex conv_spectral_sum(const Complex* old, const Complex* fresh, const Complex* spectra,
                                          std::int64_t partitions, std::int64_t bins, std::int64_t t, std::int64_t k) {
  Complex acc{0.0f, 0.0f};
  for (std::int64_t p = 0; p < partitions; ++p)
    acc = cmac(acc, conv_frame_spectrum(old, fresh, partitions, bins, partitions + t - p)[k], spectra[p * bins + k]);
  return acc;
}

// Mid/side matrix of one stereo sample pair, in place: (l, r) -> ((l+r)/2, (l-r)/2), and back: (m, s) -> (m+s,
// m-s). Both are exact in the sense that matters here: the same bits on both engines.
LATHE_HD inline void mid_side_encode(float* l, float* r) {
  const float a = *l, b = *r;
  *l = 0.5f * (a + b);
  *r = 0.5f * (a - b);
}
LATHE_HD inline void mid_side_decode(float* m, float* s) {
  const float a = *m, b = *s;
  *m = a + b;
  *s = a - b;
}

}  // namespace lathe::kernels
