// The full chains give the same bits whatever the scheduling: segment length, tracks per batch, the batch's
// other tracks, and the number of CPU threads. Every stage of issue 7 is in one of the chains below (the presets
// and a profile with multiband, a true-stereo-free reverb with a faded tail, width and match-free corrective work),
// each ending in loudness targeting and the limiter, so the delivery pass is covered too.
#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <memory>
#include <string>
#include <vector>

#include "host/engine/engine.hpp"
#include "host/io/memory_track.hpp"
#include "host/master.hpp"
#include "host/profile/profile.hpp"
#include "tests/mastering.hpp"
#include "tests/probe_engine.hpp"
#include "tests/signals.hpp"
#include "tests/support.hpp"

namespace lathe::test {
namespace {

const char* const kChainToml = R"(name = "every-stage"
[delivery]
bits = 24
[targets]
integrated_lufs = -14.0
ceiling_dbtp = -1.0
[[stage]]
type = "corrective"
subsonic_hz = 25
mono_below_hz = 90
[[stage]]
type = "multiband"
crossovers_hz = [200, 3000]
bands = [ { threshold_db = -20, ratio = 2 }, { threshold_db = -22, ratio = 1.5 }, { threshold_db = -24, ratio = 2 } ]
[[stage]]
type = "saturation"
model = "tube"
drive_db = 6
mix = 40
[[stage]]
type = "width"
width_pct = 110
[[stage]]
type = "reverb"
ir = "room"
wet_db = -18
tail = "fade"
tail_fade_s = 0.3
[[stage]]
type = "limiter"
)";

std::vector<Planar> inputs(int rate) {
  return {music_like(2, 3 * rate + 17, rate, 1), music_like(1, 2 * rate + 5, rate, 2),
          music_like(2, rate / 2 + 3, rate, 3)};
}

std::vector<Planar> run(const host::Profile& p, const std::vector<Planar>& in, int rate, std::int64_t segment,
                        int width, int threads) {
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
  auto engine = host::make_cpu_engine();
  host::MasterOptions o;
  o.segment_frames = segment;
  o.batch_tracks = width;
  std::vector<Planar> out;
  for (auto& t : master_in_memory(p, in, rate, *engine, o)) {
    EXPECT_TRUE(t.report.ok) << t.report.error;
    out.push_back(std::move(t.audio));
  }
  return out;
}

TEST(ChainDeterminism, SegmentsBatchesAndThreadsNeverChangeABit) {
  const int rate = 44100;
  const std::vector<Planar> in = inputs(rate);
  std::vector<std::pair<std::string, host::Profile>> profiles;
  profiles.emplace_back("every-stage", host::parse_profile(kChainToml, "every-stage.toml"));
  for (const char* name : {"streaming-warm", "acoustic-gentle"}) profiles.emplace_back(name, host::load_profile(name));
  for (const auto& [name, p] : profiles) {
    SCOPED_TRACE(name);
    const std::vector<Planar> ref = run(p, in, rate, 65536, 32, 2);
    ASSERT_EQ(ref.size(), in.size());
    for (const auto& o : ref) ASSERT_FALSE(o.empty());
    EXPECT_EQ(run(p, in, rate, 16384, 32, 2), ref) << "segments of 16384 frames";
    EXPECT_EQ(run(p, in, rate, 65536, 1, 2), ref) << "one track per batch";
    EXPECT_EQ(run(p, in, rate, 65536, 32, 1), ref) << "one thread";
    // A track alone gets the bits it gets in company.
    EXPECT_EQ(run(p, {in[1]}, rate, 65536, 32, 2)[0], ref[1]) << "the mono track alone";
  }
}

// Several engines (the GPUs of a machine; here CPU engines, the same code path in host/master_multi.cpp): the
// tracks are spread over them in runs, and every track keeps its bits and its report whatever the engine count.
std::vector<MasteredTrack> run_on_engines(const host::Profile& p, const std::vector<Planar>& in, int rate,
                                          int engine_count, const host::MasterOptions& o) {
  std::vector<std::unique_ptr<host::Engine>> owned;
  std::vector<host::Engine*> engines;
  for (int e = 0; e < engine_count; ++e) {
    owned.push_back(host::make_cpu_engine());
    engines.push_back(owned.back().get());
  }
  std::vector<std::unique_ptr<host::TrackIo>> tracks;
  std::vector<host::MemoryTrack*> mem;
  for (std::size_t i = 0; i < in.size(); ++i) {
    // Album mode groups tracks by folder: two albums of two and three tracks.
    auto t = std::make_unique<host::MemoryTrack>((i < 2 ? "a/t" : "b/t") + std::to_string(i), in[i], rate);
    mem.push_back(t.get());
    tracks.push_back(std::move(t));
  }
  std::size_t reported = 0;
  const host::MasterResult r =
      host::master_tracks(tracks, p, engines, o, [&](const host::TrackReport&) { ++reported; });
  EXPECT_EQ(reported, in.size());
  std::vector<MasteredTrack> out;
  for (std::size_t i = 0; i < mem.size(); ++i) {
    EXPECT_TRUE(r.tracks[i].ok) << r.tracks[i].error;
    out.push_back({r.tracks[i], mem[i]->out_float()});
    for (const auto& ch : mem[i]->pcm()) out.back().audio.emplace_back(ch.begin(), ch.end());
  }
  return out;
}

TEST(ChainDeterminism, EngineCountNeverChangesABit) {
  const int rate = 44100;
  std::vector<Planar> in = inputs(rate);
  in.push_back(music_like(2, 2 * rate + 1, rate, 7));
  in.push_back(music_like(2, rate + 9, rate, 8));
  for (const bool album : {false, true}) {
    SCOPED_TRACE(album ? "album mode" : "track mode");
    host::MasterOptions o;
    o.batch_tracks = 2;
    o.album = album;
    const host::Profile p = host::load_profile("streaming-warm");
    const auto ref = run_on_engines(p, in, rate, 1, o);
    for (const int engines : {2, 3}) {
      const auto got = run_on_engines(p, in, rate, engines, o);
      ASSERT_EQ(got.size(), ref.size());
      for (std::size_t i = 0; i < ref.size(); ++i) {
        EXPECT_EQ(got[i].audio, ref[i].audio) << engines << " engines, track " << i;
        EXPECT_EQ(got[i].report.delivery.gain_db, ref[i].report.delivery.gain_db) << engines << " engines";
        EXPECT_EQ(got[i].report.output_loudness.integrated_lufs, ref[i].report.output_loudness.integrated_lufs);
      }
    }
  }
}

// A batch-sample cap (what --gpu-memory becomes): batches shrink to fit it, never below one track, and the bits
// stay the same.
TEST(ChainDeterminism, BatchSampleCapShrinksBatchesWithoutChangingABit) {
  const int rate = 44100;
  const std::vector<Planar> in = inputs(rate);
  const host::Profile p = host::load_profile("streaming-warm");
  auto engine = host::make_cpu_engine();
  host::MasterOptions o;
  o.segment_frames = 8192;
  std::vector<Planar> ref;
  for (auto& t : master_in_memory(p, in, rate, *engine, o)) ref.push_back(std::move(t.audio));
  // cap 0: no cap; cap 1: one track per batch (the largest such batch is one track's segment); then caps between.
  std::int64_t one_track = 0;
  std::size_t uncapped_batches = 0, single_batches = 0;
  for (const std::int64_t cap : {std::int64_t{0}, std::int64_t{1}, std::int64_t{40000}, std::int64_t{70000}}) {
    SCOPED_TRACE("cap " + std::to_string(cap));
    std::int64_t largest = 0;
    std::size_t batches = 0;
    // The hook sees the chain's batches only (the delivery's run on companions).
    auto hook = [&](const char* op, const host::BlockBatch* b) {
      if (!b || std::string(op) != "load") return;
      largest = std::max(largest, static_cast<std::int64_t>(b->samples.size()));
      ++batches;
    };
    ProbeEngine probe(host::make_cpu_engine(), hook, "cpu", "probe", /*hook_companions=*/false);
    o.max_batch_samples = cap;
    std::vector<Planar> got;
    for (auto& t : master_in_memory(p, in, rate, probe, o)) got.push_back(std::move(t.audio));
    EXPECT_EQ(got, ref);
    if (cap == 0) uncapped_batches = batches;
    if (cap == 1) {
      one_track = largest;
      single_batches = batches;
    }
    if (cap > one_track && one_track > 0) {
      EXPECT_LE(largest, cap);
    }
  }
  EXPECT_GT(single_batches, uncapped_batches) << "one track per batch takes more batches";
}

}  // namespace
}  // namespace lathe::test
