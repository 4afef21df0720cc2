// CUDA launchers: grid.y walks the blocks of a batch, grid.x the fixed chunks of each block (kChunkSamples,
// the same split the CPU engine uses), and each thread strides through its chunk. The math is kernels/*.hpp.
#include <cuda_runtime.h>

#include "kernels/cuda/launch.hpp"
#include "kernels/gain.hpp"
#include "kernels/mix.hpp"

namespace lathe::kernels::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void gain_kernel(float* samples, const Block* blocks, const float* gain_per_slot) {
  const Block blk = blocks[blockIdx.y];
  const std::int64_t first = static_cast<std::int64_t>(blockIdx.x) * kChunkSamples;
  if (first >= blk.length_samples) return;
  const std::int64_t end = min(first + kChunkSamples, blk.length_samples);
  const float g = gain_per_slot[blk.slot];
  for (std::int64_t i = first + threadIdx.x; i < end; i += blockDim.x) gain_apply(samples + blk.offset + i, 1, g);
}

__global__ void quantise_kernel(const float* samples, std::int32_t* quantised, const Block* blocks,
                                QuantiseParams params, unsigned long long* clipped_per_slot) {
  const Block blk = blocks[blockIdx.y];
  const std::int64_t first = static_cast<std::int64_t>(blockIdx.x) * kChunkSamples;
  if (first >= blk.length_samples) return;
  const std::int64_t end = min(first + kChunkSamples, blk.length_samples);
  std::int64_t clamped = 0;
  for (std::int64_t i = first + threadIdx.x; i < end; i += blockDim.x)
    clamped += quantise_block(samples + blk.offset + i, quantised + blk.offset + i, 1, blk.start_sample + i,
                              blk.track_key, blk.channel, params, blk.preroll);
  // Integer counts: the order of the atomic additions cannot change the total.
  if (clamped != 0) atomicAdd(clipped_per_slot + blk.slot, static_cast<unsigned long long>(clamped));
}

__global__ void scale_offset_kernel(float* samples, const Block* blocks, std::int64_t base, const float* scale,
                                    const float* offset, const std::int64_t* offset_end) {
  const Block blk = blocks[blockIdx.y];
  const std::int64_t first = static_cast<std::int64_t>(blockIdx.x) * kChunkSamples;
  if (first >= blk.length_samples) return;
  const std::int64_t end = min(first + kChunkSamples, blk.length_samples);
  const std::int64_t b = base + blockIdx.y;
  for (std::int64_t i = first + threadIdx.x; i < end; i += blockDim.x)
    scale_offset_apply(samples + blk.offset + i, 1, scale[b], offset[b], blk.start_sample + i, offset_end[b]);
}

__global__ void fade_out_kernel(float* samples, const Block* blocks, std::int64_t base, const std::int64_t* fade_start,
                                const std::int64_t* fade_end) {
  const Block blk = blocks[blockIdx.y];
  const std::int64_t first = static_cast<std::int64_t>(blockIdx.x) * kChunkSamples;
  if (first >= blk.length_samples) return;
  const std::int64_t end = min(first + kChunkSamples, blk.length_samples);
  const std::int64_t b = base + blockIdx.y;
  for (std::int64_t i = first + threadIdx.x; i < end; i += blockDim.x)
    fade_out_apply(samples + blk.offset + i, 1, blk.start_sample + i, fade_start[b], fade_end[b]);
}

__global__ void add_kernel(float* to, const float* from, const Block* blocks) {
  const Block blk = blocks[blockIdx.y];
  const std::int64_t first = static_cast<std::int64_t>(blockIdx.x) * kChunkSamples;
  if (first >= blk.length_samples) return;
  const std::int64_t end = min(first + kChunkSamples, blk.length_samples);
  for (std::int64_t i = first + threadIdx.x; i < end; i += blockDim.x)
    add_apply(to + blk.offset + i, from + blk.offset + i, 1);
}

__global__ void swap_kernel(float* samples, const Block* blocks, const std::uint32_t* pairs) {
  const Block a = blocks[pairs[2 * blockIdx.y]];
  const Block b = blocks[pairs[2 * blockIdx.y + 1]];
  const std::int64_t n = min(a.length_samples, b.length_samples);
  const std::int64_t first = static_cast<std::int64_t>(blockIdx.x) * kChunkSamples;
  if (first >= n) return;
  const std::int64_t end = min(first + kChunkSamples, n);
  for (std::int64_t i = first + threadIdx.x; i < end; i += blockDim.x) {
    const float t = samples[a.offset + i];
    samples[a.offset + i] = samples[b.offset + i];
    samples[b.offset + i] = t;
  }
}

// grid.y is limited to 65535, so a batch with more blocks is launched in slices of that many.
constexpr std::int64_t kMaxGridY = 65535;

dim3 grid_for(std::int64_t block_count, std::int64_t max_block_samples) {
  const std::int64_t chunks = (max_block_samples + kChunkSamples - 1) / kChunkSamples;
  return dim3(static_cast<unsigned>(chunks > 0 ? chunks : 1), static_cast<unsigned>(block_count), 1);
}

}  // namespace

int launch_gain(float* d_samples, const Block* d_blocks, std::int64_t block_count, std::int64_t max_block_samples,
                const float* d_gain_per_slot, Stream stream) {
  for (std::int64_t base = 0; base < block_count; base += kMaxGridY) {
    const std::int64_t n = min(kMaxGridY, block_count - base);
    gain_kernel<<<grid_for(n, max_block_samples), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        d_samples, d_blocks + base, d_gain_per_slot);
    if (const cudaError_t e = cudaGetLastError(); e != cudaSuccess) return static_cast<int>(e);
  }
  return 0;
}

int launch_scale_offset(float* d_samples, const Block* d_blocks, std::int64_t block_count,
                        std::int64_t max_block_samples, const float* d_scale, const float* d_offset,
                        const std::int64_t* d_offset_end, Stream stream) {
  for (std::int64_t base = 0; base < block_count; base += kMaxGridY) {
    const std::int64_t n = min(kMaxGridY, block_count - base);
    scale_offset_kernel<<<grid_for(n, max_block_samples), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        d_samples, d_blocks + base, base, d_scale, d_offset, d_offset_end);
    if (const cudaError_t e = cudaGetLastError(); e != cudaSuccess) return static_cast<int>(e);
  }
  return 0;
}

int launch_fade_out(float* d_samples, const Block* d_blocks, std::int64_t block_count, std::int64_t max_block_samples,
                    const std::int64_t* d_fade_start, const std::int64_t* d_fade_end, Stream stream) {
  for (std::int64_t base = 0; base < block_count; base += kMaxGridY) {
    const std::int64_t n = min(kMaxGridY, block_count - base);
    fade_out_kernel<<<grid_for(n, max_block_samples), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        d_samples, d_blocks + base, base, d_fade_start, d_fade_end);
    if (const cudaError_t e = cudaGetLastError(); e != cudaSuccess) return static_cast<int>(e);
  }
  return 0;
}

int launch_add(float* d_to, const float* d_from, const Block* d_blocks, std::int64_t block_count,
               std::int64_t max_block_samples, Stream stream) {
  for (std::int64_t base = 0; base < block_count; base += kMaxGridY) {
    const std::int64_t n = min(kMaxGridY, block_count - base);
    add_kernel<<<grid_for(n, max_block_samples), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        d_to, d_from, d_blocks + base);
    if (const cudaError_t e = cudaGetLastError(); e != cudaSuccess) return static_cast<int>(e);
  }
  return 0;
}

int launch_swap(float* d_samples, const Block* d_blocks, const std::uint32_t* d_pairs, std::int64_t pair_count,
                std::int64_t max_block_samples, Stream stream) {
  for (std::int64_t base = 0; base < pair_count; base += kMaxGridY) {
    const std::int64_t n = min(kMaxGridY, pair_count - base);
    swap_kernel<<<grid_for(n, max_block_samples), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        d_samples, d_blocks, d_pairs + 2 * base);
    if (const cudaError_t e = cudaGetLastError(); e != cudaSuccess) return static_cast<int>(e);
  }
  return 0;
}

int launch_quantise(const float* d_samples, std::int32_t* d_quantised, const Block* d_blocks,
                    std::int64_t block_count, std::int64_t max_block_samples, QuantiseParams params,
                    unsigned long long* d_clipped_per_slot, Stream stream) {
  for (std::int64_t base = 0; base < block_count; base += kMaxGridY) {
    const std::int64_t n = min(kMaxGridY, block_count - base);
    quantise_kernel<<<grid_for(n, max_block_samples), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        d_samples, d_quantised, d_blocks + base, params, d_clipped_per_slot);
    if (const cudaError_t e = cudaGetLastError(); e != cudaSuccess) return static_cast<int>(e);
  }
  return 0;
}

}  // namespace lathe::kernels::cuda
