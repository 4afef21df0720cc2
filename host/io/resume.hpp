// Resumable runs (issue 9): a rerun of the same command skips the tracks it finished before and redoes the rest,
// whatever moment the earlier run was killed at (kill -9 included).
//
// Each output has a record in OUTDIR/.lathe/state/<output>.json (a hidden folder: never searched for inputs nor
// verified) holding the track's fingerprint, a hash of everything that decides its bytes: lathe's version, the
// profile as resolved (overrides included, as TOML), the delivery format and word length, album mode, and the
// input file's bytes. A record is written "pending" before the run starts the track, and "done" with the output
// file's SHA-256 once the output is committed. On a rerun a track is skipped when its record is done, its
// fingerprint matches and the output still has the recorded hash; otherwise it is mastered again, and an output
// that a record shows to be lathe's own (see is_own_output) may be replaced. An output without a record is
// somebody else's file: the usual rule holds (an error unless --overwrite). A kill before the output's rename
// leaves no output (outputs are atomic) and a pending record; a kill between the rename and the done record
// leaves a pending record: either way the rerun masters the track again.
#pragma once

#include <filesystem>
#include <string>

namespace lathe::host {

// SHA-256 (hex) of a file's bytes. Throws InputError when it cannot be read.
std::string file_sha256(const std::filesystem::path& path);

// The fingerprint of one track: `settings` says everything but the input (version, profile TOML, format...).
std::string track_fingerprint(const std::string& settings, const std::filesystem::path& input);

enum class ResumeState { kNone, kPending, kDone };
struct ResumeRecord {
  ResumeState state = ResumeState::kNone;  // kNone: no record (or an unreadable one)
  std::string fingerprint;
  std::string output_sha256;               // done records
};

// The record file of `output` (a path inside `out_dir`).
std::filesystem::path resume_record_path(const std::filesystem::path& out_dir, const std::filesystem::path& output);
ResumeRecord read_resume_record(const std::filesystem::path& out_dir, const std::filesystem::path& output);
// Atomic writes (temp + fsync + rename). Throw OutputError.
void write_pending_record(const std::filesystem::path& out_dir, const std::filesystem::path& output,
                          const std::string& fingerprint);
void write_done_record(const std::filesystem::path& out_dir, const std::filesystem::path& output,
                       const std::string& fingerprint);

// True when an existing `output` is lathe's own, so that a rerun may replace it: a pending record (a run was
// stopped before it could record the output as done), or a done record whose hash the output still has (made
// with other settings). An output changed since lathe wrote it, or without a record, is somebody else's.
bool is_own_output(const std::filesystem::path& out_dir, const std::filesystem::path& output);

// True when `output` is finished with this fingerprint: a done record, the same fingerprint, and the output's
// bytes still hash to the recorded value.
bool finished_before(const std::filesystem::path& out_dir, const std::filesystem::path& output,
                     const std::string& fingerprint);

}  // namespace lathe::host
