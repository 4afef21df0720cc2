// The saturation stage's design (oversampling filters, shaper constants) and the CPU engine's runner.
#include "host/dsp/saturation.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <stdexcept>

#include "host/dsp/kaiser.hpp"
#include "host/engine/stage_ops.hpp"
#include "host/errors.hpp"

namespace lathe::host::dsp {

kernels::saturate::Table SaturationDesign::table() const {
  kernels::saturate::Table t = params;
  t.up = up.data();
  t.down = down.data();
  return t;
}

int saturation_auto_factor(int rate_hz, double drive_db) {
  const double want = drive_db <= 6.0 ? 176400.0 : (drive_db <= 12.0 ? 352800.0 : 705600.0);
  for (const int r : {4, 8}) {
    if (static_cast<double>(r) * rate_hz >= want) return r;
  }
  return 16;
}

SaturationDesign make_saturation_design(const SaturationParams& p, int rate_hz) {
  if (rate_hz < 8000 || rate_hz > 768000)
    throw std::invalid_argument("saturation: the rate " + std::to_string(rate_hz) +
                                " Hz is out of range (8000 to 768000 Hz)");
  if (p.model != "tape" && p.model != "tube") throw std::invalid_argument("saturation: unknown model " + p.model);
  if (p.oversampling != 0 && p.oversampling != 4 && p.oversampling != 8 && p.oversampling != 16)
    throw std::invalid_argument("saturation: oversampling must be 4, 8 or 16");
  SaturationDesign d;
  d.rate_hz = rate_hz;
  const int R = p.oversampling != 0 ? p.oversampling : saturation_auto_factor(rate_hz, p.drive_db);
  d.factor = R;

  // Kaiser's formulas (as host/dsp/resample_design.cpp): transition 0.4535 fs .. 0.5 fs at the rate R fs.
  const double fs = static_cast<double>(rate_hz);
  const double pass = fs * (20000.0 / 44100.0);
  const double stop = 0.5 * fs;
  const double cutoff = 0.5 * (pass + stop);
  const double a_db = kSaturationDesignAttenuationDb;
  const double beta = 0.1102 * (a_db - 8.7);
  const double rate_up = static_cast<double>(R) * fs;
  const double n_proto = (a_db - 7.95) / (14.36 * ((stop - pass) / rate_up)) + 1.0;
  std::int64_t T = static_cast<std::int64_t>(std::ceil(n_proto / R));
  T += T % 2;
  d.taps_per_phase = static_cast<int>(T);
  d.latency = T - 1;
  d.history = 2 * d.latency;

  // Prototype at oversampled position t, support |t| < W = R T / 2, DC gain ~1 at the rate R fs.
  const std::int64_t W = static_cast<std::int64_t>(R) * T / 2;
  const double w = static_cast<double>(W);
  const double i0_beta = bessel_i0(beta);
  const double omega = 2.0 * cutoff / rate_up;
  auto proto = [&](std::int64_t t) {
    const std::int64_t v = t < 0 ? -t : t;
    if (v >= W) return 0.0;
    const double r = static_cast<double>(v) / w;
    const double win = bessel_i0(beta * std::sqrt((1.0 - r) * (1.0 + r))) / i0_beta;
    const double arg = std::numbers::pi * omega * static_cast<double>(v);
    const double sinc = v == 0 ? 1.0 : std::sin(arg) / arg;
    return omega * sinc * win;
  };

  // Decimator: down[k] = proto(k - W), k in [1, 2W), normalised to DC gain exactly 1 in double.
  const std::int64_t n = static_cast<std::int64_t>(R) * T;
  std::vector<double> h(static_cast<std::size_t>(n), 0.0);
  double sum = 0.0;
  for (std::int64_t k = 1; k < n; ++k) {
    h[static_cast<std::size_t>(k)] = proto(k - W);
    sum += h[static_cast<std::size_t>(k)];
  }
  d.down.assign(static_cast<std::size_t>(n), 0.0f);
  for (std::int64_t k = 1; k < n; ++k)
    d.down[static_cast<std::size_t>(k)] = static_cast<float>(h[static_cast<std::size_t>(k)] / sum);

  // Interpolator: up[p*T + k] = R * proto((k - T/2) R + p), each phase normalised to DC gain exactly 1.
  d.up.assign(static_cast<std::size_t>(n), 0.0f);
  std::vector<double> ph(static_cast<std::size_t>(T));
  for (std::int64_t q = 0; q < R; ++q) {
    double s = 0.0;
    for (std::int64_t k = 0; k < T; ++k) {
      ph[static_cast<std::size_t>(k)] = proto((k - T / 2) * R + q);
      s += ph[static_cast<std::size_t>(k)];
    }
    for (std::int64_t k = 0; k < T; ++k)
      d.up[static_cast<std::size_t>(q * T + k)] = static_cast<float>(ph[static_cast<std::size_t>(k)] / s);
  }

  // Shaper constants. wet_gain = mix * out / (drive * shape'(bias)): the wet path has unity gain for small
  // signals at any drive and bias, so the drive sets how hard peaks are rounded, not the level of quiet parts,
  // and dry and wet add without a level step when mixed.
  kernels::saturate::Table& t = d.params;
  t.R = R;
  t.T = static_cast<std::int32_t>(T);
  t.model = p.model == "tube" ? kernels::saturate::kTube : kernels::saturate::kTape;
  const double drive = std::pow(10.0, p.drive_db / 20.0);
  t.drive = static_cast<float>(drive);
  t.bias = static_cast<float>(p.bias);
  t.shape_bias = kernels::saturate::shape(t.model, t.bias);  // the kernel's own value: zero in, zero out
  const double tb = std::tanh(static_cast<double>(t.bias));
  const double slope = (1.0 - tb * tb) *
                       (t.model == kernels::saturate::kTube ? 1.0 + 2.0 * kernels::saturate::kTubeAsymmetry * tb : 1.0);
  const double out = std::pow(10.0, p.output_db / 20.0);
  const double mix = p.mix_percent / 100.0;
  t.dry_gain = static_cast<float>((1.0 - mix) * out);
  t.wet_gain = static_cast<float>(mix * out / (static_cast<double>(t.drive) * slope));
  return d;
}

}  // namespace lathe::host::dsp

namespace lathe::host {

void run_saturate_cpu(float* samples, const std::vector<kernels::Block>& blocks, std::span<const SaturateJob> jobs) {
  if (jobs.empty()) return;
  using Range = tbb::blocked_range<std::size_t>;
  // Each block's extended input: the stream's history, then the block (read before any output is written).
  std::vector<std::vector<float>> ext(jobs.size());
  tbb::parallel_for(Range(0, jobs.size()), [&](const Range& r) {
    for (std::size_t i = r.begin(); i != r.end(); ++i) {
      const SaturateJob& job = jobs[i];
      const kernels::Block& blk = blocks.at(job.block);
      const auto h = static_cast<std::size_t>(job.design->history);
      const auto len = static_cast<std::size_t>(blk.length_samples);
      ext[i].resize(h + len);
      std::memcpy(ext[i].data(), job.state, h * sizeof(float));
      if (len > 0) std::memcpy(ext[i].data() + h, samples + blk.offset, len * sizeof(float));
    }
  });
  // Fixed chunks of kChunkSamples outputs, independent of each other.
  struct Task {
    std::size_t job;
    std::int64_t begin;
    std::int64_t end;
  };
  std::vector<Task> tasks;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const std::int64_t len = blocks[jobs[i].block].length_samples;
    for (std::int64_t b = 0; b < len; b += kernels::kChunkSamples)
      tasks.push_back({i, b, std::min(b + kernels::kChunkSamples, len)});
  }
  tbb::parallel_for(Range(0, tasks.size(), 1), [&](const Range& r) {
    std::vector<float> scratch;
    for (std::size_t k = r.begin(); k != r.end(); ++k) {
      const Task& task = tasks[k];
      const SaturateJob& job = jobs[task.job];
      const kernels::saturate::Table t = job.design->table();
      const std::int64_t h = job.design->history;
      scratch.resize(static_cast<std::size_t>(kernels::saturate::scratch_floats(t, task.end - task.begin)));
      kernels::saturate::process_range(t, ext[task.job].data(), samples + blocks[job.block].offset + task.begin,
                                       h + task.begin, h + task.end, scratch.data());
    }
  });
  // New state: the last H samples of (history, block).
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const auto h = static_cast<std::size_t>(jobs[i].design->history);
    std::memcpy(jobs[i].state, ext[i].data() + (ext[i].size() - h), h * sizeof(float));
  }
}

}  // namespace lathe::host
