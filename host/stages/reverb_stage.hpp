// `type = "reverb"`: convolution reverb from an impulse response (a file, or a built-in room, plate or hall).
#pragma once

#include <memory>

#include "host/stage.hpp"

namespace lathe::host {

class ProfileTable;

std::unique_ptr<Stage> make_reverb_stage(ProfileTable& table);

}  // namespace lathe::host
