// The match stage. Once, when the profile is parsed: the reference is decoded, its long-term average spectrum
// (host/dsp/ltas) measured at its own rate and smoothed in fractional octaves on a fixed log-frequency grid,
// and its integrated loudness measured (host/meter). Per track (start_track): the track's input spectrum from
// the analysis pass is smoothed on the same grid (frequencies in Hz, so the two rates need not agree), the
// difference reference - track is taken in dB, its mean over 100 Hz .. 10 kHz removed (the curve matches shape,
// not level), scaled by amount_pct, limited to max_boost_db / max_cut_db and tapered to exactly 0 dB at and
// outside low_hz .. high_hz. That curve is designed into a symmetric FIR (dsp::design_linear_phase_fir), rounded
// to float once, partitioned and run like the eq stage's: latency (taps - 1) / 2, blocks of the partition.
// FIR length: the smallest 2^k - 1 (at least 255) with taps >= 4 * rate / low_hz, at most 2^16 - 1 (8191 taps
// at 44.1/48 kHz with low_hz = 30; 32767 at 192 kHz). A curve that is exactly 0 dB everywhere (amount_pct = 0,
// the reference itself) runs no filter at all, so the output keeps the input's bits.
#include "host/stages/match_stage.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numbers>
#include <string>
#include <vector>

#include "host/dsp/convolution.hpp"
#include "host/dsp/eq_design.hpp"
#include "host/dsp/ltas.hpp"
#include "host/errors.hpp"
#include "host/io/audio_reader.hpp"
#include "host/master.hpp"
#include "host/meter/meter.hpp"
#include "host/profile/profile_table.hpp"

namespace lathe::host {
namespace {

constexpr double kGridLowHz = 10.0;       // the log-frequency grid of the curve: 10 Hz * 2^(i / 48)
constexpr double kGridPerOctave = 48.0;
constexpr double kGridHighHz = 200000.0;
constexpr double kLevelLowHz = 100.0;     // the level difference removed: mean dB difference over this band
constexpr double kLevelHighHz = 10000.0;
constexpr double kTaperOct = 1.0 / 3.0;   // raised-cosine taper inside low_hz .. high_hz
constexpr double kNoBoostBelowDb = 90.0;  // no boost where the track is this far below its loudest band
constexpr double kPowerFloor = 1e-30;
constexpr long kMinTaps = 255;
constexpr long kMaxTaps = (1L << 16) - 1;

// Nominal 1/3-octave centres reported (IEC 61260), 31.5 Hz .. 16 kHz.
constexpr double kThirdOctaves[] = {31.5, 40,   50,   63,   80,   100,  125,  160,  200,   250,
                                    315,  400,  500,  630,  800,  1000, 1250, 1600, 2000,  2500,
                                    3150, 4000, 5000, 6300, 8000, 10000, 12500, 16000};

std::vector<double> grid_hz() {
  std::vector<double> f;
  for (int i = 0;; ++i) {
    const double v = kGridLowHz * std::exp2(static_cast<double>(i) / kGridPerOctave);
    if (v > kGridHighHz) break;
    f.push_back(v);
  }
  return f;
}

// The spectrum smoothed in `oct`-octave bands around each grid frequency, in dB (power averaged in the band).
std::vector<double> smoothed_db(const dsp::Ltas& s, const std::vector<double>& grid, double oct) {
  std::vector<double> out(grid.size());
  const double half = std::exp2(oct / 2.0);
  for (std::size_t i = 0; i < grid.size(); ++i)
    out[i] = 10.0 * std::log10(s.band_power(grid[i] / half, grid[i] * half) + kPowerFloor);
  return out;
}

// The curve (dB on the grid) at any frequency: linear in log2(f) between grid points; 0 outside the grid.
double curve_at(const std::vector<double>& grid, const std::vector<double>& db, double f) {
  if (!(f >= grid.front()) || f >= grid.back()) return 0.0;
  const double x = std::log2(f / kGridLowHz) * kGridPerOctave;
  const auto k = std::min(static_cast<std::size_t>(x), grid.size() - 2);
  const double t = x - static_cast<double>(k);
  if (db[k] == 0.0 && db[k + 1] == 0.0) return 0.0;
  return db[k] + t * (db[k + 1] - db[k]);
}

struct MatchTrackState final : StageState {
  std::shared_ptr<const dsp::PartitionedFir> fir;
  std::vector<std::vector<float>> history;
  std::vector<std::pair<double, double>> curve_db;  // at kThirdOctaves
};

class MatchStage final : public Stage {
 public:
  explicit MatchStage(ProfileTable& t) : file_(t.file()), where_(t.where()) {
    if (!t.has("reference"))
      t.fail("reference", "missing: give the path of the reference track (reference = \"ref.wav\")");
    reference_ = t.text("reference", "");
    if (reference_.empty()) t.fail("reference", "must be the path of the reference track");
    smoothing_oct_ = t.number("smoothing_oct", 1.0 / 24.0, 2.0, 1.0 / 3.0, "octaves");
    max_boost_db_ = t.number("max_boost_db", 0.0, 12.0, 6.0, "dB");
    max_cut_db_ = t.number("max_cut_db", 0.0, 12.0, 6.0, "dB");
    amount_pct_ = t.number("amount_pct", 0.0, 100.0, 100.0, "%");
    low_hz_ = t.number("low_hz", 10.0, 1000.0, 30.0, "Hz");
    high_hz_ = t.number("high_hz", 1000.0, 96000.0, 16000.0, "Hz");
    if (high_hz_ < 4.0 * low_hz_) t.fail("high_hz", "must be at least 2 octaves above low_hz");
    loudness_ = t.choice("loudness", {"keep", "reference"}, "keep");
    measure_reference(t);
  }

  std::string type() const override { return "match"; }
  bool wants_input_spectrum() const override { return true; }

  std::optional<double> reference_loudness() const {
    if (loudness_ == "reference") return reference_lufs_;
    return std::nullopt;
  }

  TrackPlan start_track(const TrackShape& shape) const override {
    if (!shape.input_spectrum)
      throw Error("match: the track's input spectrum was not measured (internal error)");
    auto state = std::make_unique<MatchTrackState>();
    const double rate = shape.rate_hz;
    const std::vector<double> curve = track_curve(*shape.input_spectrum, rate);
    for (double f : kThirdOctaves) state->curve_db.emplace_back(f, curve_at(grid_, curve, f));
    TrackPlan plan;
    if (std::all_of(curve.begin(), curve.end(), [](double v) { return v == 0.0; })) {
      // Exactly flat (amount_pct = 0, the reference itself, a silent track): nothing to filter, and the
      // output keeps the input's bits.
      plan.state = std::move(state);
      return plan;
    }
    long taps = 1;
    while (taps < kMinTaps || static_cast<double>(taps) < 4.0 * rate / low_hz_) taps = 2 * taps + 1;
    taps = std::min(taps, kMaxTaps);
    const std::vector<double> h = dsp::design_linear_phase_fir(
        [&](double f) {
          const double db = curve_at(grid_, curve, f);
          return db == 0.0 ? 1.0 : std::pow(10.0, db / 20.0);
        },
        rate, taps);
    state->fir = dsp::partition_fir(h);
    state->history.assign(static_cast<std::size_t>(shape.channels),
                          std::vector<float>(static_cast<std::size_t>(state->fir->state_floats()), 0.0f));
    plan.latency_frames = (taps - 1) / 2;
    plan.block_frames = state->fir->block;
    plan.state = std::move(state);
    return plan;
  }

  void process(Engine& engine, BlockBatch& batch, std::span<StageState* const> states) const override {
    std::vector<ConvolveJob> jobs(batch.blocks.size());
    for (std::size_t b = 0; b < batch.blocks.size(); ++b) {
      const kernels::Block& blk = batch.blocks[b];
      auto* st = static_cast<MatchTrackState*>(states[blk.slot]);
      if (st == nullptr || !st->fir) continue;
      jobs[b] = ConvolveJob{st->fir.get(), st->history[blk.channel].data()};
    }
    engine.convolve(jobs);
  }

  void report_track(const StageState* state, TrackReport& report) const override {
    const auto* st = dynamic_cast<const MatchTrackState*>(state);
    if (st == nullptr) return;
    report.match = MatchReport{reference_path_, st->curve_db};
  }

  void describe(toml::table& out) const override {
    out.insert_or_assign("reference", reference_);
    out.insert_or_assign("smoothing_oct", smoothing_oct_);
    out.insert_or_assign("max_boost_db", max_boost_db_);
    out.insert_or_assign("max_cut_db", max_cut_db_);
    out.insert_or_assign("amount_pct", amount_pct_);
    out.insert_or_assign("low_hz", low_hz_);
    out.insert_or_assign("high_hz", high_hz_);
    out.insert_or_assign("loudness", loudness_);
  }

 private:
  // Decodes the reference: its LTAS (smoothed on the grid) and its integrated loudness.
  void measure_reference(ProfileTable& t) {
    const std::filesystem::path path(t.path_in_profile(reference_));
    reference_path_ = path.string();
    const std::string key = "reference = \"" + reference_ + "\"";
    auto fail = [&](const std::string& problem, const std::string& hint) {
      throw ProfileError(file_ + ":" + std::to_string(t.line_of("reference")) + ": " + where_ + ": " + key + ": " +
                             problem,
                         hint);
    };
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
      fail("no such file: " + reference_path_, "give the path of an audio file (relative paths are read from the "
                                               "profile's folder)");
    try {
      AudioReader reader(path);
      const AudioInfo& info = reader.info();
      dsp::LtasAccumulator ltas(info.rate_hz, info.channels);
      meter::TrackMeter m(info.rate_hz, info.channels, /*loudness_only=*/true);
      const std::int64_t seg = 1 << 16;
      std::vector<float> buf(static_cast<std::size_t>(seg) * static_cast<std::size_t>(info.channels));
      std::int64_t frames = 0;
      for (;;) {
        const std::int64_t got = reader.read_interleaved(buf.data(), seg);
        if (got <= 0) break;
        for (std::size_t i = 0; i < static_cast<std::size_t>(got) * static_cast<std::size_t>(info.channels); ++i)
          if (!std::isfinite(buf[i])) fail("the reference holds non-finite samples", "repair or re-export it");
        ltas.add_interleaved(buf.data(), got);
        m.add_interleaved(buf.data(), got);
        frames += got;
      }
      const meter::TrackReport r = m.finish();
      if (frames == 0 || !r.integrated_lufs)
        fail("the reference is silent (no audio above the -70 LUFS gate)",
             "choose a reference track with programme material");
      reference_lufs_ = *r.integrated_lufs;
      reference_rate_ = info.rate_hz;
      grid_ = grid_hz();
      reference_db_ = smoothed_db(ltas.finish(), grid_, smoothing_oct_);
    } catch (const ProfileError&) {
      throw;
    } catch (const Error& e) {
      fail("cannot read " + reference_path_ + ": " + e.what(), e.hint());
    }
  }

  // The applied curve in dB on grid_ for a track with input spectrum `s` at `rate`.
  std::vector<double> track_curve(const dsp::Ltas& s, double rate) const {
    std::vector<double> curve(grid_.size(), 0.0);
    const double top = 0.45 * std::min(rate, reference_rate_);  // both spectra hold audio below this
    const double lo = low_hz_, hi = std::min(high_hz_, top);
    if (!(hi > lo * std::exp2(2.0 * kTaperOct))) return curve;
    const std::vector<double> track_db = smoothed_db(s, grid_, smoothing_oct_);
    // The level difference: the mean dB difference over 100 Hz .. 10 kHz (equal weight per grid point, that is
    // per fraction of an octave).
    double sum = 0, loudest = -1e300;
    int count = 0;
    for (std::size_t i = 0; i < grid_.size(); ++i) {
      if (grid_[i] >= lo && grid_[i] <= hi) loudest = std::max(loudest, track_db[i]);
      if (grid_[i] < kLevelLowHz || grid_[i] > std::min(kLevelHighHz, top)) continue;
      sum += reference_db_[i] - track_db[i];
      ++count;
    }
    // A silent track (nothing to compare) gets a flat curve.
    if (count == 0 || !(loudest > 10.0 * std::log10(kPowerFloor) + 1.0)) return curve;
    const double offset = sum / count;
    const double amount = amount_pct_ / 100.0;
    const double lo_end = lo * std::exp2(kTaperOct), hi_start = hi / std::exp2(kTaperOct);
    for (std::size_t i = 0; i < grid_.size(); ++i) {
      const double f = grid_[i];
      if (f <= lo || f >= hi) continue;
      double w = 1.0;
      if (f < lo_end) w = 0.5 - 0.5 * std::cos(std::numbers::pi * std::log2(f / lo) / kTaperOct);
      if (f > hi_start) w = 0.5 - 0.5 * std::cos(std::numbers::pi * std::log2(hi / f) / kTaperOct);
      double d = amount * (reference_db_[i] - track_db[i] - offset);
      // Never boost what the track (next to) does not hold: its noise floor or an empty band.
      if (track_db[i] < loudest - kNoBoostBelowDb) d = std::min(d, 0.0);
      d = std::clamp(d, -max_cut_db_, max_boost_db_);
      curve[i] = d * w;
    }
    return curve;
  }

  std::string file_;
  std::string where_;
  std::string reference_;
  std::string reference_path_;
  double smoothing_oct_ = 1.0 / 3.0;
  double max_boost_db_ = 6.0;
  double max_cut_db_ = 6.0;
  double amount_pct_ = 100.0;
  double low_hz_ = 30.0;
  double high_hz_ = 16000.0;
  std::string loudness_ = "keep";
  double reference_lufs_ = 0;
  double reference_rate_ = 0;
  std::vector<double> grid_;
  std::vector<double> reference_db_;
};

}  // namespace

std::unique_ptr<Stage> make_match_stage(ProfileTable& table) { return std::make_unique<MatchStage>(table); }

std::optional<double> match_reference_loudness(const Stage& stage) {
  const auto* m = dynamic_cast<const MatchStage*>(&stage);
  return m ? m->reference_loudness() : std::nullopt;
}

}  // namespace lathe::host
