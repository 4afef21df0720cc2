// Outputs appear whole or not at all: written to a temporary file in the destination folder, flushed and
// fsynced, then renamed over the final name (and the folder fsynced). Until commit() the final name is untouched.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace lathe::host {

class AtomicFile {
 public:
  // Creates the temporary file beside `final_path` (".<name>.lathe-tmp-<pid>-<n>"). Throws OutputError when
  // the folder is missing or not writable, or when `final_path` exists and `overwrite` is false.
  AtomicFile(std::filesystem::path final_path, bool overwrite);
  // Removes the temporary file unless commit() succeeded.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  int fd() const { return fd_; }
  const std::filesystem::path& temp_path() const { return temp_path_; }
  const std::filesystem::path& final_path() const { return final_path_; }

  // fsync, close, rename to the final name, fsync the folder. Throws OutputError; on failure nothing appears at
  // the final name and the temporary file is removed. Without `overwrite`, an output that appeared since the
  // constructor ran is not replaced.
  void commit();

 private:
  std::filesystem::path final_path_;
  std::filesystem::path temp_path_;
  bool overwrite_;
  int fd_ = -1;
  bool committed_ = false;
};

// Removes the temporary files that runs of lathe killed before their commit left beside `final_path`
// (".<name>.lathe-tmp-<pid>-<n>" whose process no longer runs on this machine); returns how many. A temporary
// file of a live process is never touched. Never throws.
int remove_stale_temporaries(const std::filesystem::path& final_path);
// The same for many final paths: each folder is read once, whatever the number of paths in it (a run of
// 100,000 tracks into one folder reads it once, not 100,000 times).
int remove_stale_temporaries(const std::vector<std::filesystem::path>& final_paths);

// Writes `text` to `path` atomically (reports, manifests).
void write_text_atomically(const std::filesystem::path& path, const std::string& text);

}  // namespace lathe::host
