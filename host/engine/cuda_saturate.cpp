// The CUDA engine's saturation runner (kernels/cuda/saturate.cu): uploads each distinct design's taps, builds
// every block's extended input (the stream's history from host memory, then the block's samples on the device)
// in stream-ordered device memory, runs the kernel writing the outputs in place into the batch's samples, and
// copies the last H samples of each extended input back as the stream's new history.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "host/dsp/saturation.hpp"
#include "host/engine/cuda_check.hpp"
#include "host/engine/stage_ops.hpp"
#include "host/errors.hpp"
#include "kernels/cuda/saturate.hpp"

namespace lathe::host {
namespace {

// Stream-ordered device allocations, freed on the stream when the runner returns or throws.
class AsyncAllocs {
 public:
  explicit AsyncAllocs(cudaStream_t stream) : stream_(stream) {}
  AsyncAllocs(const AsyncAllocs&) = delete;
  AsyncAllocs& operator=(const AsyncAllocs&) = delete;
  ~AsyncAllocs() {
    for (void* p : ptrs_) cudaFreeAsync(p, stream_);
  }
  template <class T>
  T* alloc(std::size_t count, const char* doing) {
    void* p = nullptr;
    check_cuda(cudaMallocAsync(&p, std::max<std::size_t>(count, 1) * sizeof(T), stream_), doing);
    ptrs_.push_back(p);
    return static_cast<T*>(p);
  }

 private:
  cudaStream_t stream_;
  std::vector<void*> ptrs_;
};

}  // namespace

void run_saturate_cuda(const CudaBatchView& batch, std::span<const SaturateJob> jobs) {
  if (jobs.empty()) return;
  check_cuda(cudaSetDevice(batch.device), "selecting the GPU");
  const auto stream = static_cast<cudaStream_t>(batch.stream);
  const std::vector<kernels::Block>& blocks = *batch.blocks;
  AsyncAllocs mem(stream);

  // Taps of each distinct design, once.
  std::map<const dsp::SaturationDesign*, kernels::saturate::Table> tables;
  for (const SaturateJob& job : jobs) {
    if (tables.count(job.design)) continue;
    const dsp::SaturationDesign& d = *job.design;
    float* taps = mem.alloc<float>(d.up.size() + d.down.size(), "allocating saturation taps");
    check_cuda(cudaMemcpyAsync(taps, d.up.data(), d.up.size() * sizeof(float), cudaMemcpyHostToDevice, stream),
          "copying saturation taps to the GPU");
    check_cuda(cudaMemcpyAsync(taps + d.up.size(), d.down.data(), d.down.size() * sizeof(float), cudaMemcpyHostToDevice,
                          stream),
          "copying saturation taps to the GPU");
    kernels::saturate::Table t = d.params;
    t.up = taps;
    t.down = taps + d.up.size();
    tables.emplace(job.design, t);
  }

  // Extended inputs: [history H | block], one after another.
  std::vector<std::int64_t> ext_at(jobs.size());
  std::int64_t total = 0;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    ext_at[i] = total;
    total += jobs[i].design->history + blocks.at(jobs[i].block).length_samples;
  }
  float* d_ext = mem.alloc<float>(static_cast<std::size_t>(total), "allocating saturation inputs");
  std::vector<kernels::cuda::SaturateBlockJob> launch(jobs.size());
  std::int64_t max_length = 0, shared = 0;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const SaturateJob& job = jobs[i];
    const kernels::Block& blk = blocks[job.block];
    const std::int64_t h = job.design->history;
    float* xe = d_ext + ext_at[i];
    check_cuda(cudaMemcpyAsync(xe, job.state, static_cast<std::size_t>(h) * sizeof(float), cudaMemcpyHostToDevice, stream),
          "copying saturation state to the GPU");
    if (blk.length_samples > 0)
      check_cuda(cudaMemcpyAsync(xe + h, batch.d_samples + blk.offset,
                            static_cast<std::size_t>(blk.length_samples) * sizeof(float), cudaMemcpyDeviceToDevice,
                            stream),
            "staging saturation inputs on the GPU");
    const kernels::saturate::Table& t = tables.at(job.design);
    launch[i] = kernels::cuda::SaturateBlockJob{t, xe, batch.d_samples + blk.offset, blk.length_samples};
    max_length = std::max(max_length, blk.length_samples);
    shared = std::max(shared, kernels::cuda::saturate_shared_floats(t.R, t.T));
  }
  auto* d_jobs = mem.alloc<kernels::cuda::SaturateBlockJob>(launch.size(), "allocating saturation jobs");
  check_cuda(cudaMemcpyAsync(d_jobs, launch.data(), launch.size() * sizeof(launch[0]), cudaMemcpyHostToDevice, stream),
        "copying saturation jobs to the GPU");
  check_cuda(static_cast<cudaError_t>(kernels::cuda::launch_saturate(d_jobs, static_cast<int>(launch.size()), max_length,
                                                                shared, stream)),
        "running the saturation kernel");

  // New histories: the last H samples of each extended input.
  std::vector<float> states;
  std::vector<std::size_t> state_at(jobs.size());
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    state_at[i] = states.size();
    states.resize(states.size() + static_cast<std::size_t>(jobs[i].design->history));
  }
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const std::int64_t h = jobs[i].design->history;
    const std::int64_t end = ext_at[i] + h + blocks[jobs[i].block].length_samples;
    check_cuda(cudaMemcpyAsync(states.data() + state_at[i], d_ext + (end - h), static_cast<std::size_t>(h) * sizeof(float),
                          cudaMemcpyDeviceToHost, stream),
          "copying saturation state from the GPU");
  }
  check_cuda(cudaStreamSynchronize(stream), "waiting for the saturation kernel");
  for (std::size_t i = 0; i < jobs.size(); ++i)
    std::memcpy(jobs[i].state, states.data() + state_at[i],
                static_cast<std::size_t>(jobs[i].design->history) * sizeof(float));
}

}  // namespace lathe::host
