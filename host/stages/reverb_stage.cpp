// The reverb. The IR is prepared once per sample rate on the host (host/dsp/reverb_ir: load or generate,
// resample, trim, fade, wet filters, unit energy, predelay), then the dry path is folded into it:
//   h[c] = dry * delta + wet * ir[c]
// so one partitioned convolution per channel (the engines' existing block convolution, kernels/convolve.hpp)
// gives the mixed output with no latency and no extra pass. Channel mapping: a mono IR on every channel; a
// stereo IR left to channel 0 and right to channel 1 (and alternately on more channels), its mean on a mono
// track. A true-stereo IR (L>L, L>R, R>L, R>R) on a stereo track adds the cross paths: the batch is copied into
// an auxiliary buffer, its channels swapped there and convolved with the cross responses (R>L on what is now
// channel 0, L>R on channel 1), and the result added to the direct paths (dry folded into L>L and R>R); blocks
// of other tracks are zeroed in that buffer so the addition leaves them alone. On a mono track it is the mean
// response of both outputs, on more channels L>L and R>R alternately. The tail: "keep" makes the output longer
// by the IR's length so the reverb rings out; "fade" makes it longer by tail_fade_s (at most the IR's length)
// and fades the tail to silence over that time; "cut" keeps the input's length.
#include "host/stages/reverb_stage.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "host/dsp/convolution.hpp"
#include "host/dsp/reverb_ir.hpp"
#include "host/errors.hpp"
#include "host/profile/profile_table.hpp"
#include "host/stages/per_rate.hpp"

namespace lathe::host {
namespace {

constexpr std::int64_t kMaxIrTaps = std::int64_t{1} << 21;

struct RateDesign {
  std::vector<std::shared_ptr<const dsp::PartitionedFir>> firs;  // direct path per output channel (1 or 2)
  std::vector<std::shared_ptr<const dsp::PartitionedFir>> cross; // true stereo: R>L, L>R (wet only)
  std::shared_ptr<const dsp::PartitionedFir> mono;               // for mono tracks
  std::int64_t taps = 0;
};

struct ReverbState final : StageState {
  std::shared_ptr<const RateDesign> design;
  std::vector<const dsp::PartitionedFir*> fir;  // per channel
  std::vector<std::vector<float>> history;      // per channel
  std::vector<const dsp::PartitionedFir*> cross_fir;  // true stereo on a stereo track: per (swapped) channel
  std::vector<std::vector<float>> cross_history;
  std::int64_t audio_end = 0;   // this stage's stream index after the track's audio (tail = "fade")
  std::int64_t fade_frames = 0; // the faded tail's length (0: no fade)
};

class ReverbStage final : public Stage {
 public:
  explicit ReverbStage(ProfileTable& t) : file_(t.file()), where_(t.where()) {
    ir_ = t.text("ir", "");
    if (ir_.empty()) t.fail("ir", "missing: a built-in IR (\"room\", \"plate\", \"hall\") or the path of an IR file");
    const auto& names = dsp::builtin_ir_names();
    builtin_ = std::find(names.begin(), names.end(), ir_) != names.end();
    if (!builtin_) {
      path_ = t.path_in_profile(ir_);
      if (!std::filesystem::exists(path_))
        t.fail("ir", "no such file: " + path_ + " (nor a built-in IR: room, plate, hall)");
    }
    if (t.has("mix_pct") && (t.has("wet_db") || t.has("dry_db")))
      t.fail("mix_pct", "give either mix_pct or wet_db/dry_db, not both");
    if (t.has("mix_pct")) {
      mix_pct_ = t.number("mix_pct", 0.0, 100.0, 20.0, "% wet");
      wet_ = mix_pct_ / 100.0;
      dry_ = 1.0 - wet_;
      wet_db_ = wet_ > 0 ? 20 * std::log10(wet_) : -200;
      dry_db_ = dry_ > 0 ? 20 * std::log10(dry_) : -200;
    } else {
      wet_db_ = t.number("wet_db", -96.0, 6.0, -18.0, "dB");
      dry_db_ = t.number("dry_db", -96.0, 0.0, 0.0, "dB");
      wet_ = std::pow(10.0, wet_db_ / 20.0);
      dry_ = std::pow(10.0, dry_db_ / 20.0);
    }
    shaping_.predelay_ms = t.number("predelay_ms", 0.0, 500.0, 0.0, "ms");
    shaping_.length_s = t.number("ir_length_s", 0.0, 20.0, 0.0, "s (0 = the whole IR)");
    shaping_.fade_ms = t.number("ir_fade_ms", 0.0, 5000.0, 20.0, "ms");
    shaping_.highpass_hz = t.number("wet_highpass_hz", 0.0, 5000.0, 0.0, "Hz (0 = off)");
    shaping_.lowpass_hz = t.number("wet_lowpass_hz", 0.0, 40000.0, 0.0, "Hz (0 = off)");
    if (shaping_.highpass_hz != 0 && shaping_.highpass_hz < 10) t.fail("wet_highpass_hz", "must be 0 (off) or 10 to 5000 Hz");
    if (shaping_.lowpass_hz != 0 && shaping_.lowpass_hz < 500) t.fail("wet_lowpass_hz", "must be 0 (off) or 500 to 40000 Hz");
    tail_ = t.choice("tail", {"keep", "fade", "cut"}, "keep");
    tail_fade_s_ = t.number("tail_fade_s", 0.01, 20.0, 2.0, "s");
  }

  std::string type() const override { return "reverb"; }

  TrackPlan start_track(const TrackShape& shape) const override {
    auto st = std::make_unique<ReverbState>();
    st->design = design_for(shape.rate_hz);
    const RateDesign& d = *st->design;
    for (int c = 0; c < shape.channels; ++c) {
      const dsp::PartitionedFir* f = shape.channels == 1 ? d.mono.get() : d.firs[static_cast<std::size_t>(c) % d.firs.size()].get();
      st->fir.push_back(f);
      st->history.emplace_back(static_cast<std::size_t>(f->state_floats()), 0.0f);
    }
    if (!d.cross.empty() && shape.channels == 2) {
      for (const auto& f : d.cross) {
        st->cross_fir.push_back(f.get());
        st->cross_history.emplace_back(static_cast<std::size_t>(f->state_floats()), 0.0f);
      }
    }
    TrackPlan plan;
    plan.block_frames = d.mono->block;
    plan.tail_frames = tail_ == "keep" ? d.taps - 1 : 0;
    if (tail_ == "fade") {
      st->audio_end = shape.latency_before + shape.frames + shape.tail_before;
      st->fade_frames = std::min<std::int64_t>(d.taps - 1, std::llround(tail_fade_s_ * shape.rate_hz));
      plan.tail_frames = st->fade_frames;
    }
    plan.state = std::move(st);
    return plan;
  }

  void process(Engine& engine, BlockBatch& batch, std::span<StageState* const> states) const override {
    const std::size_t n = batch.blocks.size();
    // The cross paths of true-stereo tracks first, in auxiliary buffer 1 (from the unprocessed input).
    std::vector<ConvolveJob> cross(n);
    std::vector<BlockPair> pairs;
    std::vector<float> keep(n, 0.0f);
    const std::vector<float> zero(n, 0.0f);
    const std::vector<std::int64_t> no_offset(n, 0);
    std::vector<std::int64_t> first(states.size(), -1);
    bool any_cross = false;
    for (std::size_t b = 0; b < n; ++b) {
      const kernels::Block& blk = batch.blocks[b];
      auto* st = static_cast<ReverbState*>(states[blk.slot]);
      if (st == nullptr || st->cross_fir.empty()) continue;
      any_cross = true;
      keep[b] = 1.0f;
      // After the swap, block b holds the other channel's input: it takes that channel's response to this one.
      cross[b] = ConvolveJob{st->cross_fir[blk.channel], st->cross_history[blk.channel].data()};
      if (blk.channel == 0) first[blk.slot] = static_cast<std::int64_t>(b);
      if (blk.channel == 1 && first[blk.slot] >= 0)
        pairs.push_back({static_cast<std::uint32_t>(first[blk.slot]), static_cast<std::uint32_t>(b)});
    }
    if (any_cross) {
      engine.copy_buffer(0, 1);
      engine.use_buffer(1);
      engine.scale_blocks(keep, zero, no_offset);  // other tracks' blocks to zero: the sum leaves them alone
      engine.swap_blocks(pairs);
      engine.convolve(cross);
      engine.use_buffer(0);
    }
    std::vector<ConvolveJob> jobs(n);
    for (std::size_t b = 0; b < n; ++b) {
      const kernels::Block& blk = batch.blocks[b];
      auto* st = static_cast<ReverbState*>(states[blk.slot]);
      if (st == nullptr) continue;
      jobs[b] = ConvolveJob{st->fir[blk.channel], st->history[blk.channel].data()};
    }
    engine.convolve(jobs);
    if (any_cross) engine.add_buffer(1, 0);
    if (tail_ == "fade") {
      std::vector<std::int64_t> start(n, std::numeric_limits<std::int64_t>::max()), end(n, 0);
      for (std::size_t b = 0; b < n; ++b) {
        const auto* st = static_cast<const ReverbState*>(states[batch.blocks[b].slot]);
        if (st == nullptr) continue;
        start[b] = st->audio_end;
        end[b] = st->audio_end + st->fade_frames;
      }
      engine.fade_blocks(start, end);
    }
  }

  void describe(toml::table& out) const override {
    out.insert_or_assign("ir", ir_);
    if (mix_pct_ >= 0) {
      out.insert_or_assign("mix_pct", mix_pct_);
    } else {
      out.insert_or_assign("wet_db", wet_db_);
      out.insert_or_assign("dry_db", dry_db_);
    }
    out.insert_or_assign("predelay_ms", shaping_.predelay_ms);
    out.insert_or_assign("ir_length_s", shaping_.length_s);
    out.insert_or_assign("ir_fade_ms", shaping_.fade_ms);
    out.insert_or_assign("wet_highpass_hz", shaping_.highpass_hz);
    out.insert_or_assign("wet_lowpass_hz", shaping_.lowpass_hz);
    out.insert_or_assign("tail", tail_);
    out.insert_or_assign("tail_fade_s", tail_fade_s_);
  }

 private:
  std::shared_ptr<const RateDesign> design_for(int rate_hz) const {
    return designs_.get(rate_hz, [&] {
      const std::string label = file_ + ": " + where_ + ": ";
      if (shaping_.lowpass_hz >= 0.45 * rate_hz)
        throw ProfileError(label + "wet_lowpass_hz " + std::to_string(shaping_.lowpass_hz) + " Hz is too close to the " +
                               "Nyquist frequency of a " + std::to_string(rate_hz) + " Hz track",
                           "lower it below 0.45 x the sample rate");
      std::vector<std::vector<double>> ir;
      try {
        ir = builtin_ ? dsp::builtin_ir(ir_, rate_hz) : dsp::load_ir_file(path_, rate_hz);
        dsp::shape_ir(ir, rate_hz, shaping_);
      } catch (const ProfileError&) {
        throw;
      } catch (const Error& e) {
        throw ProfileError(label + "ir: " + std::string(e.what()), e.hint());
      }
      const auto taps = static_cast<std::int64_t>(ir[0].size());
      if (taps > kMaxIrTaps)
        throw ProfileError(label + "ir: " + std::to_string(taps) + " taps at " + std::to_string(rate_hz) +
                               " Hz (with the predelay) is longer than the 2^21 lathe convolves",
                           "set ir_length_s to trim it");
      auto fold = [&](const std::vector<double>& h) {
        std::vector<double> f(h.size());
        for (std::size_t i = 0; i < h.size(); ++i) f[i] = wet_ * h[i];
        f[0] += dry_;
        return dsp::partition_fir(f);
      };
      auto d = std::make_shared<RateDesign>();
      d->taps = taps;
      if (ir.size() == 4) {
        // True stereo, in the file's order L>L, L>R, R>L, R>R: the direct paths carry the dry signal; the cross
        // paths are wet only (block 0 of the swapped copy holds R, which feeds L through R>L).
        d->firs = {fold(ir[0]), fold(ir[3])};
        for (const std::size_t k : {std::size_t{2}, std::size_t{1}}) {
          std::vector<double> f(ir[k].size());
          for (std::size_t i = 0; i < f.size(); ++i) f[i] = wet_ * ir[k][i];
          d->cross.push_back(dsp::partition_fir(f));
        }
        // A mono source feeds both inputs; the mono output is the mean of both outputs.
        std::vector<double> mean(ir[0].size());
        for (std::size_t i = 0; i < mean.size(); ++i) mean[i] = 0.5 * (ir[0][i] + ir[1][i] + ir[2][i] + ir[3][i]);
        d->mono = fold(mean);
      } else {
        for (const auto& ch : ir) d->firs.push_back(fold(ch));
        if (ir.size() == 1) {
          d->mono = d->firs[0];
        } else {
          std::vector<double> mean(ir[0].size());
          for (std::size_t i = 0; i < mean.size(); ++i) mean[i] = 0.5 * (ir[0][i] + ir[1][i]);
          d->mono = fold(mean);
        }
      }
      return d;
    });
  }

  std::string file_, where_;
  std::string ir_, path_;
  bool builtin_ = false;
  double mix_pct_ = -1, wet_db_ = -18, dry_db_ = 0, wet_ = 0, dry_ = 1;
  dsp::IrShaping shaping_;
  std::string tail_;
  double tail_fade_s_ = 2.0;
  PerRate<RateDesign> designs_;
};

}  // namespace

std::unique_ptr<Stage> make_reverb_stage(ProfileTable& table) { return std::make_unique<ReverbStage>(table); }

}  // namespace lathe::host
