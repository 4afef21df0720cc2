#include "host/report/curves.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace lathe::host {

std::size_t curve_decimation(std::size_t points) {
  return std::max<std::size_t>(1, (points + kCurvePoints - 1) / kCurvePoints);
}

std::vector<float> decimate_loudness(const std::vector<std::optional<double>>& lufs, std::size_t k) {
  k = std::max<std::size_t>(1, k);
  std::vector<float> out;
  out.reserve((lufs.size() + k - 1) / k);
  for (std::size_t b = 0; b < lufs.size(); b += k) {
    double power = 0;
    std::size_t defined = 0;
    for (std::size_t i = b; i < std::min(lufs.size(), b + k); ++i) {
      if (!lufs[i]) continue;
      power += std::pow(10.0, *lufs[i] / 10.0);
      ++defined;
    }
    out.push_back(defined > 0 ? static_cast<float>(10.0 * std::log10(power / static_cast<double>(defined)))
                              : std::numeric_limits<float>::quiet_NaN());
  }
  return out;
}

std::vector<float> decimate_gain_reduction(const std::vector<float>& envelope, std::size_t k) {
  k = std::max<std::size_t>(1, k);
  std::vector<float> out;
  out.reserve((envelope.size() + k - 1) / k);
  for (std::size_t b = 0; b < envelope.size(); b += k) {
    const float g = *std::min_element(envelope.begin() + static_cast<std::ptrdiff_t>(b),
                                      envelope.begin() + static_cast<std::ptrdiff_t>(std::min(envelope.size(), b + k)));
    // A gain of 1 is no reduction (written as 0, not -0); a gain of 0 (silence forced) is shown as 100 dB.
    out.push_back(g >= 1.0f ? 0.0f : static_cast<float>(-20.0 * std::log10(std::max(1e-5, static_cast<double>(g)))));
  }
  return out;
}

SpectrumBands spectrum_bands(const dsp::Ltas& spectrum) {
  SpectrumBands b;
  if (spectrum.power.empty() || spectrum.fft_size <= 0 || !(spectrum.rate_hz > 0)) return b;
  const double nyquist = spectrum.rate_hz / 2.0;
  const double half_band = std::pow(2.0, 1.0 / 12.0);
  for (int i = 0;; ++i) {
    const double centre = 20.0 * std::pow(2.0, i / 6.0);
    const double lo = centre / half_band, hi = centre * half_band;
    if (centre > 20000.0 * 1.0001 || hi > nyquist) break;
    const double energy = spectrum.band_power(lo, hi) * (hi - lo) / spectrum.bin_hz();
    b.hz.push_back(static_cast<float>(centre));
    b.db.push_back(energy > 0 ? static_cast<float>(10.0 * std::log10(energy)) : std::numeric_limits<float>::quiet_NaN());
  }
  return b;
}

TrackCurves input_curves(const meter::TrackReport& measured, const dsp::Ltas* spectrum) {
  TrackCurves c;
  const std::size_t k = curve_decimation(measured.short_term_curve.size());
  c.loudness_step_s = measured.curve_step_s * static_cast<double>(k);
  c.short_term_in_lufs = decimate_loudness(measured.short_term_curve, k);
  if (spectrum) {
    SpectrumBands b = spectrum_bands(*spectrum);
    c.spectrum_hz = std::move(b.hz);
    c.spectrum_in_db = std::move(b.db);
  }
  return c;
}

void add_output_curves(TrackCurves& c, const meter::TrackReport& measured, const dsp::Ltas* spectrum,
                       const dsp::LimiterResult* limiter) {
  const double base = measured.curve_step_s > 0 ? measured.curve_step_s : 0.1;
  const auto k = static_cast<std::size_t>(std::max(1.0, std::round(c.loudness_step_s / base)));
  c.short_term_out_lufs = decimate_loudness(measured.short_term_curve, k);
  if (spectrum) {
    SpectrumBands b = spectrum_bands(*spectrum);
    // The output's bands stop at its own Nyquist frequency (a lower delivery rate): the input's beyond it stay.
    if (c.spectrum_hz.size() < b.hz.size()) c.spectrum_hz = b.hz;
    c.spectrum_out_db = std::move(b.db);
  }
  if (limiter && !limiter->envelope.empty()) {
    const std::size_t kg = curve_decimation(limiter->envelope.size());
    c.gain_reduction_step_s = limiter->envelope_step_s * static_cast<double>(kg);
    c.gain_reduction_db = decimate_gain_reduction(limiter->envelope, kg);
  }
}

}  // namespace lathe::host
