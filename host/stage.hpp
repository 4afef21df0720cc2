// A processing step of the chain. Configured once from its profile table (validated there), then run over
// batches by any engine. Per-sample work goes through Engine operations, so a stage never knows which engine
// runs it (DESIGN.md section 1).
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "host/engine/batch.hpp"
#include "host/engine/engine.hpp"

namespace lathe::host {

class ProfileTable;
struct TrackReport;
namespace dsp {
struct Ltas;
}

// What a stage needs to know of a track before its first segment.
struct TrackShape {
  int rate_hz = 0;
  int channels = 0;
  std::vector<double> dc_offset;  // per channel: the mean of the track's samples (analysis pass); may be empty
  std::int64_t frames = 0;        // the track's length
  // Where the track's audio sits in this stage's input stream: after the latency of the stages before it, and
  // followed by their tails.
  std::int64_t latency_before = 0;
  std::int64_t tail_before = 0;
  // The long-term average spectrum of the track's INPUT (before the chain), measured by the analysis pass
  // (host/dsp/ltas.hpp); set only when a stage of the profile asks for it (Stage::wants_input_spectrum).
  std::shared_ptr<const dsp::Ltas> input_spectrum;
};

// Per-track state a stage carries from one segment of a track to the next (filter history, envelopes). Owned
// by the scheduler, which hands each batch slot's state back to the stage that made it.
class StageState {
 public:
  virtual ~StageState() = default;
};

// How a stage will treat one track: made once when the track is admitted.
struct TrackPlan {
  std::unique_ptr<StageState> state;  // null for stateless stages
  // Samples by which the stage's output lags its input (a linear-phase FIR's half length). The scheduler feeds
  // this many extra zero samples after the track's end and drops as many from the start of the chain's output,
  // so output sample n stays aligned with input sample n and the length is unchanged.
  std::int64_t latency_frames = 0;
  // Every segment of the track but the last must be a multiple of this many frames (block convolution keeps
  // its blocks on a fixed grid, which is what makes segmented and whole processing give the same bits).
  std::int64_t block_frames = 1;
  // Frames the stage adds after the end of the track (a reverb's tail): the scheduler feeds this many more zero
  // frames and keeps what comes out, so the output is longer than the input by the sum over the stages.
  std::int64_t tail_frames = 0;
};

class Stage {
 public:
  virtual ~Stage() = default;
  // The profile's `type` ("gain", "dither", "eq").
  virtual std::string type() const = 0;
  // Called once per track before its first segment, from any thread (must be thread-safe): prepares what the
  // stage needs at this rate (designed once per rate and cached) and returns the track's plan. Throws Error
  // when the stage cannot process such a track (the track fails, the batch goes on).
  virtual TrackPlan start_track(const TrackShape& /*shape*/) const { return {}; }
  // Runs over every block of a batch already loaded into `engine`. `state[slot]` is the state start_track made
  // for the track in that slot (null for stateless stages). No exception for signal content.
  virtual void process(Engine& engine, BlockBatch& batch, std::span<StageState* const> state) const = 0;
  // Writes the stage's parameters back as TOML (for `lathe profiles --show` and reports).
  virtual void describe(toml::table& out) const = 0;
  // True when start_track needs TrackShape::input_spectrum (the analysis pass then measures it).
  virtual bool wants_input_spectrum() const { return false; }
  // Called once when a track has been through the chain, with the state start_track made for it (null for
  // stateless stages): adds what the stage has to say about the track to its report. Default: nothing.
  virtual void report_track(const StageState* /*state*/, TrackReport& /*report*/) const {}
};

// Makes the stage of `type` from its table; throws ProfileError for unknown types, unknown keys and values
// out of range.
std::unique_ptr<Stage> make_stage(const std::string& type, ProfileTable& table);
// The stage types this build knows, for messages.
std::string known_stage_types();

}  // namespace lathe::host
