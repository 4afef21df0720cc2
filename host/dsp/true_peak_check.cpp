#include "host/dsp/true_peak_check.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "host/dsp/kaiser.hpp"
#include "host/dsp/limiter.hpp"

namespace lathe::host::dsp {
namespace {

// A set of interpolation phases: phase p of point set k is sum_t c[t] * x[k + first + t] (in double, t
// ascending; samples outside [0, n) read as 0), and every point of set k lies between x[k-1] and x[k].
struct Interpolator {
  int first = 0;                              // offset of the first tap from k
  std::vector<std::vector<double>> phases;    // taps per phase
};

// Largest |value| of x at the points of set k. x[0] is frame x_begin of the track (0: the whole track is at x);
// the caller holds every frame of [k + first, k + first + taps) inside [0, n).
double interval_peak(const Interpolator& m, const float* x, std::int64_t n, std::int64_t k,
                     std::int64_t x_begin = 0) {
  double peak = 0.0;
  for (const auto& c : m.phases) {
    double acc = 0.0;
    for (std::size_t t = 0; t < c.size(); ++t) {
      const std::int64_t j = k + m.first + static_cast<std::int64_t>(t);
      if (j >= 0 && j < n) acc += c[t] * static_cast<double>(x[j - x_begin]);
    }
    peak = std::max(peak, std::abs(acc));
  }
  return peak;
}

// A long interpolator for the check of the frames that come near the ceiling: x8, 256 taps per phase, Kaiser
// beta 9, cutoff at the Nyquist frequency, in double. Flat to about 0.49 fs, where the limiter's 64-tap
// interpolator (flat to 0.47 fs) reads content just below the Nyquist frequency low (full-band noise, clipped
// inputs: up to 0.4 dB measured, bench/RESULTS.md). Phase p = 1 .. 7 interpolates (k - 1) + p/8.
const Interpolator& long_interp() {
  static const Interpolator li = [] {
    constexpr int kFactor = 8, kTaps = 256;
    constexpr double kPi = 3.14159265358979323846;
    constexpr double kBeta = 9.0;
    const double half = kTaps / 2.0;
    Interpolator l;
    l.first = -kTaps / 2;
    for (int p = 1; p < kFactor; ++p) {
      std::vector<double> c(static_cast<std::size_t>(kTaps));
      double sum = 0.0;
      for (int m = 0; m < kTaps; ++m) {
        // Offset of x[k - kTaps/2 + m] from the point (k - 1) + p / kFactor.
        const double d = m - half + 1.0 - static_cast<double>(p) / kFactor;
        const double u = d / (half + 1.0);
        const double w = dsp::bessel_i0(kBeta * std::sqrt(std::max(0.0, 1.0 - u * u))) / dsp::bessel_i0(kBeta);
        const double v = std::sin(kPi * d) / (kPi * d) * w;
        c[static_cast<std::size_t>(m)] = v;
        sum += v;
      }
      for (double& v : c) v /= sum;
      l.phases.push_back(std::move(c));
    }
    return l;
  }();
  return li;
}

// The short interpolators of common loudness meters, whose readings platforms see. On content in the last few
// percent below the Nyquist frequency they let images through and read above the true peak (bench/RESULTS.md:
// up to 0.25 dB on clipped and full-band material); the check holds a delivered track under the ceiling by their
// readings too.

// ITU-R BS.1770-4 Annex 2: x4, 48 taps as 4 phases of 12 (../shared/standards/LOUDNESS.md section 5), specified
// at 48 kHz and used by meters at x4 below 96 kHz. Its four phases interpolate k - 7/8, k - 5/8, k - 3/8, k - 1/8.
const Interpolator& bs1770_annex2() {
  static const Interpolator m = [] {
    const std::vector<double> p0 = {0.0017089843750,  0.0109863281250,  -0.0196533203125, 0.0332031250000,
                                    -0.0594482421875, 0.1373291015625,  0.9721679687500,  -0.1022949218750,
                                    0.0476074218750,  -0.0266113281250, 0.0148925781250,  -0.0083007812500};
    const std::vector<double> p1 = {-0.0291748046875, 0.0292968750000,  -0.0517578125000, 0.0891113281250,
                                    -0.1665039062500, 0.4650878906250,  0.7797851562500,  -0.2003173828125,
                                    0.1015625000000,  -0.0582275390625, 0.0330810546875,  -0.0189208984375};
    // The table's taps multiply x[n - t]; reversed here so that tap t multiplies x[k - 6 + t].
    Interpolator r;
    r.first = -6;
    for (const auto* ph : {&p0, &p1}) r.phases.emplace_back(ph->rbegin(), ph->rend());
    r.phases.push_back(p1);  // phase 2 is phase 1 reversed
    r.phases.push_back(p0);  // phase 3 is phase 0 reversed
    return r;
  }();
  return m;
}

// A 49-tap Hann-windowed sinc at x4 below 96 kHz and x2 below 192 kHz, the design libebur128 uses (and meters
// built on it: ffmpeg's ebur128 filter, loudness-scanner, r128gain). Prototype h[j] = sinc((j - 24) / F) *
// hann(j / 48); phase f (1 .. F-1) of output n is sum_q h[f + F q] x[n - q] and lies at n - 24/F + f/F.
const Interpolator* hann49(int rate_hz) {
  auto make = [](int factor) {
    constexpr double kPi = 3.14159265358979323846;
    constexpr int kTaps = 49;
    Interpolator r;
    const int centre = (kTaps - 1) / 2 / factor;  // output n lies at n - centre + f/F: set n = k - 1 + centre
    r.first = -1 + centre - (kTaps - 1) / factor;
    for (int f = 1; f < factor; ++f) {
      std::vector<double> taps;
      // q from its largest value down, so that tap t multiplies x[k + first + t].
      for (int q = (kTaps - 1 - f) / factor; q >= 0; --q) {
        const int j = f + factor * q;
        const double m = (static_cast<double>(j) - (kTaps - 1) / 2.0) / factor;
        const double sinc = std::sin(kPi * m) / (kPi * m);
        const double hann = 0.5 * (1.0 - std::cos(2.0 * kPi * j / (kTaps - 1)));
        taps.push_back(sinc * hann);
      }
      // Pad the short phases at the front so every phase starts at `first`.
      while (static_cast<int>(taps.size()) < (kTaps - 1) / factor + 1) taps.insert(taps.begin(), 0.0);
      r.phases.push_back(std::move(taps));
    }
    return r;
  };
  static const Interpolator x4 = make(4), x2 = make(2);
  if (rate_hz < 96000) return &x4;
  if (rate_hz < 192000) return &x2;
  return nullptr;  // such meters read the samples from 192 kHz up
}

}  // namespace

double long_interval_peak(const float* x, std::int64_t n, std::int64_t k) {
  return interval_peak(long_interp(), x, n, k);
}

// How far the delivered true peak is above `ceiling_db` (<= 0: not above). The largest of four readings:
//  - the limiter's own detector at 8 times the rate (64-tap interpolator and a parabolic refinement between grid
//    points: within 0.001 dB of a 16x reference on band-limited material), run with a threshold kMeterNearDb
//    under the ceiling so that it also finds every frame that comes near it;
//  - on the frames within kNearDb of the ceiling, the long interpolator above (content just below the Nyquist
//    frequency);
//  - on the frames within kMeterNearDb, the two common meters' interpolators (BS.1770 Annex 2, libebur128's
//    design). A meter that reads more than kMeterNearDb above the true peak is reading its own images of content
//    at the Nyquist frequency, not the audio.
// Frames whose neighbourhood cannot come near the ceiling are skipped by the detector, so a quiet track costs
// little; the longer interpolators run on a small share of the frames of a limited track.
// The whole-track function and TruePeakCheckStream run the same per-frame code (TruePeakPlan::range_peak) and take the
// max of the same readings; max is exact in any order, so any split of the frames gives the same value.
struct detail::TruePeakPlan {
  static constexpr double kNearDb = 0.5, kMeterNearDb = 1.5;
  const kernels::limiter::Interp* ip = nullptr;
  float meter_near = 0;
  double near = 0;
  const Interpolator* li = nullptr;
  std::vector<const Interpolator*> meters;
  std::int64_t back = 0, ahead = 0;  // frame i reads samples [i - back, i + ahead] (clipped to the track)

  TruePeakPlan(int rate_hz, double ceiling_db)
      : ip(&dsp::limiter_interp(8)),
        meter_near(static_cast<float>(std::pow(10.0, (ceiling_db - kMeterNearDb) / 20.0))),
        near(std::pow(10.0, (ceiling_db - kNearDb) / 20.0)),
        li(&long_interp()) {
    if (rate_hz < 96000) meters.push_back(&bs1770_annex2());
    if (const Interpolator* h = hann49(rate_hz)) meters.push_back(h);
    back = ahead = ip->taps / 2;  // the detector (kernels/limiter.hpp frame_peak)
    std::vector<const Interpolator*> all = meters;
    all.push_back(li);
    for (const Interpolator* m : all) {
      std::size_t len = 0;
      for (const auto& c : m->phases) len = std::max(len, c.size());
      back = std::max<std::int64_t>(back, -m->first);
      ahead = std::max<std::int64_t>(ahead, m->first + static_cast<std::int64_t>(len) - 1);
    }
  }

  // The largest reading over frames [b, e) of a track of `frames` frames; ch[c][0] is frame x_begin, and the
  // caller holds frames [b - back, e + ahead] of [0, frames). g: scratch for e - b values.
  double range_peak(std::span<const float* const> ch, std::int64_t frames, std::int64_t b, std::int64_t e,
                    std::int64_t x_begin, float* g) const {
    dsp::limiter_detect(*ip, meter_near, ch, frames, b, e, g, x_begin, b);
    double peak = 0.0;
    for (std::int64_t i = b; i < e; ++i) {
      const float gi = g[i - b];
      if (!(gi < 1.0f)) continue;
      const double reading = static_cast<double>(meter_near) / static_cast<double>(gi);  // the detector's
      peak = std::max(peak, reading);
      // Frame i covers the interval before it and, for the last frame, the one after it.
      const bool last = i + 1 == frames;
      for (const float* x : ch) {
        for (const Interpolator* m : meters) {
          peak = std::max(peak, interval_peak(*m, x, frames, i, x_begin));
          if (last) peak = std::max(peak, interval_peak(*m, x, frames, frames, x_begin));
        }
        if (reading < near) continue;
        peak = std::max(peak, interval_peak(*li, x, frames, i, x_begin));
        if (last) peak = std::max(peak, interval_peak(*li, x, frames, frames, x_begin));
      }
    }
    return peak;
  }
};

namespace {
double over_db(double peak, double ceiling_db) {
  if (!(peak > 0.0)) return -std::numeric_limits<double>::infinity();
  return 20.0 * std::log10(peak) - ceiling_db;
}
}  // namespace

double over_ceiling_db(const std::vector<std::vector<float>>& audio, int rate_hz, double ceiling_db) {
  const std::int64_t frames = audio.empty() ? 0 : static_cast<std::int64_t>(audio[0].size());
  if (frames == 0) return -std::numeric_limits<double>::infinity();
  const detail::TruePeakPlan plan(rate_hz, ceiling_db);
  std::vector<const float*> ch;
  for (const auto& c : audio) ch.push_back(c.data());
  std::vector<float> g(static_cast<std::size_t>(frames));
  const std::int64_t chunks = (frames + dsp::kLimiterChunk - 1) / dsp::kLimiterChunk;
  std::vector<double> chunk_peak(static_cast<std::size_t>(chunks), 0.0);
  tbb::parallel_for(std::int64_t{0}, chunks, [&](std::int64_t k) {
    const std::int64_t b = k * dsp::kLimiterChunk, e = std::min(frames, b + dsp::kLimiterChunk);
    chunk_peak[static_cast<std::size_t>(k)] = plan.range_peak(ch, frames, b, e, 0, g.data() + b);
  });
  return over_db(*std::max_element(chunk_peak.begin(), chunk_peak.end()), ceiling_db);
}

TruePeakCheckStream::TruePeakCheckStream(int rate_hz, int channels, double ceiling_db, std::int64_t total_frames)
    : plan_(std::make_unique<const detail::TruePeakPlan>(rate_hz, ceiling_db)),
      ceiling_db_(ceiling_db),
      total_(total_frames),
      x_(static_cast<std::size_t>(std::max(channels, 0))) {
  if (channels < 0) throw std::invalid_argument("true-peak check: negative channel count");
  if (total_frames < 0) throw std::invalid_argument("true-peak check: negative frame count");
}

TruePeakCheckStream::~TruePeakCheckStream() = default;
TruePeakCheckStream::TruePeakCheckStream(TruePeakCheckStream&&) noexcept = default;
TruePeakCheckStream& TruePeakCheckStream::operator=(TruePeakCheckStream&&) noexcept = default;

void TruePeakCheckStream::push(std::span<const float* const> in, std::int64_t frames) {
  if (in.size() != x_.size()) throw std::invalid_argument("true-peak check: wrong channel count");
  if (frames < 0 || frames > total_ - received_)
    throw std::invalid_argument("true-peak check: " + std::to_string(frames) + " frames pushed, " +
                                std::to_string(total_ - received_) + " expected at most");
  if (frames == 0) return;
  // Append to the window (x_[c][0] is frame x_begin_).
  for (std::size_t c = 0; c < x_.size(); ++c) x_[c].insert(x_[c].end(), in[c], in[c] + frames);
  received_ += frames;
  // Frame i is final once its readings' samples up to i + ahead are here (or the track is complete).
  const std::int64_t ready = received_ == total_ ? total_ : std::max<std::int64_t>(done_, received_ - plan_->ahead);
  if (ready > done_ && !x_.empty()) {
    std::vector<const float*> ch;
    for (const auto& c : x_) ch.push_back(c.data());
    const std::int64_t count = ready - done_;
    std::vector<float> g(static_cast<std::size_t>(count));
    const std::int64_t chunks = (count + dsp::kLimiterChunk - 1) / dsp::kLimiterChunk;
    std::vector<double> chunk_peak(static_cast<std::size_t>(chunks), 0.0);
    auto one = [&](std::int64_t k) {
      const std::int64_t b = done_ + k * dsp::kLimiterChunk, e = std::min(ready, b + dsp::kLimiterChunk);
      chunk_peak[static_cast<std::size_t>(k)] = plan_->range_peak(ch, total_, b, e, x_begin_, g.data() + (b - done_));
    };
    if (chunks == 1) {
      one(0);
    } else {
      tbb::parallel_for(std::int64_t{0}, chunks, one);
    }
    for (double v : chunk_peak) peak_ = std::max(peak_, v);
  }
  done_ = std::max(done_, ready);
  // Keep what the next frames read: from done_ - back on.
  const std::int64_t keep_from = std::min(received_, std::max<std::int64_t>(0, done_ - plan_->back));
  if (keep_from > x_begin_) {
    for (auto& c : x_) c.erase(c.begin(), c.begin() + (keep_from - x_begin_));
    x_begin_ = keep_from;
  }
}

double TruePeakCheckStream::over_ceiling_db() const {
  if (received_ != total_)
    throw std::logic_error("true-peak check: " + std::to_string(received_) + " of " + std::to_string(total_) +
                           " frames pushed");
  if (total_ == 0 || x_.empty()) return -std::numeric_limits<double>::infinity();
  return over_db(peak_, ceiling_db_);
}

}  // namespace lathe::host::dsp
