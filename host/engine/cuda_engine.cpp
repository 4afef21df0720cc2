// The CUDA engine: device buffers grown on demand and reused across batches, one stream, launchers from
// kernels/cuda/. (Pinned pools, several streams and memory budgets come with the batch scheduler.)
#include <cuda_runtime.h>

#include <algorithm>

#include "host/engine/engine.hpp"
#include "host/errors.hpp"
#include "kernels/cuda/launch.hpp"

namespace lathe::host {
namespace {

void check_cuda(cudaError_t status, const char* doing) {
  if (status != cudaSuccess)
    throw GpuError(std::string("CUDA error while ") + doing + ": " + cudaGetErrorString(status),
                   "check the driver with nvidia-smi, or use --engine cpu");
}
void check_launch(int status, const char* doing) { check_cuda(static_cast<cudaError_t>(status), doing); }

// A device allocation that only grows.
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { if (ptr_) cudaFree(ptr_); }
  T* reserve(std::size_t count) {
    if (count > capacity_) {
      if (ptr_) cudaFree(ptr_);
      ptr_ = nullptr;
      capacity_ = 0;
      check_cuda(cudaMalloc(reinterpret_cast<void**>(&ptr_), std::max<std::size_t>(count, 1) * sizeof(T)),
                 "allocating device memory");
      capacity_ = count;
    }
    return ptr_;
  }
  T* get() const { return ptr_; }

 private:
  T* ptr_ = nullptr;
  std::size_t capacity_ = 0;
};

class CudaEngine final : public Engine {
 public:
  explicit CudaEngine(int device) : device_(device) {
    check_cuda(cudaSetDevice(device), "selecting the GPU");
    cudaDeviceProp prop{};
    check_cuda(cudaGetDeviceProperties(&prop, device), "reading GPU properties");
    name_ = prop.name;
    check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "creating a CUDA stream");
  }
  ~CudaEngine() override {
    if (stream_) cudaStreamDestroy(stream_);
  }

  std::string kind() const override { return "gpu"; }
  std::string description() const override {
    return "gpu (" + name_ + ", device " + std::to_string(device_) + ", CUDA " LATHE_CUDA_VERSION ")";
  }

  void load(BlockBatch& batch) override {
    check_cuda(cudaSetDevice(device_), "selecting the GPU");
    block_count_ = static_cast<std::int64_t>(batch.blocks.size());
    max_block_ = 0;
    for (const auto& b : batch.blocks) max_block_ = std::max(max_block_, b.length_samples);
    slots_ = static_cast<std::size_t>(batch.slots);
    quantised_ = false;
    float* d_samples = samples_.reserve(batch.samples.size());
    kernels::Block* d_blocks = blocks_.reserve(batch.blocks.size());
    unsigned long long* d_clipped = clipped_.reserve(slots_);
    check_cuda(cudaMemcpyAsync(d_samples, batch.samples.data(), batch.samples.size() * sizeof(float),
                               cudaMemcpyHostToDevice, stream_), "copying samples to the GPU");
    check_cuda(cudaMemcpyAsync(d_blocks, batch.blocks.data(), batch.blocks.size() * sizeof(kernels::Block),
                               cudaMemcpyHostToDevice, stream_), "copying the block table to the GPU");
    check_cuda(cudaMemsetAsync(d_clipped, 0, slots_ * sizeof(unsigned long long), stream_),
               "clearing GPU counters");
    sample_count_ = batch.samples.size();
  }

  void store(BlockBatch& batch) override {
    batch.clipped_samples.assign(slots_, 0);
    if (quantised_) {
      // PCM delivery: only the quantised words and the counters are needed on the host.
      batch.quantised.resize(sample_count_);
      check_cuda(cudaMemcpyAsync(batch.quantised.data(), quantised_buf_.get(), sample_count_ * sizeof(std::int32_t),
                                 cudaMemcpyDeviceToHost, stream_), "copying quantised samples from the GPU");
      static_assert(sizeof(unsigned long long) == sizeof(std::uint64_t));
      check_cuda(cudaMemcpyAsync(batch.clipped_samples.data(), clipped_.get(), slots_ * sizeof(std::uint64_t),
                                 cudaMemcpyDeviceToHost, stream_), "copying GPU counters");
      batch.quantised_valid = true;
    } else {
      check_cuda(cudaMemcpyAsync(batch.samples.data(), samples_.get(), sample_count_ * sizeof(float),
                                 cudaMemcpyDeviceToHost, stream_), "copying samples from the GPU");
    }
    synchronize();
  }

  void synchronize() override { check_cuda(cudaStreamSynchronize(stream_), "waiting for the GPU"); }

  void apply_gain(std::span<const float> gain_per_slot) override {
    float* d_gain = params_.reserve(gain_per_slot.size());
    check_cuda(cudaMemcpyAsync(d_gain, gain_per_slot.data(), gain_per_slot.size_bytes(), cudaMemcpyHostToDevice,
                               stream_), "copying gains to the GPU");
    check_launch(kernels::cuda::launch_gain(samples_.get(), blocks_.get(), block_count_, max_block_, d_gain, stream_),
                 "launching the gain kernel");
  }

  void quantise(const kernels::QuantiseParams& params) override {
    std::int32_t* d_out = quantised_buf_.reserve(sample_count_);
    check_launch(kernels::cuda::launch_quantise(samples_.get(), d_out, blocks_.get(), block_count_, max_block_,
                                                params, clipped_.get(), stream_),
                 "launching the quantise kernel");
    quantised_ = true;
  }

 private:
  int device_;
  std::string name_;
  cudaStream_t stream_ = nullptr;
  DeviceBuffer<float> samples_;
  DeviceBuffer<std::int32_t> quantised_buf_;
  DeviceBuffer<kernels::Block> blocks_;
  DeviceBuffer<unsigned long long> clipped_;
  DeviceBuffer<float> params_;
  std::int64_t block_count_ = 0;
  std::int64_t max_block_ = 0;
  std::size_t slots_ = 0;
  std::size_t sample_count_ = 0;
  bool quantised_ = false;
};

}  // namespace

std::string gpu_unavailable_reason() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) return std::string("no usable GPU: ") + cudaGetErrorString(status);
  if (count == 0) return "no CUDA GPU found";
  return {};
}

std::string gpu_description() {
  if (!gpu_unavailable_reason().empty()) return {};
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return {};
  return std::string(prop.name) + " (" + std::to_string(prop.totalGlobalMem >> 20) + " MiB, sm_" +
         std::to_string(prop.major) + std::to_string(prop.minor) + ")";
}

std::unique_ptr<Engine> make_cuda_engine(int device) {
  if (const std::string why = gpu_unavailable_reason(); !why.empty()) throw GpuError(why, "use --engine cpu");
  return std::make_unique<CudaEngine>(device);
}

}  // namespace lathe::host
