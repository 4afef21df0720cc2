#include "host/dsp/resample_design.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <numbers>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "host/dsp/kaiser.hpp"

namespace lathe::host::dsp {
namespace {

std::string rate_pair(int rate_in, int rate_out) {
  return "resample " + std::to_string(rate_in) + " Hz -> " + std::to_string(rate_out) + " Hz";
}

void check_rate(int rate_hz, const char* which, int rate_in, int rate_out) {
  if (rate_hz < kResampleMinRateHz || rate_hz > kResampleMaxRateHz)
    throw std::invalid_argument(rate_pair(rate_in, rate_out) + ": the " + which + " rate " +
                                std::to_string(rate_hz) + " Hz is out of range; supported rates are " +
                                std::to_string(kResampleMinRateHz) + " to " + std::to_string(kResampleMaxRateHz) +
                                " Hz");
}

}  // namespace

kernels::resample::ResampleTable ResampleDesign::table() const {
  return kernels::resample::ResampleTable{L, M, taps_per_phase, coeffs.data()};
}

ResampleDesign make_resample_design(int rate_in, int rate_out) {
  check_rate(rate_in, "input", rate_in, rate_out);
  check_rate(rate_out, "output", rate_in, rate_out);
  if (rate_in == rate_out)
    throw std::invalid_argument(rate_pair(rate_in, rate_out) +
                                ": the rates are equal, no conversion needed (skip the resample stage)");

  ResampleDesign d;
  d.rate_in = rate_in;
  d.rate_out = rate_out;
  const int g = std::gcd(rate_in, rate_out);
  d.L = rate_out / g;
  d.M = rate_in / g;

  // Band edges: 20 kHz / 22.05 kHz at 44.1 kHz, scaled with the lower rate below that, 20 kHz passband above.
  const double f_min = static_cast<double>(std::min(rate_in, rate_out));
  d.passband_hz = std::min(20000.0, f_min * (20000.0 / 44100.0));
  d.stopband_hz = 0.5 * f_min;
  d.cutoff_hz = 0.5 * (d.passband_hz + d.stopband_hz);

  // Kaiser's formulas (Oppenheim & Schafer 7.2.4): beta for an attenuation of A dB, and the length
  // N = (A - 7.95) / (14.36 * df / F) + 1 for a transition df at the prototype's rate F = L * fs_in. The design
  // targets 130 dB so that the 125 dB spec holds with margin after rounding the taps to float (measured in
  // tests/host/test_resample.cpp by the prototype's spectrum).
  const double a_db = kResampleDesignAttenuationDb;
  d.kaiser_beta = 0.1102 * (a_db - 8.7);
  const double fs_in = static_cast<double>(rate_in);
  const double big_l = static_cast<double>(d.L);
  const double rate_up = big_l * fs_in;
  const double df_norm = (d.stopband_hz - d.passband_hz) / rate_up;
  const double n_proto = (a_db - 7.95) / (14.36 * df_norm) + 1.0;
  std::int64_t taps = static_cast<std::int64_t>(std::ceil(n_proto / big_l));
  taps += taps % 2;  // even
  const std::int64_t total = taps * static_cast<std::int64_t>(d.L);
  if (total > kResampleMaxCoeffs) {
    std::ostringstream os;
    os << rate_pair(rate_in, rate_out) << ": the rates reduce to L/M = " << d.L << "/" << d.M
       << " (common divisor " << g << " Hz), which needs " << d.L << " phases x " << taps << " taps = " << total
       << " filter coefficients, more than the limit of " << kResampleMaxCoeffs
       << ". Convert to (or from) a rate with a larger common divisor, e.g. 44100, 48000, 88200 or 96000 Hz, or "
          "resample in two steps through such a rate";
    throw std::invalid_argument(os.str());
  }
  d.taps_per_phase = static_cast<int>(taps);

  // The prototype at upsampled position u (taps (k - T/2) * L + p, |u| < W = L * T / 2), with the gain L of an
  // interpolator built in: h(u) = (2 fc / fs_in) * sinc(2 fc u / F) * kaiser(u / W). Evaluated on |u|, so
  // mirrored taps are the same doubles; phase L - p is phase p reversed.
  const std::int64_t big_t = taps;
  const std::int64_t half_width = static_cast<std::int64_t>(d.L) * big_t / 2;
  const double w = static_cast<double>(half_width);
  const double beta = d.kaiser_beta;
  const double i0_beta = bessel_i0(beta);
  const double gain = 2.0 * d.cutoff_hz / fs_in;
  const double omega = 2.0 * d.cutoff_hz / rate_up;  // sinc argument per upsampled sample
  const double pi = std::numbers::pi;
  auto proto = [&](std::int64_t u) {
    const std::int64_t v = u < 0 ? -u : u;
    if (v >= half_width) return 0.0;
    const double r = static_cast<double>(v) / w;
    const double win = bessel_i0(beta * std::sqrt((1.0 - r) * (1.0 + r))) / i0_beta;
    const double arg = pi * omega * static_cast<double>(v);
    const double sinc = v == 0 ? 1.0 : std::sin(arg) / arg;
    return gain * sinc * win;
  };

  // Each phase is scaled so that its DC gain is exactly 1 in double (the sum of its taps), so DC and very low
  // frequencies are interpolated without a ripple pattern of period L. By Poisson summation a phase's DC gain is
  // 1 + (the prototype's response at multiples of fs_in, all in the stopband) / L, so the factors are 1 within the
  // stopband level (measured |sum - 1| <= 5.4e-8 at 96k -> 44.1k, 44.1k -> 48k, 384k -> 8k) and the passband (the
  // prototype's response, flat within ~3e-6 dB by the Kaiser design) moves by < 1e-6 dB.
  // Phase L - p reuses the factor of phase p, which keeps the table exactly symmetric.
  d.coeffs.assign(static_cast<std::size_t>(total), 0.0f);
  const std::int64_t phases = d.L;
  // Isolated: resample_design runs this under its cache mutex, and a thread waiting inside a plain parallel_for
  // may pick up an unrelated outer task that calls resample_design again (self-deadlock on the mutex).
  using Range = tbb::blocked_range<std::int64_t>;
  tbb::this_task_arena::isolate([&] {
    tbb::parallel_for(Range(0, phases / 2 + 1), [&](const Range& r) {
      std::vector<double> h(static_cast<std::size_t>(big_t));
      for (std::int64_t p = r.begin(); p != r.end(); ++p) {
        double sum = 0.0;
        for (std::int64_t k = 0; k < big_t; ++k) {
          h[static_cast<std::size_t>(k)] = proto((k - big_t / 2) * phases + p);
          sum += h[static_cast<std::size_t>(k)];
        }
        const double scale = 1.0 / sum;
        for (std::int64_t k = 0; k < big_t; ++k)
          d.coeffs[static_cast<std::size_t>(p * big_t + k)] =
              static_cast<float>(h[static_cast<std::size_t>(k)] * scale);
        // The mirror phase: h[(L-p)*T + k] = h[p*T + T-1-k].
        const std::int64_t q = phases - p;
        if (p > 0 && q != p && q < phases)
          for (std::int64_t k = 0; k < big_t; ++k)
            d.coeffs[static_cast<std::size_t>(q * big_t + k)] =
                static_cast<float>(h[static_cast<std::size_t>(big_t - 1 - k)] * scale);
      }
    });
  });
  return d;
}

const ResampleDesign& resample_design(int rate_in, int rate_out) {
  static std::mutex mutex;
  static std::map<std::pair<int, int>, std::unique_ptr<const ResampleDesign>> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find({rate_in, rate_out});
  if (it != cache.end()) return *it->second;
  // Designing under the lock keeps one design per pair; a design takes milliseconds for common pairs.
  auto design = std::make_unique<const ResampleDesign>(make_resample_design(rate_in, rate_out));
  const ResampleDesign& ref = *design;
  cache.emplace(std::make_pair(rate_in, rate_out), std::move(design));
  return ref;
}

std::vector<float> resample_channel(const ResampleDesign& design, const float* x, std::int64_t n_in) {
  if (n_in < 0) throw std::invalid_argument("resample_channel: negative input length " + std::to_string(n_in));
  const kernels::resample::ResampleTable t = design.table();
  const std::int64_t n_out = kernels::resample::output_frames(t, n_in);
  std::vector<float> y(static_cast<std::size_t>(n_out));
  const std::int64_t chunks = (n_out + kResampleChunk - 1) / kResampleChunk;
  float* out = y.data();
  tbb::parallel_for(tbb::blocked_range<std::int64_t>(0, chunks, 1), [&](const tbb::blocked_range<std::int64_t>& r) {
    for (std::int64_t c = r.begin(); c != r.end(); ++c) {
      const std::int64_t begin = c * kResampleChunk;
      const std::int64_t end = std::min(begin + kResampleChunk, n_out);
      kernels::resample::resample_range(t, x, n_in, out + begin, begin, end);
    }
  });
  return y;
}

}  // namespace lathe::host::dsp
