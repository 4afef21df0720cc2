// The `multiband` stage: a multiband compressor with linear-phase crossovers that sum flat.
#pragma once

#include <memory>

#include "host/stage.hpp"

namespace lathe::host {

std::unique_ptr<Stage> make_multiband_stage(ProfileTable& table);

}  // namespace lathe::host
