// Host-callable launchers of the CUDA engine. They only map kernels/*.hpp math onto grids; the arithmetic is
// the same LATHE_HD code the CPU engine runs. Pointers prefixed d_ are device memory. Launchers are
// asynchronous on `stream` and return the cudaError_t of the launch as an int (0 = success), so that this
// header does not need <cuda_runtime.h>.
#pragma once

#include <cstdint>

#include "kernels/block.hpp"
#include "kernels/dither.hpp"

namespace lathe::kernels::cuda {

using Stream = void*;  // cudaStream_t

int launch_gain(float* d_samples, const Block* d_blocks, std::int64_t block_count, std::int64_t max_block_samples,
                const float* d_gain_per_slot, Stream stream);

// Per block b: samples = samples * d_scale[b] (+ d_offset[b] below d_offset_end[b]) (kernels/gain.hpp).
int launch_scale_offset(float* d_samples, const Block* d_blocks, std::int64_t block_count,
                        std::int64_t max_block_samples, const float* d_scale, const float* d_offset,
                        const std::int64_t* d_offset_end, Stream stream);
// Per block b: d_to[offset + i] += d_from[offset + i] (kernels/mix.hpp); both buffers have the batch's layout.
int launch_add(float* d_to, const float* d_from, const Block* d_blocks, std::int64_t block_count,
               std::int64_t max_block_samples, Stream stream);
// Per block b: a fade-out over stream indices [d_fade_start[b], d_fade_end[b]) (kernels/gain.hpp).
int launch_fade_out(float* d_samples, const Block* d_blocks, std::int64_t block_count, std::int64_t max_block_samples,
                    const std::int64_t* d_fade_start, const std::int64_t* d_fade_end, Stream stream);
// Exchanges the samples of each pair of blocks (`d_pairs`: first, second, interleaved).
int launch_swap(float* d_samples, const Block* d_blocks, const std::uint32_t* d_pairs, std::int64_t pair_count,
                std::int64_t max_block_samples, Stream stream);

int launch_quantise(const float* d_samples, std::int32_t* d_quantised, const Block* d_blocks,
                    std::int64_t block_count, std::int64_t max_block_samples, QuantiseParams params,
                    unsigned long long* d_clipped_per_slot, Stream stream);

}  // namespace lathe::kernels::cuda
