// master_with_fallback (issue 8): a GpuError from the engine in the middle of a run. The "GPU" here is the CPU
// engine behind a wrapper that says it is a GPU and fails at a chosen call, so the fallback's outputs can be
// compared bit for bit with a plain CPU run (the engines are bit-identical by design, DESIGN.md section 2).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/engine/engine.hpp"
#include "host/errors.hpp"
#include "host/io/memory_track.hpp"
#include "host/master.hpp"
#include "host/master_fallback.hpp"
#include "host/profile/profile.hpp"
#include "tests/probe_engine.hpp"
#include "tests/signals.hpp"

namespace lathe::host {
namespace {

constexpr int kRate = 44100;
constexpr const char* kInjected = "injected fault";

// Which call fails: the `nth` call (from 1) of operation `op`, counted over the engine and its companions.
struct FaultPlan {
  std::string op;
  int nth = 0;      // 0: never
  bool gpu = true;  // a GpuError; otherwise a plain std::runtime_error
};

// Calls per operation, shared by an engine and its companions.
struct CallLog {
  std::mutex mutex;
  std::map<std::string, int> calls;
};

// The CPU engine dressed as a GPU that fails at the planned call (counted over the engine and its companions).
std::unique_ptr<Engine> faulty_engine(FaultPlan plan, std::shared_ptr<CallLog> log) {
  auto hook = [plan = std::move(plan), log = std::move(log)](const char* name, const BlockBatch*) {
    const std::string op = name;
    int k = 0;
    {
      std::lock_guard lock(log->mutex);
      k = ++log->calls[op];
    }
    if (op != plan.op || k != plan.nth) return;
    if (plan.gpu) throw GpuError("CUDA error while testing " + op + ": " + kInjected, "check the driver");
    throw std::runtime_error("not a GPU problem");
  };
  return std::make_unique<test::ProbeEngine>(make_cpu_engine(), hook, "gpu", "that fails");
}

struct TrackSpec {
  std::string name;
  std::int64_t frames;
};

// Lengths differ so that tracks leave the chain at different batches; 2 tracks per batch, so that some finish
// long before others start.
const std::vector<TrackSpec> kSingles = {{"t0", 60000}, {"t1", 20000}, {"t2", 90000},
                                         {"t3", 35000}, {"t4", 50000}, {"t5", 25000}};
const std::vector<TrackSpec> kAlbums = {{"a/1", 60000}, {"a/2", 20000}, {"b/1", 90000},
                                        {"b/2", 35000}, {"b/3", 50000}, {"c/1", 25000}};

const char* kAlbumFileProfile =
    "name = \"albumfile\"\n[delivery]\nbits = 16\nsample_rate_hz = 44100\n[targets]\nintegrated_lufs = -14.0\n"
    "ceiling_dbtp = -1.0\nalbum = true\n[album]\ngap_s = 0.5\nalbum_file = true\n";

Profile profile_named(const std::string& name) {
  return name == "albumfile" ? parse_profile(kAlbumFileProfile, "albumfile.toml") : load_profile(name);
}

MasterOptions options_for(bool album) {
  MasterOptions o;
  o.segment_frames = 8192;
  o.batch_tracks = 2;
  o.album = album;
  return o;
}

struct Tracks {
  std::vector<std::unique_ptr<TrackIo>> io;
  std::vector<MemoryTrack*> mem;
};

Tracks make_tracks(const std::vector<TrackSpec>& specs) {
  Tracks t;
  std::uint64_t seed = 11;
  for (const auto& s : specs) {
    auto m = std::make_unique<MemoryTrack>(s.name, test::make_signal(test::SignalKind::kMusicLike, 2, s.frames, kRate,
                                                                     seed++),
                                           kRate);
    t.mem.push_back(m.get());
    t.io.push_back(std::move(m));
  }
  return t;
}

// What a run left behind per track: its report, whether the output was committed, the output's bytes, and the
// album files and sidecars made beside it.
struct Outcome {
  std::vector<TrackReport> reports;
  std::vector<bool> committed;
  std::vector<std::vector<unsigned char>> bytes;
  std::vector<std::map<std::string, std::vector<unsigned char>>> siblings;
  std::vector<std::map<std::string, std::string>> sidecars;
  std::vector<AlbumReport> albums;
  std::map<std::string, int> calls;  // engine calls per operation (reference runs)
};

void collect(const Tracks& t, Outcome& o) {
  for (const MemoryTrack* m : t.mem) {
    o.committed.push_back(m->committed());
    o.bytes.push_back(m->output_bytes());
    std::map<std::string, std::vector<unsigned char>> sib;
    for (const auto& [name, track] : m->siblings().outputs) sib[name] = track->output_bytes();
    o.siblings.push_back(std::move(sib));
    o.sidecars.push_back(m->siblings().texts);
  }
}

// The plain CPU run (through the wrapper that never fails, to count the calls), once per configuration.
const Outcome& reference(const std::string& profile, bool album, const std::vector<TrackSpec>& specs) {
  static std::map<std::string, Outcome> cache;
  std::string key = profile + (album ? "/album" : "");
  for (const auto& s : specs) key += "|" + s.name + ":" + std::to_string(s.frames);
  if (const auto it = cache.find(key); it != cache.end()) return it->second;
  Tracks t = make_tracks(specs);
  auto log = std::make_shared<CallLog>();
  const auto engine = faulty_engine(FaultPlan{}, log);
  const MasterResult r = master_tracks(t.io, profile_named(profile), *engine, options_for(album));
  Outcome o;
  o.reports = r.tracks;
  o.albums = r.albums;
  o.calls = log->calls;
  collect(t, o);
  return cache[key] = std::move(o);
}

// A run through master_with_fallback, with the order of what it said: "warn" and the reported tracks' names.
struct Guarded {
  FallbackResult result;
  Outcome outcome;
  std::vector<std::string> events;
  std::vector<std::string> warnings;
  int fallbacks_made = 0;
};

// `gpus` primary engines share one call log: the fault is the nth call over all of them.
Guarded run_guarded(const std::string& profile, bool album, const std::vector<TrackSpec>& specs, FaultPlan plan,
                    bool with_fallback, int gpus = 1) {
  Guarded g;
  Tracks t = make_tracks(specs);
  auto log = std::make_shared<CallLog>();
  std::vector<std::unique_ptr<Engine>> engines;
  std::vector<Engine*> primaries;
  for (int e = 0; e < gpus; ++e) {
    engines.push_back(faulty_engine(plan, log));
    primaries.push_back(engines.back().get());
  }
  std::function<std::unique_ptr<Engine>()> fallback;
  if (with_fallback) {
    fallback = [&] {
      ++g.fallbacks_made;
      return make_cpu_engine();
    };
  }
  g.result = master_with_fallback(
      t.io, profile_named(profile), std::span<Engine* const>(primaries), fallback, options_for(album),
      [&](const TrackReport& r) { g.events.push_back(r.input); },
      [&](const std::string& w) {
        g.events.push_back("warn");
        g.warnings.push_back(w);
      });
  g.outcome.reports = g.result.result.tracks;
  g.outcome.albums = g.result.result.albums;
  collect(t, g.outcome);
  return g;
}

int count(const std::vector<std::string>& v, const std::string& s) {
  return static_cast<int>(std::count(v.begin(), v.end(), s));
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// ---- fallback to the CPU engine -----------------------------------------------------------------------------------

enum class When { kFirst, kMiddle, kLast };

struct Case {
  const char* label;
  const char* profile;
  bool album;
  const char* op;
  When when;
};

class GpuFallback : public ::testing::TestWithParam<Case> {};

TEST_P(GpuFallback, UnfinishedTracksAreRedoneOnTheCpuWithTheSameBitsAndReportedOnce) {
  const Case& c = GetParam();
  const std::vector<TrackSpec>& specs = c.album ? kAlbums : kSingles;
  const Outcome& ref = reference(c.profile, c.album, specs);
  const auto calls = ref.calls.find(c.op);
  ASSERT_NE(calls, ref.calls.end()) << "the profile never calls " << c.op;
  const int total = calls->second;
  const int nth = c.when == When::kFirst ? 1 : c.when == When::kLast ? total : (total + 1) / 2;

  const Guarded g = run_guarded(c.profile, c.album, specs, FaultPlan{c.op, nth, true}, true);
  const FallbackResult& r = g.result;
  EXPECT_TRUE(r.fell_back);
  EXPECT_FALSE(r.stopped);
  EXPECT_TRUE(contains(r.gpu_error, kInjected)) << r.gpu_error;
  EXPECT_GT(r.unfinished, 0u);
  EXPECT_EQ(g.fallbacks_made, 1);
  ASSERT_EQ(g.warnings.size(), 1u);
  EXPECT_TRUE(contains(g.warnings[0], kInjected)) << g.warnings[0];
  EXPECT_TRUE(contains(g.warnings[0], std::to_string(r.unfinished) + " unfinished track")) << g.warnings[0];
  EXPECT_TRUE(contains(r.result.engine, " then cpu")) << r.result.engine;
  // The tracks reported before the warning (how many depends on how the deliveries overlapped the chain when
  // the fault came) are kept; exactly the others are redone.
  const auto before_warning =
      static_cast<std::size_t>(std::find(g.events.begin(), g.events.end(), "warn") - g.events.begin());
  EXPECT_EQ(r.unfinished, specs.size() - before_warning);
  // Each track's report names the engine that mastered it: the "GPU" before the warning, the CPU after.
  for (std::size_t e = 0; e < g.events.size(); ++e) {
    if (g.events[e] == "warn") continue;
    for (std::size_t i = 0; i < specs.size(); ++i) {
      if (specs[i].name != g.events[e]) continue;
      const bool on_gpu = r.result.tracks[i].engine.find("that fails") != std::string::npos;
      EXPECT_EQ(on_gpu, e < before_warning) << specs[i].name << ": " << r.result.tracks[i].engine;
    }
  }

  // Every track once, in input order, written, with the plain CPU run's bits.
  ASSERT_EQ(r.result.tracks.size(), specs.size());
  EXPECT_EQ(g.events.size(), specs.size() + 1);
  EXPECT_EQ(r.result.failed(), 0);
  double audio = 0;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const TrackReport& t = r.result.tracks[i];
    EXPECT_EQ(t.input, specs[i].name);
    EXPECT_TRUE(t.ok) << t.input << ": " << t.error;
    EXPECT_EQ(count(g.events, specs[i].name), 1) << specs[i].name;
    EXPECT_TRUE(g.outcome.committed[i]) << specs[i].name;
    EXPECT_TRUE(g.outcome.bytes[i] == ref.bytes[i]) << specs[i].name << ": not the CPU engine's bits";
    EXPECT_EQ(g.outcome.siblings[i], ref.siblings[i]) << specs[i].name;
    EXPECT_EQ(g.outcome.sidecars[i], ref.sidecars[i]) << specs[i].name;
    EXPECT_EQ(t.frames, ref.reports[i].frames);
    EXPECT_EQ(t.content_key, ref.reports[i].content_key);
    EXPECT_EQ(t.delivery.gain_db, ref.reports[i].delivery.gain_db);
    EXPECT_EQ(t.output_loudness.true_peak_dbtp, ref.reports[i].output_loudness.true_peak_dbtp);
    audio += t.duration_s;
    EXPECT_FALSE(t.engine.empty());
  }
  EXPECT_DOUBLE_EQ(r.result.audio_seconds, audio);
  // Albums: one report per album file, none spoiled, except that a run that ended in the GpuError could not
  // report the album files it had written (they are kept, and the warning counts them).
  std::size_t unreported = 0;
  std::smatch m;
  if (std::regex_search(g.warnings[0], m, std::regex("(\\d+) album files? written before the error")))
    unreported = std::stoul(m[1].str());
  ASSERT_EQ(g.outcome.albums.size() + unreported, ref.albums.size()) << g.warnings[0];
  for (const AlbumReport& al : g.outcome.albums) {
    EXPECT_TRUE(al.error.empty()) << al.error;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Faults, GpuFallback,
    ::testing::Values(Case{"FirstLoad", "transparent", false, "load", When::kFirst},
                      Case{"MiddleLoad", "transparent", false, "load", When::kMiddle},
                      Case{"LastStore", "transparent", false, "store", When::kLast},
                      Case{"FirstLimit", "streaming", false, "limit", When::kFirst},
                      Case{"MiddleLimit", "streaming", false, "limit", When::kMiddle},
                      Case{"MiddleMeter", "streaming", false, "meter", When::kMiddle},
                      Case{"MiddleChainLoad", "streaming", false, "load", When::kMiddle},
                      Case{"LastMeter", "streaming", false, "meter", When::kLast},
                      Case{"AlbumMiddleLimit", "streaming", true, "limit", When::kMiddle},
                      Case{"AlbumMiddleLoad", "streaming", true, "load", When::kMiddle},
                      // The last limiter pass is the album file's: its album's tracks were written before it.
                      Case{"AlbumFileLastLimit", "albumfile", true, "limit", When::kLast},
                      Case{"AlbumFileMiddleMeter", "albumfile", true, "meter", When::kMiddle}),
    [](const ::testing::TestParamInfo<Case>& p) { return std::string(p.param.label); });

TEST(GpuFallbackRuns, TracksWithTheSameNamesKeepTheirOwnReportsAndOutputs) {
  // Two tracks called "dup": the long one is admitted first, the short one finishes first.
  const std::vector<TrackSpec> specs = {{"dup", 90000}, {"x", 30000}, {"y", 40000},
                                        {"dup", 20000}, {"z", 70000}, {"w", 30000}};
  const Outcome& ref = reference("transparent", false, specs);
  const int nth = (ref.calls.at("load") + 1) / 2;
  const Guarded g = run_guarded("transparent", false, specs, FaultPlan{"load", nth, true}, true);
  ASSERT_TRUE(g.result.fell_back);
  EXPECT_EQ(count(g.events, "dup"), 2);
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const TrackReport& t = g.result.result.tracks[i];
    EXPECT_TRUE(t.ok) << t.error;
    EXPECT_EQ(t.frames, specs[i].frames) << i;
    EXPECT_EQ(t.content_key, ref.reports[i].content_key) << i;
    EXPECT_TRUE(g.outcome.bytes[i] == ref.bytes[i]) << i;
  }
}

TEST(GpuFallbackRuns, WithoutAFaultItIsAPlainRun) {
  const Outcome& ref = reference("streaming", false, kSingles);
  const Guarded g = run_guarded("streaming", false, kSingles, FaultPlan{}, true);
  EXPECT_TRUE(g.result.gpu_error.empty());
  EXPECT_FALSE(g.result.fell_back);
  EXPECT_FALSE(g.result.stopped);
  EXPECT_EQ(g.fallbacks_made, 0);
  EXPECT_TRUE(g.warnings.empty());
  EXPECT_TRUE(contains(g.result.result.engine, "gpu (test")) << g.result.result.engine;
  ASSERT_EQ(g.result.result.tracks.size(), kSingles.size());
  for (std::size_t i = 0; i < kSingles.size(); ++i) {
    EXPECT_TRUE(g.result.result.tracks[i].ok);
    EXPECT_TRUE(g.outcome.bytes[i] == ref.bytes[i]) << i;
  }
}

// ---- no fallback (--engine gpu) -------------------------------------------------------------------------------------

TEST(GpuFallbackRuns, SeveralGpusShareTheTracksAndOneFailingSendsTheUnfinishedToTheCpu) {
  for (const bool album : {false, true}) {
    SCOPED_TRACE(album ? "album mode" : "track mode");
    const std::vector<TrackSpec>& specs = album ? kAlbums : kSingles;
    const Outcome& ref = reference("streaming", album, specs);
    for (const FaultPlan& plan : {FaultPlan{}, FaultPlan{"limit", 3, true}, FaultPlan{"load", 2, true}}) {
      SCOPED_TRACE(plan.op.empty() ? "no fault" : plan.op);
      const Guarded g = run_guarded("streaming", album, specs, plan, true, 3);
      EXPECT_EQ(g.result.fell_back, !plan.op.empty());
      EXPECT_EQ(g.warnings.size(), plan.op.empty() ? 0u : 1u);
      EXPECT_TRUE(contains(g.result.result.engine, "3 engines")) << g.result.result.engine;
      ASSERT_EQ(g.result.result.tracks.size(), specs.size());
      for (std::size_t i = 0; i < specs.size(); ++i) {
        EXPECT_TRUE(g.result.result.tracks[i].ok) << g.result.result.tracks[i].error;
        EXPECT_EQ(count(g.events, specs[i].name), 1) << specs[i].name;
        EXPECT_TRUE(g.outcome.bytes[i] == ref.bytes[i]) << specs[i].name << ": not the CPU engine's bits";
      }
    }
  }
}

TEST(GpuFallbackRuns, WithoutAFallbackTheRunStopsCleanlyKeepingWhatWasFinished) {
  const Outcome& ref = reference("transparent", false, kSingles);
  const int nth = (ref.calls.at("load") + 1) / 2;
  const Guarded g = run_guarded("transparent", false, kSingles, FaultPlan{"load", nth, true}, false);
  const FallbackResult& r = g.result;
  EXPECT_TRUE(r.stopped);
  EXPECT_FALSE(r.fell_back);
  EXPECT_TRUE(contains(r.gpu_error, kInjected)) << r.gpu_error;
  ASSERT_EQ(g.warnings.size(), 1u);
  EXPECT_TRUE(contains(g.warnings[0], "stopping")) << g.warnings[0];
  EXPECT_TRUE(contains(r.result.engine, "stopped by a GPU error")) << r.result.engine;
  ASSERT_EQ(r.result.tracks.size(), kSingles.size());
  EXPECT_EQ(g.events.size(), kSingles.size() + 1);
  std::size_t written = 0, failed = 0;
  for (std::size_t i = 0; i < kSingles.size(); ++i) {
    const TrackReport& t = r.result.tracks[i];
    EXPECT_EQ(t.input, kSingles[i].name);
    EXPECT_EQ(count(g.events, kSingles[i].name), 1) << kSingles[i].name;
    if (t.ok) {
      ++written;
      EXPECT_TRUE(g.outcome.committed[i]) << t.input;
      EXPECT_TRUE(g.outcome.bytes[i] == ref.bytes[i]) << t.input;
    } else {
      ++failed;
      EXPECT_TRUE(contains(t.error, kInjected)) << t.error;
      EXPECT_TRUE(contains(t.error, "--engine cpu")) << t.error;
      EXPECT_FALSE(g.outcome.committed[i]) << t.input << ": an unfinished track has an output";
    }
  }
  EXPECT_GT(written, 0u);
  EXPECT_GT(failed, 0u);
  EXPECT_EQ(failed, r.unfinished);
  EXPECT_EQ(r.result.failed(), static_cast<int>(failed));
}

TEST(GpuFallbackRuns, WithoutAFallbackAFaultBeforeAnyTrackFailsThemAll) {
  const Guarded g = run_guarded("streaming", false, kSingles, FaultPlan{"load", 1, true}, false);
  EXPECT_TRUE(g.result.stopped);
  EXPECT_EQ(g.result.unfinished, kSingles.size());
  EXPECT_EQ(g.result.result.failed(), static_cast<int>(kSingles.size()));
  for (std::size_t i = 0; i < kSingles.size(); ++i) {
    EXPECT_FALSE(g.outcome.committed[i]);
  }
}

TEST(GpuFallbackRuns, WithoutAFallbackASpoiledAlbumFileIsReportedAndItsTracksKept) {
  const Outcome& ref = reference("albumfile", false, kAlbums);
  const Guarded g = run_guarded("albumfile", false, kAlbums, FaultPlan{"limit", ref.calls.at("limit"), true}, false);
  EXPECT_TRUE(g.result.stopped);
  for (std::size_t i = 0; i < kAlbums.size(); ++i) {
    EXPECT_TRUE(g.result.result.tracks[i].ok) << g.result.result.tracks[i].error;
    EXPECT_TRUE(g.outcome.bytes[i] == ref.bytes[i]) << i;
  }
  ASSERT_EQ(g.outcome.albums.size(), ref.albums.size());
  int spoiled = 0;
  for (const AlbumReport& al : g.outcome.albums) spoiled += contains(al.error, kInjected) ? 1 : 0;
  EXPECT_EQ(spoiled, 1);
}

// ---- other failures ------------------------------------------------------------------------------------------------

TEST(GpuFallbackRuns, OtherExceptionsPropagateWithoutAFallback) {
  Tracks t = make_tracks(kSingles);
  const auto engine = faulty_engine(FaultPlan{"load", 3, false}, std::make_shared<CallLog>());
  int made = 0, warned = 0;
  const auto fallback = [&] {
    ++made;
    return make_cpu_engine();
  };
  try {
    master_with_fallback(t.io, load_profile("transparent"), *engine, fallback, options_for(false), {},
                         [&](const std::string&) { ++warned; });
    ADD_FAILURE() << "no exception";
  } catch (const GpuError&) {
    ADD_FAILURE() << "became a GpuError";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "not a GPU problem");
  }
  EXPECT_EQ(made, 0);
  EXPECT_EQ(warned, 0);
}

}  // namespace
}  // namespace lathe::host
