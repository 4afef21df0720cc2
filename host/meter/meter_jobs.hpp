// The meter's per-sample work as engine jobs: one loudness job per channel (or per stereo pair) and one true-peak
// job per channel, each the next segment of a track in host memory, with the kernel state it updates
// (kernels/meter.hpp). Engine::meter runs a list of them; run_meter_jobs_cpu is the CPU engine's runner (also
// used by TrackMeter::add directly). Every runner performs the same kernel arithmetic, so the states and bins
// come out bit-identical.
#pragma once

#include <cstdint>
#include <span>

#include "kernels/meter.hpp"

namespace lathe::host::meter {

// One channel (right == nullptr) or a stereo pair (right, pair and the *_right/cross outputs set). All pointers
// are host memory; samples are finite (sanitised by the caller).
struct LoudnessJob {
  kernels::meter::ChannelState* left = nullptr;
  kernels::meter::ChannelState* right = nullptr;
  kernels::meter::PairState* pair = nullptr;
  const kernels::meter::KWeightCoeffs* coeffs = nullptr;
  const float* x_left = nullptr;
  const float* x_right = nullptr;
  std::int64_t frames = 0;
  int rate_hz = 0;
  bool loudness = true;        // false: statistics only (a weight-0 channel such as LFE); no bins
  std::int64_t bins = 0;       // bins this segment completes (kernels::meter::bins_complete difference)
  double* bins_left = nullptr;
  double* bins_right = nullptr;
  double* cross = nullptr;
};

struct TruePeakJob {
  kernels::meter::TruePeakState* state = nullptr;
  const kernels::meter::TruePeakCoeffs* coeffs = nullptr;
  const float* x = nullptr;
  std::int64_t frames = 0;
};

// Runs every job on the CPU (oneTBB; small work runs inline). Returns when all states and bins are updated.
void run_meter_jobs_cpu(std::span<const LoudnessJob> loudness, std::span<const TruePeakJob> peaks);

}  // namespace lathe::host::meter
