// The delivery pass's check of a delivered track's true peak against the ceiling (host/delivery/deliver.cpp):
// the limiter's 8x detector over every frame; a long 8x interpolator (256 taps per phase, flat to about 0.49 fs)
// on the frames that come within 0.5 dB of the ceiling, where content just below the Nyquist frequency is read
// low by the limiter's 64-tap interpolator; and, within 1.5 dB, the short interpolators of common meters
// (BS.1770 Annex 2, libebur128), which read such content high. Host-side and deterministic; it decides whether
// a track is limited again, never the output bits directly.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace lathe::host::dsp {

namespace detail {
struct TruePeakPlan;  // the readings' design and per-frame code (true_peak_check.cpp)
}

// How far the true peak of `audio` (planar, at `rate_hz`) is above `ceiling_db` in dB, by the highest of the
// readings above (<= 0 or -infinity: not above).
double over_ceiling_db(const std::vector<std::vector<float>>& audio, int rate_hz, double ceiling_db);

// over_ceiling_db of a track of `total_frames` frames of `channels` channels fed in consecutive segments of any
// sizes: over_ceiling_db() equals (==) over_ceiling_db() of the whole track. Each frame gets the same readings
// from the same code once the samples they read (at most 128 frames before it, 127 after it: the long
// interpolator) have arrived, and the peak is their max, exact in any order. Memory: the segment and a window of
// a few hundred frames.
class TruePeakCheckStream {
 public:
  TruePeakCheckStream(int rate_hz, int channels, double ceiling_db, std::int64_t total_frames);
  ~TruePeakCheckStream();
  TruePeakCheckStream(TruePeakCheckStream&&) noexcept;
  TruePeakCheckStream& operator=(TruePeakCheckStream&&) noexcept;

  // The next `frames` frames (planar, one pointer per channel). Throws std::invalid_argument past total_frames.
  void push(std::span<const float* const> in, std::int64_t frames);
  // After all total_frames were pushed (else std::logic_error).
  double over_ceiling_db() const;

 private:
  std::unique_ptr<const detail::TruePeakPlan> plan_;
  double ceiling_db_;
  std::int64_t total_;
  std::vector<std::vector<float>> x_;  // the window of input, x_[c][0] is frame x_begin_
  std::int64_t x_begin_ = 0;
  std::int64_t received_ = 0;  // frames pushed
  std::int64_t done_ = 0;      // frames whose readings are in peak_
  double peak_ = 0.0;
};

// The long interpolator's largest |value| between x[k-1] and x[k] (samples outside [0, n) read as 0).
double long_interval_peak(const float* x, std::int64_t n, std::int64_t k);

}  // namespace lathe::host::dsp
