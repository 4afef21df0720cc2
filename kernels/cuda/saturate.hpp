// Host-callable launcher of the saturation stage's kernel (kernels/saturate.hpp) over many blocks at once.
// Device pointers throughout; returns the launch's cudaError_t as an int (0 = success).
#pragma once

#include <cstdint>

#include "kernels/saturate.hpp"

namespace lathe::kernels::cuda {

using Stream = void*;  // cudaStream_t

// One block: its saturator (taps in device memory), its extended input (history then segment, device memory),
// and where its `length` outputs go (device memory, not overlapping xe).
struct SaturateBlockJob {
  saturate::Table table;
  const float* xe;
  float* y;
  std::int64_t length;
};

// Outputs per CUDA block: each stages the oversampled, shaped samples its outputs need in shared memory.
inline constexpr std::int64_t kSaturateTile = 256;

// Shared memory (floats) a tile of a table with factor R and T taps per phase needs.
inline std::int64_t saturate_shared_floats(std::int64_t R, std::int64_t T) {
  return (kSaturateTile - 1) * R + R * T;
}

// Runs d_jobs[0 .. job_count) (device memory); max_length is the longest job, shared_floats the largest
// saturate_shared_floats over the jobs' tables.
int launch_saturate(const SaturateBlockJob* d_jobs, int job_count, std::int64_t max_length,
                    std::int64_t shared_floats, Stream stream);

}  // namespace lathe::kernels::cuda
