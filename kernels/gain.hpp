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

}  // namespace lathe::kernels
