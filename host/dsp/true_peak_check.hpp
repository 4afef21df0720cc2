// The delivery pass's check of a delivered track's true peak against the ceiling (host/delivery/deliver.cpp):
// the limiter's 8x detector over every frame; a long 8x interpolator (256 taps per phase, flat to about 0.49 fs)
// on the frames that come within 0.5 dB of the ceiling, where content just below the Nyquist frequency is read
// low by the limiter's 64-tap interpolator; and, within 1.5 dB, the short interpolators of common meters
// (BS.1770 Annex 2, libebur128), which read such content high. Host-side and deterministic; it decides whether
// a track is limited again, never the output bits directly.
#pragma once

#include <cstdint>
#include <vector>

namespace lathe::host::dsp {

// How far the true peak of `audio` (planar, at `rate_hz`) is above `ceiling_db` in dB, by the highest of the
// readings above (<= 0 or -infinity: not above).
double over_ceiling_db(const std::vector<std::vector<float>>& audio, int rate_hz, double ceiling_db);

// The long interpolator's largest |value| between x[k-1] and x[k] (samples outside [0, n) read as 0).
double long_interval_peak(const float* x, std::int64_t n, std::int64_t k);

}  // namespace lathe::host::dsp
