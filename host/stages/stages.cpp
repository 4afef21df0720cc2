// The stages of the foundation: gain, and dither + quantisation to the delivery word length.
#include <cmath>
#include <functional>
#include <map>
#include <vector>

#include "host/errors.hpp"
#include "host/profile/profile_table.hpp"
#include "host/stage.hpp"
#include "host/stages/compressor_stage.hpp"
#include "host/stages/corrective_stage.hpp"
#include "host/stages/eq_stage.hpp"
#include "host/stages/limiter_stage.hpp"
#include "host/stages/match_stage.hpp"
#include "host/stages/multiband_stage.hpp"
#include "host/stages/reverb_stage.hpp"
#include "host/stages/saturation_stage.hpp"

namespace lathe::host {
namespace {

// `type = "gain"`: a static gain in dB.
class GainStage final : public Stage {
 public:
  explicit GainStage(ProfileTable& t) {
    // Range: beyond +-60 dB a mastering gain is a mistake in the profile, not a level choice.
    gain_db_ = t.number("gain_db", -60.0, 60.0, 0.0, "dB");
    // Designed once on the host in double, rounded to float once: both engines multiply by the same bits.
    gain_lin_ = static_cast<float>(std::pow(10.0, gain_db_ / 20.0));
  }
  std::string type() const override { return "gain"; }
  void process(Engine& engine, BlockBatch& batch, std::span<StageState* const>) const override {
    const std::vector<float> gains(static_cast<std::size_t>(batch.slots), gain_lin_);
    engine.apply_gain(gains);
  }
  void describe(toml::table& out) const override { out.insert_or_assign("gain_db", gain_db_); }

 private:
  double gain_db_ = 0;
  float gain_lin_ = 1.0f;
};

// `type = "dither"`: the last stage. Quantises to the delivery's 16 or 24 bits with TPDF dither (or plain
// rounding); for 32-bit float delivery it leaves the samples as they are.
class DitherStage final : public Stage {
 public:
  explicit DitherStage(ProfileTable& t) {
    kind_ = t.choice("kind", {"tpdf", "none"}, "tpdf");
  }
  std::string type() const override { return "dither"; }
  void process(Engine& engine, BlockBatch& batch, std::span<StageState* const>) const override {
    if (batch.bits == SampleBits::kFloat32) return;
    kernels::QuantiseParams p{};
    p.bits = static_cast<std::uint32_t>(batch.bits);
    p.dither = kind_ == "tpdf" ? kernels::DitherKind::kTpdf : kernels::DitherKind::kNone;
    engine.quantise(p);
  }
  void describe(toml::table& out) const override { out.insert_or_assign("kind", kind_); }

 private:
  std::string kind_;
};

using Factory = std::function<std::unique_ptr<Stage>(ProfileTable&)>;

const std::map<std::string, Factory>& registry() {
  static const std::map<std::string, Factory> r = {
      {"gain", [](ProfileTable& t) { return std::make_unique<GainStage>(t); }},
      {"dither", [](ProfileTable& t) { return std::make_unique<DitherStage>(t); }},
      {"eq", [](ProfileTable& t) { return make_eq_stage(t); }},
      {"limiter", [](ProfileTable& t) { return make_limiter_stage(t); }},
      {"compressor", [](ProfileTable& t) { return make_compressor_stage(t); }},
      {"saturation", [](ProfileTable& t) { return make_saturation_stage(t); }},
      {"corrective", [](ProfileTable& t) { return make_corrective_stage(t); }},
      {"width", [](ProfileTable& t) { return make_width_stage(t); }},
      {"reverb", [](ProfileTable& t) { return make_reverb_stage(t); }},
      {"match", [](ProfileTable& t) { return make_match_stage(t); }},
      {"multiband", [](ProfileTable& t) { return make_multiband_stage(t); }},
  };
  return r;
}

}  // namespace

std::string known_stage_types() {
  std::string s;
  for (const auto& [name, f] : registry()) s += (s.empty() ? "\"" : ", \"") + name + "\"";
  return s;
}

std::unique_ptr<Stage> make_stage(const std::string& type, ProfileTable& table) {
  const auto it = registry().find(type);
  if (it == registry().end()) table.fail("type", "unknown stage type; known: " + known_stage_types());
  table.consume("type");
  auto stage = it->second(table);
  table.reject_unknown_keys();
  return stage;
}

}  // namespace lathe::host
