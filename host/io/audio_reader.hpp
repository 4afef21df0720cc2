// Decoding with libsndfile into planar float32, one bounded segment at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace lathe::host {

// Text metadata as libsndfile exposes it: key is the lower-case name ("title", "artist", "album", "date",
// "comment", "copyright", "software", "license", "tracknumber", "genre").
using Metadata = std::map<std::string, std::string>;

// Limits of what lathe accepts (README "Limits").
inline constexpr int kMinRateHz = 8000;
inline constexpr int kMaxRateHz = 384000;
inline constexpr int kMaxChannels = 8;

struct AudioInfo {
  int rate_hz = 0;
  int channels = 0;
  std::int64_t frames = 0;      // samples per channel, as the container declares
  std::string container;        // "WAV", "FLAC", ...
  std::string encoding;         // "PCM 16-bit", "32-bit float", ...
  bool truncated = false;       // the container declares more audio than the file holds
  Metadata metadata;
};

// Opens an audio file for reading. Throws InputError (the caller adds the path) when it cannot be opened or decoded, or
// when its rate or channel count is outside lathe's limits. Not thread-safe; one reader per thread.
class AudioReader {
 public:
  explicit AudioReader(const std::filesystem::path& path);
  ~AudioReader();
  AudioReader(const AudioReader&) = delete;
  AudioReader& operator=(const AudioReader&) = delete;

  const AudioInfo& info() const { return info_; }
  const std::filesystem::path& path() const { return path_; }

  // Reads up to `max_frames` frames as interleaved float (PCM scaled to [-1, 1), exact up to 24 bits).
  // Returns frames read; 0 at the end. Throws InputError on a decode error.
  std::int64_t read_interleaved(float* out, std::int64_t max_frames);
  // Same, de-interleaved into planar[channel][0..frames).
  std::int64_t read_planar(std::vector<std::vector<float>>& planar, std::int64_t max_frames);
  // Back to the first frame.
  void rewind();

 private:
  std::filesystem::path path_;
  void* file_ = nullptr;  // SNDFILE*
  AudioInfo info_;
  std::vector<float> interleaved_;
};

// True for file names lathe picks up when it searches a folder (.wav .flac .aiff .ogg .opus .mp3 ...).
bool has_audio_extension(const std::filesystem::path& path);

}  // namespace lathe::host
