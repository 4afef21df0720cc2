#include "host/io/atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "host/errors.hpp"

namespace lathe::host {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

std::string hint_for(int err) {
  switch (err) {
    case ENOSPC:
    case EDQUOT:
    case EFBIG: return "free space on the output disk and run again";
    case EACCES:
    case EPERM:
    case EROFS: return "choose an output folder you can write to";
    case ENOENT: return "the output folder does not exist";
    default: return {};
  }
}

void fsync_folder(const std::filesystem::path& folder) {
  const int dfd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);  // best effort: some filesystems refuse fsync on folders
    ::close(dfd);
  }
}

std::atomic<unsigned> g_temp_counter{0};

}  // namespace

AtomicFile::AtomicFile(std::filesystem::path final_path, bool overwrite)
    : final_path_(std::move(final_path)), overwrite_(overwrite) {
  std::error_code ec;
  if (!overwrite_ && std::filesystem::exists(final_path_, ec))
    throw OutputError("output exists: " + final_path_.string(), "pass --overwrite to replace it");
  const auto folder = final_path_.parent_path().empty() ? std::filesystem::path(".") : final_path_.parent_path();
  temp_path_ = folder / ("." + final_path_.filename().string() + ".lathe-tmp-" + std::to_string(::getpid()) + "-" +
                         std::to_string(g_temp_counter.fetch_add(1)));
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    const int err = errno;
    throw OutputError("cannot create a file in " + folder.string() + ": " + errno_text(err), hint_for(err));
  }
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_path_.c_str());
}

void AtomicFile::commit() {
  if (::fsync(fd_) != 0) {
    const int err = errno;
    throw OutputError("cannot flush " + final_path_.string() + ": " + errno_text(err), hint_for(err));
  }
  const int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) {
    const int err = errno;
    throw OutputError("cannot close " + final_path_.string() + ": " + errno_text(err), hint_for(err));
  }
  if (overwrite_) {
    if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
      const int err = errno;
      throw OutputError("cannot rename into " + final_path_.string() + ": " + errno_text(err), hint_for(err));
    }
  } else {
    // link() fails with EEXIST instead of replacing a file that appeared meanwhile (another process).
    if (::link(temp_path_.c_str(), final_path_.c_str()) != 0) {
      const int err = errno;
      if (err == EEXIST)
        throw OutputError("output exists: " + final_path_.string(), "pass --overwrite to replace it");
      if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0)  // filesystems without hard links
        throw OutputError("cannot rename into " + final_path_.string() + ": " + errno_text(errno), hint_for(errno));
    } else {
      ::unlink(temp_path_.c_str());
    }
  }
  committed_ = true;
  fsync_folder(final_path_.parent_path().empty() ? std::filesystem::path(".") : final_path_.parent_path());
}

void write_text_atomically(const std::filesystem::path& path, const std::string& text) {
  AtomicFile file(path, /*overwrite=*/true);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(file.fd(), text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      throw OutputError("cannot write " + path.string() + ": " + errno_text(err), hint_for(err));
    }
    done += static_cast<std::size_t>(n);
  }
  file.commit();
}

namespace {

// The writer's process id in the rest of a temporary's name after ".lathe-tmp-" ("<pid>-<n>"); 0 when it is not
// one.
pid_t temporary_pid(const std::string& rest) {
  const std::size_t dash = rest.find('-');
  if (dash == std::string::npos || dash == 0) return 0;
  pid_t pid = 0;
  for (std::size_t i = 0; i < dash; ++i) {
    if (rest[i] < '0' || rest[i] > '9' || pid > 100000000) return 0;
    pid = pid * 10 + (rest[i] - '0');
  }
  return pid;
}

bool process_gone(pid_t pid) { return pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH; }

}  // namespace

int remove_stale_temporaries(const std::filesystem::path& final_path) {
  return remove_stale_temporaries(std::vector<std::filesystem::path>{final_path});
}

int remove_stale_temporaries(const std::vector<std::filesystem::path>& final_paths) {
  namespace fs = std::filesystem;
  // The final names wanted in each folder.
  std::map<fs::path, std::set<std::string>> wanted;
  for (const fs::path& p : final_paths) {
    fs::path folder = p.parent_path();
    if (folder.empty()) folder = ".";
    wanted[folder].insert(p.filename().string());
  }
  static const std::string kMark = ".lathe-tmp-";
  int removed = 0;
  for (const auto& [folder, names] : wanted) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) continue;
    for (auto it = fs::directory_iterator(folder, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      // ".<final name>.lathe-tmp-<pid>-<n>" (the final name may itself hold ".lathe-tmp-": take the last one).
      const std::string name = it->path().filename().string();
      const std::size_t mark = name.rfind(kMark);
      if (name.empty() || name[0] != '.' || mark == std::string::npos || mark < 2) continue;
      if (!names.count(name.substr(1, mark - 1))) continue;
      const pid_t pid = temporary_pid(name.substr(mark + kMark.size()));
      if (pid <= 0 || !process_gone(pid)) continue;  // alive (or not ours to judge)
      std::error_code rm;
      if (fs::remove(it->path(), rm)) ++removed;
    }
  }
  return removed;
}

}  // namespace lathe::host
