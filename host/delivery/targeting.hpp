// Loudness targeting: the gain before the true-peak limiter is searched until the limited track's integrated
// loudness is on target (the limiter lowers loudness, so the first guess is never exact), within a cap on gain
// (quiet material) and a cap on gain reduction (never crush a track silently: stop there and say so).
//
// Works on a whole track in memory (planar float at the delivery rate). The meter runs through the engine
// (Engine::meter); the limiter is host/dsp/limiter.hpp (kernels/limiter.hpp on the CPU). Everything is
// deterministic: the same input gives the same gain, the same bits.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "host/dsp/limiter.hpp"
#include "host/engine/engine.hpp"

namespace lathe::host {

using PlanarAudio = std::vector<std::vector<float>>;

struct TargetPlan {
  std::optional<double> integrated_lufs;      // none: no loudness target (the limiter alone, at gain 0 dB)
  double tolerance_lu = 0.1;                  // the profile's promise; the search aims at a fifth of it, at most 0.02
  double max_gain_db = 20.0;                  // quiet material: never more gain than this
  double max_gain_reduction_db = 6.0;         // never more limiting than this to reach a target
  std::optional<dsp::LimiterParams> limiter;  // none: gain only
};

struct TargetOutcome {
  double gain_db = 0;                 // applied before the limiter
  std::optional<double> integrated_lufs;  // of the limited result (float, before dither)
  bool target_reached = true;         // true also when there is no target
  std::string not_reached;            // why, when !target_reached
  dsp::LimiterResult limiter;         // gain-reduction statistics of the chosen pass
  int passes = 0;                     // limiter + meter passes the search took
};

// Integrated loudness of planar audio through `engine` (nullopt: below gate).
std::optional<double> integrated_loudness(Engine& engine, const PlanarAudio& audio, int rate_hz);

// Searches the gain (or uses `fixed_gain_db`, album mode: the album's common gain, capped the same way) and
// writes the limited track to `out`. `premaster` is left unchanged. `ceiling_offset_db` lowers the limiter's
// ceiling (the residue correction after quantisation). `first_guess_db`, when given, starts the search there
// instead of at the target minus the premaster's loudness (a correction starts from the gain it corrects).
TargetOutcome target_track(const PlanarAudio& premaster, int rate_hz, const TargetPlan& plan, Engine& engine,
                           PlanarAudio& out, std::optional<double> fixed_gain_db = std::nullopt,
                           double ceiling_offset_db = 0.0, std::optional<double> first_guess_db = std::nullopt);

// The search itself, for callers that render passes their own way (the segmented delivery of long tracks streams
// each pass from disk). `evaluate(g)` runs one pass at gain g and returns its loudness and limiter statistics;
// `keep_last()` is called right after the pass that becomes the outcome (the caller keeps its output, or notes
// that the outcome's gain must be rendered again); `premaster_loudness()` is called once, only when a search
// runs. target_track is this search over a track in memory.
using GainEvaluator = std::function<std::pair<std::optional<double>, dsp::LimiterResult>(double)>;
TargetOutcome search_gain(const TargetPlan& plan, const std::function<std::optional<double>()>& premaster_loudness,
                          const GainEvaluator& evaluate, const std::function<void()>& keep_last,
                          std::optional<double> fixed_gain_db = std::nullopt,
                          std::optional<double> first_guess_db = std::nullopt);

}  // namespace lathe::host
