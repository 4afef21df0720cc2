#include "host/dsp/ltas.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
#include <stdexcept>
#include <string>

#include "host/dsp/fft_double.hpp"

namespace lathe::host::dsp {

double Ltas::power_at(double f_hz) const {
  if (power.empty() || !(f_hz >= 0)) return power.empty() ? 0.0 : power.front();
  const double x = f_hz / bin_hz();
  const double last = static_cast<double>(power.size() - 1);
  if (x >= last) return x > last ? 0.0 : power.back();
  const auto k = static_cast<std::size_t>(x);
  const double t = x - static_cast<double>(k);
  return power[k] + t * (power[k + 1] - power[k]);
}

double Ltas::band_power(double lo_hz, double hi_hz) const {
  if (power.empty()) return 0.0;
  const double last = static_cast<double>(power.size() - 1);
  const double a = std::clamp(lo_hz / bin_hz(), 0.0, last);
  const double b = std::clamp(hi_hz / bin_hz(), 0.0, last);
  if (!(b > a)) return power_at(a * bin_hz());
  // The integral of the piecewise-linear spectrum from a to b (in bins), trapezoid by trapezoid.
  auto value = [&](double x) {
    const auto k = std::min(static_cast<std::size_t>(x), power.size() - 2);
    const double t = x - static_cast<double>(k);
    return power[k] + t * (power[k + 1] - power[k]);
  };
  double sum = 0;
  double x = a;
  while (x < b) {
    const double next = std::min(b, std::floor(x) + 1.0);
    sum += 0.5 * (value(x) + value(next)) * (next - x);
    x = next;
  }
  return sum / (b - a);
}

long ltas_fft_size(double rate_hz) {
  long n = 4096;
  while (static_cast<double>(n) < rate_hz / 6.0) n *= 2;
  return n;
}

struct LtasAccumulator::Impl {
  int rate_hz = 0;
  int channels = 0;
  std::size_t n = 0;
  std::size_t hop = 0;
  RealFftDouble plan;
  std::vector<double> window;
  double window_sum = 0;
  std::vector<double> pending;  // channel-mean samples not yet past a whole frame
  std::vector<double> frame;
  std::vector<std::complex<double>> spec;
  std::vector<double> sum;
  std::int64_t frames = 0;

  Impl(int rate, int ch, bool overlap)
      : rate_hz(rate), channels(ch), n(static_cast<std::size_t>(ltas_fft_size(rate))), hop(overlap ? n / 2 : n),
        plan(n), window(n),
        frame(n), spec(n / 2 + 1), sum(n / 2 + 1, 0.0) {
    // Periodic Hann: exact overlap-add at 50%.
    for (std::size_t i = 0; i < n; ++i) {
      window[i] = 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * static_cast<double>(i) / static_cast<double>(n));
      window_sum += window[i];
    }
    pending.reserve(2 * n);
  }

  // The next channel-mean sample.
  void push(double mean) {
    pending.push_back(mean);
    if (pending.size() == n) {
      transform(pending.data());
      pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(hop));
    }
  }

  void transform(const double* x) {
    for (std::size_t i = 0; i < n; ++i) frame[i] = x[i] * window[i];
    plan.forward(frame, spec);
    for (std::size_t k = 0; k < spec.size(); ++k) sum[k] += std::norm(spec[k]);
    ++frames;
  }
};

LtasAccumulator::LtasAccumulator(int rate_hz, int channels, bool overlap) {
  if (rate_hz <= 0 || channels <= 0) throw std::invalid_argument("LtasAccumulator: bad rate or channels");
  impl_ = std::make_unique<Impl>(rate_hz, channels, overlap);
}
LtasAccumulator::~LtasAccumulator() = default;
LtasAccumulator::LtasAccumulator(LtasAccumulator&&) noexcept = default;
LtasAccumulator& LtasAccumulator::operator=(LtasAccumulator&&) noexcept = default;

void LtasAccumulator::add_interleaved(const float* interleaved, std::int64_t frames) {
  Impl& m = *impl_;
  const auto ch = static_cast<std::size_t>(m.channels);
  const double scale = 1.0 / static_cast<double>(m.channels);
  for (std::int64_t f = 0; f < frames; ++f) {
    const float* x = interleaved + static_cast<std::size_t>(f) * ch;
    double s = 0;
    for (std::size_t c = 0; c < ch; ++c) s += static_cast<double>(x[c]);
    m.push(s * scale);
  }
}

void LtasAccumulator::add(std::span<const float* const> planar, std::int64_t frames) {
  Impl& m = *impl_;
  if (planar.size() != static_cast<std::size_t>(m.channels))
    throw std::invalid_argument("LtasAccumulator: " + std::to_string(planar.size()) + " channels given, " +
                                std::to_string(m.channels) + " expected");
  const double scale = 1.0 / static_cast<double>(m.channels);
  for (std::int64_t f = 0; f < frames; ++f) {
    double s = 0;
    for (const float* x : planar) s += static_cast<double>(x[f]);
    m.push(s * scale);
  }
}

Ltas LtasAccumulator::finish() {
  Impl& m = *impl_;
  if (m.frames == 0) {  // shorter than one frame: one zero-padded frame
    std::vector<double> padded(m.n, 0.0);
    std::copy(m.pending.begin(), m.pending.end(), padded.begin());
    m.transform(padded.data());
  }
  Ltas out;
  out.rate_hz = m.rate_hz;
  out.fft_size = static_cast<long>(m.n);
  out.frames_measured = m.frames;
  out.power.resize(m.sum.size());
  const double norm = 1.0 / (static_cast<double>(m.frames) * m.window_sum * m.window_sum);
  for (std::size_t k = 0; k < m.sum.size(); ++k) out.power[k] = m.sum[k] * norm;
  return out;
}

}  // namespace lathe::host::dsp
