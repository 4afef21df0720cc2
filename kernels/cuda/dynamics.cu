// CUDA launcher of the compressor: kernels/dynamics.hpp mapped onto one thread per track (the recurrence runs
// in time order inside the thread; tracks run in parallel), the CPU runner's decomposition, hence its bits.
#include <cuda_runtime.h>

#include "kernels/cuda/dynamics.hpp"

namespace lathe::kernels::cuda {
namespace {

constexpr int kThreads = 64;

__global__ void dynamics_kernel(float* samples, const Block* blocks, const dynamics::Params* params,
                                dynamics::State* states, const dynamics::Job* jobs, std::int64_t count) {
  const std::int64_t j = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= count) return;
  const dynamics::Params p = params[j];
  dynamics::State st = states[j];
  dynamics::process_job(p, st, samples, blocks, jobs[j]);
  states[j] = st;
}

}  // namespace

int launch_dynamics(float* d_samples, const Block* d_blocks, const dynamics::Params* d_params,
                    dynamics::State* d_states, const dynamics::Job* d_jobs, std::int64_t count, Stream stream) {
  if (count <= 0) return 0;
  const auto grid = static_cast<unsigned>((count + kThreads - 1) / kThreads);
  dynamics_kernel<<<grid, kThreads, 0, static_cast<cudaStream_t>(stream)>>>(d_samples, d_blocks, d_params, d_states,
                                                                           d_jobs, count);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace lathe::kernels::cuda
