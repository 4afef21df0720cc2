#include "host/run_plan.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>

#include "host/errors.hpp"
#include "host/io/audio_writer.hpp"
#include "host/util/text.hpp"

namespace lathe::host {
namespace {

}  // namespace

RunPlan plan_run(const Profile& profile, const std::vector<std::string>& inputs, const std::string& manifest,
                 const std::string& shard_text, const std::filesystem::path& out_dir, OutputFormat format,
                 const MasterOptions& options) {
  RunPlan run;
  JobPlan& plan = run.plan;
  std::vector<ManifestRow>& rows = run.rows;
  run.group_profiles.push_back(profile);
  std::vector<Profile>& group_profiles = run.group_profiles;
  if (!manifest.empty()) {
    rows = read_manifest(manifest);
    if (!shard_text.empty()) {
      const Shard shard = parse_shard(shard_text);
      std::erase_if(rows, [&](const ManifestRow& r) { return !in_shard(r, shard); });
    }
    // An album's tracks go in the order of their track numbers (album mode delivers and sequences them in job
    // order), at the place of the album's first row; rows without an album keep their place.
    {
      std::map<std::string, std::size_t> first_row;
      for (std::size_t i = 0; i < rows.size(); ++i) first_row.emplace(rows[i].album, i);
      std::vector<std::size_t> order(rows.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      auto place = [&](std::size_t i) { return rows[i].album.empty() ? i : first_row[rows[i].album]; };
      std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
        if (place(x) != place(y)) return place(x) < place(y);
        return rows[x].track_number < rows[y].track_number;
      });
      std::vector<ManifestRow> sorted;
      for (const std::size_t i : order) sorted.push_back(rows[i]);
      rows = std::move(sorted);
    }
    std::map<std::string, std::size_t> group_index;  // profile + overrides -> group
    std::map<std::string, Profile> named;            // profiles named by rows, loaded once
    std::vector<std::size_t> group_of_row(rows.size(), 0);
    std::vector<std::string> row_problem(rows.size());
    std::vector<OutputFormat> formats(rows.size(), format);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const ManifestRow& r = rows[i];
      const ProfileOverrides o{r.target_lufs, r.ceiling_dbtp, r.trim_db};
      const std::string key = r.profile + "|" + (o.target_lufs ? fixed(*o.target_lufs, 6) : "") + "|" +
                              (o.ceiling_dbtp ? fixed(*o.ceiling_dbtp, 6) : "") + "|" +
                              (o.trim_db ? fixed(*o.trim_db, 6) : "");
      try {
        if (const auto it = group_index.find(key); it != group_index.end()) {
          group_of_row[i] = it->second;
        } else {
          if (!r.profile.empty() && !named.count(r.profile)) named.emplace(r.profile, load_profile(r.profile));
          const Profile& base = r.profile.empty() ? profile : named.at(r.profile);
          group_profiles.push_back(profile_with_overrides(base, o, r.where));
          group_of_row[i] = group_index[key] = group_profiles.size() - 1;
        }
        const Profile& gp = group_profiles[group_of_row[i]];
        formats[i] = options.format.value_or(gp.delivery.format);
        check_format_supported(formats[i], options.bits.value_or(gp.delivery.bits));
      } catch (const Error& e) {
        row_problem[i] = e.message();
      }
    }
    // Rows whose profile could not be made are problems; the others are planned.
    std::vector<ManifestRow> usable;
    std::vector<OutputFormat> usable_formats;
    std::vector<std::size_t> usable_group;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (!row_problem[i].empty()) {
        plan.problems.push_back({rows[i].input.string(), rows[i].where + ": " + row_problem[i]});
        continue;
      }
      usable.push_back(rows[i]);
      usable_formats.push_back(formats[i]);
      usable_group.push_back(group_of_row[i]);
    }
    rows = std::move(usable);
    ManifestPlan mp = plan_manifest(rows, out_dir, usable_formats);
    for (auto& p : mp.plan.problems) plan.problems.push_back(std::move(p));
    plan.jobs = std::move(mp.plan.jobs);
    run.row_of_job = std::move(mp.rows);
    for (const ManifestRow* r : run.row_of_job)
      run.group_of_job.push_back(usable_group[static_cast<std::size_t>(r - rows.data())]);
  } else {
    plan = plan_jobs(inputs, out_dir, format);
    run.group_of_job.assign(plan.jobs.size(), 0);
  }
  return run;
}

}  // namespace lathe::host
