// The record of a loudness and quality analysis (`lathe analyze`): quality flags, the JSON document (schema
// "lathe.analysis/1") and the CSV table. Pure functions of meter::TrackReport, so that `lathe master` can report
// the same fields for its inputs and outputs later.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "host/meter/meter.hpp"

namespace lathe::host {

// Thresholds of the quality flags (README "Analyze"). A flag is raised when a measure passes its threshold.
struct QualityThresholds {
  double dc_offset = 0.001;        // |mean| of any channel above this (linear; 0.001 = -60 dBFS)
  double correlation_below = 0.0;  // stereo: L/R correlation below this (out of phase)
  double mono_loss_lu = 3.0;       // stereo: fold-down to mono loses more than this
  double balance_lu = 1.5;         // stereo: |L - R| loudness beyond this
  double silence_s = 2.0;          // leading or trailing silence longer than this
};

// Short names of the quality problems found, in a fixed order: "clipped" (runs of >= 3 full-scale samples),
// "intersample-overs", "dc-offset", "out-of-phase", "mono-loss", "unbalanced", "leading-silence",
// "trailing-silence", "non-finite" (NaN/Inf samples). Empty when none.
std::vector<std::string> quality_flags(const meter::TrackReport& r, const QualityThresholds& t = {});

// One input of an analysis: its report when it could be read, else the reason it could not.
struct AnalysedTrack {
  std::string input;          // the path as found
  bool ok = false;
  std::string error;          // "what (what to do)" when !ok
  std::string container;      // "WAV", "FLAC"... when the file opened
  std::string encoding;       // "PCM 24-bit", "32-bit float"...
  meter::TrackReport report;  // valid when ok
};

struct AlbumMeasures {
  int tracks = 0;                         // tracks gated together (the analysed ones)
  std::optional<double> integrated_lufs;  // null: below gate
  std::optional<double> lra_lu;
};

struct AnalysisSummary {
  double audio_seconds = 0;  // of the analysed tracks
  double wall_seconds = 0;
};

// Schema "lathe.analysis/1" (README "Analyze"): {schema, version, summary{tracks, analysed, failed,
// audio_seconds, wall_seconds, times_real_time}, thresholds{...}, tracks[...], album{...} (only when `album` is
// given)}. Undefined loudness and -infinity levels are null; no value is ever NaN or infinite.
nlohmann::json make_analysis_json(const std::vector<AnalysedTrack>& tracks, const std::optional<AlbumMeasures>& album,
                                  const AnalysisSummary& summary, const QualityThresholds& thresholds = {});

// One track's JSON object (the elements of "tracks" above).
nlohmann::json analysis_track_json(const AnalysedTrack& track, const QualityThresholds& thresholds = {});

// CSV (RFC 4180, "\n" line ends): a header row, then one row per track with the scalar fields; text cells are
// always quoted, undefined values are empty cells.
std::string make_analysis_csv(const std::vector<AnalysedTrack>& tracks, const QualityThresholds& thresholds = {});

// 20 log10(x); -infinity for 0.
double linear_to_db(double x);

}  // namespace lathe::host
