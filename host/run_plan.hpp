// The tracks of one `lathe master` run and the profile each is mastered with. INPUT... all take the run's
// profile; a manifest's rows (docs/manifest.md) take theirs (the run's unless a row names one) with their
// per-row overrides, and rows that share a profile and overrides form a group, mastered in one run. The CLI
// then adds resume, the engines and the reports around it.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "host/io/jobs.hpp"
#include "host/io/manifest.hpp"
#include "host/master.hpp"
#include "host/profile/profile.hpp"

namespace lathe::host {

struct RunPlan {
  JobPlan plan;                                // the jobs in run order, and the inputs or rows that cannot run
  std::vector<ManifestRow> rows;               // a manifest run: its usable rows (in album and track order)
  std::vector<const ManifestRow*> row_of_job;  // a manifest run: each job's row (points into `rows`)
  std::vector<Profile> group_profiles;         // [0] is the run's profile
  std::vector<std::size_t> group_of_job;       // each job's group (its profile in group_profiles)

  RunPlan() = default;
  RunPlan(RunPlan&&) = default;  // moving keeps `rows`' storage, so row_of_job stays valid
  RunPlan& operator=(RunPlan&&) = default;
  RunPlan(const RunPlan&) = delete;
  RunPlan& operator=(const RunPlan&) = delete;
};

// `manifest` empty: `inputs` (files and folders) with `profile`. Otherwise the manifest's rows, only shard
// `shard_text` ("K/N") when not empty: an album's rows in the order of their track numbers at the place of its
// first row; a row whose profile cannot be loaded, overridden or delivered in its format is a problem, not a
// job. Throws ManifestError for an unreadable manifest or a bad shard, and what plan_jobs throws.
RunPlan plan_run(const Profile& profile, const std::vector<std::string>& inputs, const std::string& manifest,
                 const std::string& shard_text, const std::filesystem::path& out_dir, OutputFormat format,
                 const MasterOptions& options);

}  // namespace lathe::host
