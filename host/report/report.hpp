// The machine-readable record of a run (--report FILE.json).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "host/master.hpp"

namespace lathe::host {

// Schema "lathe.report/1": {schema, version, engine, profile{name, source, delivery, targets}, summary{tracks,
// written, failed, audio_seconds, wall_seconds, times_real_time, stage_seconds{...}}, tracks[{input, output,
// status: "written"|"failed", engine, error, rate_hz, channels, frames, duration_s, content_key, input_peak_dbfs
// (null for digital silence), clipped_samples, metadata{...}}]}. The CLI adds summary.skipped, tracks with
// status "skipped", each manifest track's "manifest" object, and "shard".
nlohmann::json make_report(const MasterResult& result, const Profile& profile, OutputFormat format, SampleBits bits);

// The report as text: indented JSON, except that an array of numbers (and nulls) stays on one line, so that a
// track's curves take a few lines, not a thousand. Ends with a newline.
std::string report_text(const nlohmann::json& report);

// The report's tracks as CSV (RFC 4180, UTF-8, header row; `--report-csv`): one row per track with its status,
// error, format, input and output loudness, true peak, delivery gain and gain reduction. Empty cells where the
// JSON has null or nothing (a failed or skipped track).
std::string report_csv(const nlohmann::json& report);

// Joins the reports of the shards of one catalogue (`lathe report merge`): the tracks and albums of all, a track
// reported by several (a shard run again) taken from the last report that has it; the summary counted again from
// the tracks (written, skipped, failed, audio seconds), the stage seconds summed, the wall time as the longest
// shard's and as the sum; `shards` lists each report's file and shard; the profile is the first report's, and
// `profiles` names all when they differ. `files[i]` names reports[i] in errors. Throws InputError for a report
// that is not lathe.report/1.
nlohmann::json merge_reports(const std::vector<nlohmann::json>& reports, const std::vector<std::string>& files);

}  // namespace lathe::host
