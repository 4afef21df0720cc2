// The CPU engine: oneTBB loops over the kernels of kernels/, one task per fixed chunk of a block. The chunk
// split never changes a result (elementwise kernels; integer counters), so TBB's scheduling is free.
#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <string>
#include <vector>

#include "host/dsp/convolution.hpp"
#include "host/dsp/limiter.hpp"
#include "host/dsp/resample_design.hpp"
#include "host/engine/engine.hpp"
#include "host/engine/stage_ops.hpp"
#include "host/errors.hpp"
#include "kernels/convolve.hpp"
#include "kernels/gain.hpp"
#include "kernels/mix.hpp"

namespace lathe::host {
namespace {

// (block index, chunk index) pairs flattened, so one parallel_for covers the whole batch.
struct ChunkMap {
  std::vector<std::pair<std::uint32_t, std::int64_t>> chunks;  // block, first sample within the block
  void build(const std::vector<kernels::Block>& blocks) {
    chunks.clear();
    for (std::size_t b = 0; b < blocks.size(); ++b)
      for (std::int64_t s = 0; s < blocks[b].length_samples; s += kernels::kChunkSamples)
        chunks.emplace_back(static_cast<std::uint32_t>(b), s);
  }
};

class CpuEngine final : public Engine {
 public:
  std::string kind() const override { return "cpu"; }
  std::string description() const override {
    // --threads limits TBB through a global_control, which max_concurrency() does not see.
    const auto limit = tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism);
    const auto threads = std::min<std::size_t>(limit, static_cast<std::size_t>(tbb::this_task_arena::max_concurrency()));
    return "cpu (oneTBB, " + std::to_string(threads) + " threads)";
  }

  std::unique_ptr<Engine> make_companion() const override { return std::make_unique<CpuEngine>(); }

  void load(BlockBatch& batch) override {
    batch_ = &batch;
    current_ = 0;
    map_.build(batch.blocks);
    batch.clipped_samples.assign(static_cast<std::size_t>(batch.slots), 0);
  }
  void store(BlockBatch&) override {}
  void synchronize() override {}

  void apply_gain(std::span<const float> gain_per_slot) override {
    for_each_chunk([&](const kernels::Block& blk, std::int64_t first, std::int64_t count) {
      kernels::gain_apply(current() + blk.offset + first, count, gain_per_slot[blk.slot]);
    });
  }

  void quantise(const kernels::QuantiseParams& params) override {
    batch_->quantised.resize(batch_->samples.size());
    for_each_chunk([&](const kernels::Block& blk, std::int64_t first, std::int64_t count) {
      const std::int64_t clamped = kernels::quantise_block(
          current() + blk.offset + first, batch_->quantised.data() + blk.offset + first, count,
          blk.start_sample + first, blk.track_key, blk.channel, params, blk.preroll);
      if (clamped != 0)
        std::atomic_ref<std::uint64_t>(batch_->clipped_samples[blk.slot])
            .fetch_add(static_cast<std::uint64_t>(clamped), std::memory_order_relaxed);
    });
    batch_->quantised_valid = true;
  }

  void convolve(std::span<const ConvolveJob> per_block) override {
    const auto& blocks = batch_->blocks;
    // One scratch per block, not per thread: convolve_segment runs nested parallel loops, and a thread waiting
    // in one may pick up another block's task (a per-thread scratch would then be shared by two blocks).
    if (scratch_.size() < blocks.size()) scratch_.resize(blocks.size());
    tbb::parallel_for(std::size_t{0}, blocks.size(), [&](std::size_t b) {
      const ConvolveJob& job = per_block[b];
      if (job.fir == nullptr) return;
      const kernels::Block& blk = blocks[b];
      dsp::convolve_segment(*job.fir, current() + blk.offset, blk.length_samples, job.state,
                            scratch_[b], /*parallel=*/true);
    });
  }

  void meter(std::span<const meter::LoudnessJob> loudness, std::span<const meter::TruePeakJob> peaks) override {
    meter::run_meter_jobs_cpu(loudness, peaks);
  }

  void limit(std::span<const LimitJob> jobs) override {
    for (const LimitJob& j : jobs) {
      const dsp::LimiterResult r = dsp::limit_track(*j.design, 1, std::span<float* const>(j.channels, static_cast<std::size_t>(j.channel_count)),
                                                    j.frames, /*keep_gain_curve=*/true);
      if (r.gain.empty())
        std::fill(j.gain, j.gain + j.frames, 1.0f);
      else
        std::copy(r.gain.begin(), r.gain.end(), j.gain);
    }
  }

  void resample(std::span<const ResampleJob> jobs) override {
    for (const ResampleJob& j : jobs) {
      const std::vector<float> y = dsp::resample_channel(*j.design, j.x, j.n_in);
      std::copy(y.begin(), y.end(), j.y);
    }
  }

  void mid_side(std::span<const BlockPair> pairs, bool encode) override {
    const auto& blocks = batch_->blocks;
    float* samples = current();
    tbb::parallel_for(std::size_t{0}, pairs.size(), [&](std::size_t i) {
      const kernels::Block& a = blocks[pairs[i].first];
      const kernels::Block& b = blocks[pairs[i].second];
      const std::int64_t n = std::min(a.length_samples, b.length_samples);
      for (std::int64_t k = 0; k < n; ++k) {
        if (encode)
          kernels::mid_side_encode(samples + a.offset + k, samples + b.offset + k);
        else
          kernels::mid_side_decode(samples + a.offset + k, samples + b.offset + k);
      }
    });
  }

  void scale_blocks(std::span<const float> scale, std::span<const float> offset,
                    std::span<const std::int64_t> offset_end) override {
    for_each_chunk([&](const kernels::Block& blk, std::int64_t first, std::int64_t count) {
      const std::size_t b = static_cast<std::size_t>(&blk - batch_->blocks.data());
      kernels::scale_offset_apply(current() + blk.offset + first, count, scale[b], offset[b],
                                  blk.start_sample + first, offset_end[b]);
    });
  }

  void fade_blocks(std::span<const std::int64_t> fade_start, std::span<const std::int64_t> fade_end) override {
    for_each_chunk([&](const kernels::Block& blk, std::int64_t first, std::int64_t count) {
      const std::size_t b = static_cast<std::size_t>(&blk - batch_->blocks.data());
      kernels::fade_out_apply(current() + blk.offset + first, count, blk.start_sample + first, fade_start[b],
                              fade_end[b]);
    });
  }

  void swap_blocks(std::span<const BlockPair> pairs) override {
    const auto& blocks = batch_->blocks;
    float* samples = current();
    tbb::parallel_for(std::size_t{0}, pairs.size(), [&](std::size_t i) {
      const kernels::Block& a = blocks[pairs[i].first];
      const kernels::Block& b = blocks[pairs[i].second];
      std::swap_ranges(samples + a.offset, samples + a.offset + std::min(a.length_samples, b.length_samples),
                       samples + b.offset);
    });
  }

  void dynamics(std::span<const DynamicsJob> jobs) override {
    run_dynamics_cpu(current(), batch_->blocks, jobs);
  }
  void saturate(std::span<const SaturateJob> jobs) override {
    run_saturate_cpu(current(), batch_->blocks, jobs);
  }

  void copy_buffer(int from, int to) override {
    check_buffer(from, "copy_buffer");
    check_buffer(to, "copy_buffer");
    if (from == to) throw Error("copy_buffer: a buffer cannot be copied onto itself");
    const float* src = buffer(from);
    float* dst = buffer(to);
    const std::size_t n = batch_->samples.size();
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, static_cast<std::size_t>(kernels::kChunkSamples)),
                      [&](const auto& range) {
                        std::copy(src + range.begin(), src + range.end(), dst + range.begin());
                      });
  }

  void add_buffer(int from, int to) override {
    check_buffer(from, "add_buffer");
    check_buffer(to, "add_buffer");
    if (from == to) throw Error("add_buffer: a buffer cannot be added to itself");
    const float* src = buffer(from);
    float* dst = buffer(to);
    for_each_chunk([&](const kernels::Block& blk, std::int64_t first, std::int64_t count) {
      kernels::add_apply(dst + blk.offset + first, src + blk.offset + first, count);
    });
  }

  void use_buffer(int k) override {
    check_buffer(k, "use_buffer");
    buffer(k);  // allocates an auxiliary buffer on first use
    current_ = k;
  }

 private:
  template <class Fn>
  void for_each_chunk(Fn&& fn) {
    const auto& blocks = batch_->blocks;
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, map_.chunks.size()), [&](const auto& range) {
      for (std::size_t c = range.begin(); c != range.end(); ++c) {
        const auto [b, first] = map_.chunks[c];
        const kernels::Block& blk = blocks[b];
        fn(blk, first, std::min(kernels::kChunkSamples, blk.length_samples - first));
      }
    });
  }

  void check_buffer(int k, const char* op) const {
    if (batch_ == nullptr) throw Error(std::string(op) + ": no batch is loaded");
    if (k < 0 || k > kMaxAuxBuffers)
      throw Error(std::string(op) + ": buffer " + std::to_string(k) + " is out of range (0 to " +
                  std::to_string(kMaxAuxBuffers) + ")");
  }
  // Buffer k (0: the batch's samples), an auxiliary one sized to the loaded batch.
  float* buffer(int k) {
    if (k == 0) return batch_->samples.data();
    std::vector<float>& aux = aux_[static_cast<std::size_t>(k - 1)];
    if (aux.size() != batch_->samples.size()) aux.resize(batch_->samples.size());
    return aux.data();
  }
  // The buffer the batch operations read and write.
  float* current() {
    return current_ == 0 ? batch_->samples.data() : aux_[static_cast<std::size_t>(current_ - 1)].data();
  }

  BlockBatch* batch_ = nullptr;
  int current_ = 0;
  std::array<std::vector<float>, kMaxAuxBuffers> aux_;
  ChunkMap map_;
  std::vector<dsp::ConvolveScratch> scratch_;
};

}  // namespace

std::unique_ptr<Engine> make_cpu_engine() { return std::make_unique<CpuEngine>(); }

}  // namespace lathe::host
