// Streaming limiter and true-peak check (host/dsp/limiter_stream.hpp, host/dsp/true_peak_check.hpp): fed in
// segments of any sizes, they give the bits of the whole-track functions (limit_track, gain_reduction_stats,
// over_ceiling_db). Signals are driven hard into the limiter so that every phase (detection, hold, both release
// time constants, smoothing) is busy; segment sizes are seeded random mixes of tiny, odd and large.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "host/dsp/limiter.hpp"
#include "host/dsp/limiter_stream.hpp"
#include "host/dsp/true_peak_check.hpp"
#include "tests/signals.hpp"

namespace {

using lathe::host::dsp::GainStatsAccumulator;
using lathe::host::dsp::LimiterDesign;
using lathe::host::dsp::LimiterParams;
using lathe::host::dsp::LimiterResult;
using lathe::host::dsp::LimiterStream;
using lathe::host::dsp::TruePeakCheckStream;
using lathe::test::Planar;

std::int64_t frames_of(const Planar& p) { return p.empty() ? 0 : static_cast<std::int64_t>(p[0].size()); }

// Music-like material (signals.hpp) or white noise, at `gain_db`, with a few loud clicks and a quiet stretch so
// that the release runs down fully somewhere and the detector's skip of quiet groups is used.
Planar material(bool noise, int channels, std::int64_t frames, int rate, double gain_db, std::uint64_t seed) {
  Planar p = noise ? lathe::test::noise_planar(channels, static_cast<std::size_t>(frames), seed, 0.5)
                   : lathe::test::make_signal(lathe::test::SignalKind::kMusicLike, channels, frames, rate, seed);
  const auto g = static_cast<float>(std::pow(10.0, gain_db / 20.0));
  for (std::size_t c = 0; c < p.size(); ++c) {
    auto& ch = p[c];
    for (float& v : ch) v *= g;
    for (std::int64_t i = 0; i < frames; ++i) {
      if (i % 9973 == 311 + 7 * static_cast<std::int64_t>(c)) ch[static_cast<std::size_t>(i)] = 1.9f;
      if (i >= frames / 2 && i < frames / 2 + frames / 8) ch[static_cast<std::size_t>(i)] *= 0.01f;
    }
  }
  return p;
}

// Seeded segment sizes: a mix of tiny (1..7), odd (up to a few hundred), chunk-sized and huge pieces.
class Sizes {
 public:
  Sizes(std::uint64_t seed, std::int64_t max) : rng_(seed), max_(max) {}
  std::int64_t next() {
    const double u = 0.5 * (rng_.next() + 1.0), v = 0.5 * (rng_.next() + 1.0);
    std::int64_t s = 0;
    if (u < 0.3) {
      s = 1 + static_cast<std::int64_t>(v * 7);
    } else if (u < 0.7) {
      s = 1 + static_cast<std::int64_t>(v * 500);
    } else if (u < 0.9) {
      s = 1 + static_cast<std::int64_t>(v * 20000);
    } else {
      s = 1 + static_cast<std::int64_t>(v * 70000);
    }
    return std::min(s, max_);
  }

 private:
  lathe::test::Noise rng_;
  std::int64_t max_;
};

struct Whole {
  Planar out;
  LimiterResult res;
};

Whole whole_track(const LimiterDesign& d, int rate, const Planar& in) {
  Whole w{in, {}};
  std::vector<float*> ptr;
  for (auto& c : w.out) ptr.push_back(c.data());
  w.res = lathe::host::dsp::limit_track(d, rate, ptr, frames_of(in), true);
  return w;
}

struct Streamed {
  Planar out;
  std::vector<float> gain;
  LimiterResult res;
  std::int64_t most_lag = 0;  // largest (pushed - emitted) after a push
};

// Streams `in` through a LimiterStream in pieces from `next_size` (a callable). Each piece is copied into a
// scratch buffer that is overwritten (NaN) right after the push, and the output buffers are filled with NaN before
// each push, so the stream can neither keep pointers into its input nor leave a frame unwritten unnoticed.
template <class NextSize>
Streamed stream_track(const LimiterDesign& d, int rate, const Planar& in, NextSize&& next_size,
                      bool with_gain = true) {
  const auto ch = static_cast<int>(in.size());
  const std::int64_t n = frames_of(in);
  LimiterStream lim(d, rate, ch, n);
  const std::int64_t lat = lim.latency_frames();
  Streamed s;
  s.out.assign(in.size(), {});
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Planar seg(in.size()), out(in.size());
  std::vector<float> gain;
  std::vector<const float*> seg_ptr(in.size());
  std::vector<float*> out_ptr(in.size());
  auto collect = [&](std::int64_t got) {
    for (std::size_t c = 0; c < in.size(); ++c) s.out[c].insert(s.out[c].end(), out[c].begin(), out[c].begin() + got);
    if (with_gain) s.gain.insert(s.gain.end(), gain.begin(), gain.begin() + got);
  };
  for (std::int64_t pos = 0; pos < n;) {
    const std::int64_t k = std::min<std::int64_t>(next_size(), n - pos);
    for (std::size_t c = 0; c < in.size(); ++c) {
      seg[c].assign(in[c].begin() + pos, in[c].begin() + pos + k);
      out[c].assign(static_cast<std::size_t>(k + lat), nan);
      seg_ptr[c] = seg[c].data();
      out_ptr[c] = out[c].data();
    }
    gain.assign(static_cast<std::size_t>(k + lat), nan);
    const std::int64_t got = lim.push(seg_ptr, k, out_ptr, with_gain ? gain.data() : nullptr);
    for (auto& c : seg) std::fill(c.begin(), c.end(), nan);
    pos += k;
    EXPECT_GE(got, 0);
    EXPECT_LE(got, k + lat);
    collect(got);
    s.most_lag = std::max(s.most_lag, lim.frames_pushed() - lim.frames_emitted());
  }
  for (std::size_t c = 0; c < in.size(); ++c) {
    out[c].assign(static_cast<std::size_t>(lat), nan);
    out_ptr[c] = out[c].data();
  }
  gain.assign(static_cast<std::size_t>(lat), nan);
  const std::int64_t got = lim.finish(out_ptr, with_gain ? gain.data() : nullptr);
  collect(got);
  s.res = lim.stats();
  return s;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// Every output bit, the gain curve and every statistic equal.
void expect_identical(const Whole& w, const Streamed& s, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(w.out.size(), s.out.size());
  for (std::size_t c = 0; c < w.out.size(); ++c) {
    EXPECT_TRUE(same_bits(w.out[c], s.out[c])) << "channel " << c << ": " << s.out[c].size() << " of "
                                                << w.out[c].size() << " frames";
  }
  EXPECT_TRUE(same_bits(w.res.gain, s.gain)) << s.gain.size() << " of " << w.res.gain.size() << " gains";
  EXPECT_EQ(w.res.max_gain_reduction_db, s.res.max_gain_reduction_db);
  EXPECT_EQ(w.res.mean_gain_reduction_db, s.res.mean_gain_reduction_db);
  EXPECT_EQ(w.res.seconds_above_1db, s.res.seconds_above_1db);
  EXPECT_EQ(w.res.seconds_active, s.res.seconds_active);
  EXPECT_TRUE(s.res.gain.empty());
}

LimiterDesign design(int rate, bool linked, bool auto_release, int oversampling = 0, double lookahead_ms = 5.0) {
  LimiterParams lp;
  lp.linked = linked;
  lp.auto_release = auto_release;
  lp.oversampling = oversampling;
  lp.lookahead_ms = lookahead_ms;
  lp.release_ms = 40.0;  // short, so that both time constants show within the test's short tracks
  return lathe::host::dsp::limiter_design(lp, rate);
}

// ---- limiter -----------------------------------------------------------------------------------------------------
TEST(LimiterStream, MatchesWholeTrackForRandomSegments) {
  std::uint64_t seed = 1;
  for (int rate : {44100, 96000}) {
    for (int channels : {1, 2, 6}) {
      for (bool linked : {true, false}) {
        for (bool auto_release : {true, false}) {
          ++seed;
          if (channels == 1 && !linked) continue;  // the same as linked
          const bool noise = seed % 2 == 0;
          const double gain_db = seed % 3 == 0 ? 12.0 : 6.0;
          // Long enough for several chunks of the parallel phases and of the statistics (kLimiterChunk).
          const std::int64_t n = (channels == 6 ? 40000 : 70000) + static_cast<std::int64_t>(seed % 7) * 13;
          const Planar in = material(noise, channels, n, rate, gain_db, seed);
          const LimiterDesign d = design(rate, linked, auto_release);
          const Whole w = whole_track(d, rate, in);
          Sizes sizes(seed * 77, n);
          const Streamed s = stream_track(d, rate, in, [&] { return sizes.next(); });
          expect_identical(w, s, std::to_string(rate) + " Hz, " + std::to_string(channels) + " ch, linked " +
                                     std::to_string(linked) + ", auto " + std::to_string(auto_release) +
                                     (noise ? ", noise" : ", music") + " +" + std::to_string(gain_db) + " dB");
          EXPECT_GT(w.res.max_gain_reduction_db, 3.0);
          EXPECT_GT(w.res.seconds_active, 0.0);
          LimiterStream probe(d, rate, channels, n);
          EXPECT_LE(s.most_lag, probe.latency_frames());
        }
      }
    }
  }
}

TEST(LimiterStream, MatchesWholeTrackForEveryOversamplingAndRate) {
  std::uint64_t seed = 100;
  for (int rate : {8000, 48000}) {
    for (int factor : {4, 8, 16}) {
      for (bool linked : {true, false}) {
        ++seed;
        const std::int64_t n = rate == 8000 ? 20011 : 36001;
        const Planar in = material(seed % 2 == 0, 2, n, rate, 12.0, seed);
        const LimiterDesign d = design(rate, linked, true, factor);
        const Whole w = whole_track(d, rate, in);
        Sizes sizes(seed, n);
        const Streamed s = stream_track(d, rate, in, [&] { return sizes.next(); });
        expect_identical(w, s, std::to_string(rate) + " Hz x" + std::to_string(factor) + " linked " +
                                   std::to_string(linked));
      }
    }
  }
  // 8 kHz with automatic oversampling (x16) and a long look-ahead.
  const Planar in = material(false, 2, 12000, 8000, 6.0, 7);
  const LimiterDesign d = design(8000, true, true, 0, 60.0);
  EXPECT_EQ(d.factor, 16);
  const Whole w = whole_track(d, 8000, in);
  Sizes sizes(9, 12000);
  expect_identical(w, stream_track(d, 8000, in, [&] { return sizes.next(); }), "8 kHz auto, 60 ms look-ahead");
}

TEST(LimiterStream, FixedSegmentSizesFromOneFrameToWholeTrack) {
  const int rate = 44100;
  const std::int64_t n = 6007;
  for (bool linked : {true, false}) {
    const Planar in = material(false, 2, n, rate, 12.0, linked ? 3 : 4);
    const LimiterDesign d = design(rate, linked, true);
    const Whole w = whole_track(d, rate, in);
    for (std::int64_t size : {std::int64_t{1}, std::int64_t{7}, std::int64_t{16}, std::int64_t{257},
                              d.shape.lookahead, n - 1, n, std::int64_t{1} << 40}) {
      const Streamed s = stream_track(d, rate, in, [&] { return size; });
      expect_identical(w, s, "segments of " + std::to_string(size) + ", linked " + std::to_string(linked));
    }
    // Without asking for the gain curve: the same output and statistics.
    Streamed s = stream_track(d, rate, in, [] { return std::int64_t{333}; }, /*with_gain=*/false);
    s.gain = w.res.gain;
    expect_identical(w, s, "no gain curve");
  }
}

TEST(LimiterStream, ShortTracks) {
  const int rate = 44100;
  for (bool linked : {true, false}) {
    const LimiterDesign d = design(rate, linked, true);
    // Shorter than the look-ahead (220 frames), than the interpolator's half length (32), one frame.
    for (std::int64_t n : {std::int64_t{150}, std::int64_t{20}, std::int64_t{1}}) {
      Planar in = material(true, 2, n, rate, 12.0, static_cast<std::uint64_t>(n));
      in[0][0] = 1.7f;
      const Whole w = whole_track(d, rate, in);
      EXPECT_GT(w.res.max_gain_reduction_db, 0.0);
      for (std::int64_t size : {std::int64_t{1}, std::int64_t{3}, n}) {
        const Streamed s = stream_track(d, rate, in, [&] { return size; });
        expect_identical(w, s, std::to_string(n) + " frames in pieces of " + std::to_string(size) + ", linked " +
                                   std::to_string(linked));
      }
    }
  }
  // An empty track: nothing out, no reduction.
  const LimiterDesign d = design(rate, true, true);
  LimiterStream empty(d, rate, 2, 0);
  std::vector<float> a(300), b(300);
  std::vector<float*> out{a.data(), b.data()};
  EXPECT_EQ(empty.finish(out, nullptr), 0);
  EXPECT_EQ(empty.stats().max_gain_reduction_db, 0.0);
  EXPECT_EQ(empty.stats().seconds_active, 0.0);
}

TEST(LimiterStream, QuietTrackPassesUnchanged) {
  const int rate = 48000;
  const std::int64_t n = 30000;
  Planar in = lathe::test::make_signal(lathe::test::SignalKind::kMusicLike, 2, n, rate, 5);
  in[1][20000] = 1.9f;  // the one over
  const LimiterDesign d = design(rate, true, true);
  Sizes sizes(11, n);
  const Streamed s = stream_track(d, rate, in, [&] { return sizes.next(); });
  const Whole w = whole_track(d, rate, in);
  expect_identical(w, s, "quiet");
  // Up to the look-ahead before the over, the output is the input, bit for bit.
  const auto before = static_cast<std::size_t>(20000 - d.shape.lookahead - 2 * d.shape.guard);
  for (std::size_t c = 0; c < 2; ++c) EXPECT_EQ(0, std::memcmp(s.out[c].data(), in[c].data(), before * sizeof(float)));
  EXPECT_EQ(*std::min_element(s.gain.begin(), s.gain.begin() + static_cast<std::ptrdiff_t>(before)), 1.0f);
  EXPECT_LT(s.gain[20000], 0.6f);
}

TEST(LimiterStream, MisuseThrows) {
  const LimiterDesign d = design(44100, true, true);
  LimiterStream lim(d, 44100, 2, 100);
  std::vector<float> x(200, 0.5f), y(200 + static_cast<std::size_t>(lim.latency_frames())),
      z(200 + static_cast<std::size_t>(lim.latency_frames()));
  std::vector<const float*> in{x.data(), x.data()};
  std::vector<float*> out{y.data(), z.data()};
  std::vector<float*> one_out{y.data()};
  EXPECT_THROW(lim.push(in, 101, out, nullptr), std::invalid_argument);      // past the track's end
  EXPECT_THROW(lim.push(in, 10, one_out, nullptr), std::invalid_argument);   // wrong channel count
  EXPECT_THROW(lim.finish(out, nullptr), std::logic_error);                  // not complete
  EXPECT_EQ(lim.push(in, 60, out, nullptr), 0);
  EXPECT_EQ(lim.push(in, 40, out, nullptr), 100);  // the last push writes the tail
  EXPECT_EQ(lim.finish(out, nullptr), 0);
  EXPECT_THROW(lim.push(in, 1, out, nullptr), std::invalid_argument);
  EXPECT_THROW(LimiterStream(LimiterDesign{}, 44100, 2, 10), std::invalid_argument);
}

// ---- statistics ----------------------------------------------------------------------------------------------------
TEST(LimiterStream, GainStatsAccumulatorMatchesWholeCurve) {
  const std::int64_t chunk = lathe::host::dsp::kLimiterChunk;
  // A curve over several chunks with deep, shallow (below the 0.1 dB "active" threshold) and unit stretches.
  lathe::test::Noise rng(5);
  std::vector<float> curve(static_cast<std::size_t>(4 * chunk + 1234));
  for (std::size_t i = 0; i < curve.size(); ++i) {
    const double u = 0.5 * (rng.next() + 1.0);
    curve[i] = (i / 3000) % 3 == 0 ? 1.0f : static_cast<float>((i / 3000) % 3 == 1 ? 1.0 - 0.3 * u : 1.0 - 0.01 * u);
  }
  for (std::size_t len : {std::size_t{0}, std::size_t{1}, std::size_t{5000},
                          static_cast<std::size_t>(chunk), curve.size()}) {
    const std::span<const float> c(curve.data(), len);
    const LimiterResult w = lathe::host::dsp::gain_reduction_stats(c, 44100);
    for (std::uint64_t seed : {1u, 2u, 3u}) {
      GainStatsAccumulator acc(44100);
      Sizes sizes(seed, 3 * chunk);
      for (std::size_t pos = 0; pos < len;) {
        // Seed 3 also adds empty pieces.
        const auto k = std::min(static_cast<std::size_t>(sizes.next() - (seed == 3 ? 1 : 0)), len - pos);
        acc.add(c.subspan(pos, k));
        pos += k;
      }
      const LimiterResult s = acc.result(44100);
      SCOPED_TRACE(std::to_string(len) + " frames, seed " + std::to_string(seed));
      EXPECT_EQ(acc.frames(), static_cast<std::int64_t>(len));
      EXPECT_EQ(w.max_gain_reduction_db, s.max_gain_reduction_db);
      EXPECT_EQ(w.mean_gain_reduction_db, s.mean_gain_reduction_db);
      EXPECT_EQ(w.seconds_above_1db, s.seconds_above_1db);
      EXPECT_EQ(w.seconds_active, s.seconds_active);
      EXPECT_EQ(w.envelope, s.envelope);
      if (len == curve.size()) {
        EXPECT_GT(s.seconds_active, 0.0);
      }
    }
  }
}

// The envelope (the report's gain-reduction curve): the smallest gain of each 0.1 s step, the last one partial.
TEST(LimiterStream, GainEnvelopeHoldsEachStepsSmallestGain) {
  std::vector<float> curve(10000, 1.0f);  // 0.227 s at 44.1 kHz: steps of 4410 frames, 4410 + 4410 + 1180
  curve[17] = 0.5f;
  curve[4409] = 0.25f;
  curve[4410] = 0.9f;
  curve[9999] = 0.75f;
  const LimiterResult r = lathe::host::dsp::gain_reduction_stats(curve, 44100);
  EXPECT_EQ(r.envelope, (std::vector<float>{0.25f, 0.9f, 0.75f}));
  EXPECT_DOUBLE_EQ(r.envelope_step_s, 0.1);
  // At a rate whose tenth of a second is not whole frames, the step is rounded to frames.
  const LimiterResult q = lathe::host::dsp::gain_reduction_stats(curve, 11025);
  EXPECT_EQ(q.envelope.size(), 10u);  // 1103 frames per step
  EXPECT_DOUBLE_EQ(q.envelope_step_s, 1103.0 / 11025.0);
  // Without a rate, no envelope (statistics only).
  GainStatsAccumulator plain;
  plain.add(curve);
  EXPECT_TRUE(plain.result(44100).envelope.empty());
}

// ---- true-peak check -------------------------------------------------------------------------------------------
template <class NextSize>
double check_streamed(const Planar& audio, int rate, double ceiling_db, NextSize&& next_size) {
  const std::int64_t n = frames_of(audio);
  TruePeakCheckStream check(rate, static_cast<int>(audio.size()), ceiling_db, n);
  Planar seg(audio.size());
  std::vector<const float*> ptr(audio.size());
  for (std::int64_t pos = 0; pos < n;) {
    const std::int64_t k = std::min<std::int64_t>(next_size(), n - pos);
    for (std::size_t c = 0; c < audio.size(); ++c) {
      seg[c].assign(audio[c].begin() + pos, audio[c].begin() + pos + k);
      ptr[c] = seg[c].data();
    }
    check.push(ptr, k);
    for (auto& c : seg) std::fill(c.begin(), c.end(), std::numeric_limits<float>::quiet_NaN());
    pos += k;
  }
  return check.over_ceiling_db();
}

TEST(TruePeakCheckStream, MatchesWholeTrack) {
  std::uint64_t seed = 200;
  // x4 meters below 96 kHz, the x2 Hann design at 96 kHz, none from 192 kHz; limited material comes near the
  // ceiling, so the long interpolator and the meters' readings are all taken.
  for (int rate : {44100, 96000, 192000}) {
    for (int channels : {1, 2, 6}) {
      ++seed;
      const std::int64_t n = channels == 6 ? 12000 : 25000;
      const Planar raw = material(seed % 2 == 0, channels, n, rate, 12.0, seed);
      const LimiterDesign d = design(rate, true, true);
      const Planar limited = whole_track(d, rate, raw).out;
      // The limited track against its ceiling and a lower one; the raw one against a ceiling its loudest frames
      // come near (the clicks stay 1.2 dB below it).
      for (const auto& [a, ceiling] : {std::pair{&limited, -1.0}, std::pair{&limited, -1.2}, std::pair{&raw, 6.8}}) {
        const double w = lathe::host::dsp::over_ceiling_db(*a, rate, ceiling);
        Sizes sizes(seed, n);
        const double s = check_streamed(*a, rate, ceiling, [&] { return sizes.next(); });
        SCOPED_TRACE(std::to_string(rate) + " Hz, " + std::to_string(channels) + " ch, ceiling " +
                     std::to_string(ceiling) + (a == &raw ? ", raw" : ", limited"));
        EXPECT_EQ(w, s);
        EXPECT_GT(w, -0.5);  // near the ceiling: the detector found frames within 0.5 dB, every reading was taken
      }
    }
  }
}

TEST(TruePeakCheckStream, TinySegmentsAndShortTracks) {
  const int rate = 48000;
  for (std::int64_t n : {std::int64_t{3001}, std::int64_t{200}, std::int64_t{100}, std::int64_t{1}}) {
    Planar a = material(false, 2, n, rate, 6.0, static_cast<std::uint64_t>(n));
    a[1][static_cast<std::size_t>(n - 1)] = 0.95f;  // the last frame's interval after the track counts too
    for (std::int64_t size : {std::int64_t{1}, std::int64_t{7}, std::int64_t{129}, n}) {
      const double w = lathe::host::dsp::over_ceiling_db(a, rate, -1.0);
      const double s = check_streamed(a, rate, -1.0, [&] { return size; });
      SCOPED_TRACE(std::to_string(n) + " frames in pieces of " + std::to_string(size));
      EXPECT_EQ(w, s);
      EXPECT_GT(w, 0.0);
    }
  }
  TruePeakCheckStream empty(rate, 2, -1.0, 0);
  EXPECT_EQ(empty.over_ceiling_db(), lathe::host::dsp::over_ceiling_db(Planar(2), rate, -1.0));
  TruePeakCheckStream partial(rate, 1, -1.0, 10);
  std::vector<float> x(10, 0.0f);
  std::vector<const float*> p{x.data()};
  partial.push(p, 5);
  EXPECT_THROW(partial.over_ceiling_db(), std::logic_error);
  EXPECT_THROW(partial.push(p, 6), std::invalid_argument);
}

}  // namespace
