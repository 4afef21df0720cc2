// Loudness meter and quality checks: the per-sample arithmetic (ITU-R BS.1770-4/-5, EBU Tech 3341/3342).
//
// Every function here processes one segment of one channel (or of a stereo pair) and carries a small POD state
// from segment to segment, so the result never depends on where a track is cut: feeding it in any segment sizes
// gives the same bits. The host (host/meter/meter.cpp) designs the coefficients in double, rounds them once and
// drives these functions on the CPU; a device engine can run the very same functions (one thread per channel for
// the recurrences; the true-peak pass may be cut into chunks anywhere, since max and counts are order free).
//
// What is computed here, per channel:
//  - K-weighting: the BS.1770 shelf and high-pass biquads in series, direct form I, in double with double state.
//  - Squared K-weighted samples summed (double, in sample order) into 10 ms bins: bin k covers the samples
//    [floor(k*rate/100), floor((k+1)*rate/100)), so bins never drift at rates such as 11025 or 22050 Hz.
//  - Sample peak, DC sum, runs of >= 3 samples on the same full-scale rail (state carried across segments),
//    first/last sample above -60 dBFS.
//  - Stereo pairs additionally: the per-bin sum of K(L)*K(R) (for the mono fold-down) and the raw sums of
//    L*R, L^2, R^2 (correlation). The pair function performs exactly the per-channel operations of the
//    single-channel function, so a channel's bins are the same bits whichever of the two measured it.
//  - True peak: polyphase interpolation (x4 below 96 kHz, x2 below 192 kHz, none above) with float taps and
//    float accumulation in a fixed order; the largest |value| and the count of interpolated values above 1.0.
//  - Non-finite samples: counted, and replaced by 0 (sanitize_segment) before any other measure sees them.
//
// No libm, no allocation, no exceptions: + - * / and comparisons only.
#pragma once

#include "kernels/hd.hpp"

namespace lathe::kernels::meter {

// ---- constants ---------------------------------------------------------------------------------------------------
constexpr int kBinsPerSecond = 100;                 // 10 ms bins
constexpr int kTpMaxTaps = 32;                      // taps per phase of the true-peak interpolator, at most
constexpr int kTpMaxFactor = 4;                     // oversampling factor, at most
constexpr float kSilenceThreshold = 0.001f;         // -60 dBFS: "above" means |x| > this
// Recursive-filter states below this magnitude are set to zero at each bin end (10 ms): their contribution is
// far below anything measurable, and it keeps a decaying filter out of the (slow) subnormal range on the CPU.
constexpr double kStateFlush = 1e-200;

// ---- small helpers -----------------------------------------------------------------------------------------------
LATHE_HD inline float abs_f(float v) { return v < 0.0f ? -v : v; }
LATHE_HD inline double abs_d(double v) { return v < 0.0 ? -v : v; }
LATHE_HD inline double flush_tiny(double v) { return abs_d(v) < kStateFlush ? 0.0 : v; }

// First sample of 10 ms bin k at `rate_hz`: floor(k * rate / 100).
LATHE_HD inline std::int64_t bin_start(std::int64_t k, int rate_hz) {
  return (k * static_cast<std::int64_t>(rate_hz)) / kBinsPerSecond;
}
// Number of bins complete once `samples` samples have been seen: the largest k with bin_start(k) <= samples.
LATHE_HD inline std::int64_t bins_complete(std::int64_t samples, int rate_hz) {
  return (samples * kBinsPerSecond + kBinsPerSecond - 1) / static_cast<std::int64_t>(rate_hz);
}

// ---- non-finite samples -----------------------------------------------------------------------------------------
// x - x is 0 for every finite x and NaN for NaN and +-Inf.
LATHE_HD inline bool is_finite(float x) { return (x - x) == 0.0f; }

LATHE_HD inline std::int64_t count_nonfinite(const float* x, std::int64_t n) {
  std::int64_t c = 0;
  for (std::int64_t i = 0; i < n; ++i) c += is_finite(x[i]) ? 0 : 1;
  return c;
}
// out[i] = x[i] where finite, else 0 (the meter measures a non-finite sample as silence and counts it).
LATHE_HD inline void sanitize_segment(const float* x, float* out, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = is_finite(x[i]) ? x[i] : 0.0f;
}

// ---- K-weighting ------------------------------------------------------------------------------------------------
// Shelf: b0 b1 b2 / 1 a1 a2. High-pass: 1 -2 1 / 1 a1 a2 (libebur128's unnormalised numerator, LOUDNESS.md 1).
struct KWeightCoeffs {
  double sb0, sb1, sb2, sa1, sa2;
  double ha1, ha2;
};

// Direct form I: x = input, y = shelf output, z = high-pass output (the K-weighted sample).
struct KWeightState {
  double x1, x2, y1, y2, z1, z2;
};

// One K-weighted sample. The sums are written so that the loop-carried chain is one multiply and one subtract
// (the y[n-2] and z[n-2] terms are added before the y[n-1] / z[n-1] term).
LATHE_HD inline double kweight_step(KWeightState& s, const KWeightCoeffs& k, double x) {
  const double y = (k.sb0 * x + k.sb1 * s.x1 + k.sb2 * s.x2 - k.sa2 * s.y2) - k.sa1 * s.y1;
  const double z = (y - 2.0 * s.y1 + s.y2 - k.ha2 * s.z2) - k.ha1 * s.z1;
  s.x2 = s.x1;
  s.x1 = x;
  s.y2 = s.y1;
  s.y1 = y;
  s.z2 = s.z1;
  s.z1 = z;
  return z;
}

LATHE_HD inline void kweight_flush(KWeightState& s) {
  s.x1 = flush_tiny(s.x1);
  s.x2 = flush_tiny(s.x2);
  s.y1 = flush_tiny(s.y1);
  s.y2 = flush_tiny(s.y2);
  s.z1 = flush_tiny(s.z1);
  s.z2 = flush_tiny(s.z2);
}

// ---- per-channel state ------------------------------------------------------------------------------------------
struct ChannelState {
  KWeightState kw;
  double bin_sum;               // sum of z^2 over the current (incomplete) bin
  std::int64_t bin_index;       // the current bin
  std::int64_t bin_end;         // its end: bin_start(bin_index + 1)
  std::int64_t position;        // samples consumed so far
  double dc_sum;                // sum of the samples
  float sample_peak;            // max |x|
  std::int32_t clip_rail;       // rail of the open run: +1, -1, or 0 (none)
  std::int64_t clip_len;        // length of the open run
  std::uint64_t clipped_runs;   // closed runs of >= 3 samples
  std::uint64_t clipped_samples;
  std::int64_t first_above;     // first sample index with |x| > -60 dBFS, -1 if none yet
  std::int64_t last_above;      // last such index, -1 if none
};

LATHE_HD inline ChannelState channel_init(int rate_hz) {
  ChannelState s{};
  s.bin_index = 0;
  s.bin_end = bin_start(1, rate_hz);
  s.first_above = -1;
  s.last_above = -1;
  return s;
}

// Statistics of one (finite) sample at stream index `idx`; `st` is a local copy (see channel_segment).
LATHE_HD inline void stats_step(ChannelState& st, float x, std::int64_t idx) {
  const float a = abs_f(x);
  st.sample_peak = a > st.sample_peak ? a : st.sample_peak;
  st.dc_sum += static_cast<double>(x);
  if (a > kSilenceThreshold) {
    if (st.first_above < 0) st.first_above = idx;
    st.last_above = idx;
  }
  const std::int32_t rail = (x >= 1.0f ? 1 : 0) - (x <= -1.0f ? 1 : 0);
  if (rail != st.clip_rail) {
    if (st.clip_rail != 0 && st.clip_len >= 3) {
      st.clipped_runs += 1;
      st.clipped_samples += static_cast<std::uint64_t>(st.clip_len);
    }
    st.clip_rail = rail;
    st.clip_len = 0;
  }
  st.clip_len += rail != 0 ? 1 : 0;
}

// Closes an open clipped run at the end of the track (the host calls it on a copy of the state in finish()).
LATHE_HD inline void channel_close(ChannelState& st) {
  if (st.clip_rail != 0 && st.clip_len >= 3) {
    st.clipped_runs += 1;
    st.clipped_samples += static_cast<std::uint64_t>(st.clip_len);
  }
  st.clip_rail = 0;
  st.clip_len = 0;
}

// Ends the current bin: emits its sum, moves to the next bin, flushes tiny filter states.
LATHE_HD inline void end_bin(ChannelState& st, int rate_hz) {
  st.bin_sum = 0.0;
  st.bin_index += 1;
  st.bin_end = bin_start(st.bin_index + 1, rate_hz);
  kweight_flush(st.kw);
}

// One segment of one channel (samples must be finite: see sanitize_segment). With `loudness` false (a channel
// of weight 0, such as LFE) only the statistics are computed and no bins are written. Writes the sums of the bins
// completed in this segment to bins_out (room for bins_complete(end) - bins_complete(start) values) and returns
// how many it wrote.
LATHE_HD inline std::int64_t channel_segment(ChannelState& state, const KWeightCoeffs& k, const float* x,
                                             std::int64_t n, int rate_hz, bool loudness, double* bins_out) {
  ChannelState st = state;  // a local copy keeps the loop's state in registers
  std::int64_t written = 0;
  std::int64_t i = 0;
  if (!loudness) {
    for (; i < n; ++i) stats_step(st, x[i], st.position + i);
    st.position += n;
    state = st;
    return 0;
  }
  while (i < n) {
    const std::int64_t to_end = st.bin_end - (st.position + i);
    const std::int64_t stop = (n - i) < to_end ? n : i + to_end;
    KWeightState kw = st.kw;
    double sum = st.bin_sum;
    for (; i < stop; ++i) {
      const float v = x[i];
      stats_step(st, v, st.position + i);
      const double z = kweight_step(kw, k, static_cast<double>(v));
      sum += z * z;
    }
    st.kw = kw;
    st.bin_sum = sum;
    if (st.position + i == st.bin_end) {
      bins_out[written++] = st.bin_sum;
      end_bin(st, rate_hz);
    }
  }
  st.position += n;
  state = st;
  return written;
}

// ---- stereo pair ------------------------------------------------------------------------------------------------
struct PairState {
  double cross_bin_sum;   // sum of K(L)*K(R) over the current bin
  double sum_lr, sum_ll, sum_rr;
};

// Both channels of a stereo pair in one loop: per channel exactly the operations of channel_segment (so the bins
// are identical), plus the cross-bin sums (to cross_out) and the correlation sums. Returns the bins written.
LATHE_HD inline std::int64_t pair_segment(ChannelState& left, ChannelState& right, PairState& pair,
                                          const KWeightCoeffs& k, const float* xl, const float* xr,
                                          std::int64_t n, int rate_hz, double* bins_l, double* bins_r,
                                          double* cross_out) {
  ChannelState sl = left;
  ChannelState sr = right;
  PairState sp = pair;
  std::int64_t written = 0;
  std::int64_t i = 0;
  while (i < n) {
    const std::int64_t to_end = sl.bin_end - (sl.position + i);
    const std::int64_t stop = (n - i) < to_end ? n : i + to_end;
    KWeightState kl = sl.kw;
    KWeightState kr = sr.kw;
    double suml = sl.bin_sum, sumr = sr.bin_sum, sumx = sp.cross_bin_sum;
    double slr = sp.sum_lr, sll = sp.sum_ll, srr = sp.sum_rr;
    for (; i < stop; ++i) {
      const float vl = xl[i];
      const float vr = xr[i];
      stats_step(sl, vl, sl.position + i);
      stats_step(sr, vr, sr.position + i);
      const double dl = static_cast<double>(vl);
      const double dr = static_cast<double>(vr);
      const double zl = kweight_step(kl, k, dl);
      const double zr = kweight_step(kr, k, dr);
      suml += zl * zl;
      sumr += zr * zr;
      sumx += zl * zr;
      slr += dl * dr;
      sll += dl * dl;
      srr += dr * dr;
    }
    sl.kw = kl;
    sr.kw = kr;
    sl.bin_sum = suml;
    sr.bin_sum = sumr;
    sp.cross_bin_sum = sumx;
    sp.sum_lr = slr;
    sp.sum_ll = sll;
    sp.sum_rr = srr;
    if (sl.position + i == sl.bin_end) {
      bins_l[written] = sl.bin_sum;
      bins_r[written] = sr.bin_sum;
      cross_out[written] = sp.cross_bin_sum;
      ++written;
      end_bin(sl, rate_hz);
      end_bin(sr, rate_hz);
      sp.cross_bin_sum = 0.0;
    }
  }
  sl.position += n;
  sr.position += n;
  left = sl;
  right = sr;
  pair = sp;
  return written;
}

// ---- true peak --------------------------------------------------------------------------------------------------
// Phases 1 .. factor-1 of the interpolator (phase 0 is the sample itself: the prototype is a Nyquist filter, so
// its phase-0 taps are exactly 0 .. 0 1 0 .. 0 and need no arithmetic). c[(p - 1) * taps + k] multiplies x[i - k]
// and gives the value at (i - taps/2) + p/factor, between samples i - taps/2 and i - taps/2 + 1.
struct TruePeakCoeffs {
  std::int32_t factor;  // 1, 2 or 4
  std::int32_t taps;    // per phase, even, <= kTpMaxTaps
  float gain;           // >= sum |c| of every phase, rounded up with a margin (see true_peak_run)
  float c[(kTpMaxFactor - 1) * kTpMaxTaps];
};

struct TruePeakState {
  float hist[kTpMaxTaps];   // the last taps - 1 samples, oldest first
  float peak;               // max |interpolated value| (phases 1 .. factor-1)
  std::uint64_t overs;      // interpolated values with |v| > 1.0
};

LATHE_HD inline TruePeakState true_peak_init() { return TruePeakState{}; }

// Interpolated values for the windows ending at w[0 .. count-1] (w[j - k] for k < taps must be readable).
// Outputs are grouped by 16 so that the vectoriser works across time; each output is still the same sum
// c[0]*w[j] + c[1]*w[j-1] + ... in that order, whatever the grouping.
// A group is skipped when no value in it can raise the peak or count as an over: |value| <= gain * max|w| over
// the group's inputs, where gain bounds sum |c| of every phase (with a margin for float rounding, set on the
// host). Skipped values are <= the running peak and <= 1.0, so the final peak and count are the same bits as
// without skipping, in any order and any chunking.
inline constexpr int kTpGroup = 16;  // outputs evaluated side by side by true_peak_run

// The end of a true_peak_run: windows i .. count-1 one at a time (fewer than a group), then the lanes' peaks
// (`pk`) and over counts (`ov`, kTpGroup each) merged into `peak` and `overs`. Shared by every runner.
LATHE_HD inline void true_peak_finish(const TruePeakCoeffs& tc, const float* w, std::int64_t i, std::int64_t count,
                                      float* pk, std::uint32_t* ov, float& peak, std::uint64_t& overs) {
  const int taps = tc.taps;
  for (; i < count; ++i) {
    for (int p = 1; p < tc.factor; ++p) {
      const float* c = tc.c + (p - 1) * taps;
      float acc = 0.0f;
      for (int kk = 0; kk < taps; ++kk) acc = acc + c[kk] * w[i - kk];
      const float a = abs_f(acc);
      pk[0] = a > pk[0] ? a : pk[0];
      ov[0] += a > 1.0f ? 1u : 0u;
    }
  }
  for (int j = 0; j < kTpGroup; ++j) {
    peak = pk[j] > peak ? pk[j] : peak;
    overs += ov[j];
  }
}

LATHE_HD inline void true_peak_run(const TruePeakCoeffs& tc, const float* w, std::int64_t count, float& peak,
                                   std::uint64_t& overs) {
  constexpr int kGroup = kTpGroup;
  const int taps = tc.taps;
  float pk[kGroup];
  std::uint32_t ov[kGroup];
  for (int j = 0; j < kGroup; ++j) {
    pk[j] = 0.0f;
    ov[j] = 0;
  }
  float running = peak;
  std::int64_t i = 0;
  for (; i + kGroup <= count; i += kGroup) {
    // max |w| over the group's inputs w[i - taps + 1 .. i + kGroup - 1], lane by lane in blocks of kGroup
    // (the last block may overlap the one before it; max is order free).
    float lm[kGroup];
    for (int j = 0; j < kGroup; ++j) lm[j] = 0.0f;
    for (std::int64_t m = i - taps + 1;; m += kGroup) {
      const std::int64_t b = m + kGroup <= i + kGroup ? m : i;
      for (int j = 0; j < kGroup; ++j) {
        const float a = abs_f(w[b + j]);
        lm[j] = a > lm[j] ? a : lm[j];
      }
      if (b == i) break;
    }
    for (int h = kGroup / 2; h > 0; h /= 2)
      for (int j = 0; j < h; ++j) lm[j] = lm[j + h] > lm[j] ? lm[j + h] : lm[j];
    const float bound = lm[0] * tc.gain;
    if (bound <= running && bound <= 1.0f) continue;
    if (tc.factor == 4) {
      // The three phases share their input loads; each output is still its own sum in tap order.
      const float* c1 = tc.c;
      const float* c2 = tc.c + taps;
      const float* c3 = tc.c + 2 * taps;
      float a1[kGroup], a2[kGroup], a3[kGroup];
      for (int j = 0; j < kGroup; ++j) {
        a1[j] = 0.0f;
        a2[j] = 0.0f;
        a3[j] = 0.0f;
      }
      for (int kk = 0; kk < taps; ++kk) {
        const float k1 = c1[kk], k2 = c2[kk], k3 = c3[kk];
        const float* src = w + i - kk;
        for (int j = 0; j < kGroup; ++j) {
          const float s = src[j];
          a1[j] = a1[j] + k1 * s;
          a2[j] = a2[j] + k2 * s;
          a3[j] = a3[j] + k3 * s;
        }
      }
      for (int j = 0; j < kGroup; ++j) {
        const float b1 = abs_f(a1[j]), b2 = abs_f(a2[j]), b3 = abs_f(a3[j]);
        float m = pk[j];
        m = b1 > m ? b1 : m;
        m = b2 > m ? b2 : m;
        m = b3 > m ? b3 : m;
        pk[j] = m;
        ov[j] += (b1 > 1.0f ? 1u : 0u) + (b2 > 1.0f ? 1u : 0u) + (b3 > 1.0f ? 1u : 0u);
      }
    } else {
      for (int p = 1; p < tc.factor; ++p) {
        const float* c = tc.c + (p - 1) * taps;
        float acc[kGroup];
        for (int j = 0; j < kGroup; ++j) acc[j] = 0.0f;
        for (int kk = 0; kk < taps; ++kk) {
          const float ck = c[kk];
          const float* src = w + i - kk;
          for (int j = 0; j < kGroup; ++j) acc[j] = acc[j] + ck * src[j];
        }
        for (int j = 0; j < kGroup; ++j) {
          const float a = abs_f(acc[j]);
          pk[j] = a > pk[j] ? a : pk[j];
          ov[j] += a > 1.0f ? 1u : 0u;
        }
      }
    }
    for (int j = 0; j < kGroup; ++j) running = pk[j] > running ? pk[j] : running;
  }
  true_peak_finish(tc, w, i, count, pk, ov, peak, overs);
}

// true_peak_run as a function object: the default runner of true_peak_segment_with.
struct TruePeakRun {
  LATHE_HD void operator()(const TruePeakCoeffs& tc, const float* w, std::int64_t count, float& peak,
                           std::uint64_t& overs) const {
    true_peak_run(tc, w, count, peak, overs);
  }
};

// Windows ending at samples [begin, end) of a segment x[0 .. n) that follows the history held in `st` (which is
// not changed): the first taps-1 windows of the segment reach into that history and are evaluated from a stitched
// copy of at most 2 * kTpMaxTaps samples; the rest read the segment directly. The largest value and the count
// of overs are accumulated into `peak` and `overs`. Since max and integer counts are order free and each output
// is the same sum whatever the range, any split of [0, n) into ranges gives the same final peak and count: a
// device engine runs the ranges side by side and merges them. `run` evaluates windows as true_peak_run does
// (the host may pass a vectorised copy that performs the same operations; see host/meter/meter.cpp).
template <class Run>
LATHE_HD inline void true_peak_range_with(const TruePeakState& st, const TruePeakCoeffs& tc, const float* x,
                                          std::int64_t begin, std::int64_t end, float& peak, std::uint64_t& overs,
                                          const Run& run) {
  if (tc.factor <= 1 || begin >= end) return;
  const std::int64_t h = tc.taps - 1;
  if (begin < h) {
    const std::int64_t head_end = end < h ? end : h;
    float stitched[2 * kTpMaxTaps];
    for (std::int64_t j = 0; j < h; ++j) stitched[j] = st.hist[j];
    for (std::int64_t j = 0; j < head_end; ++j) stitched[h + j] = x[j];
    run(tc, stitched + h + begin, head_end - begin, peak, overs);
    begin = head_end;
  }
  if (begin < end) run(tc, x + begin, end - begin, peak, overs);
}

// After a segment of n samples: the history becomes the last taps-1 samples of (old history, segment).
LATHE_HD inline void true_peak_advance(TruePeakState& st, const TruePeakCoeffs& tc, const float* x, std::int64_t n) {
  if (tc.factor <= 1 || n <= 0) return;
  const std::int64_t h = tc.taps - 1;
  // Index j + n of the concatenation; reads stay ahead of the writes (n >= 1), so in place is safe.
  for (std::int64_t j = 0; j < h; ++j) {
    const std::int64_t idx = j + n;
    st.hist[j] = idx < h ? st.hist[idx] : x[idx - h];
  }
}

// One whole segment of one channel (finite samples): every window, then the history.
template <class Run>
LATHE_HD inline void true_peak_segment_with(TruePeakState& st, const TruePeakCoeffs& tc, const float* x,
                                            std::int64_t n, const Run& run) {
  if (tc.factor <= 1 || n <= 0) return;
  float peak = st.peak;
  std::uint64_t overs = st.overs;
  true_peak_range_with(st, tc, x, 0, n, peak, overs, run);
  true_peak_advance(st, tc, x, n);
  st.peak = peak;
  st.overs = overs;
}

LATHE_HD inline void true_peak_segment(TruePeakState& st, const TruePeakCoeffs& tc, const float* x,
                                       std::int64_t n) {
  true_peak_segment_with(st, tc, x, n, TruePeakRun{});
}

}  // namespace lathe::kernels::meter
