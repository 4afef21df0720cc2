// The corrective and width stages. Their filters are linear-phase (the EQ stage's high-pass bands: a subsonic
// filter on every channel, a side-only high-pass for mono bass), so they shift no phase in the audible band and
// their latency is removed like the EQ's; a pre-ring below 30 Hz is the price, inaudible at these corners. The
// gains (trim, polarity, width) and the DC correction are per-block scale and offset.
#include "host/stages/corrective_stage.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "host/errors.hpp"
#include "host/profile/profile_table.hpp"
#include "host/stages/eq_stage.hpp"

namespace lathe::host {
namespace {

// A Butterworth high-pass band of the EQ: corner, slope, and the channels it acts on ("stereo" or "side").
struct HighPass {
  double hz;
  int slope_db;
  const char* channels;
};
// The mono-bass filter of both stages: the side signal high-passed at 24 dB/octave.
constexpr int kMonoBassSlopeDb = 24;

// An EQ made of high-pass bands, built from a TOML table the stage writes itself (so the EQ's design, caching,
// automatic length and latency apply unchanged). Null when there is no band.
std::unique_ptr<Stage> make_highpass_eq(const std::vector<HighPass>& bands, const std::string& file,
                                        const std::string& where) {
  if (bands.empty()) return nullptr;
  toml::array arr;
  for (const HighPass& band : bands) {
    toml::table b;
    b.insert_or_assign("type", "highpass");
    b.insert_or_assign("freq_hz", band.hz);
    b.insert_or_assign("slope_db_per_oct", static_cast<std::int64_t>(band.slope_db));
    b.insert_or_assign("channels", band.channels);
    arr.push_back(std::move(b));
  }
  toml::table t;
  t.insert_or_assign("bands", std::move(arr));
  ProfileTable pt(t, file, where);
  return make_eq_stage(pt);
}

// The state of a stage wrapping an EQ: the EQ's own state (null without an EQ) and the per-track DC offsets.
struct WrappedState final : StageState {
  std::unique_ptr<StageState> eq;
  std::vector<float> dc;       // per channel, already scaled (the offset added after the scale)
  std::int64_t audio_end = 0;  // stream index after the track's audio (and earlier stages' tails)
};

TrackPlan wrap_plan(const Stage* eq, const TrackShape& shape, std::unique_ptr<WrappedState> st) {
  TrackPlan plan;
  if (eq != nullptr) {
    TrackPlan inner = eq->start_track(shape);
    st->eq = std::move(inner.state);
    plan.latency_frames = inner.latency_frames;
    plan.block_frames = inner.block_frames;
  }
  plan.state = std::move(st);
  return plan;
}

void run_eq(const Stage* eq, Engine& engine, BlockBatch& batch, std::span<StageState* const> states) {
  if (eq == nullptr) return;
  std::vector<StageState*> inner(states.size(), nullptr);
  for (std::size_t s = 0; s < states.size(); ++s)
    if (states[s] != nullptr) inner[s] = static_cast<WrappedState*>(states[s])->eq.get();
  eq->process(engine, batch, inner);
}

// Pairs of channel 0 and 1 of every stereo track of the batch.
std::vector<BlockPair> stereo_pairs(const BlockBatch& batch, std::span<StageState* const> states) {
  std::vector<std::int64_t> first(states.size(), -1), count(states.size(), 0);
  std::vector<BlockPair> pairs;
  for (std::size_t b = 0; b < batch.blocks.size(); ++b) ++count[batch.blocks[b].slot];
  for (std::size_t b = 0; b < batch.blocks.size(); ++b) {
    const kernels::Block& blk = batch.blocks[b];
    if (count[blk.slot] != 2 || states[blk.slot] == nullptr) continue;
    if (blk.channel == 0) first[blk.slot] = static_cast<std::int64_t>(b);
    if (blk.channel == 1 && first[blk.slot] >= 0)
      pairs.push_back({static_cast<std::uint32_t>(first[blk.slot]), static_cast<std::uint32_t>(b)});
  }
  return pairs;
}

// `type = "corrective"`.
class CorrectiveStage final : public Stage {
 public:
  explicit CorrectiveStage(ProfileTable& t) {
    dc_ = t.choice("dc", {"remove", "keep"}, "remove") == "remove";
    subsonic_hz_ = t.number("subsonic_hz", 0.0, 60.0, 0.0, "Hz (0 = off)");
    if (subsonic_hz_ != 0.0 && subsonic_hz_ < 10.0) t.fail("subsonic_hz", "must be 0 (off) or from 10 to 60 Hz");
    const double slope = t.number("subsonic_slope_db_per_oct", 6.0, 48.0, 24.0, "dB/octave");
    if (slope != 6.0 * std::round(slope / 6.0))
      t.fail("subsonic_slope_db_per_oct", "must be a multiple of 6 from 6 to 48 dB/octave");
    slope_ = static_cast<int>(slope);
    polarity_ = t.choice("polarity", {"normal", "invert", "invert_left", "invert_right"}, "normal");
    swap_ = false;
    if (t.has("swap_channels")) {
      const auto* v = t.table().get("swap_channels")->as_boolean();
      if (v == nullptr) t.fail("swap_channels", "must be true or false");
      swap_ = v->get();
      t.consume("swap_channels");
    }
    trim_db_ = t.number("trim_db", -24.0, 24.0, 0.0, "dB");
    mono_below_hz_ = t.number("mono_below_hz", 0.0, 300.0, 0.0, "Hz (0 = off)");
    if (mono_below_hz_ != 0.0 && mono_below_hz_ < 20.0) t.fail("mono_below_hz", "must be 0 (off) or from 20 to 300 Hz");
    trim_ = static_cast<float>(std::pow(10.0, trim_db_ / 20.0));
    std::vector<HighPass> bands;
    if (subsonic_hz_ > 0) bands.push_back({subsonic_hz_, slope_, "stereo"});
    if (mono_below_hz_ > 0) bands.push_back({mono_below_hz_, kMonoBassSlopeDb, "side"});
    eq_ = make_highpass_eq(bands, t.file(), t.where());
  }

  std::string type() const override { return "corrective"; }

  TrackPlan start_track(const TrackShape& shape) const override {
    auto st = std::make_unique<WrappedState>();
    st->dc.assign(static_cast<std::size_t>(shape.channels), 0.0f);
    for (int c = 0; c < shape.channels; ++c) {
      // The offset is added after the scale: -mean * scale, designed in double, rounded once.
      const double mean = dc_ && static_cast<std::size_t>(c) < shape.dc_offset.size() ? shape.dc_offset[static_cast<std::size_t>(c)] : 0.0;
      st->dc[static_cast<std::size_t>(c)] = static_cast<float>(-mean * channel_scale(c, shape.channels));
    }
    st->audio_end = shape.latency_before + shape.frames + shape.tail_before;
    return wrap_plan(eq_.get(), shape, std::move(st));
  }

  void process(Engine& engine, BlockBatch& batch, std::span<StageState* const> states) const override {
    std::vector<float> scale(batch.blocks.size(), 1.0f), offset(batch.blocks.size(), 0.0f);
    std::vector<std::int64_t> offset_end(batch.blocks.size(), 0);
    bool any = false;
    for (std::size_t b = 0; b < batch.blocks.size(); ++b) {
      const kernels::Block& blk = batch.blocks[b];
      const auto* st = static_cast<const WrappedState*>(states[blk.slot]);
      if (st == nullptr) continue;
      const int channels = static_cast<int>(st->dc.size());
      scale[b] = channel_scale(static_cast<int>(blk.channel), channels);
      // The DC offset applies to the track's audio only: the zero frames that flush latencies and tails after
      // it stay zero.
      offset[b] = st->dc[blk.channel];
      offset_end[b] = st->audio_end;
      if (scale[b] != 1.0f || offset[b] != 0.0f) any = true;
    }
    if (any) engine.scale_blocks(scale, offset, offset_end);
    if (swap_) engine.swap_blocks(stereo_pairs(batch, states));
    run_eq(eq_.get(), engine, batch, states);
  }

  void describe(toml::table& out) const override {
    out.insert_or_assign("dc", dc_ ? "remove" : "keep");
    out.insert_or_assign("subsonic_hz", subsonic_hz_);
    out.insert_or_assign("subsonic_slope_db_per_oct", static_cast<std::int64_t>(slope_));
    out.insert_or_assign("polarity", polarity_);
    out.insert_or_assign("swap_channels", swap_);
    out.insert_or_assign("trim_db", trim_db_);
    out.insert_or_assign("mono_below_hz", mono_below_hz_);
  }

 private:
  float channel_scale(int channel, int channels) const {
    bool invert = polarity_ == "invert";
    if (channels == 2 && polarity_ == "invert_left") invert = channel == 0;
    if (channels == 2 && polarity_ == "invert_right") invert = channel == 1;
    return invert ? -trim_ : trim_;
  }

  bool dc_ = true;
  double subsonic_hz_ = 0;
  int slope_ = 24;
  std::string polarity_;
  bool swap_ = false;
  double trim_db_ = 0;
  float trim_ = 1.0f;
  double mono_below_hz_ = 0;
  std::unique_ptr<Stage> eq_;
};

// `type = "width"`: side = side * width / 100 on stereo tracks (mid/side matrix around it), and optionally
// mono below a frequency (a linear-phase side high-pass). Width 100 % and no bass mono leave the samples alone.
class WidthStage final : public Stage {
 public:
  explicit WidthStage(ProfileTable& t) {
    width_pct_ = t.number("width_pct", 0.0, 200.0, 100.0, "% (100 = unchanged, 0 = mono)");
    mono_below_hz_ = t.number("mono_below_hz", 0.0, 300.0, 0.0, "Hz (0 = off)");
    if (mono_below_hz_ != 0.0 && mono_below_hz_ < 20.0) t.fail("mono_below_hz", "must be 0 (off) or from 20 to 300 Hz");
    side_ = static_cast<float>(width_pct_ / 100.0);
    if (mono_below_hz_ > 0) eq_ = make_highpass_eq({{mono_below_hz_, kMonoBassSlopeDb, "side"}}, t.file(), t.where());
  }

  std::string type() const override { return "width"; }

  TrackPlan start_track(const TrackShape& shape) const override {
    return wrap_plan(eq_.get(), shape, std::make_unique<WrappedState>());
  }

  void process(Engine& engine, BlockBatch& batch, std::span<StageState* const> states) const override {
    if (width_pct_ != 100.0) {
      const std::vector<BlockPair> pairs = stereo_pairs(batch, states);
      if (!pairs.empty()) {
        std::vector<float> scale(batch.blocks.size(), 1.0f), offset(batch.blocks.size(), 0.0f);
        const std::vector<std::int64_t> offset_end(batch.blocks.size(), 0);
        for (const BlockPair& p : pairs) scale[p.second] = side_;
        engine.mid_side(pairs, /*encode=*/true);
        engine.scale_blocks(scale, offset, offset_end);
        engine.mid_side(pairs, /*encode=*/false);
      }
    }
    run_eq(eq_.get(), engine, batch, states);
  }

  void describe(toml::table& out) const override {
    out.insert_or_assign("width_pct", width_pct_);
    out.insert_or_assign("mono_below_hz", mono_below_hz_);
  }

 private:
  double width_pct_ = 100;
  double mono_below_hz_ = 0;
  float side_ = 1.0f;
  std::unique_ptr<Stage> eq_;
};

}  // namespace

std::unique_ptr<Stage> make_corrective_stage(ProfileTable& table) { return std::make_unique<CorrectiveStage>(table); }
std::unique_ptr<Stage> make_width_stage(ProfileTable& table) { return std::make_unique<WidthStage>(table); }

}  // namespace lathe::host
