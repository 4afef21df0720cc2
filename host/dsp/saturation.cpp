// PLACEHOLDER (issue 7): replaced by the saturation stage's implementation.
#include "host/dsp/saturation.hpp"
#include "host/engine/stage_ops.hpp"
#include "host/errors.hpp"
namespace lathe::host {
void run_saturate_cpu(float*, const std::vector<kernels::Block>&, std::span<const SaturateJob> jobs) {
  if (!jobs.empty()) throw Error("the saturation stage is not built yet", "remove it from the profile");
}
}  // namespace lathe::host
