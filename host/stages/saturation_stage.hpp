// The `saturation` stage (issue 7).
#pragma once

#include <memory>

#include "host/stage.hpp"

namespace lathe::host {

std::unique_ptr<Stage> make_saturation_stage(ProfileTable& table);

}  // namespace lathe::host
