#include "host/stages/limiter_stage.hpp"

#include <stdexcept>

#include "host/profile/profile_table.hpp"

namespace lathe::host {

LimiterStage::LimiterStage(ProfileTable& t) {
  if (t.has("ceiling_dbtp")) ceiling_ = t.number("ceiling_dbtp", -20.0, 0.0, -1.0, "dBTP");
  t.consume("ceiling_dbtp");
  // A look-ahead of 0 cannot catch a peak before it happens; above 100 ms the gain moves audibly early.
  params_.lookahead_ms = t.number("lookahead_ms", 0.1, 100.0, 5.0, "ms");
  params_.release_ms = t.number("release_ms", 1.0, 5000.0, 100.0, "ms");
  params_.auto_release = t.choice("release", {"auto", "fixed"}, "auto") == "auto";
  const std::string os = t.choice("oversampling", {"auto", "4", "8", "16"}, "auto");
  params_.oversampling = os == "auto" ? 0 : std::stoi(os);
  params_.linked = t.choice("link", {"linked", "unlinked"}, "linked") == "linked";
}

void LimiterStage::process(Engine&, BlockBatch&, std::span<StageState* const>) const {
  throw std::logic_error("the limiter runs on whole tracks in the delivery pass, not over batches");
}

void LimiterStage::describe(toml::table& out) const {
  if (ceiling_) out.insert_or_assign("ceiling_dbtp", *ceiling_);
  out.insert_or_assign("lookahead_ms", params_.lookahead_ms);
  out.insert_or_assign("release_ms", params_.release_ms);
  out.insert_or_assign("release", params_.auto_release ? "auto" : "fixed");
  out.insert_or_assign("oversampling",
                       params_.oversampling == 0 ? std::string("auto") : std::to_string(params_.oversampling));
  out.insert_or_assign("link", params_.linked ? "linked" : "unlinked");
}

dsp::LimiterParams LimiterStage::params(std::optional<double> targets_ceiling) const {
  dsp::LimiterParams p = params_;
  p.ceiling_dbtp = ceiling_.value_or(targets_ceiling.value_or(-1.0));
  return p;
}

std::unique_ptr<Stage> make_limiter_stage(ProfileTable& table) { return std::make_unique<LimiterStage>(table); }

}  // namespace lathe::host
