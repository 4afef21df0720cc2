// Batch manifests (`lathe master --manifest FILE.csv|FILE.json -o OUTDIR`): one row per track with its input,
// output name, profile, album, track number and per-track overrides. This file reads and checks a manifest, keeps
// every output inside OUTDIR, and splits a manifest into deterministic shards (`--shard K/N`). The columns, the
// confinement rules and the shard rule are documented in docs/manifest.md; keep the two in step.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host/errors.hpp"
#include "host/io/jobs.hpp"

namespace lathe::host {

// A manifest that cannot be used. Derives from UsageError because a bad manifest is a bad request: nothing is
// processed (exit code 2). The message carries file, line (CSV) or index (JSON), column, value and what is allowed.
class ManifestError : public UsageError { using UsageError::UsageError; };

struct ManifestRow {
  // Input file. A relative path in the manifest is joined to the manifest's folder; absolute paths are kept
  // (inputs are only read).
  std::filesystem::path input;
  // The input cell exactly as written: the shard key when `output` is empty (see shard_key()).
  std::string input_as_written;
  // Output relative to OUTDIR, normalised ("./a//b.wav" -> "a/b.wav", '/' between folders); empty = the caller
  // names it after the input with the delivery format's extension. Already checked lexically (no "..", not
  // absolute...); the caller still passes it through confined_output(), which also follows symlinks in OUTDIR.
  std::string output;
  // Profile for this track; empty = the run's. A built-in name is kept as written; a value with a '/' or ending in
  // ".toml" is a file, and a relative one is joined to the manifest's folder like inputs.
  std::string profile;
  std::string album;     // empty = none
  int track_number = 0;  // 1..9999; 0 = none
  std::optional<double> target_lufs;   // -70..0
  std::optional<double> ceiling_dbtp;  // -20..0
  std::optional<double> trim_db;       // -60..+24
  // CSV: the line the row starts on (1-based). JSON: the index in the track array + 1.
  int line = 0;
  // "FILE:LINE" (CSV) or "FILE: tracks[INDEX]" (JSON, 0-based), to prefix messages about this row.
  std::string where;
};

// Reads FILE.csv or FILE.json (chosen by extension, case-insensitive). Throws ManifestError for a file that cannot
// be read, a syntax error, an unknown or duplicate column, a missing input, a bad or out-of-range number, an output
// name that could leave OUTDIR, two rows with the same output, or no rows at all.
std::vector<ManifestRow> read_manifest(const std::filesystem::path& file);

// ---- output confinement -------------------------------------------------------------------------------------

// Lexical check and normalisation of an output name relative to OUTDIR. Refused: empty, a NUL or other control
// character, a backslash (so Windows forms like "C:\x.wav", "\\server\x" or "..\x" never pass), an absolute path
// ("/..."), a drive prefix ("C:..."), any ".." component, a component longer than 255 bytes, a name that ends in
// '/' or names no file. "." components and repeated '/' are dropped. Returns the name with '/' between folders.
// Throws OutputError saying why and what to do.
std::string normalise_output_name(std::string_view relative);

// OUTDIR/relative, after normalise_output_name() and a walk through what already exists of the path: every
// existing component that is a symbolic link is resolved and must stay inside OUTDIR (both canonicalised), and a
// link that points nowhere (or loops) is refused. Components that do not exist yet are fine: the caller creates
// them as real folders. Creates nothing. Throws OutputError.
//
// Time of check to time of use: the folders can change between planning and writing, so call this again right
// before creating the output's folders and again before opening the file. It is cheap (one lstat per component)
// and idempotent. Outputs are then written through AtomicFile, which renames a temporary file over the final name:
// a symbolic link at the final name is replaced, never written through. What remains is a race with a process
// that can write inside OUTDIR while lathe runs; OUTDIR is the user's own folder, so that is outside the threat
// model (the manifest is what is untrusted).
std::filesystem::path confined_output(const std::filesystem::path& out_dir, std::string_view relative);

// ---- shards ---------------------------------------------------------------------------------------------------

struct Shard {
  int index = 1;  // K, 1-based
  int count = 1;  // N
};

// "K/N" with 1 <= K <= N <= 1000000, digits only. Throws UsageError otherwise.
Shard parse_shard(const std::string& text);

// What decides a row's shard: its normalised output name, or the input as written when the output is empty. Both
// are properties of the row alone, and neither depends on where the manifest or OUTDIR sit on this machine, so
// every machine of a sharded run agrees.
std::string shard_key(const ManifestRow& row);

// 1-based shard of `key` among `count`: the first 8 bytes of SHA-256(key) as a big-endian unsigned 64-bit number,
// modulo count, plus 1. SHA-256 so that anyone can recompute it (e.g. in Python:
// int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % count + 1).
int shard_of(std::string_view key, int count);

// Whether `row` belongs to `shard`: shard_of(shard_key(row), shard.count) == shard.index. Independent of row order
// and of the other rows, so the N shards of a manifest hold every row exactly once.
bool in_shard(const ManifestRow& row, Shard shard);

// The rows as jobs: each output confined to `out_dir` (confined_output), named after the input's file name with
// the extension of the row's delivery format (`formats[i]` for rows[i]) when the row names none; the row's album
// becomes the job's album key. Refused,
// as problems (the other rows go on): an output that leaves OUTDIR, one that would replace an input of the
// manifest, one that another row already claims. `rows[k]` is the row of `plan.jobs[k]`.
struct ManifestPlan {
  JobPlan plan;
  std::vector<const ManifestRow*> rows;
};
ManifestPlan plan_manifest(const std::vector<ManifestRow>& rows, const std::filesystem::path& out_dir,
                           const std::vector<OutputFormat>& formats);

// ---- exposed for tests ---------------------------------------------------------------------------------------

struct CsvRecord {
  std::vector<std::string> cells;
  int line = 0;  // 1-based line the record starts on
};

// RFC 4180: fields separated by ',', records by CRLF, LF or a lone CR; a field in double quotes may hold commas,
// line breaks and doubled quotes (""). A UTF-8 byte-order mark at the start is skipped; blank lines are skipped.
// Throws ManifestError ("<source>:<line>: ...") for an unterminated quote, a quote inside an unquoted field or
// text after a closing quote.
std::vector<CsvRecord> parse_csv(std::string_view text, const std::string& source);

}  // namespace lathe::host
