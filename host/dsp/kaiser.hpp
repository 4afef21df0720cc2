// The Kaiser window's Bessel function, shared by every host-side filter design (EQ FIRs, the meter's and the
// limiter's true-peak interpolators, the resampler): designed in double, rounded to float once by the callers.
#pragma once

namespace lathe::host::dsp {

// Modified Bessel function of the first kind, order 0: sum over k of ((x/2)^k / k!)^2, to double precision.
inline double bessel_i0(double x) {
  const double y = 0.25 * x * x;
  double sum = 1.0, term = 1.0;
  for (int k = 1; k < 1000; ++k) {
    term *= y / (static_cast<double>(k) * static_cast<double>(k));
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

}  // namespace lathe::host::dsp
