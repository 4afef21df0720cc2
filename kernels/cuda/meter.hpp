// Host-callable launchers of the loudness meter (kernels/meter.hpp). Device pointers throughout; each returns the
// launch's cudaError_t as an int (0 = success).
#pragma once

#include <cstdint>

#include "kernels/meter.hpp"

namespace lathe::kernels::cuda {

using Stream = void*;  // cudaStream_t

// One channel (right == nullptr) or a stereo pair: the recurrence of kernels::meter::channel_segment /
// pair_segment, one thread per job.
struct MeterLoudnessJob {
  meter::ChannelState* left;
  meter::ChannelState* right;
  meter::PairState* pair;
  const meter::KWeightCoeffs* coeffs;
  const float* x_left;
  const float* x_right;
  std::int64_t frames;
  double* bins_left;
  double* bins_right;
  double* cross;
  std::int32_t rate_hz;
  std::int32_t loudness;
};
int launch_meter_loudness(const MeterLoudnessJob* d_jobs, std::int64_t count, Stream stream);

// Windows [begin, end) of one channel's segment (kernels::meter::true_peak_range_with from a zero peak), one
// thread per range; its largest value and over count go to *peak_out and *overs_out, merged on the host.
struct TruePeakRange {
  const meter::TruePeakState* state;
  const meter::TruePeakCoeffs* coeffs;
  const float* x;
  std::int64_t begin;
  std::int64_t end;
  float* peak_out;
  unsigned long long* overs_out;
};
int launch_true_peak_ranges(const TruePeakRange* d_ranges, std::int64_t count, Stream stream);

}  // namespace lathe::kernels::cuda
