#include "host/io/jobs.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "host/io/audio_reader.hpp"

namespace lathe::host {
namespace fs = std::filesystem;
namespace {

fs::path absolute_normal(const fs::path& p) {
  std::error_code ec;
  fs::path a = fs::weakly_canonical(fs::absolute(p, ec), ec);
  return ec ? fs::absolute(p).lexically_normal() : a;
}

bool is_inside(const fs::path& child, const fs::path& parent) {
  auto c = child.begin();
  for (auto p = parent.begin(); p != parent.end(); ++p, ++c) {
    if (p->empty()) continue;  // trailing separator
    if (c == child.end() || *c != *p) return false;
  }
  return true;
}

bool is_hidden_or_temp(const fs::path& name) {
  const std::string s = name.filename().string();
  return s.empty() || s[0] == '.';
}

}  // namespace

JobPlan plan_jobs(const std::vector<std::string>& inputs, const fs::path& out_dir, OutputFormat format) {
  JobPlan plan;
  const fs::path out_abs = absolute_normal(out_dir);
  const std::string ext = "." + extension_of(format);
  std::map<fs::path, std::string> claimed;  // output -> input that claimed it
  std::set<fs::path> all_inputs;

  struct Candidate {
    fs::path input;
    fs::path input_abs;  // resolved once: weakly_canonical costs system calls, and catalogues are large
    fs::path rel;        // output relative to OUTDIR
  };
  std::vector<Candidate> candidates;
  for (const std::string& arg : inputs) {
    const fs::path in(arg);
    std::error_code ec;
    const auto st = fs::status(in, ec);
    if (ec || !fs::exists(st)) {
      plan.problems.push_back({arg, "input not found (check the path)"});
      continue;
    }
    if (fs::is_directory(st)) {
      std::vector<fs::path> found;
      fs::recursive_directory_iterator it(in, fs::directory_options::skip_permission_denied, ec), end;
      for (; !ec && it != end; it.increment(ec)) {
        const fs::path& p = it->path();
        if (is_hidden_or_temp(p)) {
          if (it->is_directory()) it.disable_recursion_pending();
          continue;
        }
        if (it->is_directory()) {
          if (absolute_normal(p) == out_abs) it.disable_recursion_pending();  // never master our own outputs
          continue;
        }
        if (it->is_regular_file() && has_audio_extension(p)) found.push_back(p);
      }
      if (ec) plan.problems.push_back({arg, "cannot search folder: " + ec.message()});
      std::sort(found.begin(), found.end());
      if (found.empty() && !ec) plan.problems.push_back({arg, "no audio files found in this folder"});
      for (const auto& f : found) {
        fs::path rel = f.lexically_relative(in);
        rel.replace_extension(ext);
        candidates.push_back({f, absolute_normal(f), rel});
      }
    } else {
      fs::path rel = in.filename();
      rel.replace_extension(ext);
      candidates.push_back({in, absolute_normal(in), rel});
    }
  }
  for (const auto& c : candidates) all_inputs.insert(c.input_abs);

  std::set<fs::path> seen_inputs;
  for (const auto& [in, in_abs, rel] : candidates) {
    // The same file named twice (or found through two folders) is mastered once.
    if (!seen_inputs.insert(in_abs).second) continue;
    const fs::path out = out_dir / rel;
    const fs::path out_norm = absolute_normal(out);
    if (!is_inside(out_norm, out_abs)) {
      plan.problems.push_back({in.string(), "output path " + out.string() + " would leave the output folder"});
      continue;
    }
    if (all_inputs.count(out_norm)) {
      plan.problems.push_back({in.string(), "output " + out.string() +
                                                " would replace an input (choose an output folder apart from the inputs)"});
      continue;
    }
    const auto [it, inserted] = claimed.emplace(out_norm, in.string());
    if (!inserted) {
      plan.problems.push_back({in.string(), "output " + out.string() + " is already the output of " + it->second +
                                                " (rename one of the inputs)"});
      continue;
    }
    plan.jobs.push_back({in, out, {}});
  }
  return plan;
}

std::string album_key_of(const Job& job) {
  return job.album.empty() ? job.input.parent_path().string() : "album:" + job.album;
}

}  // namespace lathe::host
