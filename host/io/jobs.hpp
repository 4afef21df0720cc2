// From the command line's INPUT... and OUTDIR to a list of (input file, output file) jobs.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "host/io/audio_writer.hpp"

namespace lathe::host {

struct Job {
  std::filesystem::path input;
  std::filesystem::path output;
  std::string album{};  // a manifest's album: album mode groups by it (empty: by the input's folder)
  // A manifest's OUTDIR: the output is confined to it again right before it is written (a folder on the way may
  // have become a symlink since the plan was made). Empty for INPUT... jobs, which plan_jobs confines.
  std::filesystem::path confine_to{};
  // The output exists and is lathe's own (a resume record says so, host/io/resume.hpp): it may be replaced.
  bool replace_own = false;
};

struct PlanProblem {
  std::string input;    // as the user gave it, or the file found in a folder
  std::string message;  // "what (what to do)"
};

struct JobPlan {
  std::vector<Job> jobs;
  std::vector<PlanProblem> problems;  // inputs that will not be processed
};

// The key album mode groups a job's track by: its manifest album, else its input's folder (TrackIo::album_key).
std::string album_key_of(const Job& job);

// Files map to OUTDIR/<name>.<ext>; folders are searched recursively for audio files (by extension; hidden files,
// lathe's temporary files and OUTDIR itself are skipped) and their structure is mirrored under OUTDIR. Output
// paths always stay inside OUTDIR. An input named more than once is mastered once. Refused, as problems: missing inputs, an output that would be an input, two
// inputs that map to the same output.
JobPlan plan_jobs(const std::vector<std::string>& inputs, const std::filesystem::path& out_dir, OutputFormat format);

}  // namespace lathe::host
