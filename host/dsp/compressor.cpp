// PLACEHOLDER (issue 7): replaced by the compressor stage's implementation.
#include "host/dsp/compressor.hpp"
#include "host/engine/stage_ops.hpp"
#include "host/errors.hpp"
namespace lathe::host {
void run_dynamics_cpu(float*, const std::vector<kernels::Block>&, std::span<const DynamicsJob> jobs) {
  if (!jobs.empty()) throw Error("the compressor stage is not built yet", "remove it from the profile");
}
}  // namespace lathe::host
