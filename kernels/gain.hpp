// Gain: one multiply per sample by a factor designed on the host (dB -> linear in double, rounded once).
#pragma once

#include "kernels/hd.hpp"

namespace lathe::kernels {

LATHE_HD inline void gain_apply(float* samples, std::int64_t count, float gain_lin) {
  for (std::int64_t i = 0; i < count; ++i) samples[i] = samples[i] * gain_lin;
}

// samples = samples * scale, plus offset where the stream index (first_index + i) is below offset_end: trim,
// polarity and DC removal in one pass (two roundings; the build forbids contracting them into a fused
// multiply-add, DESIGN.md).
LATHE_HD inline void scale_offset_apply(float* samples, std::int64_t count, float scale, float offset,
                                        std::int64_t first_index, std::int64_t offset_end) {
  for (std::int64_t i = 0; i < count; ++i) {
    const float scaled = samples[i] * scale;
    samples[i] = first_index + i < offset_end ? scaled + offset : scaled;
  }
}

// A fade-out over stream indices [fade_start, fade_end): sample i (stream index first_index + i) is multiplied by
// w = 1 - t^2 (3 - 2t), t = (index - fade_start) / (fade_end - fade_start) (a smooth cubic from 1 to 0, flat at
// both ends), computed in double from integers and rounded to float once; samples at or after fade_end become 0,
// samples before fade_start are left alone.
LATHE_HD inline float fade_gain(std::int64_t index, std::int64_t fade_start, std::int64_t fade_end) {
  if (index < fade_start) return 1.0f;
  if (index >= fade_end) return 0.0f;
  const double t = static_cast<double>(index - fade_start) / static_cast<double>(fade_end - fade_start);
  const double t2 = t * t;
  const double s = 3.0 - 2.0 * t;
  return static_cast<float>(1.0 - t2 * s);
}

LATHE_HD inline void fade_out_apply(float* samples, std::int64_t count, std::int64_t first_index,
                                    std::int64_t fade_start, std::int64_t fade_end) {
  for (std::int64_t i = 0; i < count; ++i) {
    const std::int64_t index = first_index + i;
    if (index >= fade_start) samples[i] = samples[i] * fade_gain(index, fade_start, fade_end);
  }
}

}  // namespace lathe::kernels
