// Mastering planar signals held in memory through host::master_tracks: the harness the stage tests share.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "host/engine/engine.hpp"
#include "host/io/memory_track.hpp"
#include "host/master.hpp"
#include "host/profile/profile.hpp"
#include "tests/signals.hpp"

namespace lathe::test {

struct MasteredTrack {
  host::TrackReport report;
  Planar audio;  // the delivered samples as float; empty for failed tracks
};

// Masters each signal (one track each, named t0, t1, ...) in one run of `profile` on `engine` with `options`.
// PCM deliveries come back as float (the left-justified words / 2^31, exact).
inline std::vector<MasteredTrack> master_in_memory(const host::Profile& profile, const std::vector<Planar>& inputs,
                                                   int rate_hz, host::Engine& engine,
                                                   const host::MasterOptions& options) {
  std::vector<std::unique_ptr<host::TrackIo>> tracks;
  std::vector<host::MemoryTrack*> mem;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    auto t = std::make_unique<host::MemoryTrack>("t" + std::to_string(i), inputs[i], rate_hz);
    mem.push_back(t.get());
    tracks.push_back(std::move(t));
  }
  const host::MasterResult r = host::master_tracks(tracks, profile, engine, options);
  std::vector<MasteredTrack> out;
  for (std::size_t i = 0; i < mem.size(); ++i) {
    // A writer opened for PCM fills pcm(), one for float out_float(); both hold one (possibly empty) vector per
    // channel.
    const auto& pcm = mem[i]->pcm();
    const bool is_pcm = std::any_of(pcm.begin(), pcm.end(), [](const auto& ch) { return !ch.empty(); });
    Planar audio = is_pcm ? Planar{} : mem[i]->out_float();
    if (is_pcm) {
      for (const auto& ch : pcm) {
        std::vector<float> f(ch.size());
        for (std::size_t k = 0; k < ch.size(); ++k) f[k] = static_cast<float>(ch[k]) * (1.0f / 2147483648.0f);
        audio.push_back(std::move(f));
      }
    }
    out.push_back({r.tracks[i], std::move(audio)});
  }
  return out;
}

// The same with segments of `segment_frames` and the other options at their defaults.
inline std::vector<MasteredTrack> master_in_memory(const host::Profile& profile, const std::vector<Planar>& inputs,
                                                   int rate_hz, host::Engine& engine,
                                                   std::int64_t segment_frames = 65536) {
  host::MasterOptions options;
  options.segment_frames = segment_frames;
  return master_in_memory(profile, inputs, rate_hz, engine, options);
}

// The float outputs alone, every track expected to be written (a failed one is reported and gives an empty
// Planar).
inline std::vector<Planar> master_floats(const host::Profile& profile, const std::vector<Planar>& inputs, int rate_hz,
                                         host::Engine& engine, std::int64_t segment_frames = 65536) {
  std::vector<Planar> out;
  for (auto& t : master_in_memory(profile, inputs, rate_hz, engine, segment_frames)) {
    EXPECT_TRUE(t.report.ok) << t.report.error;
    out.push_back(t.report.ok ? std::move(t.audio) : Planar{});
  }
  return out;
}

}  // namespace lathe::test
