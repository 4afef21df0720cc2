// CUDA launchers of the loudness meter: the LATHE_HD functions of kernels/meter.hpp, one thread per recurrence
// (a channel or a stereo pair: sequential by nature, parallel across the channels of a batch) and one thread per
// true-peak range (merged with max and integer sums, which no order changes).
#include <cuda_runtime.h>

#include "kernels/cuda/meter.hpp"

namespace lathe::kernels::cuda {
namespace {

constexpr int kThreads = 64;

__global__ void loudness_kernel(const MeterLoudnessJob* jobs, std::int64_t count) {
  const std::int64_t j = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= count) return;
  const MeterLoudnessJob job = jobs[j];
  if (job.right != nullptr)
    meter::pair_segment(*job.left, *job.right, *job.pair, *job.coeffs, job.x_left, job.x_right, job.frames,
                        job.rate_hz, job.bins_left, job.bins_right, job.cross);
  else
    meter::channel_segment(*job.left, *job.coeffs, job.x_left, job.frames, job.rate_hz, job.loudness != 0,
                           job.bins_left);
}

__global__ void true_peak_kernel(const TruePeakRange* ranges, std::int64_t count) {
  const std::int64_t j = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= count) return;
  const TruePeakRange r = ranges[j];
  float peak = 0.0f;
  std::uint64_t overs = 0;
  meter::true_peak_range_with(*r.state, *r.coeffs, r.x, r.begin, r.end, peak, overs, meter::TruePeakRun{});
  *r.peak_out = peak;
  *r.overs_out = static_cast<unsigned long long>(overs);
}

unsigned grid(std::int64_t count) { return static_cast<unsigned>((count + kThreads - 1) / kThreads); }

}  // namespace

int launch_meter_loudness(const MeterLoudnessJob* d_jobs, std::int64_t count, Stream stream) {
  if (count <= 0) return 0;
  loudness_kernel<<<grid(count), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(d_jobs, count);
  return static_cast<int>(cudaGetLastError());
}

int launch_true_peak_ranges(const TruePeakRange* d_ranges, std::int64_t count, Stream stream) {
  if (count <= 0) return 0;
  true_peak_kernel<<<grid(count), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(d_ranges, count);
  return static_cast<int>(cudaGetLastError());
}

}  // namespace lathe::kernels::cuda
