// The CUDA engine: device buffers grown on demand and reused across batches, one stream, launchers from
// kernels/cuda/. The buffers count against a per-GPU budget (set_gpu_memory_budget, --gpu-memory); the batch
// scheduler sizes batches to it (MasterOptions::max_batch_samples), so that a budget shrinks batches, and an
// allocation past it fails as a GpuError (what --engine auto recovers from on the CPU). (Pinned pools and
// several streams per engine are not done yet.)
#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <map>
#include <vector>

#include "host/dsp/convolution.hpp"
#include "host/dsp/fft.hpp"
#include "host/dsp/limiter.hpp"
#include "host/dsp/resample_design.hpp"
#include "host/engine/engine.hpp"
#include "host/engine/cuda_check.hpp"
#include "host/engine/stage_ops.hpp"
#include "host/errors.hpp"
#include "kernels/cuda/convolve.hpp"
#include "kernels/cuda/fft.hpp"
#include "kernels/cuda/launch.hpp"
#include "kernels/cuda/delivery.hpp"
#include "kernels/cuda/meter.hpp"

namespace lathe::host {
namespace {

// What the engines of this process hold on each GPU, against its budget (0: none). Engines on one GPU (the
// chain's and the deliveries' companions) run on several threads: atomics.
struct DeviceBudget {
  std::atomic<std::size_t> used{0};
  std::atomic<std::size_t> limit{0};
};
constexpr int kMaxDevices = 64;
DeviceBudget& budget_of(int device) {
  static std::array<DeviceBudget, kMaxDevices> budgets;
  return budgets[static_cast<std::size_t>(std::clamp(device, 0, kMaxDevices - 1))];
}

// A device allocation that only grows, on the current GPU, counted against its budget.
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { release(); }
  T* reserve(std::size_t count) {
    if (count > capacity_) {
      release();
      const std::size_t bytes = std::max<std::size_t>(count, 1) * sizeof(T);
      check_cuda(cudaGetDevice(&device_), "selecting the GPU");
      DeviceBudget& budget = budget_of(device_);
      const std::size_t before = budget.used.fetch_add(bytes);
      const std::size_t limit = budget.limit.load();
      if (limit > 0 && before + bytes > limit) {
        budget.used.fetch_sub(bytes);
        throw GpuError("GPU " + std::to_string(device_) + " memory budget of " + std::to_string(limit >> 20) +
                           " MiB exhausted (" + std::to_string(before >> 20) + " MiB in use, " +
                           std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB more asked)",
                       "raise --gpu-memory, or lower --track-memory (whole-track delivery buffers)");
      }
      if (const cudaError_t e = cudaMalloc(reinterpret_cast<void**>(&ptr_), bytes); e != cudaSuccess) {
        budget.used.fetch_sub(bytes);
        ptr_ = nullptr;
        check_cuda(e, "allocating device memory");
      }
      capacity_ = count;
    }
    return ptr_;
  }
  T* get() const { return ptr_; }

 private:
  void release() {
    if (!ptr_) return;
    cudaFree(ptr_);
    budget_of(device_).used.fetch_sub(std::max<std::size_t>(capacity_, 1) * sizeof(T));
    ptr_ = nullptr;
    capacity_ = 0;
  }
  T* ptr_ = nullptr;
  std::size_t capacity_ = 0;
  int device_ = 0;
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

  std::unique_ptr<Engine> make_companion() const override { return std::make_unique<CudaEngine>(device_); }

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
    current_ = 0;
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
    check_launch(kernels::cuda::launch_gain(cur(), blocks_.get(), block_count_, max_block_, d_gain, stream_),
                 "launching the gain kernel");
  }

  void quantise(const kernels::QuantiseParams& params) override {
    std::int32_t* d_out = quantised_buf_.reserve(sample_count_);
    check_launch(kernels::cuda::launch_quantise(cur(), d_out, blocks_.get(), block_count_, max_block_,
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
    const std::uint32_t* d_pairs = upload_pairs(pairs, flat);
    check_launch(kernels::cuda::launch_mid_side(cur(), blocks_.get(), d_pairs,
                                                static_cast<std::int64_t>(pairs.size()), max_block_, encode, stream_),
                 "launching the mid/side kernel");
    synchronize();  // `flat` must outlive the asynchronous copy
  }

  void scale_blocks(std::span<const float> scale, std::span<const float> offset,
                    std::span<const std::int64_t> offset_end) override {
    if (block_count_ == 0) return;
    std::vector<float> both(scale.begin(), scale.end());
    both.insert(both.end(), offset.begin(), offset.end());
    float* d = params_.reserve(both.size());
    std::int64_t* d_end = ends_.reserve(offset_end.size());
    check_cuda(cudaMemcpyAsync(d, both.data(), both.size() * sizeof(float), cudaMemcpyHostToDevice, stream_),
               "copying block scales to the GPU");
    check_cuda(cudaMemcpyAsync(d_end, offset_end.data(), offset_end.size_bytes(), cudaMemcpyHostToDevice, stream_),
               "copying block offset ends to the GPU");
    check_launch(kernels::cuda::launch_scale_offset(cur(), blocks_.get(), block_count_, max_block_,
                                                    d, d + scale.size(), d_end, stream_),
                 "launching the scale kernel");
    synchronize();  // `both` must outlive the asynchronous copy
  }

  void fade_blocks(std::span<const std::int64_t> fade_start, std::span<const std::int64_t> fade_end) override {
    if (block_count_ == 0) return;
    std::vector<std::int64_t> both(fade_start.begin(), fade_start.end());
    both.insert(both.end(), fade_end.begin(), fade_end.end());
    std::int64_t* d = ends_.reserve(both.size());
    check_cuda(cudaMemcpyAsync(d, both.data(), both.size() * sizeof(std::int64_t), cudaMemcpyHostToDevice, stream_),
               "copying block fades to the GPU");
    check_launch(kernels::cuda::launch_fade_out(cur(), blocks_.get(), block_count_, max_block_, d,
                                                d + fade_start.size(), stream_),
                 "launching the fade kernel");
    synchronize();  // `both` must outlive the asynchronous copy
  }

  void swap_blocks(std::span<const BlockPair> pairs) override {
    if (pairs.empty()) return;
    std::vector<std::uint32_t> flat;
    const std::uint32_t* d_pairs = upload_pairs(pairs, flat);
    check_launch(kernels::cuda::launch_swap(cur(), blocks_.get(), d_pairs,
                                            static_cast<std::int64_t>(pairs.size()), max_block_, stream_),
                 "launching the swap kernel");
    synchronize();  // `flat` must outlive the asynchronous copy
  }

  void dynamics(std::span<const DynamicsJob> jobs) override {
    if (!jobs.empty()) run_dynamics_cuda(view(), jobs);
  }
  void saturate(std::span<const SaturateJob> jobs) override {
    if (!jobs.empty()) run_saturate_cuda(view(), jobs);
  }

  void copy_buffer(int from, int to) override {
    check_buffer(from, "copy_buffer");
    check_buffer(to, "copy_buffer");
    if (from == to) throw Error("copy_buffer: a buffer cannot be copied onto itself");
    const float* src = buffer(from);
    float* dst = buffer(to);
    if (sample_count_ > 0)
      check_cuda(cudaMemcpyAsync(dst, src, sample_count_ * sizeof(float), cudaMemcpyDeviceToDevice, stream_),
                 "copying a sample buffer on the GPU");
  }

  void add_buffer(int from, int to) override {
    check_buffer(from, "add_buffer");
    check_buffer(to, "add_buffer");
    if (from == to) throw Error("add_buffer: a buffer cannot be added to itself");
    const float* src = buffer(from);
    float* dst = buffer(to);
    if (block_count_ == 0) return;
    check_launch(kernels::cuda::launch_add(dst, src, blocks_.get(), block_count_, max_block_, stream_),
                 "launching the add kernel");
  }

  void use_buffer(int k) override {
    check_buffer(k, "use_buffer");
    buffer(k);  // allocates an auxiliary buffer on first use
    current_ = k;
  }

  // The meter's jobs: everything they read and write is packed into one arena (host staging -> device), the
  // kernels run, and the arena's results come back; true-peak ranges are merged here with max and sums.
  void meter(std::span<const meter::LoudnessJob> loudness, std::span<const meter::TruePeakJob> peaks) override {
    namespace km = kernels::meter;
    check_cuda(cudaSetDevice(device_), "selecting the GPU");
    constexpr std::int64_t kRange = 2048;  // samples per true-peak thread
    std::size_t size = 0;
    auto place = [&size](std::size_t bytes) {
      size = (size + 15) / 16 * 16;
      const std::size_t at = size;
      size += bytes;
      return at;
    };
    // Samples: one copy per distinct channel pointer (loudness and true-peak jobs read the same channels).
    std::map<const float*, std::size_t> sample_at;
    auto add_samples = [&](const float* x, std::int64_t n) {
      if (x != nullptr && !sample_at.count(x)) sample_at[x] = place(static_cast<std::size_t>(n) * sizeof(float));
    };
    for (const auto& j : loudness) {
      add_samples(j.x_left, j.frames);
      add_samples(j.x_right, j.frames);
    }
    for (const auto& j : peaks) add_samples(j.x, j.frames);
    const std::size_t results_from = (size + 15) / 16 * 16;  // everything after the samples comes back
    std::map<const void*, std::size_t> coeff_at;
    auto add_coeffs = [&](const void* c, std::size_t bytes) {
      if (!coeff_at.count(c)) coeff_at[c] = place(bytes);
    };
    struct LoudPlace { std::size_t left, right, pair, bins_left, bins_right, cross; };
    std::vector<LoudPlace> lp(loudness.size());
    for (std::size_t i = 0; i < loudness.size(); ++i) {
      const auto& j = loudness[i];
      add_coeffs(j.coeffs, sizeof(km::KWeightCoeffs));
      const auto bins = static_cast<std::size_t>(j.bins) * sizeof(double);
      lp[i].left = place(sizeof(km::ChannelState));
      lp[i].right = j.right ? place(sizeof(km::ChannelState)) : 0;
      lp[i].pair = j.right ? place(sizeof(km::PairState)) : 0;
      lp[i].bins_left = j.bins_left ? place(bins) : 0;
      lp[i].bins_right = j.bins_right ? place(bins) : 0;
      lp[i].cross = j.cross ? place(bins) : 0;
    }
    std::vector<std::size_t> tp_state(peaks.size());
    std::vector<std::int64_t> first_range(peaks.size() + 1, 0);
    for (std::size_t i = 0; i < peaks.size(); ++i) {
      add_coeffs(peaks[i].coeffs, sizeof(km::TruePeakCoeffs));
      tp_state[i] = place(sizeof(km::TruePeakState));
      const bool active = peaks[i].coeffs->factor > 1 && peaks[i].frames > 0;
      first_range[i + 1] = first_range[i] + (active ? (peaks[i].frames + kRange - 1) / kRange : 0);
    }
    const auto ranges = static_cast<std::size_t>(first_range.back());
    const std::size_t peak_out = place(ranges * sizeof(float));
    const std::size_t overs_out = place(ranges * sizeof(unsigned long long));
    const std::size_t loud_jobs_at = place(loudness.size() * sizeof(kernels::cuda::MeterLoudnessJob));
    const std::size_t range_jobs_at = place(ranges * sizeof(kernels::cuda::TruePeakRange));
    size = (size + 15) / 16 * 16;

    std::byte* d = meter_arena_.reserve(size);
    std::vector<std::byte>& h = meter_staging_;
    h.assign(size, std::byte{0});
    auto put = [&h](std::size_t at, const void* src, std::size_t bytes) { std::memcpy(h.data() + at, src, bytes); };
    auto dev = [d](std::size_t at) { return d + at; };
    for (const auto& j : loudness) {
      put(sample_at[j.x_left], j.x_left, static_cast<std::size_t>(j.frames) * sizeof(float));
      if (j.x_right) put(sample_at[j.x_right], j.x_right, static_cast<std::size_t>(j.frames) * sizeof(float));
    }
    for (const auto& j : peaks) put(sample_at[j.x], j.x, static_cast<std::size_t>(j.frames) * sizeof(float));
    for (const auto& j : loudness) put(coeff_at[j.coeffs], j.coeffs, sizeof(km::KWeightCoeffs));
    for (const auto& j : peaks) put(coeff_at[j.coeffs], j.coeffs, sizeof(km::TruePeakCoeffs));
    std::vector<kernels::cuda::MeterLoudnessJob> ljobs(loudness.size());
    for (std::size_t i = 0; i < loudness.size(); ++i) {
      const auto& j = loudness[i];
      put(lp[i].left, j.left, sizeof(km::ChannelState));
      if (j.right) {
        put(lp[i].right, j.right, sizeof(km::ChannelState));
        put(lp[i].pair, j.pair, sizeof(km::PairState));
      }
      auto& g = ljobs[i];
      g.left = reinterpret_cast<km::ChannelState*>(dev(lp[i].left));
      g.right = j.right ? reinterpret_cast<km::ChannelState*>(dev(lp[i].right)) : nullptr;
      g.pair = j.right ? reinterpret_cast<km::PairState*>(dev(lp[i].pair)) : nullptr;
      g.coeffs = reinterpret_cast<const km::KWeightCoeffs*>(dev(coeff_at[j.coeffs]));
      g.x_left = reinterpret_cast<const float*>(dev(sample_at[j.x_left]));
      g.x_right = j.x_right ? reinterpret_cast<const float*>(dev(sample_at[j.x_right])) : nullptr;
      g.frames = j.frames;
      g.bins_left = j.bins_left ? reinterpret_cast<double*>(dev(lp[i].bins_left)) : nullptr;
      g.bins_right = j.bins_right ? reinterpret_cast<double*>(dev(lp[i].bins_right)) : nullptr;
      g.cross = j.cross ? reinterpret_cast<double*>(dev(lp[i].cross)) : nullptr;
      g.rate_hz = j.rate_hz;
      g.loudness = j.loudness ? 1 : 0;
    }
    if (!ljobs.empty()) put(loud_jobs_at, ljobs.data(), ljobs.size() * sizeof(ljobs[0]));
    std::vector<kernels::cuda::TruePeakRange> rjobs(ranges);
    for (std::size_t i = 0; i < peaks.size(); ++i) {
      put(tp_state[i], peaks[i].state, sizeof(km::TruePeakState));
      for (std::int64_t r = first_range[i]; r < first_range[i + 1]; ++r) {
        auto& g = rjobs[static_cast<std::size_t>(r)];
        g.state = reinterpret_cast<const km::TruePeakState*>(dev(tp_state[i]));
        g.coeffs = reinterpret_cast<const km::TruePeakCoeffs*>(dev(coeff_at[peaks[i].coeffs]));
        g.x = reinterpret_cast<const float*>(dev(sample_at[peaks[i].x]));
        g.begin = (r - first_range[i]) * kRange;
        g.end = std::min(g.begin + kRange, peaks[i].frames);
        g.peak_out = reinterpret_cast<float*>(dev(peak_out)) + r;
        g.overs_out = reinterpret_cast<unsigned long long*>(dev(overs_out)) + r;
      }
    }
    if (!rjobs.empty()) put(range_jobs_at, rjobs.data(), rjobs.size() * sizeof(rjobs[0]));

    check_cuda(cudaMemcpyAsync(d, h.data(), size, cudaMemcpyHostToDevice, stream_), "copying meter input to the GPU");
    check_launch(kernels::cuda::launch_meter_loudness(
                     reinterpret_cast<const kernels::cuda::MeterLoudnessJob*>(dev(loud_jobs_at)),
                     static_cast<std::int64_t>(ljobs.size()), stream_),
                 "launching the loudness meter kernel");
    check_launch(kernels::cuda::launch_true_peak_ranges(
                     reinterpret_cast<const kernels::cuda::TruePeakRange*>(dev(range_jobs_at)),
                     static_cast<std::int64_t>(ranges), stream_),
                 "launching the true-peak kernel");
    check_cuda(cudaMemcpyAsync(h.data() + results_from, d + results_from, size - results_from,
                               cudaMemcpyDeviceToHost, stream_), "copying meter results from the GPU");
    synchronize();

    auto get = [&h](std::size_t at, void* dst, std::size_t bytes) { std::memcpy(dst, h.data() + at, bytes); };
    for (std::size_t i = 0; i < loudness.size(); ++i) {
      const auto& j = loudness[i];
      const auto bins = static_cast<std::size_t>(j.bins) * sizeof(double);
      get(lp[i].left, j.left, sizeof(km::ChannelState));
      if (j.right) {
        get(lp[i].right, j.right, sizeof(km::ChannelState));
        get(lp[i].pair, j.pair, sizeof(km::PairState));
      }
      if (j.bins_left) get(lp[i].bins_left, j.bins_left, bins);
      if (j.bins_right) get(lp[i].bins_right, j.bins_right, bins);
      if (j.cross) get(lp[i].cross, j.cross, bins);
    }
    const auto* range_peaks = reinterpret_cast<const float*>(h.data() + peak_out);
    const auto* range_overs = reinterpret_cast<const unsigned long long*>(h.data() + overs_out);
    for (std::size_t i = 0; i < peaks.size(); ++i) {
      km::TruePeakState& st = *peaks[i].state;
      for (std::int64_t r = first_range[i]; r < first_range[i + 1]; ++r) {
        const float p = range_peaks[r];
        st.peak = p > st.peak ? p : st.peak;
        st.overs += static_cast<std::uint64_t>(range_overs[r]);
      }
      km::true_peak_advance(st, *peaks[i].coeffs, peaks[i].x, peaks[i].frames);
    }
  }

  // The limiter's phases on the device, track by track (the release is one thread per track: tracks of a batch
  // could share its launch; a later scheduler will batch them).
  void limit(std::span<const LimitJob> jobs) override {
    namespace kl = kernels::limiter;
    check_cuda(cudaSetDevice(device_), "selecting the GPU");
    for (const LimitJob& j : jobs) {
      const dsp::LimiterDesign& d = *j.design;
      const std::int64_t n = j.frames;
      if (n <= 0 || j.channel_count <= 0) continue;
      const auto un = static_cast<std::size_t>(n);
      const std::int64_t la = d.shape.lookahead;
      const auto nch = static_cast<std::size_t>(j.channel_count);
      float* d_x = lim_x_.reserve(un * nch);
      float* d_g = lim_g_.reserve(un);
      float* d_suf = lim_suf_.reserve(un);
      float* d_hr = lim_hr_.reserve(un + static_cast<std::size_t>(la));
      float* d_a = lim_a_.reserve(un);
      float** d_ptrs = lim_ptrs_.reserve(nch);
      kl::Interp* d_ip = lim_interp_.reserve(1);
      std::vector<float*> ptrs(nch);
      for (std::size_t c = 0; c < nch; ++c) {
        ptrs[c] = d_x + c * un;
        check_cuda(cudaMemcpyAsync(ptrs[c], j.channels[c], un * sizeof(float), cudaMemcpyHostToDevice, stream_),
                   "copying a track to the GPU");
      }
      check_cuda(cudaMemcpyAsync(d_ptrs, ptrs.data(), nch * sizeof(float*), cudaMemcpyHostToDevice, stream_),
                 "copying channel pointers to the GPU");
      check_cuda(cudaMemcpyAsync(d_ip, d.interp, sizeof(kl::Interp), cudaMemcpyHostToDevice, stream_),
                 "copying the interpolator to the GPU");
      std::vector<float> group_gain(d.linked ? 0 : un);
      std::fill(j.gain, j.gain + n, 1.0f);
      const std::size_t groups = d.linked ? 1 : nch;
      const int per_group = d.linked ? j.channel_count : 1;
      for (std::size_t grp = 0; grp < groups; ++grp) {
        float* const* d_group = d_ptrs + (d.linked ? 0 : grp);
        check_launch(kernels::cuda::launch_limiter_detect(d_ip, d.ceiling, d_group, per_group, n, d_g, stream_),
                     "launching the limiter's detection");
        check_launch(kernels::cuda::launch_limiter_block_minima(d_g, d_suf, n, kl::hold_window(d.shape), stream_),
                     "launching the limiter's block minima");
        check_launch(kernels::cuda::launch_limiter_hold(d_g, d_suf, n, d.shape, d_hr, stream_),
                     "launching the limiter's hold");
        check_launch(kernels::cuda::launch_limiter_release(d.release, d_hr, n + la, stream_),
                     "launching the limiter's release");
        check_launch(kernels::cuda::launch_limiter_smooth_apply(d_hr, d.shape, n, d_a, d_group, per_group, stream_),
                     "launching the limiter's smoothing");
        float* dst = d.linked ? j.gain : group_gain.data();
        check_cuda(cudaMemcpyAsync(dst, d_a, un * sizeof(float), cudaMemcpyDeviceToHost, stream_),
                   "copying the gain curve from the GPU");
        synchronize();
        if (!d.linked)
          for (std::size_t i = 0; i < un; ++i) j.gain[i] = std::min(j.gain[i], group_gain[i]);
      }
      for (std::size_t c = 0; c < nch; ++c)
        check_cuda(cudaMemcpyAsync(j.channels[c], ptrs[c], un * sizeof(float), cudaMemcpyDeviceToHost, stream_),
                   "copying a limited track from the GPU");
      synchronize();
    }
  }

  void resample(std::span<const ResampleJob> jobs) override {
    check_cuda(cudaSetDevice(device_), "selecting the GPU");
    for (const ResampleJob& j : jobs) {
      const dsp::ResampleDesign& d = *j.design;
      kernels::resample::ResampleTable t = d.table();
      const std::int64_t n_out = kernels::resample::output_frames(t, j.n_in);
      if (n_out <= 0) continue;
      float* d_coeffs = rs_coeffs_.reserve(d.coeffs.size());
      float* d_x = rs_x_.reserve(static_cast<std::size_t>(std::max<std::int64_t>(j.n_in, 1)));
      float* d_y = rs_y_.reserve(static_cast<std::size_t>(n_out));
      check_cuda(cudaMemcpyAsync(d_coeffs, d.coeffs.data(), d.coeffs.size() * sizeof(float), cudaMemcpyHostToDevice,
                                 stream_), "copying resampler taps to the GPU");
      if (j.n_in > 0)
        check_cuda(cudaMemcpyAsync(d_x, j.x, static_cast<std::size_t>(j.n_in) * sizeof(float), cudaMemcpyHostToDevice,
                                   stream_), "copying a channel to the GPU");
      t.coeffs = d_coeffs;
      check_launch(kernels::cuda::launch_resample(t, d_x, j.n_in, d_y, n_out, stream_), "launching the resampler");
      check_cuda(cudaMemcpyAsync(j.y, d_y, static_cast<std::size_t>(n_out) * sizeof(float), cudaMemcpyDeviceToHost,
                                 stream_), "copying resampled samples from the GPU");
      synchronize();
    }
  }

 private:
  // Block pairs as a flat (first, second) table on the device; `flat` holds the host copy, which must live until
  // the stream has consumed it.
  const std::uint32_t* upload_pairs(std::span<const BlockPair> pairs, std::vector<std::uint32_t>& flat) {
    for (const BlockPair& p : pairs) {
      flat.push_back(p.first);
      flat.push_back(p.second);
    }
    std::uint32_t* d_pairs = pairs_.reserve(flat.size());
    check_cuda(cudaMemcpyAsync(d_pairs, flat.data(), flat.size() * sizeof(std::uint32_t), cudaMemcpyHostToDevice,
                               stream_), "copying block pairs to the GPU");
    return d_pairs;
  }

  CudaBatchView view() {
    check_cuda(cudaSetDevice(device_), "selecting the GPU");
    return CudaBatchView{cur(), blocks_.get(), &batch_blocks_, stream_, device_};
  }

  static void check_buffer(int k, const char* op) {
    if (k < 0 || k > kMaxAuxBuffers)
      throw Error(std::string(op) + ": buffer " + std::to_string(k) + " is out of range (0 to " +
                  std::to_string(kMaxAuxBuffers) + ")");
  }
  // Buffer k on the device (0: the batch's samples), an auxiliary one grown to the loaded batch's size.
  // Growing reallocates without keeping the contents, which only happens before the buffer's first use in a
  // batch (every use reserves the loaded batch's size).
  float* buffer(int k) {
    if (k == 0) return samples_.get();
    return aux_[static_cast<std::size_t>(k - 1)].reserve(sample_count_);
  }
  // The buffer the batch operations read and write.
  float* cur() const {
    return current_ == 0 ? samples_.get() : aux_[static_cast<std::size_t>(current_ - 1)].get();
  }

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
    check_launch(kc::launch_conv_gather(cur(), d_descs, d_items, n_items, B, d_time, stream_),
                 "launching the convolution gather");
    kc::DeviceFft& fft = device_fft(fir.log2_block + 1);
    check_launch(kc::rfft_forward(fft, d_time, static_cast<std::size_t>(2 * B), d_fresh, static_cast<std::size_t>(bins),
                                  static_cast<std::size_t>(n_items), stream_),
                 "launching the forward FFT");
    check_launch(kc::launch_conv_state(cur(), d_fresh, d_descs, members_n, P, B, stream_),
                 "launching the convolution state update");
    check_launch(kc::launch_conv_mac(d_fresh, d_fir, d_descs, d_items, n_items, P, B, d_sums, stream_),
                 "launching the spectral sums");
    check_launch(kc::rfft_inverse(fft, d_sums, static_cast<std::size_t>(bins), d_time, static_cast<std::size_t>(2 * B),
                                  static_cast<std::size_t>(n_items), stream_),
                 "launching the inverse FFT");
    check_launch(kc::launch_conv_scatter(d_time, cur(), d_descs, d_items, n_items, B, stream_),
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
  std::array<DeviceBuffer<float>, kMaxAuxBuffers> aux_;
  int current_ = 0;
  DeviceBuffer<std::int32_t> quantised_buf_;
  DeviceBuffer<kernels::Block> blocks_;
  DeviceBuffer<unsigned long long> clipped_;
  DeviceBuffer<float> params_;
  DeviceBuffer<std::int64_t> ends_;
  DeviceBuffer<std::byte> meter_arena_;
  DeviceBuffer<float> lim_x_, lim_g_, lim_suf_, lim_hr_, lim_a_;
  DeviceBuffer<float*> lim_ptrs_;
  DeviceBuffer<kernels::limiter::Interp> lim_interp_;
  DeviceBuffer<float> rs_coeffs_, rs_x_, rs_y_;
  std::vector<std::byte> meter_staging_;
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

void set_gpu_memory_budget(int device, std::size_t bytes) { budget_of(device).limit.store(bytes); }

int gpu_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) return 0;
  return count;
}

std::unique_ptr<Engine> make_cuda_engine(int device) {
  if (const std::string why = gpu_unavailable_reason(); !why.empty()) throw GpuError(why, "use --engine cpu");
  if (const int count = gpu_count(); device < 0 || device >= count)
    throw GpuError("no GPU number " + std::to_string(device) + ": this machine has " + std::to_string(count) +
                       " (numbered from 0)",
                   "list GPUs that exist with --gpus, or use --gpus all");
  return std::make_unique<CudaEngine>(device);
}

}  // namespace lathe::host
