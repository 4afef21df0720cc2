// The compressor stage's design: its parameters, turned once per sample rate on the host (in double) into the
// plain coefficients of kernels/dynamics.hpp that both engines run, and the CPU runner of Engine::dynamics.
#pragma once

#include "kernels/dynamics.hpp"

namespace lathe::host::dsp {

struct CompressorParams {
  double threshold_db = -18.0;
  double ratio = 2.0;
  double knee_db = 6.0;
  double attack_ms = 10.0;
  double release_ms = 150.0;
  double makeup_db = 0.0;
  bool rms = false;             // detection: "rms" (one-pole mean square over rms_ms) or "peak"
  double rms_ms = 10.0;
  bool linked = true;
  double sidechain_hpf_hz = 0;  // 0 = off
  double mix_percent = 100.0;
};

// Plain data: copied as is to a device. The state of a track is kernels::dynamics::State (zeros at the start).
struct CompressorDesign {
  kernels::dynamics::Params params;
};

using CompressorState = kernels::dynamics::State;

// Designs the coefficients at `rate_hz` (the sidechain high-pass must lie below Nyquist; callers validate).
CompressorDesign compressor_design(const CompressorParams& params, int rate_hz);

// The textbook static curve (Giannoulis et al. 2012) in double with libm: gain reduction in dB (>= 0) at a
// detector level in dB. For tests and documentation.
double compressor_static_reduction_db(const CompressorParams& params, double level_db);

}  // namespace lathe::host::dsp
