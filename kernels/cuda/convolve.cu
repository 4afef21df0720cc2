// CUDA launchers of the block convolution and the mid/side matrix: grids over the same per-element functions
// the CPU engine runs (kernels/convolve.hpp).
#include <cuda_runtime.h>

#include "kernels/convolve.hpp"
#include "kernels/cuda/convolve.hpp"

namespace lathe::kernels::cuda {
namespace {

constexpr int kThreads = 256;
constexpr std::int64_t kMaxGridY = 65535;
constexpr std::int64_t kSpan = 8192;  // elements per grid.x step of a row

dim3 grid_rows(std::int64_t rows, std::int64_t row_length) {
  const std::int64_t xs = (row_length + kSpan - 1) / kSpan;
  return dim3(static_cast<unsigned>(xs > 0 ? xs : 1), static_cast<unsigned>(rows), 1);
}

__global__ void gather_kernel(const float* samples, const ConvBlock* blocks,
                              const ConvItem* items, std::int64_t B, float* frame_buf, std::int64_t row0) {
  const std::int64_t f = row0 + blockIdx.y;
  const ConvItem item = items[f];
  const ConvBlock blk = blocks[item.block];
  const std::int64_t z0 = item.index * B;
  const std::int64_t n = 2 * B;
  const std::int64_t first = static_cast<std::int64_t>(blockIdx.x) * kSpan;
  const std::int64_t end = min(first + kSpan, n);
  float* out = frame_buf + f * n;
  const float* time = blk.state;
  const float* in = samples + blk.sample_offset;
  for (std::int64_t i = first + threadIdx.x; i < end; i += blockDim.x)
    out[i] = conv_stream_sample(time, B, in, blk.count, z0 + i);
}

__global__ void mac_kernel(const Complex* fresh, const Complex* fir_spectra,
                           const ConvBlock* blocks, const ConvItem* items, std::int64_t P, std::int64_t B,
                           Complex* sums, std::int64_t row0) {
  const std::int64_t o = row0 + blockIdx.y;
  const ConvItem item = items[o];
  const ConvBlock blk = blocks[item.block];
  const std::int64_t bins = B + 1;
  const std::int64_t first = static_cast<std::int64_t>(blockIdx.x) * kSpan;
  const std::int64_t end = min(first + kSpan, bins);
  const Complex* old = reinterpret_cast<const Complex*>(blk.state + B);
  const Complex* x = fresh + blk.fresh_base * bins;
  for (std::int64_t k = first + threadIdx.x; k < end; k += blockDim.x)
    sums[o * bins + k] = conv_spectral_sum(old, x, fir_spectra, P, bins, item.index, k);
}

// Row b: block b's next state, [B time samples | (P-1) * bins spectra], as floats.
__global__ void state_kernel(const float* samples, const Complex* fresh, const ConvBlock* blocks, std::int64_t P,
                             std::int64_t B, std::int64_t row0) {
  const ConvBlock blk = blocks[row0 + blockIdx.y];
  const std::int64_t bins = B + 1;
  const std::int64_t total = B + 2 * (P - 1) * bins;
  const std::int64_t first = static_cast<std::int64_t>(blockIdx.x) * kSpan;
  const std::int64_t end = min(first + kSpan, total);
  const float* time = blk.state;
  const Complex* old = reinterpret_cast<const Complex*>(blk.state + B);
  const Complex* x = fresh + blk.fresh_base * bins;
  const float* in = samples + blk.sample_offset;
  float* out = blk.new_state;
  for (std::int64_t i = first + threadIdx.x; i < end; i += blockDim.x) {
    if (i < B) {
      out[i] = conv_stream_sample(time, B, in, blk.count, blk.out_blocks * B + i);
    } else {
      const std::int64_t f = i - B;  // float index within the spectra
      const std::int64_t c = f / 2;  // complex index
      const std::int64_t slot = c / bins, k = c % bins;
      const Complex v = conv_frame_spectrum(old, x, P, bins, blk.out_blocks + 1 + slot)[k];
      out[i] = (f % 2 == 0) ? v.re : v.im;
    }
  }
}

__global__ void scatter_kernel(const float* time, float* samples, const ConvBlock* blocks, const ConvItem* outs,
                               std::int64_t B, std::int64_t row0) {
  const std::int64_t o = row0 + blockIdx.y;
  const ConvItem item = outs[o];
  const ConvBlock blk = blocks[item.block];
  const std::int64_t base = item.index * B;
  const std::int64_t len = min(B, blk.count - base);
  const std::int64_t first = static_cast<std::int64_t>(blockIdx.x) * kSpan;
  const std::int64_t end = min(first + kSpan, len);
  const float* src = time + o * 2 * B + B;
  float* dst = samples + blk.sample_offset + base;
  for (std::int64_t i = first + threadIdx.x; i < end; i += blockDim.x) dst[i] = src[i];
}

__global__ void mid_side_kernel(float* samples, const Block* blocks, const std::uint32_t* pairs, bool encode,
                                std::int64_t row0) {
  const std::int64_t p = row0 + blockIdx.y;
  const Block a = blocks[pairs[2 * p]];
  const Block b = blocks[pairs[2 * p + 1]];
  const std::int64_t n = min(a.length_samples, b.length_samples);
  const std::int64_t first = static_cast<std::int64_t>(blockIdx.x) * kChunkSamples;
  const std::int64_t end = min(first + kChunkSamples, n);
  for (std::int64_t i = first + threadIdx.x; i < end; i += blockDim.x) {
    if (encode)
      mid_side_encode(samples + a.offset + i, samples + b.offset + i);
    else
      mid_side_decode(samples + a.offset + i, samples + b.offset + i);
  }
}

// Runs `launch(row0, rows)` over rows in slices the grid's y dimension allows.
template <class Launch>
int over_rows(std::int64_t rows, Launch&& launch) {
  for (std::int64_t row0 = 0; row0 < rows; row0 += kMaxGridY) {
    launch(row0, min(kMaxGridY, rows - row0));
    if (const cudaError_t e = cudaGetLastError(); e != cudaSuccess) return static_cast<int>(e);
  }
  return 0;
}

}  // namespace

int launch_conv_gather(const float* d_samples, const ConvBlock* d_blocks,
                       const ConvItem* d_items, std::int64_t item_count, std::int64_t block, float* d_frame_buf,
                       Stream stream) {
  return over_rows(item_count, [&](std::int64_t row0, std::int64_t rows) {
    gather_kernel<<<grid_rows(rows, 2 * block), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        d_samples, d_blocks, d_items, block, d_frame_buf, row0);
  });
}

int launch_conv_mac(const Complex* d_fresh, const Complex* d_fir_spectra,
                    const ConvBlock* d_blocks, const ConvItem* d_items, std::int64_t item_count,
                    std::int64_t partitions, std::int64_t block, Complex* d_sums, Stream stream) {
  return over_rows(item_count, [&](std::int64_t row0, std::int64_t rows) {
    mac_kernel<<<grid_rows(rows, block + 1), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        d_fresh, d_fir_spectra, d_blocks, d_items, partitions, block, d_sums, row0);
  });
}

int launch_conv_state(const float* d_samples, const Complex* d_fresh, const ConvBlock* d_blocks,
                      std::int64_t block_count, std::int64_t partitions, std::int64_t block,
                      Stream stream) {
  const std::int64_t total = block + 2 * (partitions - 1) * (block + 1);
  return over_rows(block_count, [&](std::int64_t row0, std::int64_t rows) {
    state_kernel<<<grid_rows(rows, total), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        d_samples, d_fresh, d_blocks, partitions, block, row0);
  });
}

int launch_conv_scatter(const float* d_time, float* d_samples, const ConvBlock* d_blocks, const ConvItem* d_outs,
                        std::int64_t out_count, std::int64_t block, Stream stream) {
  return over_rows(out_count, [&](std::int64_t row0, std::int64_t rows) {
    scatter_kernel<<<grid_rows(rows, block), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
        d_time, d_samples, d_blocks, d_outs, block, row0);
  });
}

int launch_mid_side(float* d_samples, const Block* d_blocks, const std::uint32_t* d_pairs, std::int64_t pair_count,
                    std::int64_t max_block_samples, bool encode, Stream stream) {
  const std::int64_t chunks = (max_block_samples + kChunkSamples - 1) / kChunkSamples;
  return over_rows(pair_count, [&](std::int64_t row0, std::int64_t rows) {
    mid_side_kernel<<<dim3(static_cast<unsigned>(chunks > 0 ? chunks : 1), static_cast<unsigned>(rows), 1), kThreads,
                      0, static_cast<cudaStream_t>(stream)>>>(d_samples, d_blocks, d_pairs, encode, row0);
  });
}

}  // namespace lathe::kernels::cuda
