// The machine-readable record of a run (--report FILE.json).
#pragma once

#include <nlohmann/json.hpp>

#include "host/master.hpp"

namespace lathe::host {

// Schema "lathe.report/1": {schema, version, engine, profile{name, source, delivery, targets}, summary{tracks,
// written, failed, audio_seconds, wall_seconds, times_real_time, stage_seconds{...}}, tracks[{input, output,
// status: "written"|"failed", error, rate_hz, channels, frames, duration_s, content_key, input_peak_dbfs
// (null for digital silence), clipped_samples, metadata{...}}]}.
nlohmann::json make_report(const MasterResult& result, const Profile& profile, OutputFormat format, SampleBits bits);

}  // namespace lathe::host
