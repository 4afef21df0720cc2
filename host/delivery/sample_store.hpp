// Where a long track waits between passes of the delivery: planar float audio kept in an anonymous temporary
// file instead of memory. The delivery of a track whose whole-track working set would exceed the run's memory
// budget (MasterOptions::track_memory_bytes) reads its premaster back from here once per pass of the gain
// search, segment by segment, so its host memory stays bounded whatever its length (host/delivery/deliver.cpp).
//
// The file is created in the temporary folder (TMPDIR, or /tmp) and unlinked at once: it never shows up in a
// folder, and the space is returned when the store is destroyed or the process dies, even by kill -9.
// Frames are stored interleaved as native float32 (bit-exact round trip).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

namespace lathe::host {

class SampleStore {
 public:
  // Throws OutputError when the temporary file cannot be created (what to do: free space or set TMPDIR).
  explicit SampleStore(int channels);
  ~SampleStore();
  SampleStore(const SampleStore&) = delete;
  SampleStore& operator=(const SampleStore&) = delete;

  int channels() const { return channels_; }
  std::int64_t frames() const { return frames_; }
  // Bytes the store holds on disk.
  std::int64_t bytes() const;

  // Appends `frames` frames (one pointer per channel). Throws OutputError on a write error (disk full...).
  void append(std::span<const float* const> planar, std::int64_t frames);
  // Appends `frames` frames of silence.
  void append_zeros(std::int64_t frames);
  // Reads frames [begin, begin + frames) into `planar` (one pointer per channel, `frames` floats each).
  // Throws std::out_of_range past the end, InputError on a read error.
  void read(std::int64_t begin, std::int64_t frames, std::span<float* const> planar) const;

 private:
  int channels_;
  int fd_ = -1;
  std::int64_t frames_ = 0;
  std::string where_;  // the temporary folder, for messages
};

}  // namespace lathe::host
