// Encoding with libsndfile into an AtomicFile: WAV (RF64 automatically past 4 GiB), FLAC, AIFF at 16-bit,
// 24-bit or 32-bit float, with text metadata carried over.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "host/engine/batch.hpp"
#include "host/io/atomic_file.hpp"
#include "host/io/audio_reader.hpp"

namespace lathe::host {

enum class OutputFormat { kWav, kFlac, kAiff };

std::string to_string(OutputFormat f);
std::string to_string(SampleBits b);
// File extension without the dot: "wav", "flac", "aiff".
std::string extension_of(OutputFormat f);
// Throws UsageError for combinations libsndfile cannot write (FLAC has no 32-bit float).
void check_format_supported(OutputFormat f, SampleBits b);

struct WriterSpec {
  OutputFormat format = OutputFormat::kWav;
  SampleBits bits = SampleBits::k24;
  int rate_hz = 0;
  int channels = 0;
  Metadata metadata;
  // Frames the file will hold, when known: WAV output switches to RF64 only when the data passes 4 GiB.
  // -1 (unknown) writes RF64 that libsndfile downgrades to a WAVE_FORMAT_EXTENSIBLE header when small.
  std::int64_t expected_frames = -1;
};

// Writes one output. Nothing appears at the final path until commit(); destruction without commit() removes
// the partial temporary file. Throws OutputError naming the path and the cause (disk full, permissions...).
class AudioWriter {
 public:
  AudioWriter(const std::filesystem::path& final_path, const WriterSpec& spec, bool overwrite);
  ~AudioWriter();
  AudioWriter(const AudioWriter&) = delete;
  AudioWriter& operator=(const AudioWriter&) = delete;

  // Planar PCM, left-justified int32 (the dither stage's output), `frames` per channel.
  void write_pcm(const std::vector<const std::int32_t*>& planar, std::int64_t frames);
  // Planar float (32-bit float delivery).
  void write_float(const std::vector<const float*>& planar, std::int64_t frames);
  void commit();

 private:
  void check_written(std::int64_t wanted, std::int64_t written);
  AtomicFile file_;
  void* sndfile_ = nullptr;  // SNDFILE*
  std::vector<std::int32_t> pcm_interleaved_;
  std::vector<float> float_interleaved_;
};

}  // namespace lathe::host
