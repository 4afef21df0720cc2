// The saturation stage's design (oversampling filters, shaper constants) and the CPU engine's runner.
#include "host/dsp/saturation.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <stdexcept>

#include "host/dsp/kaiser.hpp"
#include "host/engine/stage_ops.hpp"
#include "host/errors.hpp"
#include "host/util/cpu_features.hpp"

namespace lathe::host::dsp {

kernels::saturate::Table SaturationDesign::table() const {
  kernels::saturate::Table t = params;
  t.up = up.data();
  t.down = down.data();
  return t;
}

int saturation_auto_factor(int rate_hz, double drive_db) {
  const double want = drive_db <= 6.0 ? 176400.0 : (drive_db <= 12.0 ? 352800.0 : 705600.0);
  for (const int r : {4, 8}) {
    if (static_cast<double>(r) * rate_hz >= want) return r;
  }
  return 16;
}

SaturationDesign make_saturation_design(const SaturationParams& p, int rate_hz) {
  if (rate_hz < 8000 || rate_hz > 768000)
    throw std::invalid_argument("saturation: the rate " + std::to_string(rate_hz) +
                                " Hz is out of range (8000 to 768000 Hz)");
  if (p.model != "tape" && p.model != "tube") throw std::invalid_argument("saturation: unknown model " + p.model);
  if (p.oversampling != 0 && p.oversampling != 4 && p.oversampling != 8 && p.oversampling != 16)
    throw std::invalid_argument("saturation: oversampling must be 4, 8 or 16");
  SaturationDesign d;
  d.rate_hz = rate_hz;
  const int R = p.oversampling != 0 ? p.oversampling : saturation_auto_factor(rate_hz, p.drive_db);
  d.factor = R;

  // Kaiser's formulas (as host/dsp/resample_design.cpp): transition 0.4535 fs .. 0.5465 fs at the rate R fs
  // (the stopband starts at fs - pass: only what folds below `pass` matters; see host/dsp/saturation.hpp).
  const double fs = static_cast<double>(rate_hz);
  const double pass = fs * kSaturationPassbandFraction;
  const double stop = fs - pass;
  const double cutoff = 0.5 * (pass + stop);
  const double a_db = kSaturationDesignAttenuationDb;
  const double beta = 0.1102 * (a_db - 8.7);
  const double rate_up = static_cast<double>(R) * fs;
  const double n_proto = (a_db - 7.95) / (14.36 * ((stop - pass) / rate_up)) + 1.0;
  std::int64_t T = static_cast<std::int64_t>(std::ceil(n_proto / R));
  T += T % 2;
  d.taps_per_phase = static_cast<int>(T);
  d.latency = T - 1;
  d.history = 2 * d.latency;

  // Prototype at oversampled position t, support |t| < W = R T / 2, DC gain ~1 at the rate R fs.
  const std::int64_t W = static_cast<std::int64_t>(R) * T / 2;
  const double w = static_cast<double>(W);
  const double i0_beta = bessel_i0(beta);
  const double omega = 2.0 * cutoff / rate_up;
  auto proto = [&](std::int64_t t) {
    const std::int64_t v = t < 0 ? -t : t;
    if (v >= W) return 0.0;
    const double r = static_cast<double>(v) / w;
    const double win = bessel_i0(beta * std::sqrt((1.0 - r) * (1.0 + r))) / i0_beta;
    const double arg = std::numbers::pi * omega * static_cast<double>(v);
    const double sinc = v == 0 ? 1.0 : std::sin(arg) / arg;
    return omega * sinc * win;
  };

  // Decimator: down[k] = proto(k - W), k in [1, 2W), normalised to DC gain exactly 1 in double.
  const std::int64_t n = static_cast<std::int64_t>(R) * T;
  std::vector<double> h(static_cast<std::size_t>(n), 0.0);
  double sum = 0.0;
  for (std::int64_t k = 1; k < n; ++k) {
    h[static_cast<std::size_t>(k)] = proto(k - W);
    sum += h[static_cast<std::size_t>(k)];
  }
  d.down.assign(static_cast<std::size_t>(n), 0.0f);
  for (std::int64_t k = 1; k < n; ++k)
    d.down[static_cast<std::size_t>(k)] = static_cast<float>(h[static_cast<std::size_t>(k)] / sum);

  // Interpolator: up[p*T + k] = R * proto((k - T/2) R + p), each phase normalised to DC gain exactly 1.
  d.up.assign(static_cast<std::size_t>(n), 0.0f);
  std::vector<double> ph(static_cast<std::size_t>(T));
  for (std::int64_t q = 0; q < R; ++q) {
    double s = 0.0;
    for (std::int64_t k = 0; k < T; ++k) {
      ph[static_cast<std::size_t>(k)] = proto((k - T / 2) * R + q);
      s += ph[static_cast<std::size_t>(k)];
    }
    for (std::int64_t k = 0; k < T; ++k)
      d.up[static_cast<std::size_t>(q * T + k)] = static_cast<float>(ph[static_cast<std::size_t>(k)] / s);
  }

  // Shaper constants. wet_gain = mix * out / (drive * shape'(bias)): the wet path has unity gain for small
  // signals at any drive and bias, so the drive sets how hard peaks are rounded, not the level of quiet parts,
  // and dry and wet add without a level step when mixed.
  kernels::saturate::Table& t = d.params;
  t.R = R;
  t.T = static_cast<std::int32_t>(T);
  t.model = p.model == "tube" ? kernels::saturate::kTube : kernels::saturate::kTape;
  const double drive = std::pow(10.0, p.drive_db / 20.0);
  t.drive = static_cast<float>(drive);
  t.bias = static_cast<float>(p.bias);
  t.shape_bias = kernels::saturate::shape(t.model, t.bias);  // the kernel's own value: zero in, zero out
  const double tb = std::tanh(static_cast<double>(t.bias));
  const double slope = (1.0 - tb * tb) *
                       (t.model == kernels::saturate::kTube ? 1.0 + 2.0 * kernels::saturate::kTubeAsymmetry * tb : 1.0);
  const double out = std::pow(10.0, p.output_db / 20.0);
  const double mix = p.mix_percent / 100.0;
  t.dry_gain = static_cast<float>((1.0 - mix) * out);
  t.wet_gain = static_cast<float>(mix * out / (static_cast<double>(t.drive) * slope));
  return d;
}


// ---- the CPU engine's chunk: kernels/saturate.hpp's per-output functions, kLanes outputs at a time -------------
// SIMD across outputs, never across taps: lane l of a vector computes one output with exactly the operations of
// the scalar functions (upsample_one, shaped_one, downsample_one, mix_one), in the same order, so every lane's
// bits are those of the scalar code and of the CUDA kernel (one output per thread). GCC vector extensions are
// plain element-wise IEEE operations; the build has -ffp-contract=off and no FMA target (target("avx2") does not
// enable FMA), so nothing is fused. tests/host/test_saturation.cpp compares the result with
// kernels::saturate::process_range bit for bit, on both paths.
//
// Layout: the shaped oversampled samples of a sub-chunk are kept as R polyphase rows, row r holding s[q*R + r]
// for consecutive q. The upsampler's phase p = m % R at consecutive b = m / R reads consecutive inputs with the
// same taps and writes row p contiguously; the decimator's tap k for consecutive outputs c reads
// s[(c + T/2)*R - k], i.e. row (-k) mod R at consecutive q = c + T/2 - ceil(k/R).
namespace {

namespace ks = kernels::saturate;

// The helpers below pass vectors by value; they are all inlined, no such value crosses a real call (GCC reports
// this at the end of the file, so the warning stays off from here on).
#pragma GCC diagnostic ignored "-Wpsabi"

typedef float V4 __attribute__((vector_size(16)));
typedef float V8 __attribute__((vector_size(32)));

// Outputs per sub-chunk: its rows stay in L2 (R * (n + T - 1) floats: 140 KB at R = 16).
constexpr std::int64_t kSubChunk = 2048;

template <class V>
[[gnu::always_inline]] inline V load(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class V>
[[gnu::always_inline]] inline void store(float* p, V v) {
  std::memcpy(p, &v, sizeof v);
}

// ks::tanh_rational and ks::shape, lane-wise (the same operations in the same order), minus shape_bias.
template <class V>
[[gnu::always_inline]] inline V shape_lanes(const ks::Table& t, V v) {
  const V top = V{} + ks::kClamp, bottom = V{} - ks::kClamp;
  const V c = v > top ? top : (v < bottom ? bottom : v);
  const V y = c * 0.0625f;
  const V y2 = y * y;
  const V num = y * (135135.0f + y2 * (17325.0f + y2 * (378.0f + y2)));
  const V den = 135135.0f + y2 * (62370.0f + y2 * (3150.0f + y2 * 28.0f));
  V th = num / den;
  for (int i = 0; i < 4; ++i) th = (th + th) / (1.0f + th * th);
  const V sh = t.model == ks::kTube ? th + ks::kTubeAsymmetry * (th * th) : th;
  return sh - t.shape_bias;
}

// Row p of the polyphase layout for q in [q0, q0 + count): row[q - q0] = ks::shaped_one(t, xe, q*R + p).
// N vectors of V: N * |V| consecutive q at a time.
template <class V, int N>
[[gnu::always_inline]] inline void shaped_row(const ks::Table& t, const float* xe, std::int64_t p, std::int64_t q0,
                                              std::int64_t count, float* row) {
  constexpr int kW = static_cast<int>(sizeof(V) / sizeof(float));
  constexpr int kL = N * kW;
  const std::int64_t T = t.T;
  const std::int64_t half = T / 2;
  const float* h = t.up + p * T;
  std::int64_t i = 0;
  for (; i + kL <= count; i += kL) {
    const float* x = xe + q0 + i + half;  // lane l: x[l - k] is xe[b + T/2 - k] for b = q0 + i + l
    V lo[N], hi[N];
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) lo[j] = hi[j] = V{};
    for (std::int64_t k = 0; k < half; ++k) {  // lo: 0 .. T/2-1 ascending; hi: T-1 .. T/2 descending
      const std::int64_t kh = T - 1 - k;
      const float cl = h[k], ch = h[kh];
      const float* xl = x - k;
      const float* xh = x - kh;
#pragma GCC unroll 8
      for (int j = 0; j < N; ++j) {
        lo[j] = lo[j] + cl * load<V>(xl + j * kW);
        hi[j] = hi[j] + ch * load<V>(xh + j * kW);
      }
    }
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) {
      const V u = lo[j] + hi[j];
      store<V>(row + i + j * kW, shape_lanes<V>(t, t.drive * u + t.bias));
    }
  }
  for (; i < count; ++i) row[i] = ks::shaped_one(t, xe, (q0 + i) * t.R + p);
}

// Outputs j in [j_begin, j_end) into y[j - j_begin], as ks::process_range; rows: R * (n + T - 1) floats,
// offsets: R * T.
template <class V, int N>
[[gnu::always_inline]] inline void sub_chunk(const ks::Table& t, const float* xe, float* y, std::int64_t j_begin,
                                             std::int64_t j_end, float* rows, std::int64_t* offset) {
  constexpr int kW = static_cast<int>(sizeof(V) / sizeof(float));
  constexpr int kL = N * kW;
  const std::int64_t R = t.R;
  const std::int64_t T = t.T;
  const std::int64_t D = ks::latency(t);
  const std::int64_t W = R * T / 2;
  const std::int64_t n = j_end - j_begin;
  const std::int64_t c_begin = j_begin - D;
  // Every s the outputs read (and a few more): q from c_begin - T/2 to c_end + T/2 - 2, in every row. They read
  // xe[j_begin - 2D .. j_end - 1] only.
  const std::int64_t q0 = c_begin - T / 2;
  const std::int64_t Q = n + T - 1;
  for (std::int64_t p = 0; p < R; ++p) shaped_row<V, N>(t, xe, p, q0, Q, rows + p * Q);
  // s at (c + T/2)*R - k, output i = c - c_begin, is rows[offset[k] + i]: a = ceil(k/R), r = a*R - k,
  // offset[k] = r*Q + c_begin + T/2 - a - q0.
  for (std::int64_t k = 1; k < 2 * W; ++k) {
    const std::int64_t a = (k + R - 1) / R;
    offset[k] = (a * R - k) * Q + c_begin + T / 2 - a - q0;
  }
  const float* down = t.down;
  std::int64_t i = 0;
  for (; i + kL <= n; i += kL) {
    const float* base = rows + i;
    V lo[N], hi[N];
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) lo[j] = hi[j] = V{};
    // lo: k = 1 .. W-1 ascending; hi: k = 2W-1 .. W descending (downsample_one's order), interleaved.
    for (std::int64_t e = 0; e < W - 1; ++e) {
      const std::int64_t kl = 1 + e, kh = 2 * W - 1 - e;
      const float cl = down[kl], ch = down[kh];
      const float* sl = base + offset[kl];
      const float* sh = base + offset[kh];
#pragma GCC unroll 8
      for (int j = 0; j < N; ++j) {
        lo[j] = lo[j] + cl * load<V>(sl + j * kW);
        hi[j] = hi[j] + ch * load<V>(sh + j * kW);
      }
    }
    const float cw = down[W];
    const float* sw = base + offset[W];
#pragma GCC unroll 8
    for (int j = 0; j < N; ++j) {
      hi[j] = hi[j] + cw * load<V>(sw + j * kW);
      const V w = lo[j] + hi[j];
      const V dry = load<V>(xe + j_begin + i + j * kW - D);
      store<V>(y + i + j * kW, dry * t.dry_gain + w * t.wet_gain);  // ks::mix_one (wet_gain != 0 here)
    }
  }
  for (; i < n; ++i) {
    float lo = 0.0f;
    for (std::int64_t k = 1; k < W; ++k) lo = lo + down[k] * rows[offset[k] + i];
    float hi = 0.0f;
    for (std::int64_t k = 2 * W - 1; k >= W; --k) hi = hi + down[k] * rows[offset[k] + i];
    y[i] = ks::mix_one(t, xe[j_begin + i - D], lo + hi);
  }
}

template <class V, int N>
[[gnu::always_inline]] inline void range_impl(const ks::Table& t, const float* xe, float* y, std::int64_t j_begin,
                                              std::int64_t j_end, std::vector<float>& scratch) {
  if (j_end <= j_begin) return;
  if (!ks::has_wet(t)) {
    const std::int64_t D = ks::latency(t);
    for (std::int64_t j = j_begin; j < j_end; ++j) y[j - j_begin] = ks::mix_one(t, xe[j - D], 0.0f);
    return;
  }
  thread_local std::vector<std::int64_t> offsets;
  const std::int64_t sub = std::min<std::int64_t>(kSubChunk, j_end - j_begin);
  scratch.resize(static_cast<std::size_t>(static_cast<std::int64_t>(t.R) * (sub + t.T - 1)));
  offsets.resize(static_cast<std::size_t>(t.R) * static_cast<std::size_t>(t.T));
  for (std::int64_t j = j_begin; j < j_end; j += kSubChunk) {
    const std::int64_t e = std::min(j + kSubChunk, j_end);
    sub_chunk<V, N>(t, xe, y + (j - j_begin), j, e, scratch.data(), offsets.data());
  }
}

// Baseline x86-64: 4 SSE vectors (16 outputs); AVX2 without FMA: 4 AVX vectors (32 outputs). Same bits.
void range_base(const ks::Table& t, const float* xe, float* y, std::int64_t j_begin, std::int64_t j_end,
                std::vector<float>& scratch) {
  range_impl<V4, 4>(t, xe, y, j_begin, j_end, scratch);
}
#if defined(LATHE_HAVE_AVX2_PATHS)
__attribute__((target("avx2"), flatten)) void range_avx2(const ks::Table& t, const float* xe, float* y,
                                                         std::int64_t j_begin, std::int64_t j_end,
                                                         std::vector<float>& scratch) {
  range_impl<V8, 4>(t, xe, y, j_begin, j_end, scratch);
}
#endif

}  // namespace

void saturate_range_cpu(const kernels::saturate::Table& t, const float* xe, float* y, std::int64_t j_begin,
                        std::int64_t j_end, std::vector<float>& scratch, bool allow_avx2) {
#if defined(LATHE_HAVE_AVX2_PATHS)
  if (allow_avx2 && cpu_has_avx2()) return range_avx2(t, xe, y, j_begin, j_end, scratch);
#else
  (void)allow_avx2;
#endif
  range_base(t, xe, y, j_begin, j_end, scratch);
}

}  // namespace lathe::host::dsp

namespace lathe::host {

void run_saturate_cpu(float* samples, const std::vector<kernels::Block>& blocks, std::span<const SaturateJob> jobs) {
  if (jobs.empty()) return;
  using Range = tbb::blocked_range<std::size_t>;
  // Each block's extended input: the stream's history, then the block (read before any output is written).
  std::vector<std::vector<float>> ext(jobs.size());
  tbb::parallel_for(Range(0, jobs.size()), [&](const Range& r) {
    for (std::size_t i = r.begin(); i != r.end(); ++i) {
      const SaturateJob& job = jobs[i];
      const kernels::Block& blk = blocks.at(job.block);
      const auto h = static_cast<std::size_t>(job.design->history);
      const auto len = static_cast<std::size_t>(blk.length_samples);
      ext[i].resize(h + len);
      std::memcpy(ext[i].data(), job.state, h * sizeof(float));
      if (len > 0) std::memcpy(ext[i].data() + h, samples + blk.offset, len * sizeof(float));
    }
  });
  // Fixed chunks of kChunkSamples outputs, independent of each other.
  struct Task {
    std::size_t job;
    std::int64_t begin;
    std::int64_t end;
  };
  std::vector<Task> tasks;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const std::int64_t len = blocks[jobs[i].block].length_samples;
    for (std::int64_t b = 0; b < len; b += kernels::kChunkSamples)
      tasks.push_back({i, b, std::min(b + kernels::kChunkSamples, len)});
  }
  tbb::parallel_for(Range(0, tasks.size(), 1), [&](const Range& r) {
    std::vector<float> scratch;
    for (std::size_t k = r.begin(); k != r.end(); ++k) {
      const Task& task = tasks[k];
      const SaturateJob& job = jobs[task.job];
      const kernels::saturate::Table t = job.design->table();
      const std::int64_t h = job.design->history;
      dsp::saturate_range_cpu(t, ext[task.job].data(), samples + blocks[job.block].offset + task.begin,
                              h + task.begin, h + task.end, scratch);
    }
  });
  // New state: the last H samples of (history, block).
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const auto h = static_cast<std::size_t>(jobs[i].design->history);
    std::memcpy(jobs[i].state, ext[i].data() + (ext[i].size() - h), h * sizeof(float));
  }
}

}  // namespace lathe::host
