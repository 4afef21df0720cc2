// The CUDA runner of the compressor (Engine::dynamics): the jobs' designs (plain coefficients), states and block
// lists go to the device in one stream-ordered allocation, one thread per track runs kernels/dynamics.hpp over
// the batch's resident samples, and the updated states come back to host memory before this returns.
#include <cuda_runtime.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "host/dsp/compressor.hpp"
#include "host/engine/cuda_check.hpp"
#include "host/engine/stage_ops.hpp"
#include "host/errors.hpp"
#include "kernels/cuda/dynamics.hpp"

namespace lathe::host {
namespace {


std::size_t round_up(std::size_t n) { return (n + 255) / 256 * 256; }

}  // namespace

void run_dynamics_cuda(const CudaBatchView& batch, std::span<const DynamicsJob> jobs) {
  namespace kd = kernels::dynamics;
  std::vector<kd::Params> params;
  std::vector<kd::State> states;
  std::vector<kd::Job> kjobs;
  std::vector<void*> targets;
  const std::size_t block_count = batch.blocks ? batch.blocks->size() : 0;
  for (const DynamicsJob& j : jobs) {
    if (j.channel_count < 0 || j.channel_count > kd::kMaxChannels)
      throw Error("the compressor handles at most " + std::to_string(kd::kMaxChannels) + " channels");
    if (j.design == nullptr || j.state == nullptr || j.channel_count == 0) continue;
    kd::Job k{};
    for (int c = 0; c < j.channel_count; ++c) {
      if (j.blocks[c] >= block_count) throw Error("compressor job names a block outside the batch");
      k.blocks[c] = j.blocks[c];
    }
    k.channel_count = j.channel_count;
    params.push_back(j.design->params);
    kd::State s;
    std::memcpy(&s, j.state, sizeof s);
    states.push_back(s);
    kjobs.push_back(k);
    targets.push_back(j.state);
  }
  if (kjobs.empty()) return;

  const std::size_t n = kjobs.size();
  const std::size_t params_bytes = round_up(n * sizeof(kd::Params));
  const std::size_t states_bytes = round_up(n * sizeof(kd::State));
  const std::size_t jobs_bytes = round_up(n * sizeof(kd::Job));
  auto stream = static_cast<cudaStream_t>(batch.stream);
  check_cuda(cudaSetDevice(batch.device), "selecting the GPU");
  void* base = nullptr;
  check_cuda(cudaMallocAsync(&base, params_bytes + states_bytes + jobs_bytes, stream), "allocating compressor memory");
  auto* bytes = static_cast<unsigned char*>(base);
  auto* d_params = reinterpret_cast<kd::Params*>(bytes);
  auto* d_states = reinterpret_cast<kd::State*>(bytes + params_bytes);
  auto* d_jobs = reinterpret_cast<kd::Job*>(bytes + params_bytes + states_bytes);
  cudaError_t status = cudaMemcpyAsync(d_params, params.data(), n * sizeof(kd::Params), cudaMemcpyHostToDevice, stream);
  if (status == cudaSuccess)
    status = cudaMemcpyAsync(d_states, states.data(), n * sizeof(kd::State), cudaMemcpyHostToDevice, stream);
  if (status == cudaSuccess)
    status = cudaMemcpyAsync(d_jobs, kjobs.data(), n * sizeof(kd::Job), cudaMemcpyHostToDevice, stream);
  if (status == cudaSuccess)
    status = static_cast<cudaError_t>(kernels::cuda::launch_dynamics(
        batch.d_samples, batch.d_blocks, d_params, d_states, d_jobs, static_cast<std::int64_t>(n), stream));
  if (status == cudaSuccess)
    status = cudaMemcpyAsync(states.data(), d_states, n * sizeof(kd::State), cudaMemcpyDeviceToHost, stream);
  const cudaError_t freed = cudaFreeAsync(base, stream);
  const cudaError_t synced = cudaStreamSynchronize(stream);
  check_cuda(status, "running the compressor");
  check_cuda(freed, "freeing compressor memory");
  check_cuda(synced, "waiting for the compressor");
  for (std::size_t k = 0; k < n; ++k) std::memcpy(targets[k], &states[k], sizeof(kd::State));
}

}  // namespace lathe::host
