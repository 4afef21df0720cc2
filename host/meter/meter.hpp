// The loudness meter and quality checks of one track (ITU-R BS.1770-4/-5, EBU R 128, EBU Tech 3341/3342):
// fed segment by segment in order, any segment sizes, then finished into a report. The per-sample work is
// kernels/meter.hpp (LATHE_HD, so that a device engine can run the same arithmetic); everything after it
// (gating, percentiles, logs) runs here on the host, in double, from the kernels' exact per-bin sums.
// See ../shared/standards/LOUDNESS.md and README "Metering" for every choice made here.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace lathe::host {
class Engine;
}

namespace lathe::host::meter {

class TrackMeter;

// The next segment of one track, for TrackMeter::add_many.
struct SegmentInput {
  TrackMeter* meter = nullptr;
  std::span<const float* const> planar;  // one pointer per channel
  std::int64_t frames = 0;
};

struct ChannelReport {
  double sample_peak = 0;              // largest |x| (linear)
  double true_peak = 0;                // largest |x| of the oversampled signal (linear)
  double dc_offset = 0;                // mean of the samples
  std::uint64_t clipped_runs = 0;      // runs of >= 3 consecutive samples at the same full-scale rail (|x| >= 1)
  std::uint64_t clipped_samples = 0;   // samples in those runs
  std::uint64_t intersample_overs = 0; // oversampled values above 1.0 (0 dBFS) between samples
  std::uint64_t nonfinite_samples = 0; // NaN/Inf samples (measured as 0)
};

struct TrackReport {
  int rate_hz = 0;
  int channels = 0;
  std::int64_t frames = 0;
  int oversampling = 0;                        // true-peak oversampling factor used at this rate
  // Loudness. nullopt = undefined: no block passes the gates (silence, shorter than 400 ms...): "below gate".
  std::optional<double> integrated_lufs;
  std::optional<double> momentary_max_lufs;    // max over the file of the 400 ms loudness, 10 ms grid
  std::optional<double> short_term_max_lufs;   // max of the 3 s loudness, 10 ms grid
  std::optional<double> lra_lu;                // EBU Tech 3342
  double sample_peak_dbfs = 0;                 // max over channels; -infinity for silence (JSON writes null)
  double true_peak_dbtp = 0;                   // max over channels; -infinity for silence
  std::vector<ChannelReport> per_channel;
  // Short-term loudness every `curve_step_s` seconds (nullopt where below -70 LUFS / undefined).
  double curve_step_s = 0.1;
  std::vector<std::optional<double>> short_term_curve;
  // Quality checks.
  std::optional<double> correlation;           // stereo: Pearson correlation of L and R over the file (-1 .. 1)
  std::optional<double> mono_loss_lu;          // stereo: integrated(L,R) - integrated((L+R)/2 on both channels)
  std::optional<double> balance_lu;            // stereo: integrated(L alone) - integrated(R alone)
  double leading_silence_s = 0;                // before the first sample above -60 dBFS on any channel
  double trailing_silence_s = 0;               // after the last one
  // For album measures (gating all tracks as one programme): the 400 ms gating-block powers (weighted sum of
  // mean squares, linear) and the 3 s short-term powers at 100 ms steps, both before any gate.
  std::vector<double> block_powers;
  std::vector<double> short_term_powers;
};

class TrackMeter {
 public:
  // `loudness_only`: skip the true-peak interpolation (its report fields stay at the sample peak); for callers
  // that only need loudness, such as the gain search of loudness targeting.
  TrackMeter(int rate_hz, int channels, bool loudness_only = false);
  ~TrackMeter();
  TrackMeter(TrackMeter&&) noexcept;
  TrackMeter& operator=(TrackMeter&&) noexcept;
  // The next `frames` frames, one pointer per channel.
  void add(std::span<const float* const> planar, std::int64_t frames);
  // Interleaved convenience.
  void add_interleaved(const float* interleaved, std::int64_t frames);
  // The next segment of many tracks (each meter at most once) in one Engine::meter call: the batch form, for a
  // device engine. Gives the same bits as add() on each meter.
  static void add_many(Engine& engine, std::span<const SegmentInput> inputs);
  TrackReport finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Album measures: all tracks' blocks gated as one programme.
std::optional<double> album_integrated_lufs(std::span<const TrackReport> tracks);
std::optional<double> album_lra_lu(std::span<const TrackReport> tracks);

// Loudness of a gated set of block powers (BS.1770 section 2): nullopt when nothing passes.
std::optional<double> gated_loudness(std::span<const double> block_powers);
// Loudness range of short-term powers (Tech 3342): nullopt when fewer than two values pass.
std::optional<double> loudness_range(std::span<const double> short_term_powers);

}  // namespace lathe::host::meter
