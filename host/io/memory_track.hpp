// A TrackIo over memory: feeds planar samples to master_tracks and keeps what it writes. Tests check the
// engines' bits with it and bench/ times the engines without file I/O.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "host/master.hpp"

namespace lathe::host {

class MemoryTrack final : public TrackIo {
 public:
  MemoryTrack(std::string name, std::vector<std::vector<float>> planar, int rate_hz)
      : name_(std::move(name)), planar_(std::move(planar)), rate_hz_(rate_hz) {}

  std::string name() const override { return name_; }
  std::string output_name() const override { return "memory:" + name_; }
  AudioInfo open_input() override {
    AudioInfo info;
    info.rate_hz = rate_hz_;
    info.channels = static_cast<int>(planar_.size());
    info.frames = frames();
    info.container = "memory";
    pos_ = 0;
    return info;
  }
  std::int64_t read_interleaved(float* out, std::int64_t max_frames) override {
    const std::int64_t n = std::min(max_frames, frames() - pos_);
    const std::size_t ch = planar_.size();
    for (std::int64_t i = 0; i < n; ++i)
      for (std::size_t c = 0; c < ch; ++c)
        out[static_cast<std::size_t>(i) * ch + c] = planar_[c][static_cast<std::size_t>(pos_ + i)];
    pos_ += n;
    return n;
  }
  void rewind() override { pos_ = 0; }
  void open_output(const WriterSpec& spec, bool) override {
    spec_ = spec;
    pcm_.assign(planar_.size(), {});
    out_float_.assign(planar_.size(), {});
  }
  void write_pcm(const std::vector<const std::int32_t*>& planar, std::int64_t frames_n) override {
    for (std::size_t c = 0; c < planar.size(); ++c) pcm_[c].insert(pcm_[c].end(), planar[c], planar[c] + frames_n);
  }
  void write_float(const std::vector<const float*>& planar, std::int64_t frames_n) override {
    for (std::size_t c = 0; c < planar.size(); ++c)
      out_float_[c].insert(out_float_[c].end(), planar[c], planar[c] + frames_n);
  }
  void commit() override { committed_ = true; }
  void abandon() override {}

  bool committed() const { return committed_; }
  const std::vector<std::vector<std::int32_t>>& pcm() const { return pcm_; }
  const std::vector<std::vector<float>>& out_float() const { return out_float_; }
  // The output samples as bytes, channel after channel (the golden hashes' input).
  std::vector<unsigned char> output_bytes() const {
    std::vector<unsigned char> bytes;
    auto append = [&](const void* p, std::size_t n) {
      const auto* b = static_cast<const unsigned char*>(p);
      bytes.insert(bytes.end(), b, b + n);
    };
    for (const auto& ch : pcm_) append(ch.data(), ch.size() * sizeof(std::int32_t));
    for (const auto& ch : out_float_) append(ch.data(), ch.size() * sizeof(float));
    return bytes;
  }

 private:
  std::int64_t frames() const { return planar_.empty() ? 0 : static_cast<std::int64_t>(planar_[0].size()); }
  std::string name_;
  std::vector<std::vector<float>> planar_;
  int rate_hz_;
  std::int64_t pos_ = 0;
  WriterSpec spec_;
  std::vector<std::vector<std::int32_t>> pcm_;
  std::vector<std::vector<float>> out_float_;
  bool committed_ = false;
};

}  // namespace lathe::host
