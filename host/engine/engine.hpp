// An Engine runs the per-sample kernels of kernels/ over a batch: the CPU engine with oneTBB, the CUDA engine
// on a GPU. Both map the same LATHE_HD functions onto threads in the same decomposition, so their results are
// bit-identical (DESIGN.md section 2). Stages call the operations below; they never know which engine runs.
//
// Call order per batch: load(batch), any number of operations, store(batch). Not thread-safe: one batch at a
// time per engine object.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "host/engine/batch.hpp"
#include "host/meter/meter_jobs.hpp"
#include "kernels/dither.hpp"

namespace lathe::host {

namespace dsp {
struct PartitionedFir;
struct LimiterDesign;
struct ResampleDesign;
struct CompressorDesign;
struct SaturationDesign;
}

// One block's part in a convolution: its filter (null: the block is left as it is) and its stream's state
// (fir->state_floats() floats in host memory, 8-byte aligned, zeros at the start of the stream; see
// kernels/convolve.hpp). The CPU engine reads and updates it in place. A device engine reads it at the stream's
// first segment (the block's start_sample is 0) and then keeps the state resident on the device, keyed by this
// pointer, without writing the host copy back: the pointer identifies the stream, so it must stay valid and
// unique to the stream for as long as the stream runs (a stream unused for two batches is forgotten).
struct ConvolveJob {
  const dsp::PartitionedFir* fir = nullptr;
  float* state = nullptr;
};

// Two blocks of one stereo track (left/right, or mid/side).
struct BlockPair {
  std::uint32_t first;
  std::uint32_t second;
};

// The true-peak limiter over one whole track in host memory (host/dsp/limiter.hpp, kernels/limiter.hpp), in
// place; `gain` (frames floats) receives the gain applied per frame (unlinked: the smallest over the channels).
struct LimitJob {
  const dsp::LimiterDesign* design = nullptr;
  float* const* channels = nullptr;
  int channel_count = 0;
  std::int64_t frames = 0;
  float* gain = nullptr;
};

// One channel's sample-rate conversion (kernels/resample.hpp): all output_frames(n_in) outputs into `y`.
struct ResampleJob {
  const dsp::ResampleDesign* design = nullptr;
  const float* x = nullptr;
  std::int64_t n_in = 0;
  float* y = nullptr;
};

// One track's compressor over its blocks of the loaded batch (kernels/dynamics.hpp): a recurrence in time, run
// in order over the segment, one thread per track on a device. `state` is the track's state in host memory
// (the design says its type and size); the operation reads it and writes the updated state back before it
// returns.
struct DynamicsJob {
  const dsp::CompressorDesign* design = nullptr;
  void* state = nullptr;
  std::uint32_t blocks[8] = {};  // the track's blocks in this batch, in channel order
  int channel_count = 0;
};

// One block's oversampled saturation (kernels/saturate.hpp) as the next segment of its stream; `state` is the
// stream's history in host memory, read and updated before the operation returns.
struct SaturateJob {
  const dsp::SaturationDesign* design = nullptr;
  float* state = nullptr;
  std::uint32_t block = 0;
};

class Engine {
 public:
  virtual ~Engine() = default;
  // "cpu" or "gpu".
  virtual std::string kind() const = 0;
  // Human description: "cpu (oneTBB, 2 threads)", "gpu (NVIDIA H100 80GB HBM3, CUDA 13.0)".
  virtual std::string description() const = 0;
  // A second engine of the same kind on the same device, with its own buffers and resident state: the delivery
  // pass runs its one-track batches on it, so that they never disturb the streamed chain's batches (a device
  // engine forgets convolution states that sit out two of its batches).
  virtual std::unique_ptr<Engine> make_companion() const = 0;

  // Makes the batch's samples and blocks resident for the operations that follow (and makes buffer 0 the
  // current buffer again).
  virtual void load(BlockBatch& batch) = 0;
  // Copies results back: `samples`, and `quantised` plus clip counters when a quantise ran.
  virtual void store(BlockBatch& batch) = 0;
  // Waits until queued work is done (used for per-stage timing).
  virtual void synchronize() = 0;

  // samples *= gain_per_slot[block.slot]
  virtual void apply_gain(std::span<const float> gain_per_slot) = 0;
  // quantised = dither + quantise(samples); per-slot clip counts are added to the batch's counters on store().
  virtual void quantise(const kernels::QuantiseParams& params) = 0;
  // Each block with a filter is convolved in place as the next segment of its stream (kernels/convolve.hpp).
  // `per_block` has one entry per block of the batch. Filters are shared: blocks with the same filter run
  // together, and a device engine keeps a filter's spectra resident for as long as it lives.
  virtual void convolve(std::span<const ConvolveJob> per_block) = 0;
  // (left, right) -> (mid, side) when `encode`, and back otherwise, for each pair of blocks.
  virtual void mid_side(std::span<const BlockPair> pairs, bool encode) = 0;
  // Per block b: samples = samples * scale[b], plus offset[b] on the samples whose stream index
  // (block.start_sample + i) is below offset_end[b] (two roundings, no fused multiply-add). One entry per block
  // of the batch.
  virtual void scale_blocks(std::span<const float> scale, std::span<const float> offset,
                            std::span<const std::int64_t> offset_end) = 0;
  // Per block b: a fade-out over stream indices [fade_start[b], fade_end[b]) (kernels/gain.hpp fade_out_apply);
  // samples from fade_end[b] on become 0, samples before fade_start[b] are untouched (a block that should stay
  // as it is gets fade_start = INT64_MAX).
  virtual void fade_blocks(std::span<const std::int64_t> fade_start, std::span<const std::int64_t> fade_end) = 0;
  // Exchanges the samples of the two blocks of each pair (same length).
  virtual void swap_blocks(std::span<const BlockPair> pairs) = 0;
  // The compressor and the saturation over their jobs (see DynamicsJob, SaturateJob).
  virtual void dynamics(std::span<const DynamicsJob> jobs) = 0;
  virtual void saturate(std::span<const SaturateJob> jobs) = 0;

  // Auxiliary buffers with the loaded batch's layout (same blocks at the same offsets), for stages that process
  // several copies of the batch (the multiband compressor's bands). Buffer 0 is the batch's samples (what
  // store() returns); buffers 1 .. kMaxAuxBuffers are auxiliary, allocated on demand to the loaded batch's
  // size and kept between batches (their contents are not: a stage fills them before it reads them).
  static constexpr int kMaxAuxBuffers = 4;
  // Buffer `to` = buffer `from`, every sample (an exact copy). Throws Error for an index out of range or equal.
  virtual void copy_buffer(int from, int to) = 0;
  // Buffer `to` += buffer `from`, elementwise over the blocks (kernels/mix.hpp: one rounding per sample).
  virtual void add_buffer(int from, int to) = 0;
  // Every following batch operation (apply_gain, quantise, convolve, mid_side, scale_blocks, swap_blocks,
  // dynamics, saturate) reads and writes buffer k instead of buffer 0, until use_buffer(0) or the next load().
  // quantise() still writes the batch's `quantised` words. Throws Error for k out of range.
  virtual void use_buffer(int k) = 0;

  // The loudness meter's per-sample kernels (kernels/meter.hpp) over segments in host memory, independent of
  // the loaded batch: recurrences one job per channel (or stereo pair), true peak cut into ranges. Returns when
  // the jobs' states and bins (host memory) are updated. See host/meter/meter_jobs.hpp.
  virtual void meter(std::span<const meter::LoudnessJob> loudness, std::span<const meter::TruePeakJob> peaks) = 0;

  // Whole-track operations of the delivery pass (host memory in and out; they return when done).
  virtual void limit(std::span<const LimitJob> jobs) = 0;
  virtual void resample(std::span<const ResampleJob> jobs) = 0;
};

enum class EngineChoice { kAuto, kCpu, kGpu };

// Why no GPU engine can be made, or empty when one can. Never throws.
std::string gpu_unavailable_reason();
// Name and details of the first GPU, or empty.
std::string gpu_description();
// How many CUDA GPUs this lathe can use (0 without CUDA or without a working GPU). Never throws.
int gpu_count();
// Caps the device memory that lathe's engines hold on GPU `device` (their own buffers; cuFFT's work areas and
// the CUDA runtime's are not counted) at `bytes`, 0 for no cap; an allocation past it throws GpuError. A no-op
// without CUDA. The scheduler sizes batches to fit (kDeviceBytesPerBatchSample).
void set_gpu_memory_budget(int device, std::size_t bytes);
// Device memory a batch needs per sample of its blocks, for sizing batches to a budget: the samples, the
// quantised words, up to four auxiliary buffers (multiband) and the convolution's spectra and scratch, with room.
inline constexpr std::size_t kDeviceBytesPerBatchSample = 64;

std::unique_ptr<Engine> make_cpu_engine();
// Throws GpuError (with the reason) when no usable GPU exists or lathe was built without CUDA.
std::unique_ptr<Engine> make_cuda_engine(int device = 0);

}  // namespace lathe::host
