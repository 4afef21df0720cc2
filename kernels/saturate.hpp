// Saturation: the per-sample arithmetic of the oversampled waveshaper (the `saturation` stage).
//
// Per channel, with R the oversampling factor and T an even number of taps per phase (host/dsp/saturation.cpp
// designs both filters: one linear-phase Kaiser-windowed sinc prototype of support (-W, W), W = R*T/2, at the
// rate R*fs, rounded to float once):
//   upsample    u[m] = sum_{k=0}^{T-1} up[p*T + k] * x[b + T/2 - k],       b = m / R, p = m % R
//               (up[p*T + k] = R * proto((k - T/2)*R + p), each phase's DC gain exactly 1 in double)
//   shape       s[m] = shape(drive * u[m] + bias) - shape(bias)           (shape_bias: the kernel's own value)
//   downsample  w[c] = sum_{k=1}^{2W-1} down[k] * s[c*R + W - k]            (down[k] = proto(k - W), DC gain 1)
//   mix         y[j] = x[j - D] * dry_gain + w[j - D] * wet_gain           D = T - 1, the latency
// Input sample i sits at oversampled position i*R: both filters are centred (zero phase), so w[c] is aligned with
// x[c], and the latency D makes everything causal: y[j] reads x[j - 2D .. j] only. So a stream's history is its
// last H = 2D input samples and nothing else; the caller provides it before the segment (zeros at the start of
// the stream).
//
// Indices are positions in the caller's extended buffer xe = (H history samples, then the segment): output j
// (j >= H) is the segment's sample j - H. Every y[j] is a pure function of xe[j - 2D .. j] (the filters are
// time-invariant), so any split of the outputs into chunks, any thread mapping and any segmentation of the
// stream give the same bits.
//
// Summation order (fixed on every engine): as kernels/resample.hpp, two accumulators from the outer (small) taps
// towards the centre, lo ascending over the first half and hi descending over the second, result lo + hi.
//
// The shaper is tanh, computed without libm: tanh(v/16) by its [7/6] Pade approximant (relative error < 1e-12 in
// exact arithmetic for |v| <= 9.5), then four angle doublings tanh(2a) = 2 tanh(a) / (1 + tanh(a)^2); the input is
// clamped to +-9.5, where tanh is 1 to float precision (1 - 1.1e-8). The result is an exactly odd, monotonic,
// smooth (rational) function with slope 1 at 0 and |tanh| <= 1, accurate to a few float ulps (in float, monotonic
// up to rounding: near +-1 consecutive inputs may step back by up to two ulps, 1.2e-7).
//   tape: shape(v) = t                       (symmetric: odd harmonics only when bias = 0)
//   tube: shape(v) = t + kTubeAsymmetry * t^2 (asymmetric: even harmonics; still monotonic as 2 * 0.25 < 1)
// with t = tanh(v). Only float + - * / and comparisons: no libm, no allocation.
#pragma once

#include "kernels/hd.hpp"

namespace lathe::kernels::saturate {

enum Model : std::int32_t { kTape = 0, kTube = 1 };

inline constexpr float kTubeAsymmetry = 0.25f;
inline constexpr float kClamp = 9.5f;

// A view of a designed saturator: plain values and two pointers (host or device memory, R * T floats each).
struct Table {
  std::int32_t R;        // oversampling factor
  std::int32_t T;        // taps per phase of the upsampler (even); the downsampler has 2W = R*T taps
  std::int32_t model;    // Model
  std::int32_t pad;
  const float* up;       // R * T taps, phase-major
  const float* down;     // R * T taps, down[0] = 0 (never read)
  float drive;           // linear drive gain
  float bias;            // added after the drive
  float shape_bias;      // shape(model, bias), computed by shape() itself
  float dry_gain;        // (1 - mix) * output gain
  float wet_gain;        // mix * output gain / (drive * shape'(bias)): unity small-signal gain at any drive
};

// Latency D (samples) and history H = 2D of a table.
LATHE_HD inline std::int64_t latency(const Table& t) { return static_cast<std::int64_t>(t.T) - 1; }
LATHE_HD inline std::int64_t history(const Table& t) { return 2 * latency(t); }

LATHE_HD inline float tanh_rational(float v) {
  const float c = v > kClamp ? kClamp : (v < -kClamp ? -kClamp : v);
  const float y = c * 0.0625f;  // exact
  const float y2 = y * y;
  const float num = y * (135135.0f + y2 * (17325.0f + y2 * (378.0f + y2)));
  const float den = 135135.0f + y2 * (62370.0f + y2 * (3150.0f + y2 * 28.0f));
  float t = num / den;
  for (int i = 0; i < 4; ++i) t = (t + t) / (1.0f + t * t);
  return t;
}

LATHE_HD inline float shape(std::int32_t model, float v) {
  const float t = tanh_rational(v);
  if (model == kTube) return t + kTubeAsymmetry * (t * t);
  return t;
}

// u[m]: the upsampled input at oversampled position m of the extended buffer xe (reads xe[m/R - T/2 + 1 ..
// m/R + T/2]).
LATHE_HD inline float upsample_one(const Table& t, const float* xe, std::int64_t m) {
  const std::int64_t R = t.R;
  const std::int64_t T = t.T;
  const std::int64_t half = T / 2;
  const std::int64_t b = m / R;
  const std::int64_t p = m - b * R;
  const float* h = t.up + p * T;
  const float* x = xe + b + half;  // x[-k] is xe[b + T/2 - k]
  float lo = 0.0f;
  for (std::int64_t k = 0; k < half; ++k) lo = lo + h[k] * x[-k];
  float hi = 0.0f;
  for (std::int64_t k = T - 1; k >= half; --k) hi = hi + h[k] * x[-k];
  return lo + hi;
}

// s[m]: the shaped oversampled sample (the bias's DC removed).
LATHE_HD inline float shaped_one(const Table& t, const float* xe, std::int64_t m) {
  const float u = upsample_one(t, xe, m);
  const float v = t.drive * u + t.bias;
  return shape(t.model, v) - t.shape_bias;
}

// The oversampled positions that w[c] reads for c in [c_begin, c_end): [first, end).
struct OversampledSpan {
  std::int64_t first;
  std::int64_t end;
};
LATHE_HD inline OversampledSpan oversampled_span(const Table& t, std::int64_t c_begin, std::int64_t c_end) {
  const std::int64_t W = static_cast<std::int64_t>(t.R) * t.T / 2;
  return OversampledSpan{c_begin * t.R - W + 1, (c_end - 1) * t.R + W};
}

// w[c] from a window of s: s[0] is oversampled position s_first (the window holds oversampled_span(c, c + 1)).
LATHE_HD inline float downsample_one(const Table& t, const float* s, std::int64_t s_first, std::int64_t c) {
  const std::int64_t W = static_cast<std::int64_t>(t.R) * t.T / 2;
  const float* v = s + (c * t.R + W - s_first);  // v[-k] is s at c*R + W - k
  float lo = 0.0f;
  for (std::int64_t k = 1; k < W; ++k) lo = lo + t.down[k] * v[-k];
  float hi = 0.0f;
  for (std::int64_t k = 2 * W - 1; k >= W; --k) hi = hi + t.down[k] * v[-k];
  return lo + hi;
}

// The output at j from the dry sample and the wet w (ignored when wet_gain is 0: then y is exactly
// dry * dry_gain, and mix = 0 at 0 dB output is bit-transparent).
LATHE_HD inline float mix_one(const Table& t, float dry, float wet) {
  if (t.wet_gain == 0.0f) return dry * t.dry_gain;
  return dry * t.dry_gain + wet * t.wet_gain;
}

// Whether the wet path is needed at all.
LATHE_HD inline bool has_wet(const Table& t) { return t.wet_gain != 0.0f; }

// Outputs j in [j_begin, j_end) (j_begin >= history(t)) from the extended buffer xe, into y[j - j_begin].
// `s` is scratch of at least scratch_floats(t, j_end - j_begin) floats. The plain scalar reference: the CUDA
// kernel computes the same s[m] and w[c] (one per thread), and the CPU engine (host/dsp/saturation.cpp,
// saturate_range_cpu) computes them in SIMD lanes, one output per lane with exactly these operations in this
// order, from a polyphase layout of s; tests/host/test_saturation.cpp checks it against this function bit for bit.
LATHE_HD inline std::int64_t scratch_floats(const Table& t, std::int64_t outputs) {
  return (outputs - 1) * t.R + static_cast<std::int64_t>(t.R) * t.T;
}
LATHE_HD inline void process_range(const Table& t, const float* xe, float* y, std::int64_t j_begin,
                                   std::int64_t j_end, float* s) {
  if (j_end <= j_begin) return;
  const std::int64_t D = latency(t);
  if (!has_wet(t)) {
    for (std::int64_t j = j_begin; j < j_end; ++j) y[j - j_begin] = mix_one(t, xe[j - D], 0.0f);
    return;
  }
  const OversampledSpan span = oversampled_span(t, j_begin - D, j_end - D);
  for (std::int64_t m = span.first; m < span.end; ++m) s[m - span.first] = shaped_one(t, xe, m);
  for (std::int64_t j = j_begin; j < j_end; ++j) {
    const float w = downsample_one(t, s, span.first, j - D);
    y[j - j_begin] = mix_one(t, xe[j - D], w);
  }
}

}  // namespace lathe::kernels::saturate
