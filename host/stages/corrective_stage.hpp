// `type = "corrective"` (DC, subsonic high-pass, polarity, channel swap, trim, mono bass) and `type = "width"`
// (mid/side width, bass mono). Both are built from engine operations that exist for other stages: per-block
// scale and offset, block swap, the mid/side matrix, and the linear-phase EQ for their filters.
#pragma once

#include <memory>

#include "host/stage.hpp"

namespace lathe::host {

class ProfileTable;

std::unique_ptr<Stage> make_corrective_stage(ProfileTable& table);
std::unique_ptr<Stage> make_width_stage(ProfileTable& table);

}  // namespace lathe::host
