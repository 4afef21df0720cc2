// `type = "match"`: reference matching (the EQ half of Matchering / Ozone's Match EQ). The long-term average
// spectrum of each INPUT track (measured by the analysis pass, before the chain) is compared with a reference
// track's; their smoothed difference becomes a per-track linear-phase FIR run by the engines' block convolution.
// Because the curve is measured on the input, `match` belongs first in a chain.
#pragma once

#include <memory>
#include <optional>

#include "host/stage.hpp"

namespace lathe::host {

class ProfileTable;

// Reads a match stage's table and measures its reference (once, when the profile is parsed); throws
// ProfileError naming the line and key.
std::unique_ptr<Stage> make_match_stage(ProfileTable& table);

// For a match stage with `loudness = "reference"`: the reference's integrated loudness (LUFS), which the
// profile makes its delivery target. nullopt for other stages and for `loudness = "keep"`.
std::optional<double> match_reference_loudness(const Stage& stage);

}  // namespace lathe::host
