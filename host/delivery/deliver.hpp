// The delivery pass: what happens to a track once the streamed chain has produced all of it (its "premaster",
// float, at the source rate). In order: sample-rate conversion to the delivery rate, loudness targeting around
// the true-peak limiter (an album's tracks share one gain), dither and quantisation (the profile's last stage,
// through the engine), a check of the delivered words with lathe's meter (a true peak above the ceiling is
// corrected by limiting again with a lower ceiling, never shipped), then the atomic write.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "host/delivery/sample_store.hpp"
#include "host/delivery/targeting.hpp"
#include "host/engine/engine.hpp"
#include "host/master.hpp"
#include "host/profile/profile.hpp"
#include "host/stage.hpp"

namespace lathe::host {

struct DeliverySettings {
  OutputFormat format = OutputFormat::kWav;
  SampleBits bits = SampleBits::k24;
  bool overwrite = false;
  std::optional<int> rate_hz;              // none: keep the source rate
  TargetPlan plan;                         // target, caps and the limiter (none: no limiter)
  std::optional<double> ceiling_dbtp;      // the limiter's ceiling, checked on the delivered words
  std::vector<const Stage*> post;          // the stages after the limiter (dither), run through the engine
  std::int64_t segment_frames = std::int64_t{1} << 16;  // frames written at a time
  AlbumSequencing sequencing;              // album mode: fades, the album file, CD frames
  bool curves = false;                     // add the output's curves to reports that have TrackReport::curves
};

struct DeliveryJob {
  TrackIo* io = nullptr;
  TrackReport* report = nullptr;
  PlanarAudio premaster;   // consumed
  // A long track's premaster, on disk instead of in `premaster` (see SampleStore): delivered in segments with
  // the same bits. Not used in album mode, which holds an album's tracks in memory.
  std::unique_ptr<SampleStore> stored;
  int rate_hz = 0;
  std::uint64_t key = 0;   // the track's content key (dither noise)
  Metadata metadata;
  std::string error;       // set when the track fails
};

// Delivers `jobs` (one track, or the tracks of one album when `album`). Each job's report is filled in; a failing
// track gets `error` and the others go on. Stage times are added to `seconds`.
// In album mode with sequencing.album_file, the album file is reported in `albums`.
void deliver(std::span<DeliveryJob> jobs, bool album, const DeliverySettings& settings, Engine& engine,
             std::map<std::string, double>& seconds, std::vector<AlbumReport>* albums = nullptr);

}  // namespace lathe::host
