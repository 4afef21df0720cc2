// The meter as an engine operation (Engine::meter, TrackMeter::add_many): the batch form gives the same bits as
// TrackMeter::add, the CUDA engine's decomposition of the true peak (ranges from a zero peak, merged with max and
// sums) gives the same bits as the whole-segment kernel, and on a GPU the CUDA engine matches the CPU engine.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "host/engine/engine.hpp"
#include "host/meter/meter.hpp"
#include "kernels/meter.hpp"
#include "tests/signals.hpp"

namespace {

using lathe::host::Engine;
using lathe::host::meter::SegmentInput;
using lathe::host::meter::TrackMeter;
using lathe::host::meter::TrackReport;
using lathe::test::Noise;
using lathe::test::Planar;
namespace km = lathe::kernels::meter;

template <class T>
bool same_bits(const T& a, const T& b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}
bool same_opt(const std::optional<double>& a, const std::optional<double>& b) {
  return a.has_value() == b.has_value() && (!a || same_bits(*a, *b));
}

// Music-like test material: decaying noise bursts over a low sine, with a clipped run, a NaN and an over.
Planar material(int channels, double seconds, int rate, std::uint64_t seed) {
  const auto n = static_cast<std::size_t>(seconds * rate);
  Planar p(static_cast<std::size_t>(channels), std::vector<float>(n));
  Noise noise(seed);
  for (std::size_t c = 0; c < p.size(); ++c) {
    double env = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      if (i % static_cast<std::size_t>(rate / 4) == 0) env = 0.9;
      env *= 0.9997;
      const double tone = 0.2 * lathe::test::det_sin(0.031 * static_cast<double>(i) * static_cast<double>(c + 1));
      p[c][i] = static_cast<float>(tone + env * noise.next());
    }
    p[c][n / 3] = 1.2f;
    p[c][n / 3 + 1] = 1.2f;
    p[c][n / 3 + 2] = 1.2f;
  }
  p[0][n / 2] = std::numeric_limits<float>::quiet_NaN();
  return p;
}

void expect_identical(const TrackReport& a, const TrackReport& b) {
  EXPECT_TRUE(same_opt(a.integrated_lufs, b.integrated_lufs));
  EXPECT_TRUE(same_opt(a.momentary_max_lufs, b.momentary_max_lufs));
  EXPECT_TRUE(same_opt(a.short_term_max_lufs, b.short_term_max_lufs));
  EXPECT_TRUE(same_opt(a.lra_lu, b.lra_lu));
  EXPECT_TRUE(same_opt(a.correlation, b.correlation));
  EXPECT_TRUE(same_opt(a.mono_loss_lu, b.mono_loss_lu));
  EXPECT_TRUE(same_opt(a.balance_lu, b.balance_lu));
  EXPECT_TRUE(same_bits(a.true_peak_dbtp, b.true_peak_dbtp));
  EXPECT_TRUE(same_bits(a.sample_peak_dbfs, b.sample_peak_dbfs));
  ASSERT_EQ(a.short_term_powers.size(), b.short_term_powers.size());
  for (std::size_t i = 0; i < a.short_term_powers.size(); ++i)
    EXPECT_TRUE(same_bits(a.short_term_powers[i], b.short_term_powers[i]));
  ASSERT_EQ(a.per_channel.size(), b.per_channel.size());
  for (std::size_t c = 0; c < a.per_channel.size(); ++c) {
    const auto &x = a.per_channel[c], &y = b.per_channel[c];
    EXPECT_TRUE(same_bits(x.true_peak, y.true_peak));
    EXPECT_TRUE(same_bits(x.dc_offset, y.dc_offset));
    EXPECT_EQ(x.clipped_runs, y.clipped_runs);
    EXPECT_EQ(x.intersample_overs, y.intersample_overs);
    EXPECT_EQ(x.nonfinite_samples, y.nonfinite_samples);
  }
}

struct Track {
  int rate;
  Planar audio;
};

std::vector<Track> tracks() {
  return {{44100, material(2, 5.0, 44100, 1)}, {48000, material(1, 3.3, 48000, 2)},
          {96000, material(6, 2.2, 96000, 3)}, {22050, material(2, 0.3, 22050, 4)},
          {192000, material(2, 1.1, 192000, 5)}};
}

// Every track fed with add(), one track at a time.
std::vector<TrackReport> measure_alone(const std::vector<Track>& ts, std::int64_t segment) {
  std::vector<TrackReport> out;
  for (const auto& t : ts) {
    TrackMeter m(t.rate, static_cast<int>(t.audio.size()));
    const auto frames = static_cast<std::int64_t>(t.audio[0].size());
    std::vector<const float*> ptr(t.audio.size());
    for (std::int64_t done = 0; done < frames; done += segment) {
      for (std::size_t c = 0; c < t.audio.size(); ++c) ptr[c] = t.audio[c].data() + done;
      m.add(ptr, std::min(segment, frames - done));
    }
    out.push_back(m.finish());
  }
  return out;
}

// All tracks side by side through one engine: the next segment of each in one add_many call.
std::vector<TrackReport> measure_batched(const std::vector<Track>& ts, Engine& engine, std::int64_t segment) {
  std::vector<std::unique_ptr<TrackMeter>> meters;
  for (const auto& t : ts) meters.push_back(std::make_unique<TrackMeter>(t.rate, static_cast<int>(t.audio.size())));
  std::vector<std::vector<const float*>> ptrs(ts.size());
  for (std::int64_t done = 0;; done += segment) {
    std::vector<SegmentInput> inputs;
    for (std::size_t k = 0; k < ts.size(); ++k) {
      const auto frames = static_cast<std::int64_t>(ts[k].audio[0].size());
      if (done >= frames) continue;
      ptrs[k].resize(ts[k].audio.size());
      for (std::size_t c = 0; c < ts[k].audio.size(); ++c) ptrs[k][c] = ts[k].audio[c].data() + done;
      inputs.push_back(SegmentInput{meters[k].get(), ptrs[k], std::min(segment, frames - done)});
    }
    if (inputs.empty()) break;
    TrackMeter::add_many(engine, inputs);
  }
  std::vector<TrackReport> out;
  for (auto& m : meters) out.push_back(m->finish());
  return out;
}

TEST(MeterEngine, BatchOnCpuEngineMatchesAdd) {
  const auto ts = tracks();
  const auto engine = lathe::host::make_cpu_engine();
  for (std::int64_t segment : {65536, 10007}) {
    const auto alone = measure_alone(ts, segment);
    const auto batched = measure_batched(ts, *engine, segment);
    for (std::size_t k = 0; k < ts.size(); ++k) {
      SCOPED_TRACE(testing::Message() << "track " << k << ", segments of " << segment);
      expect_identical(alone[k], batched[k]);
    }
  }
}

TEST(MeterEngine, MeterAppearingTwiceIsRefused) {
  TrackMeter m(48000, 1);
  std::vector<float> x(100, 0.1f);
  const float* p = x.data();
  const std::vector<SegmentInput> inputs{{&m, {&p, 1}, 100}, {&m, {&p, 1}, 100}};
  const auto engine = lathe::host::make_cpu_engine();
  EXPECT_THROW(TrackMeter::add_many(*engine, inputs), std::invalid_argument);
}

// The CUDA engine's true-peak decomposition, run here on the CPU: ranges of any length evaluated from a zero peak
// and merged with max and sums, then the history advanced, equal the whole-segment kernel bit for bit.
TEST(MeterEngine, TruePeakRangesMergeToTheSegmentResult) {
  const Planar p = material(1, 1.0, 44100, 9);
  km::TruePeakCoeffs tc{};
  tc.factor = 4;
  tc.taps = 32;
  // A simple valid interpolator (the decomposition does not depend on the taps): a triangle per phase.
  double sum_abs = 0;
  for (int ph = 1; ph < 4; ++ph) {
    double s = 0;
    for (int k = 0; k < 32; ++k) {
      const double d = (k - 15.5 - ph / 4.0);
      tc.c[(ph - 1) * 32 + k] = static_cast<float>(1.0 / (1.0 + d * d));
      s += std::abs(static_cast<double>(tc.c[(ph - 1) * 32 + k]));
    }
    sum_abs = std::max(sum_abs, s);
  }
  tc.gain = static_cast<float>(sum_abs * 1.001);
  const float* x = p[0].data();
  const auto total = static_cast<std::int64_t>(p[0].size());
  for (std::int64_t seg : {std::int64_t{5}, std::int64_t{4096}, std::int64_t{30001}}) {
    for (std::int64_t range : {std::int64_t{1}, std::int64_t{17}, std::int64_t{2048}}) {
      km::TruePeakState whole = km::true_peak_init();
      km::TruePeakState split = km::true_peak_init();
      for (std::int64_t done = 0; done < total; done += seg) {
        const std::int64_t n = std::min(seg, total - done);
        km::true_peak_segment(whole, tc, x + done, n);
        for (std::int64_t b = 0; b < n; b += range) {
          float peak = 0.0f;
          std::uint64_t overs = 0;
          km::true_peak_range_with(split, tc, x + done, b, std::min(b + range, n), peak, overs, km::TruePeakRun{});
          split.peak = peak > split.peak ? peak : split.peak;
          split.overs += overs;
        }
        km::true_peak_advance(split, tc, x + done, n);
      }
      SCOPED_TRACE(testing::Message() << "segments " << seg << ", ranges " << range);
      EXPECT_TRUE(same_bits(whole.peak, split.peak));
      EXPECT_EQ(whole.overs, split.overs);
      EXPECT_EQ(std::memcmp(whole.hist, split.hist, sizeof whole.hist), 0);
      EXPECT_GT(whole.overs, 0u);
    }
  }
}

TEST(MeterEngine, CudaEngineMatchesCpuEngine) {
  if (const std::string why = lathe::host::gpu_unavailable_reason(); !why.empty()) GTEST_SKIP() << "no GPU: " << why;
  const auto ts = tracks();
  const auto cpu = lathe::host::make_cpu_engine();
  const auto gpu = lathe::host::make_cuda_engine();
  for (std::int64_t segment : {65536, 10007}) {
    const auto a = measure_batched(ts, *cpu, segment);
    const auto b = measure_batched(ts, *gpu, segment);
    for (std::size_t k = 0; k < ts.size(); ++k) {
      SCOPED_TRACE(testing::Message() << "track " << k << ", segments of " << segment);
      expect_identical(a[k], b[k]);
    }
  }
}

}  // namespace
