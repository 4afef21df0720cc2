// Mixing buffers of the same layout: one addition per sample (one rounding), the same on both engines. Used by
// stages that split the batch into auxiliary buffers and sum them back (the multiband compressor).
#pragma once

#include "kernels/hd.hpp"

namespace lathe::kernels {

// to[i] = to[i] + from[i]
LATHE_HD inline void add_apply(float* to, const float* from, std::int64_t count) {
  for (std::int64_t i = 0; i < count; ++i) to[i] = to[i] + from[i];
}

}  // namespace lathe::kernels
