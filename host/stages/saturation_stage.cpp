// The `saturation` stage: an oversampled waveshaper (tape: symmetric tanh; tube: asymmetric, with bias) with a
// dry/wet mix and an output trim. Designs (filters and constants) are made once per sample rate and shared by
// every track of that rate; each channel carries only its last 2 * latency input samples. The filters' latency is
// reported to the scheduler, which removes it: output sample n is aligned with input sample n, and the dry path
// is delayed by the same amount, so a partial mix has no comb filtering. See host/dsp/saturation.hpp and
// kernels/saturate.hpp.
#include "host/stages/saturation_stage.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include "host/dsp/saturation.hpp"
#include "host/errors.hpp"
#include "host/profile/profile_table.hpp"
#include "host/stages/per_rate.hpp"

namespace lathe::host {
namespace {

struct SaturationTrackState final : StageState {
  std::shared_ptr<const dsp::SaturationDesign> design;
  std::vector<std::vector<float>> history;  // per channel: the last H input samples of the stream
};

class SaturationStage final : public Stage {
 public:
  explicit SaturationStage(ProfileTable& t) {
    p_.model = t.choice("model", {"tape", "tube"}, "tape");
    p_.drive_db = t.number("drive_db", 0.0, 36.0, 6.0, "dB");
    p_.bias = t.number("bias", -1.0, 1.0, p_.model == "tube" ? 0.2 : 0.0, "");
    p_.mix_percent = t.number("mix", 0.0, 100.0, 100.0, "%");
    p_.output_db = t.number("output_db", -24.0, 24.0, 0.0, "dB");
    const double os = t.number("oversampling", 0.0, 16.0, 0.0, "x (0 = automatic)");
    if (os != 0.0 && os != 4.0 && os != 8.0 && os != 16.0)
      t.fail("oversampling", "must be 4, 8 or 16 (or 0 / absent for automatic)");
    p_.oversampling = static_cast<int>(os);
  }

  std::string type() const override { return "saturation"; }

  TrackPlan start_track(const TrackShape& shape) const override {
    auto state = std::make_unique<SaturationTrackState>();
    state->design = design_for(shape.rate_hz);
    state->history.assign(static_cast<std::size_t>(shape.channels),
                          std::vector<float>(static_cast<std::size_t>(state->design->history), 0.0f));
    TrackPlan plan;
    plan.latency_frames = state->design->latency;
    plan.state = std::move(state);
    return plan;
  }

  void process(Engine& engine, BlockBatch& batch, std::span<StageState* const> states) const override {
    std::vector<SaturateJob> jobs;
    jobs.reserve(batch.blocks.size());
    for (std::size_t b = 0; b < batch.blocks.size(); ++b) {
      const kernels::Block& blk = batch.blocks[b];
      auto* st = static_cast<SaturationTrackState*>(states[blk.slot]);
      if (st == nullptr) continue;
      jobs.push_back(SaturateJob{st->design.get(), st->history[blk.channel].data(), static_cast<std::uint32_t>(b)});
    }
    if (!jobs.empty()) engine.saturate(jobs);
  }

  void describe(toml::table& out) const override {
    out.insert_or_assign("model", p_.model);
    out.insert_or_assign("drive_db", p_.drive_db);
    out.insert_or_assign("bias", p_.bias);
    out.insert_or_assign("mix", p_.mix_percent);
    out.insert_or_assign("output_db", p_.output_db);
    if (p_.oversampling != 0) out.insert_or_assign("oversampling", static_cast<std::int64_t>(p_.oversampling));
  }

 private:
  std::shared_ptr<const dsp::SaturationDesign> design_for(int rate_hz) const {
    return designs_.get(rate_hz, [&] {
      try {
        return std::make_shared<const dsp::SaturationDesign>(dsp::make_saturation_design(p_, rate_hz));
      } catch (const std::invalid_argument& e) {
        throw Error(std::string(e.what()), "use a track rate from 8 kHz to 768 kHz");
      }
    });
  }

  dsp::SaturationParams p_;
  PerRate<dsp::SaturationDesign> designs_;
};

}  // namespace

std::unique_ptr<Stage> make_saturation_stage(ProfileTable& table) { return std::make_unique<SaturationStage>(table); }

}  // namespace lathe::host
