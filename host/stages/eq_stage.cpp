// The linear-phase EQ. Its bands are designed into symmetric FIRs once per sample rate (host/dsp/eq_design),
// partitioned once (host/dsp/convolution) and shared by every track of that rate; each track carries only its
// stream history. Stereo tracks with mid or side bands are matrixed to mid/side, filtered per component and
// matrixed back. The FIR's delay is reported as latency, which the scheduler removes: output sample n is
// aligned with input sample n and the length is unchanged.
#include "host/stages/eq_stage.hpp"

#include <string>
#include <vector>

#include "host/dsp/convolution.hpp"
#include "host/dsp/eq_design.hpp"
#include "host/errors.hpp"
#include "host/profile/profile_table.hpp"
#include "host/stages/per_rate.hpp"

namespace lathe::host {
namespace {

constexpr long kMaxTaps = (1L << 20) - 1;

// What the stage uses at one sample rate.
struct RateDesign {
  long taps = 0;
  std::shared_ptr<const dsp::PartitionedFir> all;   // every channel, when there are no mid/side bands; mono and
                                                    // multichannel tracks (stereo + mid bands)
  std::shared_ptr<const dsp::PartitionedFir> mid;   // stereo tracks with mid/side bands: mid component
  std::shared_ptr<const dsp::PartitionedFir> side;  // ... and side component
};

struct EqTrackState final : StageState {
  std::shared_ptr<const RateDesign> design;
  bool mid_side = false;
  std::vector<std::vector<float>> history;  // per channel: the convolution state (dsp::PartitionedFir)
};

class EqStage final : public Stage {
 public:
  explicit EqStage(ProfileTable& t) : file_(t.file()), where_(t.where()), line_(t.line_of("bands")) {
    bands_ = dsp::parse_eq_bands(t.table(), t.file(), t.where());
    t.consume("bands");
    const double taps = t.number("fir_taps", 0, static_cast<double>(kMaxTaps), 0, "taps (0 = automatic)");
    fir_taps_ = static_cast<long>(taps);
    if (static_cast<double>(fir_taps_) != taps || (fir_taps_ != 0 && (fir_taps_ < 3 || fir_taps_ % 2 == 0)))
      t.fail("fir_taps", "must be 0 (automatic) or an odd whole number of taps from 3 to " +
                             std::to_string(kMaxTaps));
    for (const auto& b : bands_) {
      if (b.channels == dsp::EqChannels::kStereo) stereo_.push_back(b);
      if (b.channels != dsp::EqChannels::kSide) mid_.push_back(b);
      if (b.channels != dsp::EqChannels::kMid) side_.push_back(b);
      if (b.channels != dsp::EqChannels::kStereo) has_mid_side_ = true;
    }
  }

  std::string type() const override { return "eq"; }

  TrackPlan start_track(const TrackShape& shape) const override {
    dsp::eq_check_rate(bands_, shape.rate_hz, file_);
    auto state = std::make_unique<EqTrackState>();
    state->design = design_for(shape.rate_hz);
    state->mid_side = has_mid_side_ && shape.channels == 2;
    const std::int64_t floats = state->design->all->state_floats();
    state->history.assign(static_cast<std::size_t>(shape.channels),
                          std::vector<float>(static_cast<std::size_t>(floats), 0.0f));
    TrackPlan plan;
    plan.latency_frames = (state->design->taps - 1) / 2;
    plan.block_frames = state->design->all->block;
    plan.state = std::move(state);
    return plan;
  }

  void process(Engine& engine, BlockBatch& batch, std::span<StageState* const> states) const override {
    std::vector<ConvolveJob> jobs(batch.blocks.size());
    std::vector<BlockPair> pairs;
    std::vector<std::int64_t> first_channel(states.size(), -1);
    for (std::size_t b = 0; b < batch.blocks.size(); ++b) {
      const kernels::Block& blk = batch.blocks[b];
      auto* st = static_cast<EqTrackState*>(states[blk.slot]);
      if (st == nullptr) continue;
      const RateDesign& d = *st->design;
      const dsp::PartitionedFir* fir = d.all.get();
      if (st->mid_side) fir = blk.channel == 0 ? d.mid.get() : d.side.get();
      jobs[b] = ConvolveJob{fir, st->history[blk.channel].data()};
      if (st->mid_side && blk.channel == 0) first_channel[blk.slot] = static_cast<std::int64_t>(b);
      if (st->mid_side && blk.channel == 1 && first_channel[blk.slot] >= 0)
        pairs.push_back({static_cast<std::uint32_t>(first_channel[blk.slot]), static_cast<std::uint32_t>(b)});
    }
    if (!pairs.empty()) engine.mid_side(pairs, /*encode=*/true);
    engine.convolve(jobs);
    if (!pairs.empty()) engine.mid_side(pairs, /*encode=*/false);
  }

  void describe(toml::table& out) const override {
    if (fir_taps_ != 0) out.insert_or_assign("fir_taps", static_cast<std::int64_t>(fir_taps_));
    out.insert_or_assign("bands", dsp::eq_bands_to_toml(bands_));
  }

 private:
  std::shared_ptr<const RateDesign> design_for(int rate_hz) const {
    return designs_.get(rate_hz, [&] {
      const double rate = rate_hz;
      auto d = std::make_shared<RateDesign>();
      long taps = fir_taps_;
      if (taps == 0) {
        // One length for every component, so that mid and side (and all channels) share one latency.
        const std::vector<const std::vector<dsp::EqBand>*> sets =
            has_mid_side_ ? std::vector{&mid_, &side_} : std::vector{&stereo_};
        for (const auto* set : sets) {
          const long need = dsp::eq_auto_fir_taps(*set, rate);
          if (need == 0)
            throw ProfileError(file_ + ":" + std::to_string(line_) + ": " + where_ + ": bands: at " +
                                   std::to_string(rate_hz) + " Hz this curve needs a FIR longer than the " +
                                   std::to_string(kMaxTaps) + " taps allowed",
                               "raise the lowest band frequency, lower its q or slope, or set fir_taps (up to " +
                                   std::to_string(kMaxTaps) + ") to accept a less exact curve");
          taps = std::max(taps, need);
        }
      }
      d->taps = taps;
      auto make = [&](const std::vector<dsp::EqBand>& set) {
        const std::vector<double> h = dsp::eq_design_fir(set, rate, taps);
        return dsp::partition_fir(h);
      };
      if (has_mid_side_) {
        d->mid = make(mid_);
        d->side = make(side_);
        d->all = d->mid;  // tracks other than stereo: stereo and mid bands; side bands do not apply
      } else {
        d->all = make(stereo_);
      }
      return d;
    });
  }

  std::string file_;
  std::string where_;
  int line_ = 0;
  std::vector<dsp::EqBand> bands_;
  std::vector<dsp::EqBand> stereo_, mid_, side_;
  bool has_mid_side_ = false;
  long fir_taps_ = 0;
  PerRate<RateDesign> designs_;
};

}  // namespace

std::unique_ptr<Stage> make_eq_stage(ProfileTable& table) { return std::make_unique<EqStage>(table); }

}  // namespace lathe::host
