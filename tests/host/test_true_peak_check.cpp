// The delivery pass's true-peak check (host/dsp/true_peak_check.hpp): the long interpolator reads sines up to
// 0.48 fs at their real crest, and over_ceiling_db reports how far a signal's true peak is above a ceiling.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "host/dsp/true_peak_check.hpp"
#include "tests/signals.hpp"

namespace {

constexpr double kPi = 3.14159265358979323846;

// A sine faded in and out over 2000 samples (an abrupt start near the Nyquist frequency rings in any
// interpolator: its true peak really is higher there).
std::vector<float> sine(double freq_over_fs, double amp, std::size_t n, double phase) {
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double edge = static_cast<double>(std::min(i, n - 1 - i));
    const double fade = edge >= 2000.0 ? 1.0 : 0.5 - 0.5 * std::cos(kPi * edge / 2000.0);
    x[i] = static_cast<float>(fade * amp * lathe::test::det_sin(2 * kPi * freq_over_fs * static_cast<double>(i) + phase));
  }
  return x;
}

TEST(TruePeakCheck, LongInterpolatorReadsSinesNearNyquistAtTheirCrest) {
  for (double f : {0.1, 0.3, 0.45, 0.47, 0.48}) {
    // A phase that puts no sample on a crest: the samples alone read low.
    const auto x = sine(f, 0.5, 8192, 0.37);
    double peak = 0.0, sample_peak = 0.0;
    for (std::int64_t k = 2048; k < 6144; ++k) {
      peak = std::max(peak, lathe::host::dsp::long_interval_peak(x.data(), 8192, k));
      sample_peak = std::max(sample_peak, static_cast<double>(std::fabs(x[static_cast<std::size_t>(k)])));
    }
    SCOPED_TRACE(f);
    // The samples alone can read far lower near the Nyquist frequency; samples and interpolated points together
    // read the crest.
    EXPECT_NEAR(20 * std::log10(std::max(peak, sample_peak) / 0.5), 0.0, 0.02);
  }
}

TEST(TruePeakCheck, OverCeilingIsTheTruePeakMinusTheCeiling) {
  const std::vector<std::vector<float>> two{sine(0.3, 0.5, 20000, 0.37), sine(0.47, 0.95, 20000, 1.1)};
  // The louder channel decides: 0.95 = -0.446 dBFS, 0.554 dB over a -1 dBTP ceiling.
  EXPECT_NEAR(lathe::host::dsp::over_ceiling_db(two, -1.0), 20 * std::log10(0.95) + 1.0, 0.03);
  // Well under the ceiling: not above (the check only looks at frames within 0.5 dB of it).
  EXPECT_LE(lathe::host::dsp::over_ceiling_db(two, 3.0), 0.0);
  EXPECT_LE(lathe::host::dsp::over_ceiling_db({}, -1.0), 0.0);
}

}  // namespace
