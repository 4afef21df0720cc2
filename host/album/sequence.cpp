#include "host/album/sequence.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>
#include <stdexcept>

#include "host/errors.hpp"
#include "host/io/audio_reader.hpp"

namespace lathe::host::album {
namespace {

// Tracks longer than this are refused, so that sums of starts, lengths and gaps cannot overflow (it is still
// thousands of years of audio).
constexpr std::int64_t kMaxTrackFrames = std::numeric_limits<std::int64_t>::max() / 1024;

std::string seconds_text(double s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", s);
  return buf;
}

std::string frames_as_seconds(std::int64_t frames, int rate_hz) {
  return seconds_text(static_cast<double>(frames) / rate_hz) + " s";
}

std::string track_label(std::size_t k, const SequenceItem& item) {
  std::string label = "album track " + std::to_string(k + 1);
  const std::string title = cue_text(item.title);
  if (!title.empty()) label += " \"" + title + "\"";
  return label;
}

void check_rate(int rate_hz) {
  if (rate_hz < kMinRateHz || rate_hz > kMaxRateHz)
    throw InputError("album sample rate " + std::to_string(rate_hz) + " Hz is outside " +
                         std::to_string(kMinRateHz) + " to " + std::to_string(kMaxRateHz) + " Hz",
                     "master the album's tracks to one supported rate");
}

void check_time(const std::string& label, const char* key, double value) {
  if (!std::isfinite(value) || value < 0.0)
    throw ProfileError(label + ": " + key + " = " + seconds_text(value) + ": must be a number of seconds, 0 or more",
                       "give a time from 0 to " + seconds_text(kMaxSequenceSeconds) + " seconds");
  if (value > kMaxSequenceSeconds)
    throw ProfileError(label + ": " + key + " = " + seconds_text(value) + ": must be at most " +
                           seconds_text(kMaxSequenceSeconds) + " seconds",
                       "give a time from 0 to " + seconds_text(kMaxSequenceSeconds) + " seconds");
}

std::int64_t to_frames(double seconds, int rate_hz) { return std::llround(seconds * rate_hz); }

// Multiples of `grid` (>= 1) at or below / at or above x (x >= 0).
std::int64_t floor_to(std::int64_t x, std::int64_t grid) { return x / grid * grid; }
std::int64_t ceil_to(std::int64_t x, std::int64_t grid) { return (x + grid - 1) / grid * grid; }

// The gains in double; fade_gain rounds them to float.
double gain(std::int64_t i, std::int64_t len, FadeKind kind) {
  if (len <= 0) return 1.0;
  switch (kind) {
    case FadeKind::kIn:
      if (i < 0) return 0.0;
      if (i >= len) return 1.0;
      return 0.5 * (1.0 - std::cos(std::numbers::pi * static_cast<double>(i) / static_cast<double>(len)));
    case FadeKind::kOut:
      return gain(len - 1 - i, len, FadeKind::kIn);
    case FadeKind::kCrossIn:
      if (i < 0) return 0.0;
      if (i >= len) return 1.0;
      return std::sin(std::numbers::pi / 2.0 * static_cast<double>(2 * i + 1) / static_cast<double>(2 * len));
    case FadeKind::kCrossOut:
      return gain(len - 1 - i, len, FadeKind::kCrossIn);
  }
  return 1.0;
}

// The gain of sample i of a track of n frames: fades and both crossfades multiplied.
double track_gain(std::int64_t i, std::int64_t n, std::int64_t fade_in, std::int64_t fade_out, std::int64_t cross_in,
                  std::int64_t cross_out) {
  double g = 1.0;
  if (i < fade_in) g *= gain(i, fade_in, FadeKind::kIn);
  if (i >= n - fade_out) g *= gain(i - (n - fade_out), fade_out, FadeKind::kOut);
  if (i < cross_in) g *= gain(i, cross_in, FadeKind::kCrossIn);
  if (i >= n - cross_out) g *= gain(i - (n - cross_out), cross_out, FadeKind::kCrossOut);
  return g;
}

float scaled(float x, double g) { return g == 1.0 ? x : static_cast<float>(static_cast<double>(x) * g); }

}  // namespace

Sequence plan_sequence(std::span<const SequenceItem> items, const SequenceOptions& options) {
  if (items.empty())
    throw InputError("an album needs at least one track", "give the tracks to sequence");
  check_rate(options.rate_hz);
  const int rate = options.rate_hz;
  std::int64_t grid = 1;
  if (options.cd_frames) {
    if (rate % kCdFramesPerSecond != 0)
      throw ProfileError("album: cd_frames at " + std::to_string(rate) + " Hz: CD frames are 1/75 s, which is not " +
                             "a whole number of samples at this rate",
                         "use cd_frames at 44100 Hz (or another multiple of 75 Hz), or turn it off");
    grid = rate / kCdFramesPerSecond;
  }

  Sequence seq;
  seq.tracks.resize(items.size());
  std::int64_t prev_end = 0;
  for (std::size_t k = 0; k < items.size(); ++k) {
    const SequenceItem& it = items[k];
    const std::string label = track_label(k, it);
    if (it.frames <= 0)
      throw InputError(label + ": the track is empty (" + std::to_string(it.frames) + " frames)",
                       "leave the empty track out of the album");
    if (it.frames > kMaxTrackFrames)
      throw InputError(label + ": " + std::to_string(it.frames) + " frames is too long for an album track");
    check_time(label, "gap_before_s", it.gap_before_s);
    check_time(label, "fade_in_s", it.fade_in_s);
    check_time(label, "fade_out_s", it.fade_out_s);
    check_time(label, "crossfade_s", it.crossfade_s);
    if (it.crossfade_s > 0.0 && k == 0)
      throw ProfileError(label + ": crossfade_s = " + seconds_text(it.crossfade_s) +
                             ": the first track has no previous track to crossfade with",
                         "remove crossfade_s from the first track (gap_before_s gives it a pregap)");
    if (it.crossfade_s > 0.0 && it.gap_before_s > 0.0)
      throw ProfileError(label + ": crossfade_s = " + seconds_text(it.crossfade_s) + " and gap_before_s = " +
                             seconds_text(it.gap_before_s) +
                             ": a track either follows a gap of silence or crossfades with the previous track",
                         "set one of them to 0");

    Placement& p = seq.tracks[k];
    const std::string length = frames_as_seconds(it.frames, rate);
    p.fade_in_frames = to_frames(it.fade_in_s, rate);
    if (p.fade_in_frames > it.frames)
      throw ProfileError(label + ": fade_in_s = " + seconds_text(it.fade_in_s) + " is longer than the track (" +
                             length + ")",
                         "shorten the fade-in");
    p.fade_out_frames = to_frames(it.fade_out_s, rate);
    if (p.fade_out_frames > it.frames)
      throw ProfileError(label + ": fade_out_s = " + seconds_text(it.fade_out_s) + " is longer than the track (" +
                             length + ")",
                         "shorten the fade-out");

    const std::int64_t overlap_wanted = to_frames(it.crossfade_s, rate);
    if (overlap_wanted > 0) {
      const SequenceItem& prev = items[k - 1];
      const Placement& prev_p = seq.tracks[k - 1];
      const std::string what = "crossfade_s = " + seconds_text(it.crossfade_s);
      if (overlap_wanted > it.frames)
        throw ProfileError(label + ": " + what + " is longer than the track (" + length + ")",
                           "shorten the crossfade");
      if (overlap_wanted > prev.frames)
        throw ProfileError(label + ": " + what + " is longer than the previous track (" +
                               frames_as_seconds(prev.frames, rate) + ")",
                           "shorten the crossfade");
      p.start = floor_to(prev_end - overlap_wanted, grid);
      p.overlap_frames = prev_end - p.start;
      const std::string grown = p.overlap_frames == overlap_wanted
                                    ? what
                                    : what + " (" + frames_as_seconds(p.overlap_frames, rate) +
                                          " once its start is moved back onto a CD frame)";
      if (p.overlap_frames > it.frames)
        throw ProfileError(label + ": " + grown + " is longer than the track (" + length + ")",
                           "shorten the crossfade");
      if (p.overlap_frames + prev_p.overlap_frames > prev.frames)
        throw ProfileError(label + ": " + grown + " and the crossfade into the previous track (" +
                               frames_as_seconds(prev_p.overlap_frames, rate) + ") overlap: the previous track is " +
                               frames_as_seconds(prev.frames, rate) + " long",
                           "shorten the crossfades: at most two tracks may sound at once");
    } else {
      p.start = ceil_to(prev_end + to_frames(it.gap_before_s, rate), grid);
      p.overlap_frames = 0;
      p.gap_frames = p.start - prev_end;
    }
    prev_end = p.start + it.frames;
  }
  seq.total_frames = ceil_to(prev_end, grid);
  return seq;
}

float fade_gain(std::int64_t i, std::int64_t len, FadeKind kind) { return static_cast<float>(gain(i, len, kind)); }

void render_album(const Sequence& sequence, std::span<const SequenceItem> items,
                  std::span<const std::vector<std::vector<float>>> tracks, int channels,
                  std::vector<std::vector<float>>& out) {
  const std::size_t n = items.size();
  if (sequence.tracks.size() != n || tracks.size() != n)
    throw std::invalid_argument("render_album: " + std::to_string(sequence.tracks.size()) + " placements, " +
                                std::to_string(n) + " items and " + std::to_string(tracks.size()) +
                                " tracks: they must agree");
  if (channels < 1 || channels > kMaxChannels)
    throw std::invalid_argument("render_album: " + std::to_string(channels) + " channels");
  if (sequence.total_frames < 0) throw std::invalid_argument("render_album: negative album length");
  for (std::size_t k = 0; k < n; ++k) {
    const std::string label = track_label(k, items[k]);
    if (tracks[k].size() != static_cast<std::size_t>(channels))
      throw InputError(label + ": " + std::to_string(tracks[k].size()) + " channels, but the album has " +
                           std::to_string(channels) + ": every track of an album must have the same channel count",
                       "master every track of the album to the same channel layout");
    for (const auto& ch : tracks[k])
      if (static_cast<std::int64_t>(ch.size()) != items[k].frames)
        throw std::invalid_argument("render_album: " + label + ": a channel holds " + std::to_string(ch.size()) +
                                    " frames, the item says " + std::to_string(items[k].frames));
    const Placement& p = sequence.tracks[k];
    const std::int64_t next_overlap = k + 1 < n ? sequence.tracks[k + 1].overlap_frames : 0;
    if (p.start < 0 || p.start + items[k].frames > sequence.total_frames || p.fade_in_frames < 0 ||
        p.fade_out_frames < 0 || p.overlap_frames < 0 || next_overlap < 0 || p.fade_in_frames > items[k].frames ||
        p.fade_out_frames > items[k].frames || p.overlap_frames + next_overlap > items[k].frames)
      throw std::invalid_argument("render_album: " + label + ": the placement does not fit the track or the album "
                                  "(was the sequence planned for these items?)");
  }

  out.assign(static_cast<std::size_t>(channels), std::vector<float>(static_cast<std::size_t>(sequence.total_frames), 0.0f));
  for (std::size_t k = 0; k < n; ++k) {
    const Placement& p = sequence.tracks[k];
    const std::int64_t frames = items[k].frames;
    const std::int64_t cross_in = p.overlap_frames;
    const std::int64_t cross_out = k + 1 < n ? sequence.tracks[k + 1].overlap_frames : 0;
    // Samples [head, tail) have gain 1 and are copied; the rest are scaled. The first cross_in samples are added
    // to the previous track's tail, every other sample is written (so a plain track lands bit-exact, -0.0 included).
    const std::int64_t head = std::min(frames, std::max(p.fade_in_frames, cross_in));
    const std::int64_t tail = std::max(head, frames - std::max(p.fade_out_frames, cross_out));
    for (std::size_t c = 0; c < static_cast<std::size_t>(channels); ++c) {
      const float* x = tracks[k][c].data();
      float* y = out[c].data() + p.start;
      for (std::int64_t i = 0; i < head; ++i) {
        const float v = scaled(x[i], track_gain(i, frames, p.fade_in_frames, p.fade_out_frames, cross_in, cross_out));
        if (i < cross_in)
          y[i] += v;
        else
          y[i] = v;
      }
      std::copy(x + head, x + tail, y + head);
      for (std::int64_t i = tail; i < frames; ++i)
        y[i] = scaled(x[i], track_gain(i, frames, p.fade_in_frames, p.fade_out_frames, cross_in, cross_out));
    }
  }
}

void apply_track_fades(const Placement& placement, std::vector<std::vector<float>>& planar) {
  if (planar.empty()) return;
  const std::int64_t frames = static_cast<std::int64_t>(planar[0].size());
  for (const auto& ch : planar)
    if (static_cast<std::int64_t>(ch.size()) != frames)
      throw std::invalid_argument("apply_track_fades: the channels differ in length");
  if (placement.fade_in_frames < 0 || placement.fade_out_frames < 0 || placement.fade_in_frames > frames ||
      placement.fade_out_frames > frames)
    throw std::invalid_argument("apply_track_fades: fades of " + std::to_string(placement.fade_in_frames) + " and " +
                                std::to_string(placement.fade_out_frames) + " frames do not fit a track of " +
                                std::to_string(frames) + " frames");
  const std::int64_t fi = placement.fade_in_frames;
  const std::int64_t fo = placement.fade_out_frames;
  for (auto& ch : planar) {
    for (std::int64_t i = 0; i < fi; ++i) ch[i] = scaled(ch[i], track_gain(i, frames, fi, fo, 0, 0));
    for (std::int64_t i = std::max(fi, frames - fo); i < frames; ++i)
      ch[i] = scaled(ch[i], track_gain(i, frames, fi, fo, 0, 0));
  }
}

std::string cue_text(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool in_control = false;
  for (const char ch : text) {
    const auto u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u == 0x7F) {
      if (!in_control) out += ' ';
      in_control = true;
      continue;
    }
    in_control = false;
    out += ch == '"' ? '\'' : ch;
  }
  const auto first = out.find_first_not_of(' ');
  if (first == std::string::npos) return {};
  const auto last = out.find_last_not_of(' ');
  return out.substr(first, last - first + 1);
}

std::string cue_time(std::int64_t frame, int rate_hz) {
  check_rate(rate_hz);
  if (frame < 0) throw std::invalid_argument("cue_time: negative frame " + std::to_string(frame));
  const std::int64_t cd = frame * kCdFramesPerSecond / rate_hz;
  const std::int64_t seconds = cd / kCdFramesPerSecond;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(seconds / 60),
                static_cast<long long>(seconds % 60), static_cast<long long>(cd % kCdFramesPerSecond));
  return buf;
}

std::string cue_sheet(const Sequence& sequence, std::span<const SequenceItem> items, const SequenceOptions& options,
                      const std::string& audio_file_name) {
  if (sequence.tracks.size() != items.size())
    throw std::invalid_argument("cue_sheet: " + std::to_string(sequence.tracks.size()) + " placements for " +
                                std::to_string(items.size()) + " items");
  if (items.empty()) throw InputError("an album needs at least one track", "give the tracks to sequence");
  if (items.size() > static_cast<std::size_t>(kMaxCueTracks))
    throw InputError("the album has " + std::to_string(items.size()) + " tracks; a CUE sheet holds at most " +
                         std::to_string(kMaxCueTracks),
                     "split the album into parts of at most 99 tracks");
  check_rate(options.rate_hz);
  const std::string file = cue_text(audio_file_name);
  if (file.empty()) throw std::invalid_argument("cue_sheet: empty audio file name");

  std::string ext;
  if (const auto dot = file.rfind('.'); dot != std::string::npos)
    for (const char ch : file.substr(dot + 1)) ext += static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
  const char* type = (ext == "aif" || ext == "aiff" || ext == "aifc") ? "AIFF" : "WAVE";

  auto cd_frame = [&](std::int64_t frame) { return frame * kCdFramesPerSecond / options.rate_hz; };
  std::string s;
  if (const std::string v = cue_text(options.album_performer); !v.empty()) s += "PERFORMER \"" + v + "\"\n";
  if (const std::string v = cue_text(options.album_title); !v.empty()) s += "TITLE \"" + v + "\"\n";
  s += "FILE \"" + file + "\" " + type + "\n";
  std::int64_t prev_index = -1;
  for (std::size_t k = 0; k < items.size(); ++k) {
    const Placement& p = sequence.tracks[k];
    if (p.start < 0 || p.gap_frames < 0 || p.gap_frames > p.start)
      throw std::invalid_argument("cue_sheet: " + track_label(k, items[k]) + ": invalid placement");
    const std::int64_t index01 = cd_frame(p.start);
    if (index01 <= prev_index)
      throw InputError(track_label(k, items[k]) + " starts at " + cue_time(p.start, options.rate_hz) +
                           ", the same CUE time (1/75 s) as the track before it, or earlier",
                       "lengthen the previous track's part of the album, or shorten the crossfade");
    char num[8];
    std::snprintf(num, sizeof num, "%02d", static_cast<int>(k + 1));
    s += std::string("  TRACK ") + num + " AUDIO\n";
    if (const std::string v = cue_text(items[k].title); !v.empty()) s += "    TITLE \"" + v + "\"\n";
    if (const std::string v = cue_text(items[k].performer); !v.empty()) s += "    PERFORMER \"" + v + "\"\n";
    if (items[k].gap_before_s > 0.0) {
      const std::int64_t gap_start = p.start - p.gap_frames;
      const std::int64_t index00 = cd_frame(gap_start);
      if (index00 < index01 && index00 > prev_index) s += "    INDEX 00 " + cue_time(gap_start, options.rate_hz) + "\n";
    }
    s += "    INDEX 01 " + cue_time(p.start, options.rate_hz) + "\n";
    prev_index = index01;
  }
  return s;
}

}  // namespace lathe::host::album
