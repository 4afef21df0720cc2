#include "host/engine/engine.hpp"

#include "host/errors.hpp"

namespace lathe::host {

float* BlockBatch::add_block(std::uint32_t slot, std::uint32_t channel, std::int64_t start_sample,
                             std::int64_t length, std::uint64_t track_key, std::int64_t preroll) {
  const std::int64_t offset = total_samples();
  blocks.push_back(kernels::Block{offset, length, start_sample, track_key, channel, slot, preroll});
  samples.resize(static_cast<std::size_t>(offset + length));
  if (static_cast<int>(slot) >= slots) slots = static_cast<int>(slot) + 1;
  return samples.data() + offset;
}

void BlockBatch::clear() {
  samples.clear();
  quantised.clear();
  blocks.clear();
  clipped_samples.clear();
  slots = 0;
  quantised_valid = false;
}

#if !defined(LATHE_HAVE_CUDA)
std::string gpu_unavailable_reason() { return "this lathe was built without CUDA (LATHE_CUDA=OFF or no nvcc)"; }
std::string gpu_description() { return {}; }
int gpu_count() { return 0; }
void set_gpu_memory_budget(int, std::size_t) {}
std::unique_ptr<Engine> make_cuda_engine(int) { throw GpuError(gpu_unavailable_reason(), "use --engine cpu"); }
#endif

}  // namespace lathe::host
