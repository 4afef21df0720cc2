#include "host/dsp/fft_double.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

namespace lathe::host::dsp {
namespace {

bool is_pow2(std::size_t n) { return n != 0 && (n & (n - 1)) == 0; }

// e^{-2 pi i k / n} for k = 0 .. n/2 - 1. Only the first octant is computed with cos/sin; the rest follows
// from exact symmetries (swaps and sign changes), so every twiddle is as accurate as libm's cos/sin.
std::vector<std::complex<double>> make_twiddles(std::size_t n) {
  std::vector<std::complex<double>> w(n / 2);
  if (n < 8) {
    for (std::size_t k = 0; k < n / 2; ++k) {
      const double t = 2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(n);
      w[k] = {std::cos(t), -std::sin(t)};
    }
    if (n == 4) w[1] = {0.0, -1.0};
    return w;
  }
  const std::size_t q = n / 4, e = n / 8;
  std::vector<double> c(e + 1), s(e + 1);
  for (std::size_t k = 0; k <= e; ++k) {
    const double t = 2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(n);
    c[k] = std::cos(t);
    s[k] = std::sin(t);
  }
  for (std::size_t k = 0; k < n / 2; ++k) {
    double ck = 0, sk = 0;  // cos and sin of 2 pi k / n
    if (k <= e) {
      ck = c[k];
      sk = s[k];
    } else if (k <= q) {
      ck = s[q - k];
      sk = c[q - k];
    } else if (k <= q + e) {
      ck = -s[k - q];
      sk = c[k - q];
    } else {
      ck = -c[2 * q - k];
      sk = s[2 * q - k];
    }
    w[k] = {ck, -sk};
  }
  return w;
}

std::vector<std::size_t> make_bitrev(std::size_t m) {
  std::vector<std::size_t> r(m);
  std::size_t bits = 0;
  while ((std::size_t{1} << bits) < m) ++bits;
  r[0] = 0;
  for (std::size_t i = 1; i < m; ++i) r[i] = (r[i >> 1] >> 1) | ((i & 1) << (bits - 1));
  return r;
}

// One radix-2 stage of butterflies of length `len` over a[0 .. count): twiddles of a length-(m * stride)
// transform, conjugated when `inverse`. The complex product is written out (no __muldc3, no fused operations).
void radix2_stage(std::complex<double>* a, std::size_t count, std::size_t len, std::size_t m,
                  const std::complex<double>* tw, std::size_t stride, bool inverse) {
  const std::size_t half = len / 2;
  const std::size_t step = stride * (m / len);
  for (std::size_t i = 0; i < count; i += len) {
    for (std::size_t j = 0; j < half; ++j) {
      const std::complex<double> w = tw[j * step];
      const double wr = w.real(), wi = inverse ? -w.imag() : w.imag();
      const std::complex<double> b = a[i + j + half];
      const double tr = b.real() * wr - b.imag() * wi;
      const double ti = b.real() * wi + b.imag() * wr;
      const std::complex<double> u = a[i + j];
      a[i + j] = {u.real() + tr, u.imag() + ti};
      a[i + j + half] = {u.real() - tr, u.imag() - ti};
    }
  }
}

// Radix-2 decimation in time over m points (already in bit-reversed order). The stages up to kCacheBlock
// points run block by block while the block is in cache, the longer ones over the whole array; every butterfly
// computes exactly the same operations in either schedule, so the result does not depend on it.
constexpr std::size_t kCacheBlock = std::size_t{1} << 14;  // 256 KiB of complex<double>
void radix2(std::complex<double>* a, std::size_t m, const std::complex<double>* tw, std::size_t stride,
            bool inverse) {
  const std::size_t block = std::min(m, kCacheBlock);
  for (std::size_t start = 0; start < m; start += block)
    for (std::size_t len = 2; len <= block; len <<= 1) radix2_stage(a + start, block, len, m, tw, stride, inverse);
  for (std::size_t len = block * 2; len <= m; len <<= 1) radix2_stage(a, m, len, m, tw, stride, inverse);
}

}  // namespace

RealFftDouble::RealFftDouble(std::size_t n) : n_(n) {
  if (n < 4 || !is_pow2(n)) throw std::invalid_argument("RealFftDouble: size must be a power of two >= 4");
  twiddle_ = make_twiddles(n);
  bitrev_ = make_bitrev(n / 2);
}

void RealFftDouble::forward(std::span<const double> in, std::span<std::complex<double>> out) const {
  if (in.size() != n_ || out.size() != n_ / 2 + 1)
    throw std::invalid_argument("RealFftDouble::forward: sizes must be n and n/2 + 1 (n = " + std::to_string(n_) +
                                ")");
  const std::size_t h = n_ / 2;
  std::vector<std::complex<double>> z(h);
  for (std::size_t m = 0; m < h; ++m) {
    const std::size_t r = bitrev_[m];  // an involution: z[m] takes the pair that lands there
    z[m] = {in[2 * r], in[2 * r + 1]};
  }
  radix2(z.data(), h, twiddle_.data(), 2, false);
  // Split the packed transform: X[k] = E[k] + w^k O[k], E and O the transforms of the even and odd samples.
  out[0] = {z[0].real() + z[0].imag(), 0.0};
  out[h] = {z[0].real() - z[0].imag(), 0.0};
  for (std::size_t k = 1; k < h; ++k) {
    const std::complex<double> a = z[k];
    const std::complex<double> b = z[h - k];  // conj(b) is Z[h-k]*
    const double er = 0.5 * (a.real() + b.real());
    const double ei = 0.5 * (a.imag() - b.imag());
    // O = (a - conj(b)) / (2i) = ((a.im + b.im) - i (a.re - b.re)) / 2
    const double orr = 0.5 * (a.imag() + b.imag());
    const double oi = -0.5 * (a.real() - b.real());
    const double wr = twiddle_[k].real(), wi = twiddle_[k].imag();
    const double tr = orr * wr - oi * wi;
    const double ti = orr * wi + oi * wr;
    out[k] = {er + tr, ei + ti};
  }
}

void fft_double(std::span<std::complex<double>> a, bool inverse) {
  const std::size_t m = a.size();
  if (m == 0 || !is_pow2(m)) throw std::invalid_argument("fft_double: size must be a power of two");
  if (m == 1) return;
  const std::vector<std::complex<double>> tw = make_twiddles(2 * m);
  const std::vector<std::size_t> rev = make_bitrev(m);
  for (std::size_t i = 0; i < m; ++i)
    if (rev[i] > i) std::swap(a[i], a[rev[i]]);
  // make_twiddles(2m) holds e^{-2 pi i k / 2m}: stride 2 gives those of an m-point transform.
  radix2(a.data(), m, tw.data(), 2, inverse);
}

}  // namespace lathe::host::dsp
