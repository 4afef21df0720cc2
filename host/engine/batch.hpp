// A batch: the next segment of many tracks, laid out as planar blocks in one flat buffer (DESIGN.md section 1).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/block.hpp"

namespace lathe::host {

// Delivery word length: 16 or 24-bit PCM (dithered and quantised to int32 left-justified), or 32-bit float.
enum class SampleBits { k16 = 16, k24 = 24, kFloat32 = 32 };

struct BlockBatch {
  std::vector<float> samples;                  // all blocks, back to back
  std::vector<std::int32_t> quantised;         // same layout; filled by the dither stage for PCM delivery
  std::vector<kernels::Block> blocks;          // one per (track, channel) of this segment
  std::vector<std::uint64_t> clipped_samples;  // per slot: samples clamped at quantisation (accumulated)
  int slots = 0;                               // number of tracks in the batch
  SampleBits bits = SampleBits::k24;
  bool quantised_valid = false;                // set once a stage has filled `quantised`

  // Adds `length` samples of `channel` of the track in `slot`; returns a pointer to fill.
  // `preroll`: the chain's latency for the track (see kernels::Block).
  float* add_block(std::uint32_t slot, std::uint32_t channel, std::int64_t start_sample, std::int64_t length,
                   std::uint64_t track_key, std::int64_t preroll = 0);
  void clear();  // keeps capacity
  std::int64_t total_samples() const { return static_cast<std::int64_t>(samples.size()); }
};

// Delivered PCM words as the meter reads them: left-justified int32 / 2^31, exact in float.
inline void words_as_float(const std::int32_t* words, std::int64_t n, float* out) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(words[i]) * (1.0f / 2147483648.0f);
}

}  // namespace lathe::host
