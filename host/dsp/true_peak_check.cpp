#include "host/dsp/true_peak_check.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "host/dsp/kaiser.hpp"
#include "host/dsp/limiter.hpp"

namespace lathe::host::dsp {
namespace {

// A long interpolator for the check of the frames that come near the ceiling: x8, 256 taps per phase, Kaiser
// beta 9, cutoff at the Nyquist frequency, in double. Flat to about 0.49 fs, where the limiter's 64-tap
// interpolator (flat to 0.47 fs) reads content just below the Nyquist frequency low (full-band noise, clipped
// inputs: up to 0.4 dB measured, bench/RESULTS.md).
struct LongInterp {
  static constexpr int kFactor = 8;
  static constexpr int kTaps = 256;
  std::vector<double> c;  // phase p = 1 .. 7: c[(p - 1) * kTaps + m] multiplies x[k - kTaps/2 + m]
};

const LongInterp& long_interp() {
  static const LongInterp li = [] {
    LongInterp l;
    constexpr double kPi = 3.14159265358979323846;
    constexpr double kBeta = 9.0;
    const double half = LongInterp::kTaps / 2.0;
    l.c.resize(static_cast<std::size_t>((LongInterp::kFactor - 1) * LongInterp::kTaps));
    for (int p = 1; p < LongInterp::kFactor; ++p) {
      double sum = 0.0;
      for (int m = 0; m < LongInterp::kTaps; ++m) {
        // Offset of x[k - kTaps/2 + m] from the point (k - 1) + p / kFactor.
        const double d = m - half + 1.0 - static_cast<double>(p) / LongInterp::kFactor;
        const double u = d / (half + 1.0);
        const double w = dsp::bessel_i0(kBeta * std::sqrt(std::max(0.0, 1.0 - u * u))) / dsp::bessel_i0(kBeta);
        const double v = std::sin(kPi * d) / (kPi * d) * w;
        l.c[static_cast<std::size_t>((p - 1) * LongInterp::kTaps + m)] = v;
        sum += v;
      }
      for (int m = 0; m < LongInterp::kTaps; ++m) l.c[static_cast<std::size_t>((p - 1) * LongInterp::kTaps + m)] /= sum;
    }
    return l;
  }();
  return li;
}

// Largest |value| of x at the oversampled points between x[k-1] and x[k] (samples outside [0, n) read as 0).
double long_interval_peak_impl(const LongInterp& li, const float* x, std::int64_t n, std::int64_t k) {
  double peak = 0.0;
  const std::int64_t first = k - LongInterp::kTaps / 2;
  for (int p = 1; p < LongInterp::kFactor; ++p) {
    const double* c = li.c.data() + static_cast<std::size_t>((p - 1) * LongInterp::kTaps);
    double acc = 0.0;
    for (int m = 0; m < LongInterp::kTaps; ++m) {
      const std::int64_t j = first + m;
      if (j >= 0 && j < n) acc += c[m] * static_cast<double>(x[j]);
    }
    peak = std::max(peak, std::abs(acc));
  }
  return peak;
}

}  // namespace

double long_interval_peak(const float* x, std::int64_t n, std::int64_t k) {
  return long_interval_peak_impl(long_interp(), x, n, k);
}

// How far the delivered true peak is above `ceiling_db` (<= 0: not above). Two readings, the larger wins:
//  - the limiter's own detector at 8 times the rate (64-tap interpolator and a parabolic refinement between grid
//    points: within 0.001 dB of a 16x reference on band-limited material), run with a threshold 0.5 dB under the
//    ceiling so that it also finds every frame that comes near it;
//  - for those frames only, the long interpolator above (content just below the Nyquist frequency).
// Frames whose neighbourhood cannot come near the ceiling are skipped by the detector, so a quiet track costs
// little; the long interpolator runs on a small share of the frames of a limited track.
double over_ceiling_db(const std::vector<std::vector<float>>& audio, double ceiling_db) {
  constexpr double kNearDb = 0.5;
  const std::int64_t frames = audio.empty() ? 0 : static_cast<std::int64_t>(audio[0].size());
  if (frames == 0) return -std::numeric_limits<double>::infinity();
  const kernels::limiter::Interp& ip = dsp::limiter_interp(8);
  const float near = static_cast<float>(std::pow(10.0, (ceiling_db - kNearDb) / 20.0));
  std::vector<const float*> ch;
  for (const auto& c : audio) ch.push_back(c.data());
  std::vector<float> g(static_cast<std::size_t>(frames));
  const std::int64_t chunks = (frames + dsp::kLimiterChunk - 1) / dsp::kLimiterChunk;
  std::vector<double> chunk_peak(static_cast<std::size_t>(chunks), 0.0);
  const LongInterp& li = long_interp();
  tbb::parallel_for(std::int64_t{0}, chunks, [&](std::int64_t k) {
    const std::int64_t b = k * dsp::kLimiterChunk, e = std::min(frames, b + dsp::kLimiterChunk);
    dsp::limiter_detect(ip, near, ch, frames, b, e, g.data());
    double peak = 0.0;
    for (std::int64_t i = b; i < e; ++i) {
      const float gi = g[static_cast<std::size_t>(i)];
      if (!(gi < 1.0f)) continue;
      peak = std::max(peak, static_cast<double>(near) / static_cast<double>(gi));  // the detector's reading
      for (const float* x : ch) {
        // Frame i covers the interval before it and, for the last frame, the one after it.
        peak = std::max(peak, long_interval_peak_impl(li, x, frames, i));
        if (i + 1 == frames) peak = std::max(peak, long_interval_peak_impl(li, x, frames, frames));
      }
    }
    chunk_peak[static_cast<std::size_t>(k)] = peak;
  });
  const double peak = *std::max_element(chunk_peak.begin(), chunk_peak.end());
  if (!(peak > 0.0)) return -std::numeric_limits<double>::infinity();
  return 20.0 * std::log10(peak) - ceiling_db;
}

}  // namespace lathe::host::dsp
