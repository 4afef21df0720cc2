// Profiles: a TOML file that says how to master (README "Profiles"). Built-in ones are embedded in the binary;
// a path loads a user's file.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host/engine/batch.hpp"
#include "host/io/audio_writer.hpp"
#include "host/stage.hpp"

namespace lathe::host {

struct Delivery {
  OutputFormat format = OutputFormat::kWav;
  SampleBits bits = SampleBits::k24;
  // Output sample rate; nullopt = "keep" the input's rate. Otherwise tracks at another rate are converted
  // (host/dsp/resample_design.hpp) after the streamed chain and before loudness targeting and the limiter.
  std::optional<int> sample_rate_hz;
};

// Loudness targets (README "Loudness targeting"): the pre-limiter gain is searched until the output's integrated
// loudness is within tolerance_lu of integrated_lufs, with at most max_gain_db of gain and at most
// max_gain_reduction_db of limiting; album = true gives the tracks of one folder one common gain.
struct Targets {
  std::optional<double> integrated_lufs;
  bool integrated_from_reference = false;  // set by a match stage's loudness = "reference" (not written back)
  std::optional<double> ceiling_dbtp;
  double tolerance_lu = 0.1;
  double max_gain_db = 20.0;
  double max_gain_reduction_db = 6.0;
  bool album = false;
};

// Album sequencing (album mode only; README "Album sequencing"): fades on every track, and optionally the whole
// album as one file with gaps or crossfades between tracks and a CUE sheet.
struct AlbumSequencing {
  double gap_s = 2.0;                // silence between tracks in the album file
  double fade_in_s = 0.0;            // applied to every track (before targeting)
  double fade_out_s = 0.0;
  double crossfade_s = 0.0;          // album file: overlap between consecutive tracks (then no gap)
  bool album_file = false;           // also write <album folder>.<ext> and <album folder>.cue
  std::optional<bool> cd_frames;     // none = auto: on when delivering 44.1 kHz 16-bit
};

struct Profile {
  std::string name;
  std::string description;
  std::string source;  // "built-in" or the file's path
  Delivery delivery;
  Targets targets;
  AlbumSequencing album;
  // The ordered chain; the last stage is always "dither" (added with its defaults when the file has none). A
  // "limiter" stage, when present, is the one before dither (one is added when [targets] asks for loudness or a
  // ceiling and the file has none).
  std::vector<std::shared_ptr<const Stage>> stages;

  // True when tracks go through the delivery pass (resampling, loudness targeting or limiting on whole tracks)
  // rather than streaming straight from the chain to the file.
  bool whole_track_delivery() const;
  // Index of the first stage of the delivery part: the limiter, else dither (the last stage).
  std::size_t delivery_stage_index() const;

  // The profile as TOML text, with every default filled in.
  std::string to_toml() const;
};

// Parses profile text; `source` names it in errors. Throws ProfileError.
Profile parse_profile(const std::string& text, const std::string& source);
// A built-in name (see builtin_profiles()) or a path to a .toml file. Throws ProfileError.
Profile load_profile(const std::string& name_or_path);

// Per-track overrides (a manifest's target_lufs, ceiling_dbtp and trim_db columns, docs/manifest.md).
struct ProfileOverrides {
  std::optional<double> target_lufs;   // [targets] integrated_lufs
  std::optional<double> ceiling_dbtp;  // [targets] ceiling_dbtp, and every limiter stage's ceiling
  std::optional<double> trim_db;       // a gain stage at the head of the chain
};
// `base` with the overrides applied and checked like a profile file's values (`where` names them in errors).
// Throws ProfileError.
Profile profile_with_overrides(const Profile& base, const ProfileOverrides& overrides, const std::string& where);

}  // namespace lathe::host
