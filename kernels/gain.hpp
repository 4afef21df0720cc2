// Gain: one multiply per sample by a factor designed on the host (dB -> linear in double, rounded once).
#pragma once

#include "kernels/hd.hpp"

namespace lathe::kernels {

LATHE_HD inline void gain_apply(float* samples, std::int64_t count, float gain_lin) {
  for (std::int64_t i = 0; i < count; ++i) samples[i] = samples[i] * gain_lin;
}

}  // namespace lathe::kernels
