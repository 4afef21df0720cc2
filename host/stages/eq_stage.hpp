// `type = "eq"`: the linear-phase EQ stage (bands -> symmetric FIR per sample rate -> block convolution).
#pragma once

#include <memory>

#include "host/stage.hpp"

namespace lathe::host {

class ProfileTable;

// Reads an eq stage's table (bands, fir_taps); throws ProfileError naming the line and the allowed range.
std::unique_ptr<Stage> make_eq_stage(ProfileTable& table);

}  // namespace lathe::host
