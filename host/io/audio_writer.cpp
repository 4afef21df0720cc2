#include "host/io/audio_writer.hpp"

#include <sndfile.h>

#include <array>

#include "host/errors.hpp"
#include "host/io/sndfile_strings.hpp"

namespace lathe::host {

std::string to_string(OutputFormat f) {
  switch (f) {
    case OutputFormat::kWav: return "wav";
    case OutputFormat::kFlac: return "flac";
    case OutputFormat::kAiff: return "aiff";
  }
  return "?";
}
std::string extension_of(OutputFormat f) { return to_string(f); }

std::string to_string(SampleBits b) {
  switch (b) {
    case SampleBits::k16: return "16";
    case SampleBits::k24: return "24";
    case SampleBits::kFloat32: return "32f";
  }
  return "?";
}

void check_format_supported(OutputFormat f, SampleBits b) {
  if (f == OutputFormat::kFlac && b == SampleBits::kFloat32)
    throw UsageError("FLAC cannot hold 32-bit float samples", "use --bits 24 or 16 with FLAC, or --format wav");
}

namespace {

bool needs_rf64(const WriterSpec& spec) {
  if (spec.expected_frames < 0) return true;
  const std::int64_t bytes_per_sample = spec.bits == SampleBits::k16 ? 2 : spec.bits == SampleBits::k24 ? 3 : 4;
  const std::int64_t data_bytes = spec.expected_frames * spec.channels * bytes_per_sample;
  const std::int64_t header_margin = std::int64_t{1} << 20;  // header, metadata chunks
  return data_bytes + header_margin > std::int64_t{0xffffffff};
}

int sndfile_format(const WriterSpec& spec) {
  int major = 0;
  switch (spec.format) {
    // Plain RIFF/WAVE (the most compatible header) while the data fits the 32-bit sizes of RIFF; RF64 past
    // that, so large masters are never truncated.
    case OutputFormat::kWav: major = needs_rf64(spec) ? SF_FORMAT_RF64 : SF_FORMAT_WAV; break;
    case OutputFormat::kFlac: major = SF_FORMAT_FLAC; break;
    case OutputFormat::kAiff: major = SF_FORMAT_AIFF; break;
  }
  int sub = 0;
  switch (spec.bits) {
    case SampleBits::k16: sub = SF_FORMAT_PCM_16; break;
    case SampleBits::k24: sub = SF_FORMAT_PCM_24; break;
    case SampleBits::kFloat32: sub = SF_FORMAT_FLOAT; break;
  }
  return major | sub;
}

}  // namespace

AudioWriter::AudioWriter(const std::filesystem::path& final_path, const WriterSpec& spec, bool overwrite)
    : file_(final_path, overwrite) {
  check_format_supported(spec.format, spec.bits);
  SF_INFO info{};
  info.samplerate = spec.rate_hz;
  info.channels = spec.channels;
  info.format = sndfile_format(spec);
  if (!sf_format_check(&info))
    throw OutputError("libsndfile cannot write " + to_string(spec.format) + " at " + to_string(spec.bits) +
                          " bits, " + std::to_string(spec.rate_hz) + " Hz, " + std::to_string(spec.channels) +
                          " channels",
                      "choose another --format or --bits");
  SNDFILE* f = sf_open_fd(file_.fd(), SFM_WRITE, &info, SF_FALSE);
  if (!f)
    throw OutputError("cannot start " + final_path.string() + ": " + sf_strerror(nullptr),
                      "choose another --format or --bits");
  sndfile_ = f;
  if ((info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_RF64) sf_command(f, SFC_RF64_AUTO_DOWNGRADE, nullptr, SF_TRUE);
  // Writes of int are taken as left-justified 32-bit words and truncated to the file's width: exact for the
  // dither stage's output. Floats are written as they are.
  sf_command(f, SFC_SET_CLIPPING, nullptr, SF_FALSE);
  for (const auto& k : kSndfileStringKeys) {
    const auto it = spec.metadata.find(k.name);
    if (it != spec.metadata.end() && !it->second.empty()) sf_set_string(f, k.id, it->second.c_str());
  }
  sf_set_string(f, SF_STR_SOFTWARE, "lathe " LATHE_VERSION);
}

AudioWriter::~AudioWriter() {
  if (sndfile_) sf_close(static_cast<SNDFILE*>(sndfile_));
}

void AudioWriter::check_written(std::int64_t wanted, std::int64_t written) {
  if (written != wanted)
    throw OutputError("write failed for " + file_.final_path().string() + ": " +
                          sf_strerror(static_cast<SNDFILE*>(sndfile_)),
                      "the disk may be full; free space and run again");
}

namespace {

// Planar channels -> one interleaved buffer, as libsndfile takes them.
template <class T>
void interleave(const std::vector<const T*>& planar, std::int64_t frames, std::vector<T>& out) {
  const std::size_t channels = planar.size();
  out.resize(static_cast<std::size_t>(frames) * channels);
  for (std::size_t c = 0; c < channels; ++c)
    for (std::int64_t i = 0; i < frames; ++i) out[static_cast<std::size_t>(i) * channels + c] = planar[c][i];
}

}  // namespace

void AudioWriter::write_pcm(const std::vector<const std::int32_t*>& planar, std::int64_t frames) {
  interleave(planar, frames, pcm_interleaved_);
  check_written(frames, sf_writef_int(static_cast<SNDFILE*>(sndfile_), pcm_interleaved_.data(), frames));
}

void AudioWriter::write_float(const std::vector<const float*>& planar, std::int64_t frames) {
  interleave(planar, frames, float_interleaved_);
  check_written(frames, sf_writef_float(static_cast<SNDFILE*>(sndfile_), float_interleaved_.data(), frames));
}

void AudioWriter::commit() {
  auto* f = static_cast<SNDFILE*>(sndfile_);
  sf_write_sync(f);
  const int err = sf_error(f);
  const int close_rc = sf_close(f);
  sndfile_ = nullptr;
  if (err != SF_ERR_NO_ERROR || close_rc != 0)
    throw OutputError("cannot finish " + file_.final_path().string() + ": " + sf_error_number(err ? err : close_rc),
                      "the disk may be full; free space and run again");
  file_.commit();
}

}  // namespace lathe::host
