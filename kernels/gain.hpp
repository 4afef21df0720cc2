// Gain: one multiply per sample by a factor designed on the host (dB -> linear in double, rounded once).
#pragma once

#include "kernels/hd.hpp"

namespace lathe::kernels {

LATHE_HD inline void gain_apply(float* samples, std::int64_t count, float gain_lin) {
  for (std::int64_t i = 0; i < count; ++i) samples[i] = samples[i] * gain_lin;
}

// samples = samples * scale + offset: trim, polarity and DC removal in one pass (two roundings; the build forbids
// contracting them into a fused multiply-add, DESIGN.md).
LATHE_HD inline void scale_offset_apply(float* samples, std::int64_t count, float scale, float offset) {
  for (std::int64_t i = 0; i < count; ++i) {
    const float scaled = samples[i] * scale;
    samples[i] = scaled + offset;
  }
}

}  // namespace lathe::kernels
