// An engine for tests that forwards every operation to a real engine (usually the CPU's) after calling a hook
// with the operation's name and, for load(), the batch: tests count calls, check batch sizes or inject faults.
// Its companions are probes with the same hook around the inner engine's companions, or with
// `hook_companions` false the inner engine's companions themselves (the hook then sees the chain's batches only:
// the delivery pass runs on companions).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "host/engine/engine.hpp"

namespace lathe::test {

class ProbeEngine final : public host::Engine {
 public:
  using Hook = std::function<void(const char* op, const host::BlockBatch* loaded)>;
  ProbeEngine(std::unique_ptr<host::Engine> inner, Hook hook, std::string kind = "cpu", std::string label = "probe",
              bool hook_companions = true)
      : inner_(std::move(inner)),
        hook_(std::move(hook)),
        kind_(std::move(kind)),
        label_(std::move(label)),
        hook_companions_(hook_companions) {}

  std::string kind() const override { return kind_; }
  std::string description() const override { return kind_ + " (test: " + inner_->description() + " " + label_ + ")"; }
  std::unique_ptr<host::Engine> make_companion() const override {
    if (!hook_companions_) return inner_->make_companion();
    hook_("make_companion", nullptr);
    return std::make_unique<ProbeEngine>(inner_->make_companion(), hook_, kind_, label_);
  }
  void load(host::BlockBatch& b) override { hook_("load", &b); inner_->load(b); }
  void store(host::BlockBatch& b) override { step("store"); inner_->store(b); }
  void synchronize() override { step("synchronize"); inner_->synchronize(); }
  void apply_gain(std::span<const float> g) override { step("apply_gain"); inner_->apply_gain(g); }
  void quantise(const kernels::QuantiseParams& p) override { step("quantise"); inner_->quantise(p); }
  void convolve(std::span<const host::ConvolveJob> j) override { step("convolve"); inner_->convolve(j); }
  void mid_side(std::span<const host::BlockPair> p, bool encode) override {
    step("mid_side");
    inner_->mid_side(p, encode);
  }
  void scale_blocks(std::span<const float> s, std::span<const float> o, std::span<const std::int64_t> e) override {
    step("scale_blocks");
    inner_->scale_blocks(s, o, e);
  }
  void fade_blocks(std::span<const std::int64_t> s, std::span<const std::int64_t> e) override {
    step("fade_blocks");
    inner_->fade_blocks(s, e);
  }
  void swap_blocks(std::span<const host::BlockPair> p) override { step("swap_blocks"); inner_->swap_blocks(p); }
  void dynamics(std::span<const host::DynamicsJob> j) override { step("dynamics"); inner_->dynamics(j); }
  void saturate(std::span<const host::SaturateJob> j) override { step("saturate"); inner_->saturate(j); }
  void copy_buffer(int from, int to) override { step("copy_buffer"); inner_->copy_buffer(from, to); }
  void add_buffer(int from, int to) override { step("add_buffer"); inner_->add_buffer(from, to); }
  void use_buffer(int k) override { step("use_buffer"); inner_->use_buffer(k); }
  void meter(std::span<const host::meter::LoudnessJob> l, std::span<const host::meter::TruePeakJob> p) override {
    step("meter");
    inner_->meter(l, p);
  }
  void limit(std::span<const host::LimitJob> j) override { step("limit"); inner_->limit(j); }
  void resample(std::span<const host::ResampleJob> j) override { step("resample"); inner_->resample(j); }

 private:
  void step(const char* op) const { hook_(op, nullptr); }

  std::unique_ptr<host::Engine> inner_;
  Hook hook_;
  std::string kind_, label_;
  bool hook_companions_;
};

}  // namespace lathe::test
