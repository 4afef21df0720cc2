// CUDA launcher of the saturation stage: kernels/saturate.hpp mapped onto a grid of (tile, block). Each CUDA block
// computes the shaped oversampled samples s[m] its tile of outputs reads into shared memory, then each thread
// computes whole outputs w[c] from them. s[m] and w[c] are the same functions, summed in the same order, as in
// saturate::process_range, which the CPU engine's SIMD runner matches lane for lane (host/dsp/saturation.cpp), so
// the bits match whatever the tiling.
#include <cuda_runtime.h>

#include "kernels/cuda/saturate.hpp"

namespace lathe::kernels::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void saturate_kernel(const SaturateBlockJob* jobs, int job_base) {
  extern __shared__ float s[];
  const SaturateBlockJob job = jobs[job_base + static_cast<int>(blockIdx.y)];
  const saturate::Table& t = job.table;
  const std::int64_t b0 = static_cast<std::int64_t>(blockIdx.x) * kSaturateTile;
  if (b0 >= job.length) return;  // uniform over the CUDA block
  const std::int64_t b1 = b0 + kSaturateTile < job.length ? b0 + kSaturateTile : job.length;
  const std::int64_t H = saturate::history(t);
  const std::int64_t D = saturate::latency(t);
  const std::int64_t j0 = H + b0;
  const std::int64_t j1 = H + b1;
  if (!saturate::has_wet(t)) {
    for (std::int64_t j = j0 + threadIdx.x; j < j1; j += blockDim.x)
      job.y[j - H] = saturate::mix_one(t, job.xe[j - D], 0.0f);
    return;
  }
  const saturate::OversampledSpan span = saturate::oversampled_span(t, j0 - D, j1 - D);
  for (std::int64_t m = span.first + threadIdx.x; m < span.end; m += blockDim.x)
    s[m - span.first] = saturate::shaped_one(t, job.xe, m);
  __syncthreads();
  for (std::int64_t j = j0 + threadIdx.x; j < j1; j += blockDim.x) {
    const float w = saturate::downsample_one(t, s, span.first, j - D);
    job.y[j - H] = saturate::mix_one(t, job.xe[j - D], w);
  }
}

}  // namespace

int launch_saturate(const SaturateBlockJob* d_jobs, int job_count, std::int64_t max_length,
                    std::int64_t shared_floats, Stream stream) {
  if (job_count <= 0 || max_length <= 0) return 0;
  const std::size_t shared_bytes = static_cast<std::size_t>(shared_floats) * sizeof(float);
  if (shared_bytes > 48 * 1024) {
    const cudaError_t e = cudaFuncSetAttribute(saturate_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                               static_cast<int>(shared_bytes));
    if (e != cudaSuccess) return static_cast<int>(e);
  }
  const unsigned tiles = static_cast<unsigned>((max_length + kSaturateTile - 1) / kSaturateTile);
  constexpr int kMaxGridY = 65535;
  for (int base = 0; base < job_count; base += kMaxGridY) {
    const int count = job_count - base < kMaxGridY ? job_count - base : kMaxGridY;
    saturate_kernel<<<dim3(tiles, static_cast<unsigned>(count)), kThreads, shared_bytes,
                      static_cast<cudaStream_t>(stream)>>>(d_jobs, base);
    const cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return static_cast<int>(e);
  }
  return 0;
}

}  // namespace lathe::kernels::cuda
