// True-peak limiter: the per-sample arithmetic (oversampled detection, look-ahead hold, release, smoothing, gain).
//
// The limiter works on a whole track held in memory (planar float channels, n frames) and keeps its length and
// alignment: the gain of frame i multiplies frame i (no latency), because the hold looks ahead into the track
// that is already there. The host (host/dsp/limiter.cpp) designs every coefficient in double, rounds it once and
// drives these functions on the CPU; a device engine runs the very same functions. The work is five phases over
// index ranges [begin, end) of one track; every phase but the release is a pure function of its inputs at each
// index, so any split into chunks (any thread count, any device) gives the same bits. The detection functions
// also read a window of a track too long to hold (x_begin, see sample_at; host/dsp/limiter_stream.cpp):
//
//  1. detect_range   g[i] = required gain of frame i = min over channels of ceiling / max(peak_c(i), ceiling),
//                    so exactly 1.0f where the peak does not exceed the (detection) ceiling. peak_c(i) is the
//                    largest |value| of channel c at x[i] and at the oversampled points between x[i-1] and x[i]
//                    (for the last frame also between x[n-1] and x[n] = 0), samples outside [0, n) read as 0.
//                    The oversampled points come from a polyphase windowed-sinc interpolator (factor 4, 8 or 16,
//                    float taps, float sums in tap order) and the peak between two grid points is refined by a
//                    parabola through three neighbouring |grid values| (see refine_peak): with factor 4 the grid
//                    alone misses up to 0.56 dB of a 20 kHz crest at 44.1 kHz, the parabola 0.03 dB (measured).
//  2. block_minima + hold_range
//                    h[j] = min of g over [j - K, j + LA + K] clipped to [0, n), for j in [-LA, n) (LA = look-ahead
//                    frames, K = guard frames = half the interpolator length). A van Herk / Gil-Werman running
//                    minimum over blocks of W = LA + 2K + 1 frames aligned at frame 0: min is exact in any order.
//  3. release_range  r[j] = min(h[j], release(r[j-1])) over j = -LA .. n-1, in order, one thread per track (or
//                    per channel when unlinked), state ReleaseState. Gain reduction d = 1 - gain releases
//                    exponentially toward 0 in double (see ReleaseCoeffs for the two time constants).
//  4. smooth_range   a[i] = mean of r over [i - LA, i], summed exactly in 2^-40 fixed point (int64): the sum is
//                    exact, so any order and any chunking give the same bits.
//  5. apply_range    y[i] = x[i] * a[i].
//
// Why it never overshoots the detected peaks: every r[j] in the window of a[i] satisfies r[j] <= h[j], and
// [j - K, j + LA + K] contains every k in [i - K, i + K]; so a[i'] <= g[k] for all i' within K frames of k: the
// gain around a detected peak is at most its required gain, over the whole span of the interpolator's main taps,
// and it is flat there whenever this peak sets the deepest reduction nearby (r = h there). The fixed-point
// conversion truncates (never rounds up) and the int64 quotient is rounded to float to nearest, which cannot
// exceed a float bound it is below: so the inequality holds exactly in float, not just approximately.
// Where no reduction is needed (g = 1 everywhere around) r = 1.0f, the window sum is exactly (LA + 1) * 2^40
// and a = 1.0f: the output is bit-identical to the input.
//
// Non-finite samples: NaN never raises a peak (every max is `v > m ? v : m` starting from 0), +-Inf asks for a
// gain of 0 around it. The pipeline is expected to have sanitised its input before the limiter.
//
// No libm, no allocation, no exceptions: + - * / and comparisons only (release: in double).
#pragma once

#include "kernels/hd.hpp"

namespace lathe::kernels::limiter {

// ---- constants ---------------------------------------------------------------------------------------------------
constexpr int kMaxFactor = 16;   // oversampling factor, at most
constexpr int kMaxTaps = 64;     // interpolator taps per phase, at most (even)
constexpr int kGroup = 16;       // frames detected side by side by detect_range (vectorised across frames)
// Fixed point of the smoothing sums: 2^40 (a gain r in [0, 1] becomes an int64 in [0, 2^40]).
constexpr float kFixedOne = 1099511627776.0f;
constexpr float kFixedInv = 1.0f / 1099511627776.0f;  // 2^-40, exact
// Release states (gain reductions) below this are set to 0: 1 - d rounds to 1.0f far above it, and it keeps a
// decaying state out of the subnormal range.
constexpr double kReductionFlush = 1e-12;
// The parabolic refinement adds at most 1/8 of the centre value (see refine_peak).
constexpr float kRefineMaxGain = 1.125f;

// GCC unrolls a 16-iteration inner loop completely and then vectorises the tap loop around it as an in-order
// (fold-left) reduction, which is legal but several times slower. Keeping the frame loop a loop lets it be
// vectorised across frames instead. The operations and their order are the same either way.
#if defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__)
#define LATHE_LIMITER_KEEP_LOOP _Pragma("GCC unroll 1")
#else
#define LATHE_LIMITER_KEEP_LOOP
#endif

// ---- coefficients (host-designed) ----------------------------------------------------------------------------
// Polyphase interpolator. c[(p - 1) * taps + m] multiplies x[k - taps/2 + m] (m = 0 .. taps-1, oldest first) and
// gives the value at (k - 1) + p / factor, between x[k-1] and x[k] ("interval k"), for p = 1 .. factor-1. Phase 0
// is the sample itself (the prototype is a Nyquist filter).
struct Interp {
  std::int32_t factor;  // 4, 8 or 16 (1 disables detection between samples)
  std::int32_t taps;    // per phase, even, <= kMaxTaps
  // >= kRefineMaxGain * max over phases of sum |c|, rounded up with a margin for float rounding: a group of frames
  // whose inputs all satisfy |x| * bound <= ceiling cannot need any reduction, and is skipped (same bits).
  float bound;
  float c[(kMaxFactor - 1) * kMaxTaps];
};

// Look-ahead geometry, in frames.
struct Shape {
  std::int64_t lookahead;  // LA >= 1: the hold looks LA (+K) frames ahead, the smoothing averages LA + 1 frames
  std::int64_t guard;      // K >= 0: the hold also covers K frames on each side (interpolator half length)
};
LATHE_HD inline std::int64_t hold_window(const Shape& s) { return s.lookahead + 2 * s.guard + 1; }

// Release of the gain reduction d = 1 - gain, per frame, in double:
//   fast:   d_fast = max(1 - h, d_fast * fast)                               (follows the demand at once)
//   slow:   d_slow += (1 - h - d_slow) * charge   while 1 - h > d_slow      (charges toward a sustained demand)
//           d_slow *= slow                         otherwise                  (and releases slowly)
//   gain:   r = min(h, 1 - max(d_fast, d_slow))
// With charge = 0 (fixed release) d_slow stays 0 and the release is one exponential, time constant `fast`.
// With auto release a short transient leaves d_slow small, so the gain recovers with the fast time constant;
// reduction sustained for longer than the charge time constant has charged d_slow, and the gain recovers with
// the slow one (after a quick partial recovery down to d_slow). Coefficients: exp(-1 / (tau * rate)) for fast
// and slow, 1 - exp(-1 / (tau * rate)) for charge, computed on the host.
struct ReleaseCoeffs {
  double fast;
  double slow;
  double charge;
};
struct ReleaseState {
  double d_fast;
  double d_slow;
};
LATHE_HD inline ReleaseState release_init() { return ReleaseState{0.0, 0.0}; }

// ---- small helpers -----------------------------------------------------------------------------------------------
LATHE_HD inline float abs_f(float v) { return v < 0.0f ? -v : v; }
LATHE_HD inline float max_f(float a, float b) { return b > a ? b : a; }  // keeps a when b is NaN
LATHE_HD inline float min_f(float a, float b) { return b < a ? b : a; }
// Sample j of a track of n frames whose caller holds frames [x_begin, ...) at x (x[0] is frame x_begin): 0 outside
// [0, n). Every detection function below takes such an `x_begin` (0: the whole track is at x): a caller holding a
// window of a long track passes it, and guarantees that every frame in [0, n) the call reads lies in its window.
// Only the index arithmetic depends on it; the float operations are the same for any window.
LATHE_HD inline float sample_at(const float* x, std::int64_t n, std::int64_t j, std::int64_t x_begin = 0) {
  return (j >= 0 && j < n) ? x[j - x_begin] : 0.0f;
}

// Height of the parabola through (-1, a), (0, b), (1, c) at its vertex when b is a local maximum (b >= a,
// b >= c, not all equal), else b. With b the largest, |c - a| <= (b - a) + (b - c), so the correction
// (c - a)^2 / (8 ((b - a) + (b - c))) is at most |c - a| / 8 <= b / 8. Called with |values| of three consecutive
// grid points; one formula for every path (same operations, same bits).
LATHE_HD inline float refine_peak(float a, float b, float c) {
  const float den = (b - a) + (b - c);
  const bool vertex = (b >= a) & (b >= c) & (den > 0.0f);  // no short circuit: vectorisable
  const float d = c - a;
  const float corr = (d * d) / (8.0f * (vertex ? den : 1.0f));
  return vertex ? b + corr : b;
}

// Required gain for a peak: exactly 1.0f when peak <= ceiling, else ceiling / peak (division is correctly
// rounded and monotone, so the min over channels equals ceiling / the max peak).
LATHE_HD inline float required_gain(float peak, float ceiling) { return ceiling / max_f(ceiling, peak); }

// ---- 1. detection --------------------------------------------------------------------------------------------
// Interpolated value of phase p in interval k (any k; samples outside [0, n) read as 0): the sum
// c[0]*x[k - taps/2] + c[1]*x[k - taps/2 + 1] + ... from 0.0f, in that order.
LATHE_HD inline float interp_at(const Interp& ip, const float* x, std::int64_t n, std::int64_t k, int p,
                                std::int64_t x_begin = 0) {
  const float* c = ip.c + (p - 1) * ip.taps;
  const std::int64_t base = k - ip.taps / 2;
  float acc = 0.0f;
  if (base >= 0 && base + ip.taps <= n) {
    const float* w = x + (base - x_begin);
    for (int m = 0; m < ip.taps; ++m) acc = acc + c[m] * w[m];
  } else {
    for (int m = 0; m < ip.taps; ++m) acc = acc + c[m] * sample_at(x, n, base + m, x_begin);
  }
  return acc;
}

// Peak of interval k (between x[k-1] and x[k]) of one channel: grid u_0 = |x[k-1]|, u_p = |value of phase p|,
// u_F = |x[k]|, u_{F+1} = |phase 1 of interval k+1|; the peak is the max over q = 1 .. F of
// refine_peak(u_{q-1}, u_q, u_{q+1}) (each >= u_q), folded in that order from 0.
LATHE_HD inline float interval_peak(const Interp& ip, const float* x, std::int64_t n, std::int64_t k,
                                    std::int64_t x_begin = 0) {
  const int f = ip.factor;
  if (f <= 1) return abs_f(sample_at(x, n, k, x_begin));
  float u[kMaxFactor + 2];
  u[0] = abs_f(sample_at(x, n, k - 1, x_begin));
  for (int p = 1; p < f; ++p) u[p] = abs_f(interp_at(ip, x, n, k, p, x_begin));
  u[f] = abs_f(sample_at(x, n, k, x_begin));
  u[f + 1] = abs_f(interp_at(ip, x, n, k + 1, 1, x_begin));
  float peak = 0.0f;
  for (int q = 1; q <= f; ++q) peak = max_f(peak, refine_peak(u[q - 1], u[q], u[q + 1]));
  return peak;
}

// Peak of frame i of one channel: interval i, and for the last frame also interval n (after the last sample).
// Reads x over [i - taps/2, i + taps/2] (clipped to [0, n)).
LATHE_HD inline float frame_peak(const Interp& ip, const float* x, std::int64_t n, std::int64_t i,
                                 std::int64_t x_begin = 0) {
  float peak = interval_peak(ip, x, n, i, x_begin);
  if (i == n - 1) peak = max_f(peak, interval_peak(ip, x, n, n, x_begin));
  return peak;
}

// Required gain of frame i over the channels ch[0 .. nch-1] (one frame; any i in [0, n)).
LATHE_HD inline float detect_frame(const Interp& ip, float ceiling, const float* const* ch, int nch,
                                   std::int64_t n, std::int64_t i, std::int64_t x_begin = 0) {
  float g = 1.0f;
  for (int c = 0; c < nch; ++c) g = min_f(g, required_gain(frame_peak(ip, ch[c], n, i, x_begin), ceiling));
  return g;
}

// Frames i .. i + kGroup - 1 of one channel x, all interior (taps/2 <= i and i + kGroup + taps/2 <= n):
// g[i + j] = min(g[i + j], the required gain of frame i + j), with the same values as detect_frame, computed side
// by side so that the vectoriser works across frames (each interpolated value is still its own sum in tap order).
// Phase 1 is evaluated for intervals i + 1 .. i + kGroup (the last one is the right neighbour of x[i + 15]);
// phase 1 of interval i comes from the previous group through `carry` (valid when `have_carry`), else it is
// computed here: the same sum either way. A group whose inputs x[i - taps/2 .. i + kGroup + taps/2 - 1] are all
// small enough (|x| * bound <= ceiling) cannot ask for a reduction and is skipped: the same bits as computing it.
// x holds frames from x_begin on (see sample_at), g holds frames from g_begin on (g[0] is frame g_begin).
LATHE_HD inline void detect_group(const Interp& ip, float ceiling, const float* x, std::int64_t i, float* g,
                                  float& carry, bool& have_carry, std::int64_t x_begin = 0,
                                  std::int64_t g_begin = 0) {
  const int f = ip.factor;
  const int taps = ip.taps;
  const int half = taps / 2;
  // max |x| over the group's inputs, lane by lane in blocks of kGroup (the last block may overlap).
  float lm[kGroup];
  for (int j = 0; j < kGroup; ++j) lm[j] = 0.0f;
  const std::int64_t lo = i - half, last = i + half;  // inputs [lo, last + kGroup)
  for (std::int64_t m = lo;; m += kGroup) {
    const std::int64_t b = m < last ? m : last;
    const float* xb = x + (b - x_begin);
    for (int j = 0; j < kGroup; ++j) lm[j] = max_f(lm[j], abs_f(xb[j]));
    if (b == last) break;
  }
  for (int h = kGroup / 2; h > 0; h /= 2)
    for (int j = 0; j < h; ++j) lm[j] = max_f(lm[j], lm[j + h]);
  if (lm[0] * ip.bound <= ceiling) {
    have_carry = false;
    return;
  }
  // u[q][j]: |grid point q| of interval i + j, q = 0 .. f; u[1][kGroup]: phase 1 of interval i + kGroup.
  float u[kMaxFactor + 1][kGroup + 1];
  const float* w0 = x + (i - half - x_begin);
  int p = 1;
  for (; p + 2 < f; p += 3) {
    // Three phases share the tap loop; each output is still its own sum in tap order. Phase 1 runs one interval
    // ahead (see above).
    const float* c1 = ip.c + (p - 1) * taps;
    const float* c2 = c1 + taps;
    const float* c3 = c2 + taps;
    const float* w1 = w0 + (p == 1 ? 1 : 0);
    float a1[kGroup], a2[kGroup], a3[kGroup];
    for (int j = 0; j < kGroup; ++j) {
      a1[j] = 0.0f;
      a2[j] = 0.0f;
      a3[j] = 0.0f;
    }
    for (int m = 0; m < taps; ++m) {
      const float k1 = c1[m], k2 = c2[m], k3 = c3[m];
      const float* s1 = w1 + m;
      const float* src = w0 + m;
      LATHE_LIMITER_KEEP_LOOP
      for (int j = 0; j < kGroup; ++j) {
        const float s = src[j];
        a1[j] = a1[j] + k1 * s1[j];
        a2[j] = a2[j] + k2 * s;
        a3[j] = a3[j] + k3 * s;
      }
    }
    const int q1 = p == 1 ? 1 : 0;  // phase 1 lands one lane later
    for (int j = 0; j < kGroup; ++j) {
      u[p][j + q1] = abs_f(a1[j]);
      u[p + 1][j] = abs_f(a2[j]);
      u[p + 2][j] = abs_f(a3[j]);
    }
  }
  for (; p < f; ++p) {
    const float* c = ip.c + (p - 1) * taps;
    const float* w1 = w0 + (p == 1 ? 1 : 0);
    float acc[kGroup];
    for (int j = 0; j < kGroup; ++j) acc[j] = 0.0f;
    for (int m = 0; m < taps; ++m) {
      const float cm = c[m];
      const float* src = w1 + m;
      LATHE_LIMITER_KEEP_LOOP
      for (int j = 0; j < kGroup; ++j) acc[j] = acc[j] + cm * src[j];
    }
    const int q1 = p == 1 ? 1 : 0;
    for (int j = 0; j < kGroup; ++j) u[p][j + q1] = abs_f(acc[j]);
  }
  if (!have_carry) {
    const float* c = ip.c;
    float acc = 0.0f;
    for (int m = 0; m < taps; ++m) acc = acc + c[m] * w0[m];
    carry = abs_f(acc);
  }
  u[1][0] = carry;
  carry = u[1][kGroup];
  have_carry = true;
  const float* xi = w0 + (half - 1);  // frame i - 1 (half >= 1 here: i - 1 >= i - half)
  for (int j = 0; j < kGroup; ++j) {
    u[0][j] = abs_f(xi[j]);
    u[f][j] = abs_f(xi[j + 1]);
  }
  float pk[kGroup];
  for (int j = 0; j < kGroup; ++j) pk[j] = 0.0f;
  for (int q = 1; q < f; ++q)
    for (int j = 0; j < kGroup; ++j) pk[j] = max_f(pk[j], refine_peak(u[q - 1][j], u[q][j], u[q + 1][j]));
  for (int j = 0; j < kGroup; ++j) {
    pk[j] = max_f(pk[j], refine_peak(u[f - 1][j], u[f][j], u[1][j + 1]));
    g[i - g_begin + j] = min_f(g[i - g_begin + j], required_gain(pk[j], ceiling));
  }
}

// Phase 1: g[i] for i in [begin, end) (g indexed by frame; 0 <= begin <= end <= n), linked over the channels
// ch[0 .. nch-1] (an unlinked limiter calls it per channel with nch = 1). Interior groups of kGroup frames go
// through detect_group, the rest frame by frame: the same bits either way, so any chunking is fine.
// Windowed use: ch[c][0] is frame x_begin (frames [begin - taps/2, end + taps/2) of [0, n) must be held), and
// g[0] is frame g_begin (g_begin <= begin).
LATHE_HD inline void detect_range(const Interp& ip, float ceiling, const float* const* ch, int nch, std::int64_t n,
                                  std::int64_t begin, std::int64_t end, float* g, std::int64_t x_begin = 0,
                                  std::int64_t g_begin = 0) {
  for (std::int64_t i = begin; i < end; ++i) g[i - g_begin] = 1.0f;
  const std::int64_t half = ip.taps / 2;
  for (int cc = 0; cc < nch; ++cc) {
    const float* x = ch[cc];
    float carry = 0.0f;
    bool have_carry = false;
    std::int64_t i = begin;
    while (i < end) {
      if (ip.factor > 1 && i >= half && i + kGroup + half <= n && i + kGroup <= end) {
        detect_group(ip, ceiling, x, i, g, carry, have_carry, x_begin, g_begin);
        i += kGroup;
      } else {
        g[i - g_begin] = min_f(g[i - g_begin], required_gain(frame_peak(ip, x, n, i, x_begin), ceiling));
        have_carry = false;
        ++i;
      }
    }
  }
}

// ---- 2. hold ---------------------------------------------------------------------------------------------------
// Blocks [b * W, min((b + 1) * W, n)) for b in [block_begin, block_end), W = hold_window(shape): suf[i] = min of
// g over [i, block end), then pre[i] = min of g over [block start, i], written over g (g_pre holds g on entry and
// the prefix minima on return). Blocks are independent.
LATHE_HD inline void block_minima(float* g_pre, float* suf, std::int64_t n, std::int64_t w, std::int64_t block_begin,
                                  std::int64_t block_end) {
  for (std::int64_t b = block_begin; b < block_end; ++b) {
    const std::int64_t s = b * w;
    const std::int64_t e = (s + w) < n ? s + w : n;
    float m = 1.0f;
    for (std::int64_t i = e - 1; i >= s; --i) {
      m = min_f(m, g_pre[i]);
      suf[i] = m;
    }
    m = 1.0f;
    for (std::int64_t i = s; i < e; ++i) {
      m = min_f(m, g_pre[i]);
      g_pre[i] = m;
    }
  }
}

// h[j] for j in [begin, end), -LA <= begin <= end <= n, written to hr[j + LA] (hr holds n + LA values: the
// extended track starts LA frames before frame 0 so that the smoothing window of frame 0 is defined). The
// window [j - K, j + LA + K] clipped to [0, n) is one block, or the end of one block and the start of the next.
LATHE_HD inline void hold_range(const float* pre, const float* suf, std::int64_t n, const Shape& shape,
                                std::int64_t begin, std::int64_t end, float* hr) {
  const std::int64_t w = hold_window(shape);
  const std::int64_t la = shape.lookahead, k = shape.guard;
  for (std::int64_t j = begin; j < end; ++j) {
    const std::int64_t s = (j - k) > 0 ? j - k : 0;
    const std::int64_t t = (j + la + k) < n - 1 ? j + la + k : n - 1;
    float h;
    if (s / w != t / w) {
      h = min_f(suf[s], pre[t]);
    } else {
      // One block: the window starts at the block (or at 0) or ends at the track's end (see block_minima).
      h = (s % w == 0) ? pre[t] : suf[s];
    }
    hr[j + la] = h;
  }
}

// ---- 3. release --------------------------------------------------------------------------------------------------
// One frame: r = min(h, 1 - max(d_fast, d_slow)) with the states updated as described at ReleaseCoeffs.
// h == 1 with zero states gives exactly 1.0f.
LATHE_HD inline float release_step(ReleaseState& st, const ReleaseCoeffs& rc, float h) {
  const double dh = 1.0 - static_cast<double>(h);
  double df = st.d_fast * rc.fast;
  df = df < kReductionFlush ? 0.0 : df;
  df = dh > df ? dh : df;
  double ds = st.d_slow;
  ds = dh > ds ? ds + (dh - ds) * rc.charge : ds * rc.slow;
  ds = ds < kReductionFlush ? 0.0 : ds;
  st.d_fast = df;
  st.d_slow = ds;
  const double d = df > ds ? df : ds;
  const float r = static_cast<float>(1.0 - d);
  return r < h ? r : h;
}

// hr[0 .. count) in order, in place (h in, r out); the state carries across calls, so a track may be fed in
// consecutive pieces. The limiter runs it over the extended track (n + LA values) from release_init().
LATHE_HD inline void release_range(ReleaseState& state, const ReleaseCoeffs& rc, float* hr, std::int64_t count) {
  ReleaseState st = state;
  for (std::int64_t j = 0; j < count; ++j) hr[j] = release_step(st, rc, hr[j]);
  state = st;
}

// ---- 4. smoothing ----------------------------------------------------------------------------------------------
// r in [0, 1] -> int64 with 2^-40 resolution, truncated (never above r): r * 2^40 is exact in float.
LATHE_HD inline std::int64_t to_fixed(float r) { return static_cast<std::int64_t>(r * kFixedOne); }

// a[i] for i in [begin, end) (0 <= begin <= end <= n): the mean of r over [i - LA, i], i.e. of r_ext[i .. i+LA]
// (r_ext = the extended track of release_range). The window sum is exact in int64 (at most (LA+1) * 2^40, so
// LA < 2^22 frames), started afresh at `begin` and slid by one frame at a time; the mean is the integer quotient,
// rounded to float once.
LATHE_HD inline void smooth_range(const float* r_ext, const Shape& shape, std::int64_t begin, std::int64_t end,
                                  float* a) {
  if (begin >= end) return;
  const std::int64_t la = shape.lookahead;
  const std::int64_t len = la + 1;
  const std::int64_t full = len * static_cast<std::int64_t>(kFixedOne);
  std::int64_t sum = 0;
  for (std::int64_t m = 0; m <= la; ++m) sum += to_fixed(r_ext[begin + m]);
  for (std::int64_t i = begin;;) {
    a[i] = sum == full ? 1.0f : static_cast<float>(sum / len) * kFixedInv;
    if (++i >= end) break;
    sum += to_fixed(r_ext[i + la]) - to_fixed(r_ext[i - 1]);
  }
}

// ---- 5. gain -------------------------------------------------------------------------------------------------
LATHE_HD inline void apply_range(float* x, const float* a, std::int64_t begin, std::int64_t end) {
  for (std::int64_t i = begin; i < end; ++i) x[i] = x[i] * a[i];
}

}  // namespace lathe::kernels::limiter
