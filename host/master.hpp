// Mastering a list of tracks with one profile on one engine: analysis, the profile's chain over batches of
// many tracks (each batch holds the next segment of every active track), dither and atomic encoding.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <map>
#include <memory>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "host/engine/engine.hpp"
#include "host/io/jobs.hpp"
#include "host/profile/profile.hpp"

namespace lathe::host {

// Where a track's samples come from and where its master goes. File tracks use libsndfile; tests use memory.
class TrackIo {
 public:
  virtual ~TrackIo() = default;
  virtual std::string name() const = 0;          // for messages: the input path
  virtual std::string output_name() const = 0;   // the output path, or empty
  // Album mode delivers the tracks with the same key together (one common gain): by default the input's folder;
  // a manifest's album column.
  virtual std::string album_key() const { return std::filesystem::path(name()).parent_path().string(); }
  // True when the output already exists (checked before analysis, so a rerun does not decode finished tracks).
  virtual bool output_exists() const { return false; }
  // Opens the input; throws InputError. Fills rate, channels, declared frames and metadata.
  virtual AudioInfo open_input() = 0;
  // Next `max_frames` frames as interleaved float; 0 at the end. Throws InputError.
  virtual std::int64_t read_interleaved(float* out, std::int64_t max_frames) = 0;
  // Back to the first frame (the chain pass re-reads what the analysis pass read).
  virtual void rewind() = 0;
  // Starts the output; throws OutputError.
  virtual void open_output(const WriterSpec& spec, bool overwrite) = 0;
  virtual void write_pcm(const std::vector<const std::int32_t*>& planar, std::int64_t frames) = 0;
  virtual void write_float(const std::vector<const float*>& planar, std::int64_t frames) = 0;
  // Makes the output appear whole; throws OutputError.
  virtual void commit() = 0;
  // Drops a partial output (no-op when none was started).
  virtual void abandon() = 0;
  // Album exports: a new output named `file_name` in this track's output folder (opened, written and committed
  // like a track's), and a text file beside it written atomically. Null / OutputError when the track has no
  // output folder. Both refuse to replace an existing file unless `overwrite`.
  virtual std::unique_ptr<TrackIo> sibling_output(const std::string& /*file_name*/) const { return nullptr; }
  virtual void write_sidecar(const std::string& file_name, const std::string& /*text*/, bool /*overwrite*/) {
    throw std::runtime_error("cannot write " + file_name + ": this track has no output folder");
  }
};

// A TrackIo that passes every call on to another track, which it does not own: the base of wrappers that
// change a few calls (host/master_multi.cpp, host/master_fallback.cpp).
class ForwardingTrack : public TrackIo {
 public:
  explicit ForwardingTrack(TrackIo& target) : target_(target) {}
  std::string name() const override { return target_.name(); }
  std::string output_name() const override { return target_.output_name(); }
  std::string album_key() const override { return target_.album_key(); }
  bool output_exists() const override { return target_.output_exists(); }
  AudioInfo open_input() override { return target_.open_input(); }
  std::int64_t read_interleaved(float* out, std::int64_t max_frames) override {
    return target_.read_interleaved(out, max_frames);
  }
  void rewind() override { target_.rewind(); }
  void open_output(const WriterSpec& spec, bool overwrite) override { target_.open_output(spec, overwrite); }
  void write_pcm(const std::vector<const std::int32_t*>& planar, std::int64_t frames) override {
    target_.write_pcm(planar, frames);
  }
  void write_float(const std::vector<const float*>& planar, std::int64_t frames) override {
    target_.write_float(planar, frames);
  }
  void commit() override { target_.commit(); }
  void abandon() override { target_.abandon(); }
  std::unique_ptr<TrackIo> sibling_output(const std::string& file_name) const override {
    return target_.sibling_output(file_name);
  }
  void write_sidecar(const std::string& file_name, const std::string& text, bool overwrite) override {
    target_.write_sidecar(file_name, text, overwrite);
  }

 protected:
  TrackIo& target_;
};

std::unique_ptr<TrackIo> make_file_track(const Job& job);

struct MasterOptions {
  bool overwrite = false;
  std::optional<OutputFormat> format;  // overrides the profile's delivery
  std::optional<SampleBits> bits;      // overrides the profile's delivery
  // Frames per channel read, processed and written at a time: bounds memory per track whatever its length.
  // Results never depend on it (tests check).
  std::int64_t segment_frames = std::int64_t{1} << 16;
  // Tracks processed side by side in one batch.
  int batch_tracks = 32;
  // At most this many samples (frames x channels of the tracks' segments) in one batch, 0 for no limit: a device
  // engine's memory budget (--gpu-memory) becomes this, so that batches shrink instead of failing. A batch
  // always holds at least one track. Results never depend on it (tests check).
  std::int64_t max_batch_samples = 0;
  // Whole-track delivery (targeting, the limiter, rate conversion) of a track whose working set would exceed
  // this many bytes (about 36 bytes per delivered sample) keeps the track in a temporary file and streams each
  // pass from it (host/delivery/sample_store.hpp): the same bits, bounded memory. Album mode holds an album in
  // memory whatever this says.
  std::int64_t track_memory_bytes = std::int64_t{1} << 30;
  // Album mode (also the profile's [targets] album = true): the tracks of one input folder get one common gain.
  bool album = false;
  // Keep each track's curves for the report (TrackReport::curves; --report-html, --report-curves): the input's
  // and output's short-term loudness and long-term spectrum, and the limiter's gain reduction. Costs one
  // spectrum analysis of the input and of the output, and a few kilobytes per track.
  bool curves = false;
};

// What the meter (host/meter) read of a track's input or output.
struct LoudnessSummary {
  std::optional<double> integrated_lufs;       // nullopt: below gate (silence, shorter than 400 ms)
  std::optional<double> lra_lu;
  std::optional<double> short_term_max_lufs;
  double true_peak_dbtp = -std::numeric_limits<double>::infinity();
  double sample_peak_dbfs = -std::numeric_limits<double>::infinity();
  std::optional<double> correlation;           // stereo: L/R correlation over the track (-1 .. 1)
};

// What the delivery pass did to a track (host/delivery): conversion, targeting, limiting.
struct DeliveryReport {
  bool whole_track = false;            // the track went through the delivery pass
  int rate_hz = 0;                     // delivered rate
  std::int64_t frames = 0;             // delivered frames
  std::optional<double> target_lufs;   // the profile's target, when it has one
  double gain_db = 0;                  // applied before the limiter (album mode: the album's common gain)
  bool album = false;                  // the gain is the album's
  std::optional<double> album_lufs;    // album mode: the album's integrated loudness as delivered
  bool limited = false;                // a limiter ran
  double max_gain_reduction_db = 0;
  double mean_gain_reduction_db = 0;   // over the frames the limiter reduced
  double seconds_above_1db = 0;        // time with more than 1 dB of reduction
  bool target_reached = true;          // true also when there is no target
  std::string not_reached;             // why not
  double ceiling_correction_db = 0;    // how far the ceiling was lowered to remove a true-peak residue
  int passes = 0;                      // limiter + meter passes of the gain search
};

namespace meter {
struct TrackReport;
}
// The summary of a meter report kept per track.
LoudnessSummary summarise(const meter::TrackReport& m);

// What a `match` stage did to a track: the reference and the applied EQ curve, in dB at the 1/3-octave
// centres from 31.5 Hz to 16 kHz.
struct MatchReport {
  std::string reference;
  std::vector<std::pair<double, double>> curve_db;  // (Hz, dB)
};

// A track's curves for plots (host/report/curves.hpp makes them): at most kCurvePoints points each, so that a
// report of many tracks stays small. NaN marks an undefined point (loudness below the gate, an empty band).
struct TrackCurves {
  double loudness_step_s = 0;              // seconds between the points of both loudness curves
  std::vector<float> short_term_in_lufs;   // the input's short-term (3 s) loudness
  std::vector<float> short_term_out_lufs;  // the delivered output's
  double gain_reduction_step_s = 0;
  std::vector<float> gain_reduction_db;    // the limiter's largest reduction in each step (>= 0); empty: no limiter
  std::vector<float> spectrum_hz;          // band centres (1/6 octave from 20 Hz to 20 kHz or the Nyquist frequency)
  std::vector<float> spectrum_in_db;       // long-term average spectrum, dB relative to full scale, per band
  std::vector<float> spectrum_out_db;
};

struct TrackReport {
  std::string input;
  std::string output;
  bool ok = false;
  std::string error;          // "what (what to do)" when !ok
  int rate_hz = 0;
  int channels = 0;
  std::int64_t frames = 0;
  double duration_s = 0;
  std::string content_key;    // hex of the 64-bit content hash that keys the dither noise
  double input_peak_dbfs = -std::numeric_limits<double>::infinity();
  std::uint64_t clipped_samples = 0;  // clamped at quantisation (after the chain)
  LoudnessSummary input_loudness;     // measured in the analysis pass
  LoudnessSummary output_loudness;    // measured on the delivered samples (after dither and quantisation)
  DeliveryReport delivery;
  Metadata metadata;
  std::optional<MatchReport> match;   // set when a match stage ran over the track
  std::string engine;                 // the engine that mastered it (after a GPU error: the fallback's)
  std::optional<TrackCurves> curves;  // when MasterOptions::curves
  // When the track's work began (its analysis) and when it ended (its output committed, or the failure), on the
  // clock of MasterResult::started_at; unset (epoch) for a track never started. Tracks overlap in batches, so the
  // difference is the track's time in the pipeline, not the CPU time spent on it.
  std::chrono::steady_clock::time_point started_at{}, finished_at{};
};

// An album written as one file (album mode with album_file = true).
struct AlbumReport {
  std::string output;           // the album file
  std::string cue;              // its CUE sheet
  int tracks = 0;
  int rate_hz = 0;
  std::int64_t frames = 0;
  LoudnessSummary loudness;     // of the album file as delivered
  std::string error;            // set when the album file could not be made (the tracks are still written)
};

struct MasterResult {
  std::chrono::steady_clock::time_point started_at{};  // the run's start: the origin of the tracks' times
  std::vector<TrackReport> tracks;
  std::vector<AlbumReport> albums;
  std::string engine;
  std::map<std::string, double> stage_seconds;  // per stage type, plus "decode", "analysis", "encode"
  double wall_seconds = 0;
  double audio_seconds = 0;                     // of the tracks that were written
  int failed() const;
};

// Masters every track; a failing track is reported and the others go on. Progress, when given, is called from
// the calling thread after each track ends.
MasterResult master_tracks(std::vector<std::unique_ptr<TrackIo>>& tracks, const Profile& profile, Engine& engine,
                           const MasterOptions& options,
                           const std::function<void(const TrackReport&)>& on_track_done = {});

// The same over several engines of one kind (the GPUs of a machine, `--gpus`): runs of options.batch_tracks
// consecutive tracks (in album mode, each album whole) go to whichever engine is free, each engine working from
// its own thread; one engine is master_tracks itself. A track's bits do not depend on the engine or the run it
// lands in (tests/host/test_chain_determinism.cpp). on_track_done is called from the calling thread, in the
// order the tracks end. An exception from any run stops the others after their current run and propagates.
MasterResult master_tracks(std::vector<std::unique_ptr<TrackIo>>& tracks, const Profile& profile,
                           std::span<Engine* const> engines, const MasterOptions& options,
                           const std::function<void(const TrackReport&)>& on_track_done = {});

// "1:02.345" for a time in seconds (messages about positions in a track).
std::string format_time(double seconds);

}  // namespace lathe::host
