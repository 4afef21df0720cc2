// PLACEHOLDER (issue 7): replaced by the compressor stage's CUDA runner.
#include "host/engine/stage_ops.hpp"
#include "host/errors.hpp"
namespace lathe::host {
void run_dynamics_cuda(const CudaBatchView&, std::span<const DynamicsJob> jobs) {
  if (!jobs.empty()) throw Error("the compressor stage is not built yet", "remove it from the profile");
}
}  // namespace lathe::host
