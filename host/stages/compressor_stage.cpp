// PLACEHOLDER (issue 7): replaced by the compressor stage.
#include "host/stages/compressor_stage.hpp"

#include "host/profile/profile_table.hpp"

namespace lathe::host {

std::unique_ptr<Stage> make_compressor_stage(ProfileTable& table) {
  table.fail("type", "the compressor stage is not built yet");
  return nullptr;
}

}  // namespace lathe::host
