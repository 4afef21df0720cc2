// A stage's designs (filters, coefficients) cached per sample rate: made once, the first time a track of that
// rate starts, and shared by every track of that rate. Thread-safe (Stage::start_track runs on any thread). A
// design that throws leaves no entry, so the next track of that rate fails the same way.
#pragma once

#include <map>
#include <memory>
#include <mutex>

namespace lathe::host {

template <class Design>
class PerRate {
 public:
  // The design for `rate_hz`, made by `make()` (returning a shared_ptr to Design) when there is none yet.
  template <class Make>
  std::shared_ptr<const Design> get(int rate_hz, Make&& make) const {
    std::lock_guard lock(mutex_);
    const auto it = designs_.find(rate_hz);
    if (it != designs_.end()) return it->second;
    std::shared_ptr<const Design> d = make();
    designs_.emplace(rate_hz, d);
    return d;
  }

 private:
  mutable std::mutex mutex_;
  mutable std::map<int, std::shared_ptr<const Design>> designs_;
};

}  // namespace lathe::host
