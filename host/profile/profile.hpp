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
  // Output sample rate; nullopt = "keep" the input's rate (the only choice until sample-rate conversion lands).
  std::optional<int> sample_rate_hz;
};

// Loudness targets. Parsed and validated now, enforced by the loudness-targeting stage of a later version.
struct Targets {
  std::optional<double> integrated_lufs;
  std::optional<double> ceiling_dbtp;
  double tolerance_lu = 0.1;
};

struct Profile {
  std::string name;
  std::string description;
  std::string source;  // "built-in" or the file's path
  Delivery delivery;
  Targets targets;
  // The ordered chain; the last stage is always "dither" (added with its defaults when the file has none).
  std::vector<std::shared_ptr<const Stage>> stages;

  // The profile as TOML text, with every default filled in.
  std::string to_toml() const;
};

// Parses profile text; `source` names it in errors. Throws ProfileError.
Profile parse_profile(const std::string& text, const std::string& source);
// A built-in name (see builtin_profiles()) or a path to a .toml file. Throws ProfileError.
Profile load_profile(const std::string& name_or_path);

}  // namespace lathe::host
