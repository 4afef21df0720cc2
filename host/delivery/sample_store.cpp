#include "host/delivery/sample_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "host/errors.hpp"

namespace lathe::host {
namespace {

constexpr std::int64_t kChunkFrames = std::int64_t{1} << 15;  // frames interleaved per system call

}  // namespace

SampleStore::SampleStore(int channels) : channels_(channels) {
  if (channels < 1) throw std::invalid_argument("SampleStore: channels must be >= 1");
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
  if (ec) dir = "/tmp";
  where_ = dir.string();
  std::string pattern = (dir / "lathe-premaster-XXXXXX").string();
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  fd_ = ::mkstemp(name.data());
  if (fd_ < 0)
    throw OutputError("cannot create a temporary file in " + where_ + " for a long track: " + std::strerror(errno),
                      "set TMPDIR to a folder with free space you can write to");
  ::unlink(name.data());  // anonymous from now on: nothing is left behind, whatever happens
}

SampleStore::~SampleStore() {
  if (fd_ >= 0) ::close(fd_);
}

std::int64_t SampleStore::bytes() const {
  return frames_ * channels_ * static_cast<std::int64_t>(sizeof(float));
}

namespace {

void write_all(int fd, const char* p, std::size_t n, std::int64_t offset, const std::string& where) {
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(offset));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0)
      throw OutputError("cannot write a long track's temporary file in " + where + ": " +
                            std::strerror(w < 0 ? errno : ENOSPC),
                        "free space there, or set TMPDIR to a folder with room for the track as float");
    p += w;
    n -= static_cast<std::size_t>(w);
    offset += w;
  }
}

}  // namespace

void SampleStore::append(std::span<const float* const> planar, std::int64_t frames) {
  if (static_cast<int>(planar.size()) != channels_) throw std::invalid_argument("SampleStore::append: channel count");
  const auto ch = static_cast<std::size_t>(channels_);
  std::vector<float> inter(static_cast<std::size_t>(std::min(frames, kChunkFrames)) * ch);
  for (std::int64_t done = 0; done < frames; done += kChunkFrames) {
    const std::int64_t n = std::min(kChunkFrames, frames - done);
    for (std::size_t c = 0; c < ch; ++c) {
      const float* src = planar[c] + done;
      for (std::int64_t i = 0; i < n; ++i) inter[static_cast<std::size_t>(i) * ch + c] = src[i];
    }
    write_all(fd_, reinterpret_cast<const char*>(inter.data()), static_cast<std::size_t>(n) * ch * sizeof(float),
              bytes(), where_);
    frames_ += n;
  }
}

void SampleStore::append_zeros(std::int64_t frames) {
  const auto ch = static_cast<std::size_t>(channels_);
  const std::vector<float> zeros(static_cast<std::size_t>(std::min(frames, kChunkFrames)) * ch, 0.0f);
  for (std::int64_t done = 0; done < frames; done += kChunkFrames) {
    const std::int64_t n = std::min(kChunkFrames, frames - done);
    write_all(fd_, reinterpret_cast<const char*>(zeros.data()), static_cast<std::size_t>(n) * ch * sizeof(float),
              bytes(), where_);
    frames_ += n;
  }
}

void SampleStore::read(std::int64_t begin, std::int64_t frames, std::span<float* const> planar) const {
  if (begin < 0 || frames < 0 || begin + frames > frames_)
    throw std::out_of_range("SampleStore::read: frames [" + std::to_string(begin) + ", " +
                            std::to_string(begin + frames) + ") of " + std::to_string(frames_));
  if (static_cast<int>(planar.size()) != channels_) throw std::invalid_argument("SampleStore::read: channel count");
  const auto ch = static_cast<std::size_t>(channels_);
  std::vector<float> inter(static_cast<std::size_t>(std::min(frames, kChunkFrames)) * ch);
  for (std::int64_t done = 0; done < frames; done += kChunkFrames) {
    const std::int64_t n = std::min(kChunkFrames, frames - done);
    char* p = reinterpret_cast<char*>(inter.data());
    std::size_t left = static_cast<std::size_t>(n) * ch * sizeof(float);
    auto offset = static_cast<off_t>((begin + done) * channels_ * static_cast<std::int64_t>(sizeof(float)));
    while (left > 0) {
      const ssize_t r = ::pread(fd_, p, left, offset);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0)
        throw InputError(std::string("cannot read back a long track's temporary file: ") +
                             (r < 0 ? std::strerror(errno) : "unexpected end"),
                         "check the temporary folder " + where_ + " (TMPDIR)");
      p += r;
      left -= static_cast<std::size_t>(r);
      offset += r;
    }
    for (std::size_t c = 0; c < ch; ++c) {
      float* dst = planar[c] + done;
      for (std::int64_t i = 0; i < n; ++i) dst[i] = inter[static_cast<std::size_t>(i) * ch + c];
    }
  }
}

}  // namespace lathe::host
