// A processing step of the chain. Configured once from its profile table (validated there), then run over
// batches by any engine. Per-sample work goes through Engine operations, so a stage never knows which engine
// runs it (DESIGN.md section 1).
#pragma once

#include <toml++/toml.h>

#include <memory>
#include <string>

#include "host/engine/batch.hpp"
#include "host/engine/engine.hpp"

namespace lathe::host {

class ProfileTable;

class Stage {
 public:
  virtual ~Stage() = default;
  // The profile's `type` ("gain", "dither").
  virtual std::string type() const = 0;
  // Runs over every block of a batch already loaded into `engine`. No allocation visible to the caller, no
  // I/O, no exception for signal content (anomalies are counted per track).
  virtual void process(Engine& engine, BlockBatch& batch) const = 0;
  // Writes the stage's parameters back as TOML (for `lathe profiles --show` and reports).
  virtual void describe(toml::table& out) const = 0;
};

// Makes the stage of `type` from its table; throws ProfileError for unknown types, unknown keys and values
// out of range.
std::unique_ptr<Stage> make_stage(const std::string& type, ProfileTable& table);
// The stage types this build knows, for messages.
std::string known_stage_types();

}  // namespace lathe::host
