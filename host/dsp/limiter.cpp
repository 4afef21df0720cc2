// True-peak limiter: design (double, rounded once) and the CPU driver of kernels/limiter.hpp. See limiter.hpp.
#include "host/dsp/limiter.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>

#include "host/dsp/kaiser.hpp"
#include "host/util/cpu_features.hpp"

namespace lathe::host::dsp {

namespace kl = lathe::kernels::limiter;

namespace {

constexpr double kPi = 3.14159265358979323846264338327950288;

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// Phase p of `factor`: c[m] multiplies x[k - T/2 + m] for the value at (k - 1) + p / factor, i.e. at offset
// m - T/2 + 1 - p / factor from the sample. Kaiser-windowed sinc with cutoff at the input Nyquist frequency,
// normalised to unit DC gain, then rounded to float.
std::unique_ptr<kl::Interp> design_interp(int factor) {
  auto ip = std::make_unique<kl::Interp>();
  *ip = kl::Interp{};
  ip->factor = factor;
  ip->taps = kLimiterTaps;
  const int taps = kLimiterTaps;
  const double half = taps / 2.0;
  const double i0b = bessel_i0(kLimiterKaiserBeta);
  double worst_abs_sum = 1.0;
  for (int p = 1; p < factor; ++p) {
    std::array<double, kl::kMaxTaps> c{};
    double sum = 0.0;
    for (int m = 0; m < taps; ++m) {
      const double off = m - half + 1.0 - static_cast<double>(p) / factor;
      const double u = off / half;
      const double w = std::abs(u) >= 1.0 ? 0.0 : bessel_i0(kLimiterKaiserBeta * std::sqrt(1.0 - u * u)) / i0b;
      c[static_cast<std::size_t>(m)] = std::sin(kPi * off) / (kPi * off) * w;
      sum += c[static_cast<std::size_t>(m)];
    }
    double abs_sum = 0.0;
    for (int m = 0; m < taps; ++m) {
      const float v = static_cast<float>(c[static_cast<std::size_t>(m)] / sum);
      ip->c[(p - 1) * taps + m] = v;
      abs_sum += std::abs(static_cast<double>(v));
    }
    worst_abs_sum = std::max(worst_abs_sum, abs_sum);
  }
  // A bound on |refined peak| / max|input| with room for float rounding of the sums (64 terms: < 1e-5 relative).
  ip->bound = std::nextafter(static_cast<float>(kl::kRefineMaxGain * worst_abs_sum * (1.0 + 1e-4)),
                             std::numeric_limits<float>::infinity());
  return ip;
}

// ---- per-sample kernels: baseline x86-64 and, selected at run time, AVX2 without FMA --------------------------
// The same kernels/limiter.hpp function compiled twice (flatten inlines the whole call tree); the build has
// -ffp-contract=off and target("avx2") does not enable FMA, so both perform the same IEEE operations in the
// same order and give identical bits (tests compare them). Only the vector width differs.
// x_begin / g_begin: the window offsets of kl::detect_range (0 for a whole track).
void detect_base(const kl::Interp& ip, float ceiling, const float* const* ch, int nch, std::int64_t n,
                 std::int64_t begin, std::int64_t end, float* g, std::int64_t x_begin, std::int64_t g_begin) {
  kl::detect_range(ip, ceiling, ch, nch, n, begin, end, g, x_begin, g_begin);
}
#if defined(LATHE_HAVE_AVX2_PATHS)
__attribute__((target("avx2"), flatten)) void detect_avx2(const kl::Interp& ip, float ceiling,
                                                          const float* const* ch, int nch, std::int64_t n,
                                                          std::int64_t begin, std::int64_t end, float* g,
                                                          std::int64_t x_begin, std::int64_t g_begin) {
  kl::detect_range(ip, ceiling, ch, nch, n, begin, end, g, x_begin, g_begin);
}
#endif
void run_detect(const kl::Interp& ip, float ceiling, const float* const* ch, int nch, std::int64_t n,
                std::int64_t begin, std::int64_t end, float* g, std::int64_t x_begin = 0,
                std::int64_t g_begin = 0) {
#if defined(LATHE_HAVE_AVX2_PATHS)
  if (cpu_has_avx2()) return detect_avx2(ip, ceiling, ch, nch, n, begin, end, g, x_begin, g_begin);
#endif
  detect_base(ip, ceiling, ch, nch, n, begin, end, g, x_begin, g_begin);
}

}  // namespace

// One chunk's statistics, fed in order (possibly in several pieces: the streaming accumulator splits chunks at
// segment boundaries); the same operations in the same order however the chunk is fed.
void GainStatsAccumulator::ChunkState::add(const float* gain, std::int64_t count) {
  // The sum of -20 log10(a) over the active frames, as the logarithm of their product: powers of two move into
  // an exponent every 32 factors, or sooner when the product gets small (any float a > 0 keeps it far from
  // underflow), so one logarithm serves a whole chunk.
  for (std::int64_t i = 0; i < count; ++i) {
    const float a = gain[i];
    min_gain = std::min(min_gain, a);
    const double ad = static_cast<double>(a);
    if (ad <= active_gain && ad > 0.0) {
      active += 1;
      above_1db += ad < one_db ? 1 : 0;
      product *= ad;
      if (++pending == 32 || product < 1e-200) {
        int e2 = 0;
        product = std::frexp(product, &e2);
        exponent += e2;
        pending = 0;
      }
    }
  }
  frames += count;
}

GainStatsAccumulator::ChunkStats GainStatsAccumulator::ChunkState::result() const {
  return ChunkStats{min_gain, active, above_1db,
                    -20.0 * (std::log10(product) + static_cast<double>(exponent) * 0.30102999566398119521)};
}

GainStatsAccumulator::GainStatsAccumulator(int rate_hz)
    : one_db_(std::pow(10.0, -1.0 / 20.0)), active_gain_(std::pow(10.0, -kLimiterActiveDb / 20.0)) {
  part_ = fresh_chunk();
  if (rate_hz > 0)
    envelope_frames_ = std::max<std::int64_t>(1, std::llround(kGainEnvelopeStepS * static_cast<double>(rate_hz)));
}

GainStatsAccumulator::ChunkState GainStatsAccumulator::fresh_chunk() const {
  ChunkState s;
  s.one_db = one_db_;
  s.active_gain = active_gain_;
  return s;
}

void GainStatsAccumulator::combine(ChunkStats& t, const ChunkStats& s) {
  t.min_gain = std::min(t.min_gain, s.min_gain);
  t.active += s.active;
  t.above_1db += s.above_1db;
  t.sum_db += s.sum_db;
}

void GainStatsAccumulator::add(std::span<const float> gain) {
  const float* a = gain.data();
  auto left = static_cast<std::int64_t>(gain.size());
  frames_ += left;
  // The envelope: steps counted from the first frame, whatever the pieces (a minimum is exact in any order).
  for (std::int64_t i = 0; i < left && envelope_frames_ > 0;) {
    if (envelope_fill_ == 0) envelope_.push_back(1.0f);
    const std::int64_t k = std::min(left - i, envelope_frames_ - envelope_fill_);
    envelope_.back() = std::min(envelope_.back(), *std::min_element(a + i, a + i + k));
    envelope_fill_ = (envelope_fill_ + k) % envelope_frames_;
    i += k;
  }
  // Complete the chunk in progress.
  if (part_.frames > 0) {
    const std::int64_t k = std::min(left, kLimiterChunk - part_.frames);
    part_.add(a, k);
    a += k;
    left -= k;
    if (part_.frames < kLimiterChunk) return;
    combine(total_, part_.result());
    part_ = fresh_chunk();
  }
  // Whole chunks: independent, in parallel, combined in order.
  const std::int64_t whole = left / kLimiterChunk;
  if (whole > 0) {
    std::vector<ChunkStats> parts(static_cast<std::size_t>(whole));
    auto one = [&](std::int64_t c) {
      ChunkState s = fresh_chunk();
      s.add(a + c * kLimiterChunk, kLimiterChunk);
      parts[static_cast<std::size_t>(c)] = s.result();
    };
    if (whole == 1) {
      one(0);
    } else {
      tbb::parallel_for(std::int64_t{0}, whole, one);
    }
    for (const ChunkStats& s : parts) combine(total_, s);
    a += whole * kLimiterChunk;
    left -= whole * kLimiterChunk;
  }
  // The start of the next chunk.
  if (left > 0) part_.add(a, left);
}

LimiterResult GainStatsAccumulator::result(int rate_hz) const {
  LimiterResult res;
  if (frames_ == 0) return res;
  ChunkStats t = total_;
  if (part_.frames > 0) combine(t, part_.result());  // the last chunk, partial
  const double fs = static_cast<double>(rate_hz);
  res.max_gain_reduction_db = t.min_gain < 1.0f ? -20.0 * std::log10(static_cast<double>(t.min_gain)) : 0.0;
  res.mean_gain_reduction_db = t.active > 0 ? t.sum_db / static_cast<double>(t.active) : 0.0;
  res.seconds_above_1db = static_cast<double>(t.above_1db) / fs;
  res.seconds_active = static_cast<double>(t.active) / fs;
  if (envelope_frames_ > 0) {
    res.envelope = envelope_;
    res.envelope_step_s = static_cast<double>(envelope_frames_) / fs;
  }
  return res;
}

void validate(const LimiterParams& p) {
  if (!(p.ceiling_dbtp <= 0.0 && p.ceiling_dbtp >= -20.0))
    throw std::invalid_argument("limiter: ceiling_dbtp " + num(p.ceiling_dbtp) +
                                " is outside -20 .. 0 dBTP (a ceiling above 0 dBTP would clip)");
  if (!(p.lookahead_ms > 0.0 && p.lookahead_ms <= 100.0))
    throw std::invalid_argument("limiter: lookahead_ms " + num(p.lookahead_ms) +
                                " is outside (0, 100] ms");
  if (!(p.release_ms >= 1.0 && p.release_ms <= 5000.0))
    throw std::invalid_argument("limiter: release_ms " + num(p.release_ms) + " is outside 1 .. 5000 ms");
  if (p.oversampling != 0 && p.oversampling != 4 && p.oversampling != 8 && p.oversampling != 16)
    throw std::invalid_argument("limiter: oversampling " + std::to_string(p.oversampling) +
                                " is not one of 0 (auto), 4, 8, 16");
}

int limiter_oversampling(const LimiterParams& p, int rate_hz) {
  if (p.oversampling != 0) return p.oversampling;
  for (int f : {4, 8, 16})
    if (static_cast<double>(rate_hz) * f >= kLimiterMinRateForFactor) return f;
  return 16;
}

const kl::Interp& limiter_interp(int factor) {
  if (factor != 4 && factor != 8 && factor != 16)
    throw std::invalid_argument("limiter: no interpolator for oversampling " + std::to_string(factor));
  static std::once_flag once;
  static std::unique_ptr<kl::Interp> designs[3];
  std::call_once(once, [] {
    designs[0] = design_interp(4);
    designs[1] = design_interp(8);
    designs[2] = design_interp(16);
  });
  return *designs[factor == 4 ? 0 : (factor == 8 ? 1 : 2)];
}

LimiterDesign limiter_design(const LimiterParams& p, int rate_hz, double margin_db) {
  validate(p);
  if (rate_hz < kLimiterMinRateHz || rate_hz > kLimiterMaxRateHz)
    throw std::invalid_argument("limiter: sample rate " + std::to_string(rate_hz) + " Hz is outside " +
                                std::to_string(kLimiterMinRateHz) + " .. " + std::to_string(kLimiterMaxRateHz) +
                                " Hz");
  if (!(margin_db >= 0.0 && margin_db <= 3.0))
    throw std::invalid_argument("limiter: margin " + num(margin_db) + " dB is outside 0 .. 3 dB");
  LimiterDesign d;
  d.factor = limiter_oversampling(p, rate_hz);
  d.interp = &limiter_interp(d.factor);
  d.ceiling = static_cast<float>(std::pow(10.0, (p.ceiling_dbtp - margin_db) / 20.0));
  const double fs = static_cast<double>(rate_hz);
  d.shape.lookahead = std::max<std::int64_t>(1, std::llround(p.lookahead_ms * fs / 1000.0));
  d.shape.guard = d.interp->taps / 2;
  auto coef = [fs](double ms) { return std::exp(-1000.0 / (ms * fs)); };
  if (p.auto_release) {
    d.release.fast = coef(p.release_ms * kAutoFastRatio);
    d.release.slow = coef(p.release_ms * kAutoSlowRatio);
    d.release.charge = 1.0 - coef(p.release_ms * kAutoChargeRatio);
  } else {
    d.release.fast = coef(p.release_ms);
    d.release.slow = 0.0;
    d.release.charge = 0.0;
  }
  d.linked = p.linked;
  return d;
}

void limiter_detect(const kl::Interp& ip, float ceiling, std::span<const float* const> channels, std::int64_t frames,
                    std::int64_t begin, std::int64_t end, float* g) {
  run_detect(ip, ceiling, channels.data(), static_cast<int>(channels.size()), frames, begin, end, g);
}

void limiter_detect(const kl::Interp& ip, float ceiling, std::span<const float* const> channels, std::int64_t frames,
                    std::int64_t begin, std::int64_t end, float* g, std::int64_t x_begin, std::int64_t g_begin) {
  run_detect(ip, ceiling, channels.data(), static_cast<int>(channels.size()), frames, begin, end, g, x_begin,
             g_begin);
}

LimiterResult gain_reduction_stats(std::span<const float> gain, int rate_hz) {
  // One definition of the chunked statistics: the streaming accumulator fed the whole curve at once.
  GainStatsAccumulator acc(rate_hz);
  acc.add(gain);
  return acc.result(rate_hz);
}

LimiterResult limit_track(const LimiterParams& p, int rate_hz, std::span<float* const> channels,
                          std::int64_t frames, bool keep_gain_curve) {
  return limit_track(limiter_design(p, rate_hz), rate_hz, channels, frames, keep_gain_curve);
}

LimiterResult limit_track(const LimiterDesign& d, int rate_hz, std::span<float* const> channels,
                          std::int64_t frames, bool keep_gain_curve) {
  if (d.interp == nullptr) throw std::invalid_argument("limiter: empty design");
  if (frames < 0) throw std::invalid_argument("limiter: negative frame count " + std::to_string(frames));
  for (float* c : channels)
    if (c == nullptr && frames > 0) throw std::invalid_argument("limiter: null channel pointer");
  if (frames == 0 || channels.empty()) return LimiterResult{};

  const std::int64_t n = frames;
  const kl::Shape shape = d.shape;
  const std::int64_t la = shape.lookahead;
  const std::int64_t w = kl::hold_window(shape);
  const auto nch = static_cast<int>(channels.size());
  const auto un = static_cast<std::size_t>(n);

  std::vector<float> g(un);                            // required gain, then prefix minima, then the gain a
  std::vector<float> suf(un);                          // suffix minima
  std::vector<float> r(un + static_cast<std::size_t>(la));  // hold, then release (extended track)
  std::vector<float> amin;                             // unlinked: per frame the smallest gain
  if (!d.linked) amin.assign(un, 1.0f);

  const int groups = d.linked ? 1 : nch;
  const int per_group = d.linked ? nch : 1;
  for (int grp = 0; grp < groups; ++grp) {
    float* const* gch = channels.data() + (d.linked ? 0 : grp);
    std::vector<const float*> src(gch, gch + per_group);

    // 1. required gain per frame
    for_limiter_chunks(n, [&](std::int64_t b, std::int64_t e) {
      run_detect(*d.interp, d.ceiling, src.data(), per_group, n, b, e, g.data());
    });
    // 2. hold: block minima (whole blocks per task), then the window minimum over the extended track
    const std::int64_t blocks = (n + w - 1) / w;
    const std::int64_t per_task = std::max<std::int64_t>(1, kLimiterChunk / w);
    tbb::parallel_for(std::int64_t{0}, (blocks + per_task - 1) / per_task, [&](std::int64_t t) {
      kl::block_minima(g.data(), suf.data(), n, w, t * per_task, std::min(blocks, (t + 1) * per_task));
    });
    for_limiter_chunks(n + la, [&](std::int64_t b, std::int64_t e) {
      kl::hold_range(g.data(), suf.data(), n, shape, b - la, e - la, r.data());
    });
    // 3. release, in order
    kl::ReleaseState st = kl::release_init();
    kl::release_range(st, d.release, r.data(), n + la);
    // 4. smoothing into g (free again), 5. gain
    for_limiter_chunks(n, [&](std::int64_t b, std::int64_t e) {
      kl::smooth_range(r.data(), shape, b, e, g.data());
      for (int c = 0; c < per_group; ++c) kl::apply_range(gch[c], g.data(), b, e);
      if (!d.linked) {
        for (std::int64_t i = b; i < e; ++i) {
          const auto ui = static_cast<std::size_t>(i);
          amin[ui] = std::min(amin[ui], g[ui]);
        }
      }
    });
  }

  std::vector<float>& curve = d.linked ? g : amin;
  LimiterResult res = gain_reduction_stats(curve, rate_hz);
  if (keep_gain_curve) res.gain = std::move(curve);
  return res;
}

}  // namespace lathe::host::dsp
