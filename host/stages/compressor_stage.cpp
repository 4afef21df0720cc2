// The `compressor` stage: a feed-forward, log-domain compressor (kernels/dynamics.hpp). Its coefficients are
// designed once per sample rate on the host (host/dsp/compressor.cpp) and shared by every track of that rate;
// each track carries only its recurrence state (filter history, mean square, smoothed gain reduction). No
// look-ahead: no latency, and segments of any length give the same bits.
#include "host/stages/compressor_stage.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "host/dsp/compressor.hpp"
#include "host/errors.hpp"
#include "host/profile/profile_table.hpp"
#include "host/stages/per_rate.hpp"

namespace lathe::host {
namespace {

struct CompressorTrackState final : StageState {
  std::shared_ptr<const dsp::CompressorDesign> design;
  dsp::CompressorState state{};
  int channels = 0;
};

class CompressorStage final : public Stage {
 public:
  explicit CompressorStage(ProfileTable& t) {
    read_compressor_curve(t, p_);
    p_.rms = t.choice("detection", {"peak", "rms"}, "peak") == "rms";
    p_.rms_ms = t.number("rms_ms", 1.0, 300.0, 10.0, "ms");
    p_.linked = t.choice("link", {"linked", "unlinked"}, "linked") == "linked";
    p_.sidechain_hpf_hz = t.number("sidechain_hpf_hz", 0.0, 500.0, 0.0, "Hz (0 = off)");
    if (p_.sidechain_hpf_hz != 0.0 && p_.sidechain_hpf_hz < 20.0)
      t.fail("sidechain_hpf_hz", "must be 0 (off) or from 20 to 500 Hz");
  }

  std::string type() const override { return "compressor"; }

  TrackPlan start_track(const TrackShape& shape) const override {
    if (shape.channels < 1 || shape.channels > kernels::dynamics::kMaxChannels)
      throw Error("the compressor handles 1 to " + std::to_string(kernels::dynamics::kMaxChannels) +
                      " channels; this track has " + std::to_string(shape.channels),
                  "remove the compressor stage for this track, or downmix it");
    if (p_.sidechain_hpf_hz > 0 && 2.0 * p_.sidechain_hpf_hz >= 0.9 * shape.rate_hz)
      throw Error("the compressor's sidechain_hpf_hz (" + std::to_string(p_.sidechain_hpf_hz) +
                      " Hz) is too close to Nyquist at " + std::to_string(shape.rate_hz) + " Hz",
                  "lower sidechain_hpf_hz");
    auto st = std::make_unique<CompressorTrackState>();
    st->design = design_for(shape.rate_hz);
    st->channels = shape.channels;
    TrackPlan plan;
    plan.state = std::move(st);
    return plan;  // no latency, any segment length
  }

  void process(Engine& engine, BlockBatch& batch, std::span<StageState* const> states) const override {
    std::vector<DynamicsJob> jobs;
    std::vector<std::int64_t> job_of(states.size(), -1);
    for (std::size_t b = 0; b < batch.blocks.size(); ++b) {
      const kernels::Block& blk = batch.blocks[b];
      auto* st = blk.slot < states.size() ? static_cast<CompressorTrackState*>(states[blk.slot]) : nullptr;
      if (st == nullptr || blk.channel >= static_cast<std::uint32_t>(kernels::dynamics::kMaxChannels)) continue;
      if (job_of[blk.slot] < 0) {
        job_of[blk.slot] = static_cast<std::int64_t>(jobs.size());
        DynamicsJob j;
        j.design = st->design.get();
        j.state = &st->state;
        jobs.push_back(j);
      }
      DynamicsJob& j = jobs[static_cast<std::size_t>(job_of[blk.slot])];
      j.blocks[blk.channel] = static_cast<std::uint32_t>(b);
      j.channel_count = std::max(j.channel_count, static_cast<int>(blk.channel) + 1);
    }
    if (!jobs.empty()) engine.dynamics(jobs);
  }

  void describe(toml::table& out) const override {
    write_compressor_curve(p_, out);
    out.insert_or_assign("detection", p_.rms ? "rms" : "peak");
    out.insert_or_assign("rms_ms", p_.rms_ms);
    out.insert_or_assign("link", p_.linked ? "linked" : "unlinked");
    out.insert_or_assign("sidechain_hpf_hz", p_.sidechain_hpf_hz);
  }

 private:
  std::shared_ptr<const dsp::CompressorDesign> design_for(int rate_hz) const {
    return designs_.get(rate_hz, [&] {
      return std::make_shared<const dsp::CompressorDesign>(dsp::compressor_design(p_, rate_hz));
    });
  }

  dsp::CompressorParams p_;
  PerRate<dsp::CompressorDesign> designs_;
};

}  // namespace

void read_compressor_curve(ProfileTable& t, dsp::CompressorParams& p) {
  p.threshold_db = t.number("threshold_db", -60.0, 0.0, -18.0, "dBFS");
  p.ratio = t.number("ratio", 1.0, 100.0, 2.0, ":1");
  p.knee_db = t.number("knee_db", 0.0, 24.0, 6.0, "dB");
  p.attack_ms = t.number("attack_ms", 0.01, 500.0, 10.0, "ms");
  p.release_ms = t.number("release_ms", 1.0, 5000.0, 150.0, "ms");
  p.makeup_db = t.number("makeup_db", -24.0, 24.0, 0.0, "dB");
  p.mix_percent = t.number("mix", 0.0, 100.0, 100.0, "%");
}

void write_compressor_curve(const dsp::CompressorParams& p, toml::table& out) {
  out.insert_or_assign("threshold_db", p.threshold_db);
  out.insert_or_assign("ratio", p.ratio);
  out.insert_or_assign("knee_db", p.knee_db);
  out.insert_or_assign("attack_ms", p.attack_ms);
  out.insert_or_assign("release_ms", p.release_ms);
  out.insert_or_assign("makeup_db", p.makeup_db);
  out.insert_or_assign("mix", p.mix_percent);
}

std::unique_ptr<Stage> make_compressor_stage(ProfileTable& table) { return std::make_unique<CompressorStage>(table); }

}  // namespace lathe::host
