// The true-peak limiter of host/dsp/limiter.hpp over a track delivered in segments, for tracks too long to hold
// in memory: the output frames, their gains and the statistics are bit-identical to limit_track() on the whole
// track, for any segmentation, while memory stays O(segment + look-ahead window).
//
// How it stays exact (kernels/limiter.hpp phases, in absolute frame indices; T = interpolator taps, LA = look-ahead,
// K = guard = T/2):
//  1. detect:  g[i] reads input frames [i - T/2, i + T/2] only (kernels::limiter::frame_peak), so it is computed
//              once those frames have arrived, by the same kernel reading a window of the input (x_begin).
//  2. hold:    h[j] = min of g over [j - K, j + LA + K] clipped to [0, n): min is exact in any order, so the block
//              minima are taken over the window of g still needed (blocks aligned at its start) with the same
//              kernel functions, and give the whole-track value.
//  3. release: the ordered recurrence, fed h in order; its state carries across segments.
//  4. smooth:  a[i] = mean of r over [i - LA, i], an exact int64 sum: the same bits from any starting point.
//  5. apply:   y[i] = x[i] * a[i] (kernels::limiter::apply_range).
// Frame i is therefore final once frame i + latency_frames() has been pushed (or the track is complete); the
// stream keeps the last latency_frames() input frames, LA + 2K values of g and LA of r between calls.
// The statistics go through GainStatsAccumulator, whose chunks are those of gain_reduction_stats.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "host/dsp/limiter.hpp"
#include "kernels/limiter.hpp"

namespace lathe::host::dsp {

class LimiterStream {
 public:
  // A limiter over a track of `total_frames` frames of `channels` channels delivered in segments. Throws
  // std::invalid_argument for an empty design, a negative channel count or frame count.
  LimiterStream(const LimiterDesign& d, int rate_hz, int channels, std::int64_t total_frames);

  // Pushes the next `frames` input frames (planar, one pointer per channel; the stream copies what it keeps).
  // Writes every output frame that became final to out (planar, each channel's capacity >= frames +
  // latency_frames(), written from index 0) and, when gain != nullptr, its gain (the per-frame smallest gain over
  // the channels when unlinked, as limit_track's curve); returns how many. Output frames come in order, starting at
  // frame 0. The push that completes the track also writes the track's remaining frames. Throws
  // std::invalid_argument for a wrong channel count, null pointers or frames past total_frames.
  std::int64_t push(std::span<const float* const> in, std::int64_t frames, std::span<float* const> out, float* gain);
  // After all total_frames were pushed (else std::logic_error): writes the remaining output frames (capacity >=
  // latency_frames()); returns how many. Every frame is written by the last push, so this returns 0; it is there so
  // that a caller need not rely on it.
  std::int64_t finish(std::span<float* const> out, float* gain);

  // The most output can lag the input: T/2 + LA + K frames.
  std::int64_t latency_frames() const { return latency_; }
  // After finish: equal (==, every field) to gain_reduction_stats(the whole gain curve); `gain` left empty.
  LimiterResult stats() const { return stats_.result(rate_hz_); }

  std::int64_t frames_pushed() const { return pushed_; }
  std::int64_t frames_emitted() const { return emitted_; }

 private:
  // One gain curve: all channels when linked, one channel when not.
  struct Group {
    std::vector<float> g;    // g[i - origin_] for i in [origin_, detected_): required gain (hold: prefix minima)
    std::vector<float> suf;  // suffix minima (scratch)
    std::vector<float> tail; // g saved across the in-place block minima (scratch)
    std::vector<float> r;    // r[e - origin_] for the extended-track index e in [emitted_, held_ + LA): h, then r
    std::vector<float> a;    // this push's smoothed gains (scratch)
    kernels::limiter::ReleaseState release = kernels::limiter::release_init();
  };

  void advance(std::int64_t detected, std::int64_t held, std::span<float* const> out, float* gain);
  void process_group(Group& grp, int first_channel, int channel_count, std::int64_t detected, std::int64_t held,
                     std::int64_t emit, std::span<float* const> out);

  LimiterDesign design_;
  int rate_hz_;
  int channels_;
  std::int64_t total_;
  std::int64_t half_;     // T/2: detection reads this many frames on each side
  std::int64_t latency_;
  std::vector<std::vector<float>> x_;  // input window, x_[c][j - x_begin_] for j in [x_begin_, pushed_)
  std::int64_t x_begin_ = 0;
  std::vector<Group> groups_;
  std::vector<float> curve_;  // this push's gain curve (scratch)
  std::int64_t pushed_ = 0;   // input frames received
  std::int64_t detected_ = 0; // g is final for frames [0, detected_)
  std::int64_t held_;         // h (and r) are final for j in [-LA, held_)
  std::int64_t emitted_ = 0;  // output frames written
  std::int64_t origin_ = 0;   // max(0, held_ - K): the first g the hold still needs
  GainStatsAccumulator stats_;
};

}  // namespace lathe::host::dsp
