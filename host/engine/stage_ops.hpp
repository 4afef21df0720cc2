// The runners of the chain stages' own kernels, one pair per operation: the CPU engine's (oneTBB) and the CUDA
// engine's (defined in host/engine/cuda_*.cpp, built only with CUDA). The engines forward Engine::dynamics and
// Engine::saturate here, so each stage's runners live beside its design (host/dsp/compressor.cpp,
// host/dsp/saturation.cpp) rather than inside the engines.
#pragma once

#include <span>
#include <vector>

#include "host/engine/engine.hpp"
#include "kernels/block.hpp"

namespace lathe::host {

// CPU: `samples` is the batch's flat buffer, `blocks` its block table.
void run_dynamics_cpu(float* samples, const std::vector<kernels::Block>& blocks, std::span<const DynamicsJob> jobs);
void run_saturate_cpu(float* samples, const std::vector<kernels::Block>& blocks, std::span<const SaturateJob> jobs);

// What a CUDA runner sees of the loaded batch: the samples and block table on the device, the block table on
// the host, and the engine's stream (cudaStream_t) and device. The runner may allocate device memory (stream
// ordered) and must leave every job's host state updated when it returns.
struct CudaBatchView {
  float* d_samples = nullptr;
  const kernels::Block* d_blocks = nullptr;
  const std::vector<kernels::Block>* blocks = nullptr;
  void* stream = nullptr;
  int device = 0;
};
void run_dynamics_cuda(const CudaBatchView& batch, std::span<const DynamicsJob> jobs);
void run_saturate_cuda(const CudaBatchView& batch, std::span<const SaturateJob> jobs);

}  // namespace lathe::host
