// The curves a report keeps per track (TrackReport::curves, host/master.hpp): made from what the meter, the
// limiter and the spectrum analysis measured, reduced to at most kCurvePoints points so that a report of many
// tracks stays small (at most about 10 kB per track in JSON).
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "host/dsp/limiter.hpp"
#include "host/dsp/ltas.hpp"
#include "host/master.hpp"
#include "host/meter/meter.hpp"

namespace lathe::host {

inline constexpr std::size_t kCurvePoints = 400;

// How many of the meter's short-term loudness points (every `step_s` seconds) make one point of a track of
// `points` of them: the smallest k with ceil(points / k) <= kCurvePoints. The input and the output of a track use
// the input's k, so that their curves share a time axis.
std::size_t curve_decimation(std::size_t points);

// The loudness curve in groups of k points: each group's mean power as LUFS (the undefined points left out; NaN
// when none is defined).
std::vector<float> decimate_loudness(const std::vector<std::optional<double>>& lufs, std::size_t k);

// The limiter's gain envelope (the smallest gain per step) in groups of k steps, as gain reduction in dB (>= 0).
std::vector<float> decimate_gain_reduction(const std::vector<float>& envelope, std::size_t k);

// A long-term spectrum in bands of 1/6 octave centred on 20 Hz x 2^(i/6), up to the last band below 20 kHz and
// the Nyquist frequency: each band's energy (the mean power per bin times the bins in the band), in dB; NaN for a
// band with no energy. The bands do not depend on the sample rate or the FFT length, so spectra of the input and
// of a resampled output compare band by band.
struct SpectrumBands {
  std::vector<float> hz;
  std::vector<float> db;
};
SpectrumBands spectrum_bands(const dsp::Ltas& spectrum);

// A track's input curves from the analysis pass's meter report and spectrum (null: none measured): sets the
// loudness step for both loudness curves.
TrackCurves input_curves(const meter::TrackReport& measured, const dsp::Ltas* spectrum);
// Adds the output's curves: its meter report, its spectrum (null: none) and the limiter's result (null: no
// limiter ran), the loudness in the step input_curves chose.
void add_output_curves(TrackCurves& curves, const meter::TrackReport& measured, const dsp::Ltas* spectrum,
                       const dsp::LimiterResult* limiter);

}  // namespace lathe::host
