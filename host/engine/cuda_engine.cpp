// The CUDA engine: device buffers grown on demand and reused across batches, one stream, launchers from
// kernels/cuda/. (Pinned pools, several streams and memory budgets come with the batch scheduler.)
#include <cuda_runtime.h>

#include <algorithm>
#include <map>
#include <vector>

#include "host/dsp/convolution.hpp"
#include "host/dsp/fft.hpp"
#include "host/engine/engine.hpp"
#include "host/errors.hpp"
#include "kernels/cuda/convolve.hpp"
#include "kernels/cuda/fft.hpp"
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
    batch_blocks_ = batch.blocks;
    ++generation_;
    evict_states();
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

  void convolve(std::span<const ConvolveJob> per_block) override {
    // Blocks sharing a filter run as one group: one gather, one batched FFT, one spectral sum, one inverse.
    std::map<const dsp::PartitionedFir*, std::vector<std::uint32_t>> groups;
    for (std::size_t b = 0; b < per_block.size(); ++b)
      if (per_block[b].fir != nullptr && batch_blocks_[b].length_samples > 0)
        groups[per_block[b].fir].push_back(static_cast<std::uint32_t>(b));
    for (const auto& [fir_ptr, members] : groups) convolve_group(*fir_ptr, members, per_block);
  }

  void mid_side(std::span<const BlockPair> pairs, bool encode) override {
    if (pairs.empty()) return;
    std::vector<std::uint32_t> flat;
    for (const BlockPair& p : pairs) {
      flat.push_back(p.first);
      flat.push_back(p.second);
    }
    std::uint32_t* d_pairs = pairs_.reserve(flat.size());
    check_cuda(cudaMemcpyAsync(d_pairs, flat.data(), flat.size() * sizeof(std::uint32_t), cudaMemcpyHostToDevice,
                               stream_), "copying the mid/side pairs to the GPU");
    check_launch(kernels::cuda::launch_mid_side(samples_.get(), blocks_.get(), d_pairs,
                                                static_cast<std::int64_t>(pairs.size()), max_block_, encode, stream_),
                 "launching the mid/side kernel");
    // `flat` must outlive the asynchronous copy.
    synchronize();
  }

 private:
  struct ResidentFir {
    DeviceBuffer<kernels::Complex> spectra;
  };

  kernels::cuda::DeviceFft& device_fft(int log2n) {
    auto& slot = ffts_[log2n];
    if (!slot) slot = kernels::cuda::make_device_fft(*dsp::FftPlan::get(log2n));
    return *slot;
  }

  const kernels::Complex* resident_spectra(const dsp::PartitionedFir& fir) {
    auto& r = firs_[fir.id];
    if (!r) {
      r = std::make_unique<ResidentFir>();
      kernels::Complex* d = r->spectra.reserve(fir.spectra.size());
      check_cuda(cudaMemcpy(d, fir.spectra.data(), fir.spectra.size() * sizeof(kernels::Complex),
                            cudaMemcpyHostToDevice), "copying filter spectra to the GPU");
    }
    return r->spectra.get();
  }

  // A stream's convolution state kept on the device between batches, double-buffered (the update reads the
  // old state while it writes the new one).
  struct ResidentState {
    DeviceBuffer<float> buffer[2];
    int current = 0;
    std::uint64_t used = 0;  // batch generation of the last use
  };

  void convolve_group(const dsp::PartitionedFir& fir, const std::vector<std::uint32_t>& members,
                      std::span<const ConvolveJob> per_block) {
    const std::int64_t B = fir.block, P = fir.partitions, S = fir.state_floats(), bins = fir.bins();
    std::vector<kernels::cuda::ConvBlock> descs;
    std::vector<kernels::cuda::ConvItem> items;
    for (std::size_t m = 0; m < members.size(); ++m) {
      const kernels::Block& blk = batch_blocks_[members[m]];
      const ConvolveJob& job = per_block[members[m]];
      // The state lives here from the stream's first segment on; the host copy is read only then.
      auto& slot = states_[job.state];
      if (!slot) slot = std::make_unique<ResidentState>();
      ResidentState& r = *slot;
      float* cur = r.buffer[r.current].reserve(static_cast<std::size_t>(S));
      float* next = r.buffer[1 - r.current].reserve(static_cast<std::size_t>(S));
      if (blk.start_sample == 0 || r.used == 0)
        check_cuda(cudaMemcpyAsync(cur, job.state, static_cast<std::size_t>(S) * sizeof(float), cudaMemcpyHostToDevice,
                                   stream_), "copying convolution state to the GPU");
      r.current = 1 - r.current;
      r.used = generation_;
      const std::int64_t T = (blk.length_samples + B - 1) / B;
      descs.push_back({blk.offset, blk.length_samples, T, static_cast<std::int64_t>(items.size()), cur, next});
      for (std::int64_t t = 0; t < T; ++t) items.push_back({static_cast<std::uint32_t>(m), 0, t});
    }
    const auto n_items = static_cast<std::int64_t>(items.size());

    auto* d_descs = conv_blocks_.reserve(descs.size());
    auto* d_items = conv_items_.reserve(items.size());
    float* d_time = time_.reserve(static_cast<std::size_t>(n_items * 2 * B));
    kernels::Complex* d_fresh = fresh_.reserve(static_cast<std::size_t>(n_items * bins));
    kernels::Complex* d_sums = sums_.reserve(static_cast<std::size_t>(n_items * bins));
    const kernels::Complex* d_fir = resident_spectra(fir);
    check_cuda(cudaMemcpyAsync(d_descs, descs.data(), descs.size() * sizeof(descs[0]), cudaMemcpyHostToDevice,
                               stream_), "copying convolution tables to the GPU");
    check_cuda(cudaMemcpyAsync(d_items, items.data(), items.size() * sizeof(items[0]), cudaMemcpyHostToDevice,
                               stream_), "copying convolution tables to the GPU");

    namespace kc = kernels::cuda;
    const auto members_n = static_cast<std::int64_t>(members.size());
    check_launch(kc::launch_conv_gather(samples_.get(), d_descs, d_items, n_items, B, d_time, stream_),
                 "launching the convolution gather");
    kc::DeviceFft& fft = device_fft(fir.log2_block + 1);
    check_launch(kc::rfft_forward(fft, d_time, static_cast<std::size_t>(2 * B), d_fresh, static_cast<std::size_t>(bins),
                                  static_cast<std::size_t>(n_items), stream_),
                 "launching the forward FFT");
    check_launch(kc::launch_conv_state(samples_.get(), d_fresh, d_descs, members_n, P, B, stream_),
                 "launching the convolution state update");
    check_launch(kc::launch_conv_mac(d_fresh, d_fir, d_descs, d_items, n_items, P, B, d_sums, stream_),
                 "launching the spectral sums");
    check_launch(kc::rfft_inverse(fft, d_sums, static_cast<std::size_t>(bins), d_time, static_cast<std::size_t>(2 * B),
                                  static_cast<std::size_t>(n_items), stream_),
                 "launching the inverse FFT");
    check_launch(kc::launch_conv_scatter(d_time, samples_.get(), d_descs, d_items, n_items, B, stream_),
                 "launching the convolution scatter");
    // The tables above are read by kernels still queued: wait before they go out of scope.
    synchronize();
  }

  // Drops the resident state of streams no batch has used for two generations (finished tracks).
  void evict_states() {
    for (auto it = states_.begin(); it != states_.end();) {
      if (it->second->used + 2 <= generation_)
        it = states_.erase(it);
      else
        ++it;
    }
  }

  int device_;
  std::string name_;
  cudaStream_t stream_ = nullptr;
  DeviceBuffer<float> samples_;
  DeviceBuffer<std::int32_t> quantised_buf_;
  DeviceBuffer<kernels::Block> blocks_;
  DeviceBuffer<unsigned long long> clipped_;
  DeviceBuffer<float> params_;
  DeviceBuffer<std::uint32_t> pairs_;
  DeviceBuffer<kernels::cuda::ConvBlock> conv_blocks_;
  DeviceBuffer<kernels::cuda::ConvItem> conv_items_;
  DeviceBuffer<float> time_;
  DeviceBuffer<kernels::Complex> fresh_;
  DeviceBuffer<kernels::Complex> sums_;
  std::uint64_t generation_ = 1;
  std::map<const float*, std::unique_ptr<ResidentState>> states_;
  std::vector<kernels::Block> batch_blocks_;
  std::map<int, std::unique_ptr<kernels::cuda::DeviceFft>> ffts_;
  std::map<std::uint64_t, std::unique_ptr<ResidentFir>> firs_;
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
