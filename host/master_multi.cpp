// master_tracks over several engines (several GPUs): see host/master.hpp.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "host/master.hpp"

namespace lathe::host {

MasterResult master_tracks(std::vector<std::unique_ptr<TrackIo>>& tracks, const Profile& profile,
                           std::span<Engine* const> engines, const MasterOptions& options,
                           const std::function<void(const TrackReport&)>& on_track_done) {
  if (engines.empty()) throw std::invalid_argument("master_tracks: no engine");
  if (engines.size() == 1) return master_tracks(tracks, profile, *engines[0], options, on_track_done);
  const auto t_start = std::chrono::steady_clock::now();

  // Units of work: batch-sized runs of consecutive tracks, or in album mode each album whole (its tracks share
  // one gain, so they must meet in one run), in the order of their first track.
  std::vector<std::vector<std::size_t>> units;
  const bool album = profile.whole_track_delivery() && (options.album || profile.targets.album);
  if (album) {
    std::map<std::string, std::size_t> unit_of;
    for (std::size_t i = 0; i < tracks.size(); ++i) {
      const std::string key = tracks[i]->album_key();
      const auto [it, fresh] = unit_of.emplace(key, units.size());
      if (fresh) units.emplace_back();
      units[it->second].push_back(i);
    }
  } else {
    const std::size_t width = static_cast<std::size_t>(std::max(1, options.batch_tracks));
    for (std::size_t i = 0; i < tracks.size(); i += width) {
      units.emplace_back();
      for (std::size_t k = i; k < std::min(tracks.size(), i + width); ++k) units.back().push_back(k);
    }
  }

  // Each engine's thread takes the next unit until none is left (or a run failed); reports come back to this
  // thread, which passes them on as they arrive.
  std::vector<MasterResult> unit_results(units.size());
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<TrackReport> reports;  // guarded by mutex
  std::size_t running = engines.size();
  std::exception_ptr error;
  std::vector<std::thread> threads;
  for (Engine* engine : engines) {
    threads.emplace_back([&, engine] {
      try {
        for (std::size_t u; !stop && (u = next.fetch_add(1)) < units.size();) {
          std::vector<std::unique_ptr<TrackIo>> sub;
          for (const std::size_t i : units[u]) sub.push_back(std::make_unique<ForwardingTrack>(*tracks[i]));
          unit_results[u] = master_tracks(sub, profile, *engine, options, [&](const TrackReport& r) {
            const std::lock_guard<std::mutex> lock(mutex);
            reports.push_back(r);
            changed.notify_one();
          });
        }
      } catch (...) {
        stop = true;
        const std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
      }
      const std::lock_guard<std::mutex> lock(mutex);
      --running;
      changed.notify_one();
    });
  }
  {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      changed.wait(lock, [&] { return !reports.empty() || running == 0; });
      while (!reports.empty()) {
        const TrackReport r = std::move(reports.front());
        reports.pop_front();
        lock.unlock();
        if (on_track_done) on_track_done(r);
        lock.lock();
      }
      if (running == 0) break;
    }
  }
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);

  MasterResult result;
  result.tracks.resize(tracks.size());
  for (std::size_t u = 0; u < units.size(); ++u) {
    MasterResult& part = unit_results[u];
    for (std::size_t k = 0; k < units[u].size(); ++k) result.tracks[units[u][k]] = std::move(part.tracks[k]);
    for (auto& al : part.albums) result.albums.push_back(std::move(al));
    for (const auto& [stage, s] : part.stage_seconds) result.stage_seconds[stage] += s;
    result.audio_seconds += part.audio_seconds;
  }
  result.engine = std::to_string(engines.size()) + " engines: " + engines[0]->description();
  for (std::size_t e = 1; e < engines.size(); ++e) result.engine += "; " + engines[e]->description();
  result.started_at = t_start;
  result.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return result;
}

}  // namespace lathe::host
