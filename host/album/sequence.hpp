// Album sequencing: the tracks of an album laid end to end in one continuous file, with gaps of silence, fades
// and equal-power crossfades between them, and the CUE sheet that indexes the file. Pure functions of their
// arguments (no I/O); the caller reads the mastered tracks, renders the album and writes the audio and the sheet.
//
// Placement rules (plan_sequence), all in exact integer frames (one frame = one sample per channel):
//   * seconds -> frames: llround(seconds * rate_hz), the nearest frame.
//   * track 1 starts at its pregap: start = round(gap_before_s * rate) (0 by default);
//     track k > 1 starts at end(k-1) + gap_k, or at end(k-1) - overlap_k when it crossfades with track k-1
//     (end(k) = start(k) + frames(k); a track has either a gap or a crossfade, never both).
//   * cd_frames: every track start, and the album length, is a multiple of the CD frame, rate/75 frames
//     (588 at 44.1 kHz, 640 at 48 kHz; a rate that is not a multiple of 75 Hz is refused). The silence is
//     lengthened, never shortened: start = ceil_to_grid(end(k-1) + gap_k), so a gap is rounded up to the grid
//     (even a zero gap pads the previous track's end to the grid). A crossfade whose start falls off the grid is
//     lengthened to the grid: start = floor_to_grid(end(k-1) - overlap_k), overlap = end(k-1) - start, i.e. the
//     overlap grows by less than one CD frame (13.3 ms); the length checks below apply to the grown overlap.
//     The album ends with silence up to the next multiple of the grid.
//   * at most two tracks sound at once: overlap_k <= frames(k), and overlap_k + overlap_(k+1) <= frames(k)
//     (track k's crossfade-out must not begin before its crossfade-in ends); each fade <= the track's length.
//   * the album length is the last track's end (rounded up to the grid with cd_frames).
//
// Gain shapes (fade_gain, computed in double, rounded to float once when applied):
//   * fades in/out: raised cosine (half-cosine, "S-curve"), g = (1 - cos(pi * i / L)) / 2 for sample i of an
//     L-sample fade-in: exactly 0 at the track's first sample, rising monotonically to 1 at the first sample
//     after the fade. A fade-out is the exact time reverse: exactly 0 at the track's last sample.
//   * crossfades: equal power (constant power for uncorrelated material), g_in = sin(pi/2 * t),
//     g_out = cos(pi/2 * t) at the sample midpoints t = (j + 1/2) / L, j = 0 .. L-1 of the overlap, so
//     g_in^2 + g_out^2 = 1 at every sample and g_out is the time reverse of g_in.
//   * gains multiply where they meet: a fade-in and a fade-out that overlap on a short track, or a fade on a
//     crossfaded track (which then shapes its head or tail twice).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace lathe::host::album {

// Longest gap, fade or crossfade accepted, in seconds (an hour; it also keeps seconds * rate far from overflow).
inline constexpr double kMaxSequenceSeconds = 3600.0;
// A CD frame (sector) is 1/75 s: the resolution of CUE sheet times.
inline constexpr int kCdFramesPerSecond = 75;
// Tracks a CUE sheet can number (TRACK 01 .. TRACK 99).
inline constexpr int kMaxCueTracks = 99;

struct SequenceItem {
  std::string title;
  std::string performer;
  std::int64_t frames = 0;  // the track's length in frames (> 0)
  double gap_before_s = 0;  // silence before this track; for track 1 a pregap (INDEX 00 at 00:00:00)
  double fade_in_s = 0;
  double fade_out_s = 0;
  double crossfade_s = 0;   // overlap with the previous track; not for track 1, not together with gap_before_s > 0
};

struct SequenceOptions {
  int rate_hz = 0;           // 8000 .. 384000
  bool cd_frames = false;    // snap track starts and the album length to CD frames (rate / 75), see above
  std::string album_title, album_performer;
};

struct Placement {
  std::int64_t start = 0;            // album frame where the track's first sample lands
  std::int64_t fade_in_frames = 0;
  std::int64_t fade_out_frames = 0;
  std::int64_t overlap_frames = 0;   // frames shared with the previous track (the equal-power crossfade)
  std::int64_t gap_frames = 0;       // silence before start: start - end(previous track) (start for track 1)
};

struct Sequence {
  std::vector<Placement> tracks;
  std::int64_t total_frames = 0;
};

// Validates the items and options and places the tracks (rules above). Throws
//   ProfileError for settings that cannot be honoured: a negative, NaN or infinite time, one over an hour, a fade
//     or crossfade longer than the track(s), a crossfade together with a gap, a crossfade on track 1, crossfades
//     that would sound three tracks at once, cd_frames at a rate that is not a multiple of 75 Hz;
//   InputError for the audio: no tracks, a track of 0 frames, a rate outside 8000 .. 384000 Hz.
// Messages name the track ("album track 3 \"Title\": fade_in_s = 12 is longer than the track (10.5 s)").
Sequence plan_sequence(std::span<const SequenceItem> items, const SequenceOptions& options);

enum class FadeKind {
  kIn,        // raised cosine 0 -> 1
  kOut,       // raised cosine 1 -> 0 (the time reverse of kIn)
  kCrossIn,   // equal-power sin quarter, the incoming track of a crossfade
  kCrossOut,  // equal-power cos quarter, the outgoing track of a crossfade
};

// Gain of sample i of a fade of `len` samples (i counted from the fade's first sample). Outside 0 .. len-1 the
// gain is the value the fade leaves or approaches: kIn/kCrossIn 0 before and 1 after, kOut/kCrossOut the reverse.
// len <= 0 is no fade: 1 everywhere, whatever the kind.
float fade_gain(std::int64_t i, std::int64_t len, FadeKind kind);

// Mixes the album: `out` becomes `channels` planar channels of sequence.total_frames frames, silence (exact zeros)
// in gaps, each track's fades applied and crossfades summed with equal-power gains. A track with no fade or
// crossfade lands bit-exact; outside overlaps samples are written, not summed. tracks[k] holds the planar
// channels of items[k], each items[k].frames long. Throws InputError when a track's channel count differs from
// `channels` (every track must have the same) and std::invalid_argument when the arguments disagree with each
// other (sizes of sequence, items and tracks; a channel of the wrong length), which is a caller's bug.
void render_album(const Sequence& sequence, std::span<const SequenceItem> items,
                  std::span<const std::vector<std::vector<float>>> tracks, int channels,
                  std::vector<std::vector<float>>& out);

// Applies a placement's fade-in and fade-out (not its crossfade: a separately exported track has nothing to overlap
// with) to one track's planar channels in place, the same gains render_album uses. Throws std::invalid_argument
// when the channels differ in length or are shorter than the fades.
void apply_track_fades(const Placement& placement, std::vector<std::vector<float>>& planar);

// The CUE sheet of the rendered album, LF line ends:
//   PERFORMER "album performer"      (each PERFORMER/TITLE line only when the text is not empty)
//   TITLE "album title"
//   FILE "audio_file_name" WAVE      (AIFF for a .aif/.aiff name; WAVE otherwise, FLAC included, by convention)
//     TRACK 01 AUDIO
//       TITLE "track title"
//       PERFORMER "track performer"
//       INDEX 00 mm:ss:ff              (only for a track with gap_before_s > 0: where its silence begins)
//       INDEX 01 mm:ss:ff              (where the track begins)
// Times are mm:ss:ff with ff in CD frames of 1/75 s (minutes may exceed 99): the album frame converted to 1/75 s
// and rounded down, which is exact with cd_frames and at most 1/75 s early otherwise. An INDEX 00 that rounds to
// the same time as its INDEX 01 (a gap under 1/75 s), or to the previous track's INDEX 01, is left out. Text is made safe for the format, which has no
// escapes: `"` becomes `'`, every run of control characters (newlines, tabs, DEL) becomes one space, and leading
// and trailing spaces are trimmed; other bytes (UTF-8) are kept. Throws InputError for more than 99 tracks or for
// two tracks whose INDEX 01 round to the same time, std::invalid_argument when sequence and items differ in size.
// It needs only the plan, so callers can call it before rendering to fail early.
std::string cue_sheet(const Sequence& sequence, std::span<const SequenceItem> items, const SequenceOptions& options,
                      const std::string& audio_file_name);

// A CUE time, mm:ss:ff, for an album frame at rate_hz (rounded down to 1/75 s).
std::string cue_time(std::int64_t frame, int rate_hz);
// Text as cue_sheet writes it between quotes (rules above).
std::string cue_text(const std::string& text);

}  // namespace lathe::host::album
