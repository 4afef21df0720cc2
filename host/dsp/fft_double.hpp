// A small double-precision FFT for host-side design work (EQ FIR design and its verification). Not the
// engines' FFT: nothing here runs per sample, and its results are rounded to float once by the callers
// (DESIGN.md section 2). Deterministic: twiddles come from std::cos/std::sin of exact fractions of the circle,
// and every butterfly is a fixed sequence of double operations.
#pragma once

#include <complex>
#include <cstddef>
#include <span>
#include <vector>

namespace lathe::host::dsp {

// Forward DFT of `n` real samples, n a power of two >= 4: out[k] = sum_m in[m] e^{-2 pi i k m / n} for
// k = 0 .. n/2 (the other half is the conjugate mirror). Computed through a complex FFT of n/2 points.
// A plan holds the twiddles; forward() is const and may run from several threads at once.
class RealFftDouble {
 public:
  explicit RealFftDouble(std::size_t n);
  std::size_t size() const { return n_; }
  // in.size() == n, out.size() == n/2 + 1. Throws std::invalid_argument on other sizes.
  void forward(std::span<const double> in, std::span<std::complex<double>> out) const;

 private:
  std::size_t n_;
  // e^{-2 pi i k / n} for k = 0 .. n/2 - 1.
  std::vector<std::complex<double>> twiddle_;
  std::vector<std::size_t> bitrev_;  // bit reversal permutation of n/2 points
};

// In-place complex FFT of a.size() points (a power of two), unnormalised; inverse uses e^{+2 pi i km/n}.
// Convenience for tests and small sizes (builds its twiddles each call).
void fft_double(std::span<std::complex<double>> a, bool inverse);

}  // namespace lathe::host::dsp
