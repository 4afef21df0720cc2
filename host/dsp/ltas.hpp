// Long-term average spectrum (LTAS) of a whole track, for the `match` stage (reference matching): the power
// spectrum of the channel mean ((L+R)/2 for stereo), averaged over the whole file with Hann-windowed FFT frames
// at 50% overlap. Host-side analysis in double; nothing here runs per sample in an engine.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace lathe::host::dsp {

// The measured spectrum. power[k] is the mean power of bin k (frequency k * rate_hz / fft_size), for
// k = 0 .. fft_size / 2, scaled so that a full-scale sine of amplitude A reads about A^2 / 4 in its peak bin
// (only ratios between spectra matter to its users).
struct Ltas {
  double rate_hz = 0;
  long fft_size = 0;
  std::int64_t frames_measured = 0;  // FFT frames averaged
  std::vector<double> power;

  double bin_hz() const { return rate_hz / static_cast<double>(fft_size); }
  // The power at f_hz by linear interpolation between bins; 0 beyond the Nyquist frequency.
  double power_at(double f_hz) const;
  // The mean power over [lo_hz, hi_hz] of the piecewise-linear spectrum (the integral divided by the width);
  // power_at(lo_hz) when the band is empty. Frequencies are clamped to 0 .. rate/2.
  double band_power(double lo_hz, double hi_hz) const;
};

// The FFT length used at a sample rate: the smallest power of two >= rate / 6 (bins of at most 6 Hz), at least
// 4096: 8192 at 44.1 and 48 kHz, 16384 at 88.2 and 96 kHz, 32768 at 176.4 and 192 kHz.
long ltas_fft_size(double rate_hz);

// Accumulates the LTAS of one track fed in interleaved segments of any length: frames sit on a fixed grid of
// hop fft_size / 2 (or fft_size, see below) from the first sample, so the result does not depend on how the track is segmented. A track
// shorter than one frame is measured as one zero-padded frame.
class LtasAccumulator {
 public:
  // `overlap` false: frames side by side (hop fft_size) instead of at 50% overlap, for half the work; the edges of
  // each frame weigh less, which a long-term average of music hardly shows (the report's plots use it).
  LtasAccumulator(int rate_hz, int channels, bool overlap = true);
  ~LtasAccumulator();
  LtasAccumulator(LtasAccumulator&&) noexcept;
  LtasAccumulator& operator=(LtasAccumulator&&) noexcept;

  void add_interleaved(const float* interleaved, std::int64_t frames);
  // The same from one pointer per channel (the same result as the interleaved frames).
  void add(std::span<const float* const> planar, std::int64_t frames);
  Ltas finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lathe::host::dsp
