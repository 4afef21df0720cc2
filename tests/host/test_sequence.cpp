// Album sequencing (host/album/sequence): track placement with gaps, fades and crossfades in exact frames, CD-frame
// alignment, the fade and crossfade gain curves, the album render (silence, bit-exact copies, equal-power sums) and
// the CUE sheet (exact text, escaping, the 99-track limit), and the messages of refused inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <numbers>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "host/album/sequence.hpp"
#include "host/errors.hpp"

namespace lathe::host::album {
namespace {

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected to find \"" << part << "\" in:\n" << text;
}

// Runs f, expects it to throw E, and returns "what (hint)" (or what() for non-lathe exceptions).
template <class E>
std::string thrown(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    if constexpr (std::is_base_of_v<Error, E>) {
      return e.message();
    } else {
      return e.what();
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
    return {};
  }
  ADD_FAILURE() << "no exception";
  return {};
}

SequenceItem item(std::string title, std::int64_t frames) {
  SequenceItem it;
  it.title = std::move(title);
  it.performer = "The Lathes";
  it.frames = frames;
  return it;
}

SequenceOptions opts(int rate, bool cd = false) {
  SequenceOptions o;
  o.rate_hz = rate;
  o.cd_frames = cd;
  o.album_title = "Night Drive";
  o.album_performer = "The Lathes";
  return o;
}

std::vector<std::vector<float>> constant(int channels, std::int64_t frames, float v) {
  return std::vector<std::vector<float>>(static_cast<std::size_t>(channels),
                                         std::vector<float>(static_cast<std::size_t>(frames), v));
}

std::vector<std::vector<float>> noise(int channels, std::int64_t frames, float sigma, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, sigma);
  auto p = constant(channels, frames, 0.0f);
  for (auto& ch : p)
    for (float& x : ch) x = d(rng);
  return p;
}

// The placement rules every plan must satisfy, whatever the options.
void check_invariants(const Sequence& s, const std::vector<SequenceItem>& items, const SequenceOptions& o) {
  const std::int64_t grid = o.cd_frames ? o.rate_hz / 75 : 1;
  std::int64_t prev_end = 0;
  ASSERT_EQ(s.tracks.size(), items.size());
  for (std::size_t k = 0; k < items.size(); ++k) {
    SCOPED_TRACE(k);
    const Placement& p = s.tracks[k];
    EXPECT_EQ(p.start % grid, 0);
    const std::int64_t gap = std::llround(items[k].gap_before_s * o.rate_hz);
    const std::int64_t overlap = std::llround(items[k].crossfade_s * o.rate_hz);
    if (overlap > 0) {
      EXPECT_EQ(p.start, prev_end - p.overlap_frames);
      EXPECT_GE(p.overlap_frames, overlap);
      EXPECT_LT(p.overlap_frames, overlap + grid);
      EXPECT_EQ(p.gap_frames, 0);
    } else {
      EXPECT_EQ(p.start, prev_end + p.gap_frames);
      EXPECT_EQ(p.overlap_frames, 0);
      EXPECT_GE(p.gap_frames, gap);
      EXPECT_LT(p.gap_frames, gap + grid);
    }
    EXPECT_EQ(p.fade_in_frames, std::llround(items[k].fade_in_s * o.rate_hz));
    EXPECT_EQ(p.fade_out_frames, std::llround(items[k].fade_out_s * o.rate_hz));
    prev_end = p.start + items[k].frames;
  }
  EXPECT_GE(s.total_frames, prev_end);
  EXPECT_LT(s.total_frames, prev_end + grid);
  EXPECT_EQ(s.total_frames % grid, 0);
}

// ------------------------------------------------------------------------------------------------------------
// Placement

TEST(SequencePlan, GapsPlaceTracksEndToEnd) {
  std::vector<SequenceItem> items = {item("A", 480000), item("B", 240123), item("C", 1000)};
  items[1].gap_before_s = 2.0;
  items[2].gap_before_s = 1.337;  // 64176 frames at 48 kHz
  const auto o = opts(48000);
  const Sequence s = plan_sequence(items, o);
  ASSERT_EQ(s.tracks.size(), 3u);
  EXPECT_EQ(s.tracks[0].start, 0);
  EXPECT_EQ(s.tracks[0].gap_frames, 0);
  EXPECT_EQ(s.tracks[1].start, 480000 + 96000);
  EXPECT_EQ(s.tracks[1].gap_frames, 96000);
  EXPECT_EQ(s.tracks[2].start, 480000 + 96000 + 240123 + 64176);
  EXPECT_EQ(s.tracks[2].gap_frames, 64176);
  EXPECT_EQ(s.total_frames, 480000 + 96000 + 240123 + 64176 + 1000);
  check_invariants(s, items, o);
}

TEST(SequencePlan, PregapOnTheFirstTrack) {
  std::vector<SequenceItem> items = {item("A", 44100)};
  items[0].gap_before_s = 0.5;
  const Sequence s = plan_sequence(items, opts(44100));
  EXPECT_EQ(s.tracks[0].start, 22050);
  EXPECT_EQ(s.tracks[0].gap_frames, 22050);
  EXPECT_EQ(s.total_frames, 22050 + 44100);
}

TEST(SequencePlan, CrossfadesOverlapThePreviousTrack) {
  std::vector<SequenceItem> items = {item("A", 480000), item("B", 240000), item("C", 96000)};
  items[1].crossfade_s = 3.0;
  items[2].crossfade_s = 0.25;
  const auto o = opts(48000);
  const Sequence s = plan_sequence(items, o);
  EXPECT_EQ(s.tracks[1].start, 480000 - 144000);
  EXPECT_EQ(s.tracks[1].overlap_frames, 144000);
  EXPECT_EQ(s.tracks[2].start, 480000 - 144000 + 240000 - 12000);
  EXPECT_EQ(s.tracks[2].overlap_frames, 12000);
  EXPECT_EQ(s.total_frames, 480000 - 144000 + 240000 - 12000 + 96000);
  check_invariants(s, items, o);
}

TEST(SequencePlan, FadesRoundToTheNearestFrame) {
  std::vector<SequenceItem> items = {item("A", 441000)};
  items[0].fade_in_s = 1.337;     // 58961.7 -> 58962
  items[0].fade_out_s = 0.00001;  // 0.441 -> 0: no fade
  const Sequence s = plan_sequence(items, opts(44100));
  EXPECT_EQ(s.tracks[0].fade_in_frames, 58962);
  EXPECT_EQ(s.tracks[0].fade_out_frames, 0);
  EXPECT_EQ(s.total_frames, 441000);
  items[0].fade_out_s = 10.0;  // the whole track
  EXPECT_EQ(plan_sequence(items, opts(44100)).tracks[0].fade_out_frames, 441000);
}

TEST(SequencePlan, CdFramesPutEveryStartOnA588SampleBoundary) {
  // Lengths off the grid, gaps of 2 s and 1.337 s, a zero gap, crossfades on and off the grid.
  std::vector<SequenceItem> items = {item("1", 44100 * 30 + 17), item("2", 44100 * 20 + 5),  item("3", 44100 * 10 + 1),
                                     item("4", 44100 * 12 + 300), item("5", 44100 * 9 + 587), item("6", 44100 * 7),
                                     item("7", 44100 * 5 + 3)};
  items[0].gap_before_s = 1.337;
  items[1].gap_before_s = 2.0;
  items[2].gap_before_s = 1.337;
  items[3].crossfade_s = 3.0;
  items[4].crossfade_s = 0.01;  // 441 frames, under one CD frame
  items[5].gap_before_s = 0.0;
  items[6].crossfade_s = 1.337;
  const auto o = opts(44100, true);
  const Sequence s = plan_sequence(items, o);
  check_invariants(s, items, o);
  for (const Placement& p : s.tracks) EXPECT_EQ(p.start % 588, 0) << p.start;
  EXPECT_EQ(s.total_frames % 588, 0);
  // Track 1: a 58962-frame pregap rounds up to 101 CD frames (59388); track 2 starts on the first CD frame at
  // least 2 s after track 1's end.
  EXPECT_EQ(s.tracks[0].start, 59388);
  const std::int64_t end1 = 59388 + 44100 * 30 + 17;
  EXPECT_EQ(s.tracks[1].start, (end1 + 88200 + 587) / 588 * 588);
  // A 441-frame crossfade grows to the frame boundary below: at least 441, under 441 + 588.
  EXPECT_GE(s.tracks[4].overlap_frames, 441);
  EXPECT_LT(s.tracks[4].overlap_frames, 441 + 588);
}

TEST(SequencePlan, CdFramesAt48kHzUse640SampleFrames) {
  std::vector<SequenceItem> items = {item("1", 48000 * 3 + 1), item("2", 48000 * 2 + 7), item("3", 48000)};
  items[1].gap_before_s = 1.337;
  items[2].crossfade_s = 0.5;
  const auto o = opts(48000, true);
  const Sequence s = plan_sequence(items, o);
  check_invariants(s, items, o);
  for (const Placement& p : s.tracks) EXPECT_EQ(p.start % 640, 0);
}

TEST(SequencePlan, ZeroGapWithCdFramesPadsToTheGrid) {
  std::vector<SequenceItem> items = {item("1", 1000), item("2", 1000)};
  const Sequence s = plan_sequence(items, opts(44100, true));
  EXPECT_EQ(s.tracks[1].start, 1176);
  EXPECT_EQ(s.tracks[1].gap_frames, 176);
  EXPECT_EQ(s.total_frames, 2352);
}

// ------------------------------------------------------------------------------------------------------------
// Refused inputs

TEST(SequenceInvalid, NoTracksOrEmptyTrack) {
  EXPECT_TRUE(Contains(thrown<InputError>([] { plan_sequence({}, opts(44100)); }), "at least one track"));
  std::vector<SequenceItem> items = {item("A", 100), item("B", 0)};
  EXPECT_TRUE(Contains(thrown<InputError>([&] { plan_sequence(items, opts(44100)); }),
                       "album track 2 \"B\": the track is empty (0 frames)"));
}

TEST(SequenceInvalid, RateOutOfRange) {
  const std::vector<SequenceItem> items = {item("A", 100)};
  EXPECT_TRUE(Contains(thrown<InputError>([&] { plan_sequence(items, opts(4000)); }),
                       "album sample rate 4000 Hz is outside 8000 to 384000 Hz"));
  EXPECT_TRUE(Contains(thrown<InputError>([&] { plan_sequence(items, opts(400000)); }), "400000 Hz"));
  EXPECT_NO_THROW(plan_sequence(items, opts(8000)));
  EXPECT_NO_THROW(plan_sequence(items, opts(384000)));
}

TEST(SequenceInvalid, NegativeNanInfiniteAndHugeTimes) {
  auto msg = [](auto set) {
    std::vector<SequenceItem> items = {item("A", 441000), item("B", 441000)};
    set(items[1]);
    return thrown<ProfileError>([&] { plan_sequence(items, opts(44100)); });
  };
  EXPECT_TRUE(Contains(msg([](SequenceItem& i) { i.gap_before_s = -1; }),
                       "album track 2 \"B\": gap_before_s = -1: must be a number of seconds, 0 or more"));
  EXPECT_TRUE(Contains(msg([](SequenceItem& i) { i.fade_in_s = std::nan(""); }), "fade_in_s = nan"));
  EXPECT_TRUE(Contains(msg([](SequenceItem& i) { i.fade_out_s = -INFINITY; }), "fade_out_s = -inf"));
  EXPECT_TRUE(Contains(msg([](SequenceItem& i) { i.crossfade_s = INFINITY; }), "crossfade_s = inf"));
  EXPECT_TRUE(Contains(msg([](SequenceItem& i) { i.gap_before_s = 4000; }),
                       "gap_before_s = 4000: must be at most 3600 seconds"));
}

TEST(SequenceInvalid, FadesLongerThanTheTrack) {
  std::vector<SequenceItem> items = {item("A", 441000)};
  items[0].fade_in_s = 12;
  EXPECT_TRUE(Contains(thrown<ProfileError>([&] { plan_sequence(items, opts(44100)); }),
                       "album track 1 \"A\": fade_in_s = 12 is longer than the track (10 s) (shorten the fade-in)"));
  items[0].fade_in_s = 0;
  items[0].fade_out_s = 10.5;
  EXPECT_TRUE(Contains(thrown<ProfileError>([&] { plan_sequence(items, opts(44100)); }),
                       "fade_out_s = 10.5 is longer than the track (10 s)"));
}

TEST(SequenceInvalid, CrossfadeRules) {
  std::vector<SequenceItem> items = {item("A", 441000), item("B", 220500), item("C", 441000)};
  items[0].crossfade_s = 1;
  EXPECT_TRUE(Contains(thrown<ProfileError>([&] { plan_sequence(items, opts(44100)); }),
                       "album track 1 \"A\": crossfade_s = 1: the first track has no previous track"));
  items[0].crossfade_s = 0;
  items[1].crossfade_s = 1;
  items[1].gap_before_s = 2;
  EXPECT_TRUE(Contains(thrown<ProfileError>([&] { plan_sequence(items, opts(44100)); }),
                       "crossfade_s = 1 and gap_before_s = 2: a track either follows a gap of silence or crossfades"));
  items[1].gap_before_s = 0;
  items[1].crossfade_s = 6;  // B is 5 s
  EXPECT_TRUE(Contains(thrown<ProfileError>([&] { plan_sequence(items, opts(44100)); }),
                       "album track 2 \"B\": crossfade_s = 6 is longer than the track (5 s)"));
  items[1].crossfade_s = 0;
  items[2].crossfade_s = 5.5;
  EXPECT_TRUE(Contains(thrown<ProfileError>([&] { plan_sequence(items, opts(44100)); }),
                       "album track 3 \"C\": crossfade_s = 5.5 is longer than the previous track (5 s)"));
  // Three tracks at once: B's crossfade-out (3 s) would begin before its crossfade-in (3 s) ends.
  items[1].crossfade_s = 3;
  items[2].crossfade_s = 3;
  EXPECT_TRUE(Contains(thrown<ProfileError>([&] { plan_sequence(items, opts(44100)); }),
                       "at most two tracks may sound at once"));
  items[2].crossfade_s = 2;  // exactly fills B
  EXPECT_NO_THROW(plan_sequence(items, opts(44100)));
}

TEST(SequenceInvalid, CdFramesNeedARateThatIsAMultipleOf75) {
  const std::vector<SequenceItem> items = {item("A", 32000)};
  EXPECT_TRUE(Contains(thrown<ProfileError>([&] { plan_sequence(items, opts(32000, true)); }),
                       "cd_frames at 32000 Hz"));
  EXPECT_NO_THROW(plan_sequence(items, opts(32000, false)));
}

// ------------------------------------------------------------------------------------------------------------
// Gain curves

TEST(SequenceFade, FadesRunFromZeroToOneMonotonically) {
  for (const std::int64_t len : {1, 2, 3, 10, 441, 48000}) {
    SCOPED_TRACE(len);
    EXPECT_EQ(fade_gain(0, len, FadeKind::kIn), 0.0f);
    EXPECT_EQ(fade_gain(len, len, FadeKind::kIn), 1.0f);
    EXPECT_EQ(fade_gain(-1, len, FadeKind::kIn), 0.0f);
    EXPECT_EQ(fade_gain(len - 1, len, FadeKind::kOut), 0.0f);
    EXPECT_EQ(fade_gain(-1, len, FadeKind::kOut), 1.0f);
    EXPECT_EQ(fade_gain(len, len, FadeKind::kOut), 0.0f);
    float prev = 0.0f;
    for (std::int64_t i = 0; i <= len; ++i) {
      const float g = fade_gain(i, len, FadeKind::kIn);
      EXPECT_GE(g, prev);
      EXPECT_LE(g, 1.0f);
      prev = g;
      if (i < len) {
        EXPECT_EQ(fade_gain(i, len, FadeKind::kOut), fade_gain(len - 1 - i, len, FadeKind::kIn));
      }
    }
  }
  // The raised cosine: a half at the middle, (1 - cos(pi/4)) / 2 at a quarter.
  EXPECT_NEAR(fade_gain(50, 100, FadeKind::kIn), 0.5, 1e-7);
  EXPECT_NEAR(fade_gain(25, 100, FadeKind::kIn), (1.0 - std::cos(std::numbers::pi / 4)) / 2, 1e-7);
  // No fade.
  EXPECT_EQ(fade_gain(5, 0, FadeKind::kIn), 1.0f);
  EXPECT_EQ(fade_gain(5, 0, FadeKind::kOut), 1.0f);
}

TEST(SequenceFade, CrossfadeGainsAreEqualPower) {
  for (const std::int64_t len : {1, 2, 7, 588, 44100, 132300}) {
    SCOPED_TRACE(len);
    float prev = 0.0f;
    for (std::int64_t j = 0; j < len; ++j) {
      const double gi = fade_gain(j, len, FadeKind::kCrossIn);
      const double go = fade_gain(j, len, FadeKind::kCrossOut);
      ASSERT_NEAR(gi * gi + go * go, 1.0, 1e-6) << j;
      ASSERT_EQ(fade_gain(len - 1 - j, len, FadeKind::kCrossIn), static_cast<float>(go));
      ASSERT_GE(static_cast<float>(gi), prev);
      ASSERT_GT(gi, 0.0);
      ASSERT_LE(gi, 1.0);  // rounds to 1.0f near the end of long crossfades
      prev = static_cast<float>(gi);
    }
    EXPECT_EQ(fade_gain(-1, len, FadeKind::kCrossIn), 0.0f);
    EXPECT_EQ(fade_gain(len, len, FadeKind::kCrossIn), 1.0f);
    EXPECT_EQ(fade_gain(-1, len, FadeKind::kCrossOut), 1.0f);
    EXPECT_EQ(fade_gain(len, len, FadeKind::kCrossOut), 0.0f);
  }
}

// ------------------------------------------------------------------------------------------------------------
// Rendering

TEST(SequenceRender, GapsAreSilenceAndPlainTracksAreCopiedBitExact) {
  std::vector<SequenceItem> items = {item("A", 4000), item("B", 3000)};
  items[0].gap_before_s = 0.1;
  items[1].gap_before_s = 0.25;
  const Sequence s = plan_sequence(items, opts(8000));
  std::vector<std::vector<std::vector<float>>> tracks = {noise(2, 4000, 0.3f, 1), noise(2, 3000, 0.3f, 2)};
  // Values a sum with 0.0f would change or that are easy to get wrong: -0.0, a denormal, the extremes.
  tracks[0][0][0] = -0.0f;
  tracks[0][1][1] = 1e-40f;
  tracks[1][0][2999] = -1.0f;
  tracks[1][1][1234] = 3.4e38f;
  std::vector<std::vector<float>> out;
  render_album(s, items, tracks, 2, out);
  ASSERT_EQ(out.size(), 2u);
  ASSERT_EQ(static_cast<std::int64_t>(out[0].size()), s.total_frames);
  EXPECT_EQ(s.total_frames, 800 + 4000 + 2000 + 3000);
  for (std::size_t c = 0; c < 2; ++c) {
    for (std::size_t i = 0; i < 800; ++i) ASSERT_EQ(std::signbit(out[c][i]) ? 1 : 0, 0) << i;
    for (std::size_t i = 0; i < 800; ++i) ASSERT_EQ(out[c][i], 0.0f);
    for (std::size_t i = 4800; i < 6800; ++i) ASSERT_EQ(out[c][i], 0.0f);
    EXPECT_EQ(std::memcmp(out[c].data() + 800, tracks[0][c].data(), 4000 * sizeof(float)), 0);
    EXPECT_EQ(std::memcmp(out[c].data() + 6800, tracks[1][c].data(), 3000 * sizeof(float)), 0);
  }
}

TEST(SequenceRender, FadesFollowTheGainCurve) {
  std::vector<SequenceItem> items = {item("A", 8000)};
  items[0].gap_before_s = 0.05;
  items[0].fade_in_s = 0.1;
  items[0].fade_out_s = 0.2;
  const Sequence s = plan_sequence(items, opts(8000));
  const std::vector<std::vector<std::vector<float>>> tracks = {constant(1, 8000, 1.0f)};
  std::vector<std::vector<float>> out;
  render_album(s, items, tracks, 1, out);
  const std::int64_t start = s.tracks[0].start;
  EXPECT_EQ(start, 400);
  for (std::int64_t i = 0; i < 8000; ++i) {
    float want = 1.0f;
    if (i < 800) want = fade_gain(i, 800, FadeKind::kIn);
    if (i >= 8000 - 1600) want = fade_gain(i - (8000 - 1600), 1600, FadeKind::kOut);
    ASSERT_EQ(out[0][static_cast<std::size_t>(start + i)], want) << i;
  }
  EXPECT_EQ(out[0][400], 0.0f);
  EXPECT_EQ(out[0][400 + 7999], 0.0f);
  EXPECT_EQ(out[0][400 + 800], 1.0f);
}

TEST(SequenceRender, ApplyTrackFadesMatchesTheAlbum) {
  std::vector<SequenceItem> items = {item("A", 6000), item("B", 7000)};
  items[0].fade_out_s = 0.3;
  items[1].gap_before_s = 0.1;
  items[1].fade_in_s = 0.2;
  items[1].fade_out_s = 0.5;
  const Sequence s = plan_sequence(items, opts(8000));
  const std::vector<std::vector<std::vector<float>>> tracks = {noise(2, 6000, 0.2f, 3), noise(2, 7000, 0.2f, 4)};
  std::vector<std::vector<float>> out;
  render_album(s, items, tracks, 2, out);
  for (std::size_t k = 0; k < 2; ++k) {
    auto copy = tracks[k];
    apply_track_fades(s.tracks[k], copy);
    for (std::size_t c = 0; c < 2; ++c)
      EXPECT_EQ(std::memcmp(out[c].data() + s.tracks[k].start, copy[c].data(), copy[c].size() * sizeof(float)), 0);
  }
}

TEST(SequenceRender, CrossfadeSumsEqualPowerGains) {
  std::vector<SequenceItem> items = {item("A", 8000), item("B", 8000)};
  items[1].crossfade_s = 0.5;
  const Sequence s = plan_sequence(items, opts(8000));
  const std::vector<std::vector<std::vector<float>>> tracks = {constant(1, 8000, 1.0f), constant(1, 8000, 1.0f)};
  std::vector<std::vector<float>> out;
  render_album(s, items, tracks, 1, out);
  EXPECT_EQ(s.total_frames, 12000);
  for (std::int64_t j = 0; j < 4000; ++j)
    ASSERT_EQ(out[0][static_cast<std::size_t>(4000 + j)],
              fade_gain(j, 4000, FadeKind::kCrossOut) + fade_gain(j, 4000, FadeKind::kCrossIn))
        << j;
  for (std::size_t i = 0; i < 4000; ++i) ASSERT_EQ(out[0][i], 1.0f);
  for (std::size_t i = 8000; i < 12000; ++i) ASSERT_EQ(out[0][i], 1.0f);
}

TEST(SequenceRender, CrossfadeOfUncorrelatedNoiseKeepsItsPower) {
  const int rate = 48000;
  std::vector<SequenceItem> items = {item("A", 5 * rate), item("B", 5 * rate)};
  items[1].crossfade_s = 2.0;
  const Sequence s = plan_sequence(items, opts(rate));
  const float sigma = 0.1f;
  const std::vector<std::vector<std::vector<float>>> tracks = {noise(2, 5 * rate, sigma, 11),
                                                               noise(2, 5 * rate, sigma, 12)};
  std::vector<std::vector<float>> out;
  render_album(s, items, tracks, 2, out);
  const std::int64_t begin = s.tracks[1].start;
  const std::int64_t block = rate / 10;
  for (std::size_t c = 0; c < 2; ++c)
    for (std::int64_t b = begin; b + block <= begin + 2 * rate; b += block) {
      double power = 0;
      for (std::int64_t i = b; i < b + block; ++i) power += double(out[c][i]) * out[c][i];
      power /= static_cast<double>(block);
      const double db = 10.0 * std::log10(power / (double(sigma) * sigma));
      ASSERT_LT(std::fabs(db), 0.5) << "channel " << c << " block at " << b;
    }
}

TEST(SequenceRender, RefusesMismatchedTracks) {
  std::vector<SequenceItem> items = {item("A", 100), item("B", 100)};
  const Sequence s = plan_sequence(items, opts(8000));
  std::vector<std::vector<float>> out;
  const std::vector<std::vector<std::vector<float>>> mono_stereo = {constant(1, 100, 0.5f), constant(2, 100, 0.5f)};
  EXPECT_TRUE(Contains(thrown<InputError>([&] { render_album(s, items, mono_stereo, 1, out); }),
                       "album track 2 \"B\": 2 channels, but the album has 1: every track of an album must have the "
                       "same channel count"));
  const std::vector<std::vector<std::vector<float>>> short_track = {constant(1, 100, 0.5f), constant(1, 99, 0.5f)};
  thrown<std::invalid_argument>([&] { render_album(s, items, short_track, 1, out); });
  const std::vector<std::vector<std::vector<float>>> one = {constant(1, 100, 0.5f)};
  thrown<std::invalid_argument>([&] { render_album(s, items, one, 1, out); });
}

// ------------------------------------------------------------------------------------------------------------
// CUE sheets

TEST(CueSheet, ThreeTrackAlbumWithAGapAndACrossfade) {
  std::vector<SequenceItem> items = {item("Intro", 44100 * 180 + 100), item("Highway", 44100 * 200),
                                     item("Home", 44100 * 60)};
  items[1].gap_before_s = 2.0;
  items[2].crossfade_s = 3.0;
  const auto o = opts(44100, true);
  const Sequence s = plan_sequence(items, o);
  // Track 2: the 2 s gap after 180 s + 100 frames rounds up to the CD frame 13651 (182 s + 1 frame).
  EXPECT_EQ(s.tracks[1].start, 13651 * 588);
  EXPECT_EQ(s.tracks[2].start, 13651 * 588 + 44100 * 200 - 44100 * 3);
  const std::string want =
      "PERFORMER \"The Lathes\"\n"
      "TITLE \"Night Drive\"\n"
      "FILE \"Night Drive.wav\" WAVE\n"
      "  TRACK 01 AUDIO\n"
      "    TITLE \"Intro\"\n"
      "    PERFORMER \"The Lathes\"\n"
      "    INDEX 01 00:00:00\n"
      "  TRACK 02 AUDIO\n"
      "    TITLE \"Highway\"\n"
      "    PERFORMER \"The Lathes\"\n"
      "    INDEX 00 03:00:00\n"
      "    INDEX 01 03:02:01\n"
      "  TRACK 03 AUDIO\n"
      "    TITLE \"Home\"\n"
      "    PERFORMER \"The Lathes\"\n"
      "    INDEX 01 06:19:01\n";
  EXPECT_EQ(cue_sheet(s, items, o, "Night Drive.wav"), want);
}

TEST(CueSheet, PregapOnTrackOneAndEmptyTextLeftOut) {
  std::vector<SequenceItem> items = {item("", 44100), item("Two", 44100)};
  items[0].performer.clear();
  items[0].gap_before_s = 2.0;
  SequenceOptions o = opts(44100);
  o.album_title.clear();
  const Sequence s = plan_sequence(items, o);
  EXPECT_EQ(cue_sheet(s, items, o, "a.flac"),
            "PERFORMER \"The Lathes\"\n"
            "FILE \"a.flac\" WAVE\n"
            "  TRACK 01 AUDIO\n"
            "    INDEX 00 00:00:00\n"
            "    INDEX 01 00:02:00\n"
            "  TRACK 02 AUDIO\n"
            "    TITLE \"Two\"\n"
            "    PERFORMER \"The Lathes\"\n"
            "    INDEX 01 00:03:00\n");
}

TEST(CueSheet, TimesRoundDownToCdFramesAtOtherRates) {
  EXPECT_EQ(cue_time(0, 48000), "00:00:00");
  EXPECT_EQ(cue_time(48000 * 61 + 639, 48000), "01:01:00");
  EXPECT_EQ(cue_time(48000 * 61 + 640, 48000), "01:01:01");
  EXPECT_EQ(cue_time(44100 * 59 + 588 * 74, 44100), "00:59:74");
  EXPECT_EQ(cue_time(std::int64_t{44100} * 3600 * 2, 44100), "120:00:00");
  // A gap shorter than 1/75 s has no INDEX 00 of its own.
  std::vector<SequenceItem> items = {item("A", 48000), item("B", 48000)};
  items[1].gap_before_s = 0.005;  // 240 frames
  const auto o = opts(48000);
  const std::string sheet = cue_sheet(plan_sequence(items, o), items, o, "x.wav");
  EXPECT_EQ(sheet.find("INDEX 00"), std::string::npos) << sheet;
  EXPECT_TRUE(Contains(sheet, "INDEX 01 00:01:00"));  // 48240 frames = 75.375 CD frames, INDEX 00 would be 75
}

TEST(CueSheet, QuotesAndControlCharactersCannotBreakTheSheet) {
  EXPECT_EQ(cue_text("Say \"Hi\"\r\nNow\tthen\x7f"), "Say 'Hi' Now then");
  EXPECT_EQ(cue_text("  \n "), "");
  EXPECT_EQ(cue_text("Caf\xc3\xa9  \"Noir\""), "Caf\xc3\xa9  'Noir'");
  std::vector<SequenceItem> items = {item("Line one\nTRACK 02 AUDIO", 44100)};
  items[0].performer = "A \"quoted\" band\n";
  SequenceOptions o = opts(44100);
  o.album_title = "Title\" FILE \"evil.wav";
  const std::string sheet = cue_sheet(plan_sequence(items, o), items, o, "My \"Album\".AIFF");
  EXPECT_EQ(sheet,
            "PERFORMER \"The Lathes\"\n"
            "TITLE \"Title' FILE 'evil.wav\"\n"
            "FILE \"My 'Album'.AIFF\" AIFF\n"
            "  TRACK 01 AUDIO\n"
            "    TITLE \"Line one TRACK 02 AUDIO\"\n"
            "    PERFORMER \"A 'quoted' band\"\n"
            "    INDEX 01 00:00:00\n");
  // Every line holds exactly 0 or 2 double quotes.
  std::istringstream lines(sheet);
  for (std::string line; std::getline(lines, line);) {
    const auto quotes = std::count(line.begin(), line.end(), '"');
    EXPECT_TRUE(quotes == 0 || quotes == 2) << line;
  }
}

TEST(CueSheet, AtMost99Tracks) {
  std::vector<SequenceItem> items(99, item("t", 44100));
  const auto o = opts(44100, true);
  const std::string sheet = cue_sheet(plan_sequence(items, o), items, o, "a.wav");
  EXPECT_TRUE(Contains(sheet, "  TRACK 99 AUDIO\n"));
  items.push_back(item("t", 44100));
  const Sequence s = plan_sequence(items, o);
  EXPECT_TRUE(Contains(thrown<InputError>([&] { cue_sheet(s, items, o, "a.wav"); }),
                       "the album has 100 tracks; a CUE sheet holds at most 99"));
}

TEST(CueSheet, TracksStartingInTheSameCdFrameAreRefused) {
  std::vector<SequenceItem> items = {item("A", 300), item("B", 48000)};  // A lasts 300 frames < 1/75 s at 48 kHz
  const auto o = opts(48000);
  const Sequence s = plan_sequence(items, o);
  EXPECT_TRUE(Contains(thrown<InputError>([&] { cue_sheet(s, items, o, "a.wav"); }),
                       "album track 2 \"B\" starts at 00:00:00, the same CUE time"));
  thrown<std::invalid_argument>([&] { cue_sheet(s, std::span(items).first(1), o, "a.wav"); });
}

}  // namespace
}  // namespace lathe::host::album
