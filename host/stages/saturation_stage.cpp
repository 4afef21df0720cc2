// PLACEHOLDER (issue 7): replaced by the saturation stage.
#include "host/stages/saturation_stage.hpp"

#include "host/profile/profile_table.hpp"

namespace lathe::host {

std::unique_ptr<Stage> make_saturation_stage(ProfileTable& table) {
  table.fail("type", "the saturation stage is not built yet");
  return nullptr;
}

}  // namespace lathe::host
