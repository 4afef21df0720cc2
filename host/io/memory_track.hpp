// A TrackIo over memory: feeds planar samples to master_tracks and keeps what it writes. Tests check the
// engines' bits with it and bench/ times the engines without file I/O.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>
#include <map>
#include <memory>
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
    pcm_.assign(static_cast<std::size_t>(spec.channels), {});
    out_float_.assign(static_cast<std::size_t>(spec.channels), {});
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

  // Album exports stay in memory too, shared by the track and its siblings, by file name.
  struct Siblings {
    std::map<std::string, std::shared_ptr<MemoryTrack>> outputs;
    std::map<std::string, std::string> texts;
  };
  std::unique_ptr<TrackIo> sibling_output(const std::string& file_name) const override;
  void write_sidecar(const std::string& file_name, const std::string& text, bool) override {
    siblings_->texts[file_name] = text;
  }
  const Siblings& siblings() const { return *siblings_; }

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
  std::shared_ptr<Siblings> siblings_ = std::make_shared<Siblings>();
};

// A sibling writes into a MemoryTrack kept in the shared table (so tests can read it after the run).
class MemorySiblingOutput final : public TrackIo {
 public:
  explicit MemorySiblingOutput(std::shared_ptr<MemoryTrack> target) : t_(std::move(target)) {}
  std::string name() const override { return t_->name(); }
  std::string output_name() const override { return t_->output_name(); }
  AudioInfo open_input() override { return t_->open_input(); }
  std::int64_t read_interleaved(float* out, std::int64_t max_frames) override { return t_->read_interleaved(out, max_frames); }
  void rewind() override { t_->rewind(); }
  void open_output(const WriterSpec& spec, bool overwrite) override { t_->open_output(spec, overwrite); }
  void write_pcm(const std::vector<const std::int32_t*>& planar, std::int64_t frames) override { t_->write_pcm(planar, frames); }
  void write_float(const std::vector<const float*>& planar, std::int64_t frames) override { t_->write_float(planar, frames); }
  void commit() override { t_->commit(); }
  void abandon() override { t_->abandon(); }

 private:
  std::shared_ptr<MemoryTrack> t_;
};

inline std::unique_ptr<TrackIo> MemoryTrack::sibling_output(const std::string& file_name) const {
  auto t = std::make_shared<MemoryTrack>(file_name, std::vector<std::vector<float>>{}, rate_hz_);
  t->siblings_ = siblings_;
  siblings_->outputs[file_name] = t;
  return std::make_unique<MemorySiblingOutput>(t);
}

}  // namespace lathe::host
