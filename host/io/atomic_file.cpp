#include "host/io/atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

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

int remove_stale_temporaries(const std::filesystem::path& final_path) {
  namespace fs = std::filesystem;
  const std::string prefix = "." + final_path.filename().string() + ".lathe-tmp-";
  fs::path folder = final_path.parent_path();
  if (folder.empty()) folder = ".";
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return 0;
  int removed = 0;
  for (auto it = fs::directory_iterator(folder, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    // "<pid>-<n>": the writer's process id.
    const std::string rest = name.substr(prefix.size());
    const std::size_t dash = rest.find('-');
    if (dash == std::string::npos || dash == 0) continue;
    pid_t pid = 0;
    bool digits = true;
    for (std::size_t i = 0; i < dash; ++i) {
      if (rest[i] < '0' || rest[i] > '9' || pid > 100000000) {
        digits = false;
        break;
      }
      pid = pid * 10 + (rest[i] - '0');
    }
    if (!digits || pid <= 0) continue;
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to judge)
    std::error_code rm;
    if (fs::remove(it->path(), rm)) ++removed;
  }
  return removed;
}

}  // namespace lathe::host
