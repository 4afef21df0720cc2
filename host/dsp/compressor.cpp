// The compressor's design (host, double) and its CPU runner: one oneTBB task per track, each running the
// track's recurrence in order over its blocks (kernels/dynamics.hpp), exactly as a CUDA thread does.
#include "host/dsp/compressor.hpp"

#include <tbb/parallel_for.h>

#include <cmath>
#include <numbers>

#include "host/engine/stage_ops.hpp"
#include "host/errors.hpp"

namespace lathe::host {
namespace dsp {

namespace {
// One-pole coefficient for a time constant: exp(-1 / (t * fs)).
double pole(double ms, int rate_hz) { return std::exp(-1.0 / (ms * 1e-3 * static_cast<double>(rate_hz))); }
}  // namespace

CompressorDesign compressor_design(const CompressorParams& in, int rate_hz) {
  kernels::dynamics::Params p{};
  if (in.sidechain_hpf_hz > 0) {
    // RBJ cookbook high-pass with Q = 1/sqrt(2): 2nd-order Butterworth.
    const double w0 = 2.0 * std::numbers::pi * in.sidechain_hpf_hz / static_cast<double>(rate_hz);
    const double cw = std::cos(w0), alpha = std::sin(w0) / std::numbers::sqrt2;  // sin(w0) / (2Q)
    const double a0 = 1.0 + alpha;
    p.hb0 = (1.0 + cw) / 2.0 / a0;
    p.hb1 = -(1.0 + cw) / a0;
    p.hb2 = p.hb0;
    p.ha1 = -2.0 * cw / a0;
    p.ha2 = (1.0 - alpha) / a0;
    p.hpf = 1;
  }
  p.rms = in.rms ? 1 : 0;
  p.rms_a = pole(in.rms_ms, rate_hz);
  p.rms_b = 1.0 - p.rms_a;
  p.att_a = pole(in.attack_ms, rate_hz);
  p.att_b = 1.0 - p.att_a;
  p.rel_a = pole(in.release_ms, rate_hz);
  p.rel_b = 1.0 - p.rel_a;
  p.threshold_db = in.threshold_db;
  p.knee_db = in.knee_db;
  p.slope = 1.0 - 1.0 / in.ratio;
  const double lo_db = in.threshold_db - in.knee_db / 2.0;
  p.knee_lo = in.rms ? std::pow(10.0, lo_db / 10.0) : std::pow(10.0, lo_db / 20.0);
  p.level_scale = (in.rms ? 10.0 : 20.0) * std::log10(2.0);
  p.makeup_db = in.makeup_db;
  p.wet = in.mix_percent / 100.0;
  p.dry = 1.0 - p.wet;
  p.linked = in.linked ? 1 : 0;
  return CompressorDesign{p};
}

double compressor_static_reduction_db(const CompressorParams& in, double level_db) {
  const double slope = 1.0 - 1.0 / in.ratio, over = level_db - in.threshold_db, w = in.knee_db;
  if (2.0 * over <= -w) return 0.0;
  if (2.0 * std::abs(over) < w) return slope * (over + w / 2.0) * (over + w / 2.0) / (2.0 * w);
  return slope * over;
}

}  // namespace dsp

void run_dynamics_cpu(float* samples, const std::vector<kernels::Block>& blocks, std::span<const DynamicsJob> jobs) {
  namespace kd = kernels::dynamics;
  for (const DynamicsJob& j : jobs) {
    if (j.channel_count < 0 || j.channel_count > kd::kMaxChannels)
      throw Error("the compressor handles at most " + std::to_string(kd::kMaxChannels) + " channels");
    for (int c = 0; c < j.channel_count; ++c)
      if (j.blocks[c] >= blocks.size()) throw Error("compressor job names a block outside the batch");
  }
  tbb::parallel_for(std::size_t{0}, jobs.size(), [&](std::size_t k) {
    const DynamicsJob& j = jobs[k];
    if (j.design == nullptr || j.state == nullptr || j.channel_count == 0) return;
    kd::Job job{};
    for (int c = 0; c < j.channel_count; ++c) job.blocks[c] = j.blocks[c];
    job.channel_count = j.channel_count;
    auto* st = static_cast<kd::State*>(j.state);
    kd::State local = *st;
    kd::process_job(j.design->params, local, samples, blocks.data(), job);
    *st = local;
  });
}

}  // namespace lathe::host
