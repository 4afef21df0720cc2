#include "host/io/audio_reader.hpp"

#include <sndfile.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

#include "host/errors.hpp"
#include "host/io/sndfile_strings.hpp"

namespace lathe::host {
namespace {

std::string format_name(int format, int mask) {
  SF_FORMAT_INFO fi{};
  fi.format = format & mask;
  if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &fi, sizeof(fi)) == 0 && fi.name) return fi.name;
  return "unknown";
}

}  // namespace

AudioReader::AudioReader(const std::filesystem::path& path) : path_(path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw InputError("file not found", "check the path");
  if (std::filesystem::is_directory(path, ec))
    throw InputError("is a folder, not an audio file", "give audio files, or a folder to search, as INPUT");
  SF_INFO sfinfo{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &sfinfo);
  if (!f) {
    throw InputError(std::string("cannot decode: ") + sf_strerror(nullptr),
                     "the file is corrupt, truncated or not in a format libsndfile reads (WAV, RF64, W64, AIFF, "
                     "FLAC, Ogg Vorbis/Opus, MP3)");
  }
  file_ = f;
  info_.rate_hz = sfinfo.samplerate;
  info_.channels = sfinfo.channels;
  info_.frames = sfinfo.frames;
  info_.container = format_name(sfinfo.format, SF_FORMAT_TYPEMASK);
  info_.encoding = format_name(sfinfo.format, SF_FORMAT_SUBMASK);
  for (const auto& k : kSndfileStringKeys)
    if (const char* s = sf_get_string(f, k.id); s && *s) info_.metadata[k.name] = s;

  if (info_.channels < 1 || info_.channels > kMaxChannels) {
    sf_close(f);
    file_ = nullptr;
    throw InputError(std::to_string(info_.channels) + " channels; lathe masters 1 to " +
                         std::to_string(kMaxChannels) + " channels",
                     "split the file into stems of at most 8 channels");
  }
  if (info_.rate_hz < kMinRateHz || info_.rate_hz > kMaxRateHz) {
    sf_close(f);
    file_ = nullptr;
    throw InputError("sample rate " + std::to_string(info_.rate_hz) + " Hz is outside 8000 to 384000 Hz",
                     "resample the file to a supported rate first");
  }
  // libsndfile opens a WAV/AIFF whose data chunk runs past the end of the file by clamping the frame count, and
  // notes "(should be N)" in its log: a truncated file, which must not be mastered as if it were whole.
  char log[4096] = {};
  sf_command(f, SFC_GET_LOG_INFO, log, sizeof log);
  for (const char* chunk : {"\ndata : ", "\nSSND : "}) {
    const char* at = std::strstr(log, chunk);
    const char* eol = at ? std::strchr(at + 1, '\n') : nullptr;
    const char* should = at ? std::strstr(at, "(should be") : nullptr;
    if (should && (!eol || should < eol)) info_.truncated = true;
  }
  // Normalised float reading is libsndfile's default: PCM is scaled by 1/2^(bits-1), exact for <= 24 bits.
  // Float files are read as stored (no clipping), so over-full-scale masters keep their level.
  sf_command(f, SFC_SET_NORM_FLOAT, nullptr, SF_TRUE);
  sf_command(f, SFC_SET_SCALE_FLOAT_INT_READ, nullptr, SF_FALSE);
}

AudioReader::~AudioReader() {
  if (file_) sf_close(static_cast<SNDFILE*>(file_));
}

std::int64_t AudioReader::read_interleaved(float* out, std::int64_t max_frames) {
  auto* f = static_cast<SNDFILE*>(file_);
  const sf_count_t got = sf_readf_float(f, out, max_frames);
  if (got < 0 || (got < max_frames && sf_error(f) != SF_ERR_NO_ERROR))
    throw InputError(std::string("decode error: ") + sf_strerror(f), "the file is damaged; re-export it");
  return got;
}

std::int64_t AudioReader::read_planar(std::vector<std::vector<float>>& planar, std::int64_t max_frames) {
  const auto channels = static_cast<std::size_t>(info_.channels);
  interleaved_.resize(static_cast<std::size_t>(max_frames) * channels);
  const std::int64_t got = read_interleaved(interleaved_.data(), max_frames);
  planar.resize(channels);
  for (std::size_t c = 0; c < channels; ++c) {
    planar[c].resize(static_cast<std::size_t>(got));
    const float* src = interleaved_.data() + c;
    float* dst = planar[c].data();
    for (std::int64_t i = 0; i < got; ++i) dst[i] = src[static_cast<std::size_t>(i) * channels];
  }
  return got;
}

void AudioReader::rewind() {
  if (sf_seek(static_cast<SNDFILE*>(file_), 0, SEEK_SET) < 0)
    throw InputError("cannot seek to the start of the file", "the file may be a non-seekable stream");
}

bool has_audio_extension(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  static const std::array<const char*, 14> kExts{".wav", ".wave", ".rf64", ".w64", ".bwf", ".aif", ".aiff", ".aifc",
                                                 ".flac", ".ogg", ".oga", ".opus", ".mp3", ".caf"};
  return std::find(kExts.begin(), kExts.end(), ext) != kExts.end();
}

}  // namespace lathe::host
