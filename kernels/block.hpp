// The unit of work both engines map onto threads: one channel of one track, for one segment of its length.
#pragma once

#include "kernels/hd.hpp"

namespace lathe::kernels {

// A contiguous run of samples of one channel of one track inside a batch's flat sample buffer.
// Plain data: copied as is to the GPU.
struct Block {
  std::int64_t offset;           // first element in the batch buffers
  std::int64_t length_samples;   // samples in this block
  std::int64_t start_sample;     // index within the track's channel of the block's first sample
  std::uint64_t track_key;       // content hash of the track (keys the dither noise)
  std::uint32_t channel;         // channel index within the track
  std::uint32_t slot;            // index of the track within the batch (per-track parameters and counters)
  std::int64_t preroll;          // the chain's latency for this track: stream samples before this index are
                                 // pre-roll, processed but never written (and never counted as clipped)
};

// Elementwise kernels split each block into fixed chunks of this many samples. The value is part of the
// algorithm, not of the device: it never changes a result, only the work split.
inline constexpr std::int64_t kChunkSamples = 16384;

}  // namespace lathe::kernels
