// The delivery pass's whole-track engine operations (Engine::limit, Engine::resample): the CPU engine gives the
// drivers' bits, and on a GPU the CUDA engine gives the CPU engine's bits (skipped without one).
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "host/dsp/limiter.hpp"
#include "host/dsp/resample_design.hpp"
#include "host/engine/engine.hpp"
#include "kernels/resample.hpp"
#include "tests/signals.hpp"

namespace {

using lathe::test::Planar;
namespace dsp = lathe::host::dsp;

bool same(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct Limited {
  Planar audio;
  std::vector<float> gain;
};

Limited limit_with(lathe::host::Engine& engine, Planar audio, const dsp::LimiterDesign& d) {
  Limited out;
  std::vector<float*> ptrs;
  for (auto& ch : audio) ptrs.push_back(ch.data());
  const auto n = static_cast<std::int64_t>(audio[0].size());
  out.gain.assign(static_cast<std::size_t>(n), 0.0f);
  const lathe::host::LimitJob job{&d, ptrs.data(), static_cast<int>(ptrs.size()), n, out.gain.data()};
  engine.limit(std::span<const lathe::host::LimitJob>(&job, 1));
  out.audio = std::move(audio);
  return out;
}

std::vector<float> resample_with(lathe::host::Engine& engine, const std::vector<float>& x, const dsp::ResampleDesign& d) {
  std::vector<float> y(static_cast<std::size_t>(lathe::kernels::resample::output_frames(d.table(), static_cast<std::int64_t>(x.size()))));
  const lathe::host::ResampleJob job{&d, x.data(), static_cast<std::int64_t>(x.size()), y.data()};
  engine.resample(std::span<const lathe::host::ResampleJob>(&job, 1));
  return y;
}

Planar loud_material(int channels, int rate) {
  auto p = lathe::test::make_signal(lathe::test::SignalKind::kMusicLike, channels, rate * 2 + 333, rate, 4);
  for (auto& ch : p)
    for (float& v : ch) v *= 2.5f;  // about +8 dB over full scale: the limiter works hard
  return p;
}

TEST(DeliveryEngine, CpuEngineOpsMatchTheDrivers) {
  const auto cpu = lathe::host::make_cpu_engine();
  for (bool linked : {true, false}) {
    dsp::LimiterParams params;
    params.linked = linked;
    const dsp::LimiterDesign d = dsp::limiter_design(params, 44100);
    Planar ref = loud_material(2, 44100);
    std::vector<float*> ptrs{ref[0].data(), ref[1].data()};
    const auto r = dsp::limit_track(d, 44100, ptrs, static_cast<std::int64_t>(ref[0].size()), true);
    const Limited got = limit_with(*cpu, loud_material(2, 44100), d);
    EXPECT_TRUE(same(got.audio[0], ref[0]) && same(got.audio[1], ref[1]));
    EXPECT_TRUE(same(got.gain, r.gain));
  }
  const auto& rd = dsp::resample_design(96000, 44100);
  const auto x = loud_material(1, 96000)[0];
  EXPECT_TRUE(same(resample_with(*cpu, x, rd), dsp::resample_channel(rd, x.data(), static_cast<std::int64_t>(x.size()))));
}

TEST(DeliveryEngine, CudaEngineMatchesCpuEngine) {
  if (const std::string why = lathe::host::gpu_unavailable_reason(); !why.empty()) GTEST_SKIP() << "no GPU: " << why;
  const auto cpu = lathe::host::make_cpu_engine();
  const auto gpu = lathe::host::make_cuda_engine();
  for (int rate : {44100, 96000}) {
    for (bool linked : {true, false}) {
      for (bool auto_release : {true, false}) {
        dsp::LimiterParams params;
        params.linked = linked;
        params.auto_release = auto_release;
        const dsp::LimiterDesign d = dsp::limiter_design(params, rate);
        const Limited a = limit_with(*cpu, loud_material(2, rate), d);
        const Limited b = limit_with(*gpu, loud_material(2, rate), d);
        SCOPED_TRACE(testing::Message() << rate << " Hz, linked " << linked << ", auto " << auto_release);
        EXPECT_TRUE(same(a.audio[0], b.audio[0]) && same(a.audio[1], b.audio[1]));
        EXPECT_TRUE(same(a.gain, b.gain));
      }
    }
  }
  for (auto [in, out] : {std::pair{96000, 44100}, std::pair{44100, 48000}, std::pair{48000, 44100}}) {
    const auto& rd = dsp::resample_design(in, out);
    const auto x = loud_material(1, in)[0];
    EXPECT_TRUE(same(resample_with(*cpu, x, rd), resample_with(*gpu, x, rd))) << in << " -> " << out;
  }
}

}  // namespace
