// lathe's exceptions. Host code throws these with as much context as it has; callers add context while
// unwinding. Library code never prints or exits: the CLI turns an Error into one line and an exit code.
#pragma once

#include <stdexcept>
#include <string>

namespace lathe::host {

class Error : public std::runtime_error {
 public:
  // what: the problem; hint: what the user can do about it (may be empty).
  Error(const std::string& what, std::string hint = {}) : std::runtime_error(what), hint_(std::move(hint)) {}
  const std::string& hint() const noexcept { return hint_; }
  // "what (hint)", the form printed to users.
  std::string message() const { return hint_.empty() ? std::string(what()) : std::string(what()) + " (" + hint_ + ")"; }

 private:
  std::string hint_;
};

// A profile (TOML) that cannot be used: file, line, key, value and what is allowed are in the message.
class ProfileError : public Error { using Error::Error; };
// An input that cannot be read or is refused (corrupt, unsupported, non-finite samples...).
class InputError : public Error { using Error::Error; };
// An output that cannot be written (exists, unwritable, disk full...).
class OutputError : public Error { using Error::Error; };
// A GPU or CUDA failure, or a GPU that is not available.
class GpuError : public Error { using Error::Error; };
// A command-line request that cannot be honoured (bad option combination).
class UsageError : public Error { using Error::Error; };

}  // namespace lathe::host
