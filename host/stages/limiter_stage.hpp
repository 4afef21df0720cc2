// `type = "limiter"`: the oversampled look-ahead true-peak limiter (host/dsp/limiter.hpp). It works on whole
// tracks, so it is not run over batches: the scheduler ends the streamed chain before it and runs it, with the
// loudness targeting around it, in the delivery pass (host/delivery/targeting.hpp).
#pragma once

#include <memory>
#include <optional>

#include "host/dsp/limiter.hpp"
#include "host/stage.hpp"

namespace lathe::host {

class ProfileTable;

class LimiterStage final : public Stage {
 public:
  explicit LimiterStage(ProfileTable& t);
  std::string type() const override { return "limiter"; }
  void process(Engine& engine, BlockBatch& batch, std::span<StageState* const> state) const override;
  void describe(toml::table& out) const override;

  // The parameters, with the ceiling resolved: the stage's own ceiling_dbtp, else `targets_ceiling`, else -1.
  dsp::LimiterParams params(std::optional<double> targets_ceiling) const;

 private:
  dsp::LimiterParams params_;
  std::optional<double> ceiling_;  // as written in the profile
};

std::unique_ptr<Stage> make_limiter_stage(ProfileTable& table);

}  // namespace lathe::host
