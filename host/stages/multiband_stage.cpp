// The `multiband` stage: a multiband compressor. The batch is split into 2 to 4 bands by linear-phase FIR
// crossovers, each band is compressed by the compressor's kernel (kernels/dynamics.hpp) with its own settings
// and state, and the bands are summed back.
//
// Crossovers that sum flat: for the crossover frequencies f_1 < .. < f_n the host designs zero-phase lowpass
// magnitudes LP_k(f) = 1 / (1 + (f / f_k)^m) (m = slope_db_per_oct / 6: 24 dB/octave is m = 4, the magnitude of
// a Linkwitz-Riley 4th-order lowpass; its complement 1 - LP_k is the matching highpass, both -6 dB at f_k), each
// realised as a symmetric FIR of the same odd length by dsp::design_linear_phase_fir. The band filters are then
//   band_1 = LP_1,  band_k = LP_k - LP_{k-1},  band_last = delta - LP_n
// (differences of taps in double, all centred on the same tap), so that the bands' taps sum exactly, in double,
// to a unit impulse at the centre: a pure delay, whatever the windowing did to each magnitude. Each band FIR is
// partitioned once per rate (spectra rounded to float once) and shared by every track of that rate. With no
// band compressing, the output equals the input up to the float rounding of the convolutions and of the sum
// (measured below -100 dBFS peak in tests/host/test_multiband.cpp).
//
// Length: the smallest 2^k - 1 at or above 8 * rate / f_1 (16 * rate / f_1 for 48 dB/octave), at least 255 and
// at most 2^16 - 1: 4,095 taps for a 120 Hz crossover at 44.1/48 kHz. Its delay (taps - 1) / 2 is reported as
// latency (removed by the scheduler: output sample n lines up with input sample n).
//
// Per batch, for band k = 1 .. bands: copy buffer 0 into auxiliary buffer k, make k current, convolve each
// block with band k's FIR (per band and channel convolution state), run band k's compressor (per band state);
// then make buffer 0 current again and rebuild it as ((band_1 + band_2) + band_3) + band_4 (copy, then adds in
// that fixed order, one rounding each), which both engines do alike.
//
// Settings: per band threshold_db, ratio, knee_db, attack_ms, release_ms, makeup_db and mix (the compressor
// stage's keys, ranges and defaults); per stage detection, rms_ms and link (shared by every band; linked across
// channels by default). No sidechain high-pass: the band split already decides what drives each band.
#include "host/stages/multiband_stage.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "host/dsp/compressor.hpp"
#include "host/dsp/convolution.hpp"
#include "host/stages/compressor_stage.hpp"
#include "host/dsp/eq_design.hpp"
#include "host/errors.hpp"
#include "host/profile/profile_table.hpp"
#include "host/stages/per_rate.hpp"

namespace lathe::host {
namespace {

constexpr int kMaxCrossovers = Engine::kMaxAuxBuffers - 1;  // one auxiliary buffer per band
constexpr double kMinCrossoverHz = 20.0;
constexpr double kMaxCrossoverFraction = 0.45;  // of the track's rate
constexpr long kMinTaps = 255;
constexpr long kMaxTaps = (1L << 16) - 1;

struct RateDesign {
  long taps = 0;
  std::vector<std::shared_ptr<const dsp::PartitionedFir>> fir;  // per band
  std::vector<dsp::CompressorDesign> comp;                       // per band
};

struct MultibandTrackState final : StageState {
  std::shared_ptr<const RateDesign> design;
  std::vector<std::vector<std::vector<float>>> history;  // [band][channel]: convolution state
  std::vector<dsp::CompressorState> comp;                // per band
};

std::string hz_text(double hz) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", hz);
  return buf;
}

class MultibandStage final : public Stage {
 public:
  explicit MultibandStage(ProfileTable& t) : file_(t.file()), where_(t.where()) {
    crossover_line_ = t.line_of("crossovers_hz");
    t.consume("crossovers_hz");
    const toml::node* xn = t.table().get("crossovers_hz");
    if (xn == nullptr) t.fail("crossovers_hz", "is required: 1 to 3 crossover frequencies in Hz, e.g. [120, 2000]");
    const toml::array* xs = xn->as_array();
    if (xs == nullptr || xs->empty() || static_cast<int>(xs->size()) > kMaxCrossovers)
      t.fail("crossovers_hz", "must be an array of 1 to " + std::to_string(kMaxCrossovers) +
                                  " frequencies in Hz (2 to " + std::to_string(kMaxCrossovers + 1) + " bands)");
    for (const toml::node& n : *xs) {
      const std::optional<double> v = n.value<double>();
      if (!v || !(*v >= kMinCrossoverHz) || !(*v < dsp::kEqMaxFreqHz))
        t.fail("crossovers_hz", "each crossover must be a number from " + hz_text(kMinCrossoverHz) + " Hz to " +
                                    hz_text(kMaxCrossoverFraction) + " x the track's rate");
      if (!crossovers_.empty() && !(*v > crossovers_.back()))
        t.fail("crossovers_hz", "the crossovers must be strictly increasing");
      crossovers_.push_back(*v);
    }
    const double slope = t.number("slope_db_per_oct", 12.0, 48.0, 24.0, "dB/octave (12, 24 or 48)");
    if (slope != 12.0 && slope != 24.0 && slope != 48.0) t.fail("slope_db_per_oct", "must be 12, 24 or 48");
    slope_db_ = static_cast<int>(slope);
    rms_ = t.choice("detection", {"peak", "rms"}, "peak") == "rms";
    rms_ms_ = t.number("rms_ms", 1.0, 300.0, 10.0, "ms");
    linked_ = t.choice("link", {"linked", "unlinked"}, "linked") == "linked";

    t.consume("bands");
    const std::size_t want = crossovers_.size() + 1;
    const toml::node* bn = t.table().get("bands");
    const toml::array* bs = bn != nullptr ? bn->as_array() : nullptr;
    if (bs == nullptr || bs->size() != want)
      t.fail("bands", "must be an array of exactly " + std::to_string(want) + " tables (one per band: " +
                          std::to_string(crossovers_.size()) + " crossovers make " + std::to_string(want) +
                          " bands), e.g. { threshold_db = -20, ratio = 2 }");
    for (std::size_t k = 0; k < bs->size(); ++k) {
      const toml::table* bt = (*bs)[k].as_table();
      if (bt == nullptr) t.fail("bands", "entry " + std::to_string(k + 1) + " is not a table");
      ProfileTable band(*bt, file_, where_ + " band " + std::to_string(k + 1));
      dsp::CompressorParams p;
      read_compressor_curve(band, p);
      band.reject_unknown_keys();
      p.rms = rms_;
      p.rms_ms = rms_ms_;
      p.linked = linked_;
      p.sidechain_hpf_hz = 0;
      bands_.push_back(p);
    }
  }

  std::string type() const override { return "multiband"; }

  TrackPlan start_track(const TrackShape& shape) const override {
    if (shape.channels < 1 || shape.channels > kernels::dynamics::kMaxChannels)
      throw Error("the multiband compressor handles 1 to " + std::to_string(kernels::dynamics::kMaxChannels) +
                      " channels; this track has " + std::to_string(shape.channels),
                  "remove the multiband stage for this track, or downmix it");
    const double top = kMaxCrossoverFraction * shape.rate_hz;
    for (double f : crossovers_)
      if (f > top)
        throw ProfileError(file_ + ":" + std::to_string(crossover_line_) + ": " + where_ + ": crossovers_hz: " +
                               hz_text(f) + " Hz is above " + hz_text(kMaxCrossoverFraction) +
                               " x this track's rate of " + std::to_string(shape.rate_hz) + " Hz (" + hz_text(top) +
                               " Hz)",
                           "lower the crossover, or master this track with another profile");
    auto st = std::make_unique<MultibandTrackState>();
    st->design = design_for(shape.rate_hz);
    const std::size_t floats = static_cast<std::size_t>(st->design->fir[0]->state_floats());
    st->history.assign(bands_.size(), std::vector<std::vector<float>>(static_cast<std::size_t>(shape.channels),
                                                                       std::vector<float>(floats, 0.0f)));
    st->comp.assign(bands_.size(), dsp::CompressorState{});
    TrackPlan plan;
    plan.latency_frames = (st->design->taps - 1) / 2;
    plan.block_frames = st->design->fir[0]->block;
    plan.state = std::move(st);
    return plan;
  }

  void process(Engine& engine, BlockBatch& batch, std::span<StageState* const> states) const override {
    const std::size_t nb = bands_.size();
    for (std::size_t k = 0; k < nb; ++k) {
      std::vector<ConvolveJob> conv(batch.blocks.size());
      std::vector<DynamicsJob> dyn;
      std::vector<std::int64_t> job_of(states.size(), -1);
      for (std::size_t b = 0; b < batch.blocks.size(); ++b) {
        const kernels::Block& blk = batch.blocks[b];
        auto* st = blk.slot < states.size() ? static_cast<MultibandTrackState*>(states[blk.slot]) : nullptr;
        if (st == nullptr || blk.channel >= st->history[k].size()) continue;
        conv[b] = ConvolveJob{st->design->fir[k].get(), st->history[k][blk.channel].data()};
        if (job_of[blk.slot] < 0) {
          job_of[blk.slot] = static_cast<std::int64_t>(dyn.size());
          DynamicsJob j;
          j.design = &st->design->comp[k];
          j.state = &st->comp[k];
          dyn.push_back(j);
        }
        DynamicsJob& j = dyn[static_cast<std::size_t>(job_of[blk.slot])];
        j.blocks[blk.channel] = static_cast<std::uint32_t>(b);
        j.channel_count = std::max(j.channel_count, static_cast<int>(blk.channel) + 1);
      }
      const int buf = static_cast<int>(k) + 1;
      engine.copy_buffer(0, buf);
      engine.use_buffer(buf);
      engine.convolve(conv);
      if (!dyn.empty()) engine.dynamics(dyn);
    }
    engine.use_buffer(0);
    engine.copy_buffer(1, 0);
    for (std::size_t k = 1; k < nb; ++k) engine.add_buffer(static_cast<int>(k) + 1, 0);
  }

  void describe(toml::table& out) const override {
    toml::array xs;
    for (double f : crossovers_) xs.push_back(f);
    out.insert_or_assign("crossovers_hz", std::move(xs));
    out.insert_or_assign("slope_db_per_oct", static_cast<std::int64_t>(slope_db_));
    out.insert_or_assign("detection", rms_ ? "rms" : "peak");
    out.insert_or_assign("rms_ms", rms_ms_);
    out.insert_or_assign("link", linked_ ? "linked" : "unlinked");
    toml::array bands;
    for (const dsp::CompressorParams& p : bands_) {
      toml::table b;
      write_compressor_curve(p, b);
      bands.push_back(std::move(b));
    }
    out.insert_or_assign("bands", std::move(bands));
  }

 private:
  long taps_for(int rate_hz) const {
    const double per = slope_db_ > 24 ? 16.0 : 8.0;
    const double need = per * static_cast<double>(rate_hz) / crossovers_.front();
    long taps = kMinTaps;
    while (taps < kMaxTaps && static_cast<double>(taps) < need) taps = taps * 2 + 1;
    return std::min(taps, kMaxTaps);
  }

  std::shared_ptr<const RateDesign> design_for(int rate_hz) const {
    return designs_.get(rate_hz, [&] {
      auto d = std::make_shared<RateDesign>();
      d->taps = taps_for(rate_hz);
      const auto n = static_cast<std::size_t>(d->taps);
      const int m = slope_db_ / 6;
      std::vector<std::vector<double>> lp;
      for (double fc : crossovers_) {
        lp.push_back(dsp::design_linear_phase_fir(
            [fc, m](double f) {
              double x = f / fc, p = 1.0;
              for (int i = 0; i < m; ++i) p *= x;
              return 1.0 / (1.0 + p);
            },
            rate_hz, d->taps));
      }
      const std::size_t centre = (n - 1) / 2;
      for (std::size_t k = 0; k <= lp.size(); ++k) {
        std::vector<double> h(n, 0.0);
        if (k < lp.size()) h = lp[k];
        if (k == lp.size()) h[centre] = 1.0;
        if (k > 0)
          for (std::size_t i = 0; i < n; ++i) h[i] -= lp[k - 1][i];
        d->fir.push_back(dsp::partition_fir(h));
        d->comp.push_back(dsp::compressor_design(bands_[k], rate_hz));
      }
      return d;
    });
  }

  std::string file_;
  std::string where_;
  int crossover_line_ = 0;
  std::vector<double> crossovers_;
  int slope_db_ = 24;
  bool rms_ = false;
  double rms_ms_ = 10.0;
  bool linked_ = true;
  std::vector<dsp::CompressorParams> bands_;
  PerRate<RateDesign> designs_;
};

}  // namespace

std::unique_ptr<Stage> make_multiband_stage(ProfileTable& table) { return std::make_unique<MultibandStage>(table); }

}  // namespace lathe::host
