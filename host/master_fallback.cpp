#include "host/master_fallback.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

#include "host/errors.hpp"

namespace lathe::host {
namespace {

using Clock = std::chrono::steady_clock;

// The first GPU error of a run, shared by the guard of the primary engine and those of its companions.
class Fault {
 public:
  bool happened() const { return happened_.load(std::memory_order_acquire); }
  // Later errors are kept out: they are echoes of the first (a CUDA context that failed stays failed).
  void record(const GpuError& e, std::string op) {
    std::lock_guard lock(mutex_);
    if (error_) return;
    error_.emplace(e);
    op_ = std::move(op);
    happened_.store(true, std::memory_order_release);
  }
  [[noreturn]] void rethrow() const {
    std::lock_guard lock(mutex_);
    throw *error_;
  }
  GpuError error() const {
    std::lock_guard lock(mutex_);
    return *error_;
  }
  std::string op() const {
    std::lock_guard lock(mutex_);
    return op_;
  }

 private:
  mutable std::mutex mutex_;
  std::optional<GpuError> error_;
  std::string op_;  // the engine operation that failed; empty when the error came from elsewhere
  std::atomic<bool> happened_{false};
};

// The primary engine as master_tracks sees it. After the first GpuError every call fails with it again, so the
// run stops at its next engine call instead of going on with a device in an unknown state; the delivery pass
// turns the errors it catches into failed tracks, which the caller recognises by that message.
class GuardedEngine final : public Engine {
 public:
  GuardedEngine(Engine& inner, std::shared_ptr<Fault> fault) : inner_(inner), fault_(std::move(fault)) {}
  GuardedEngine(std::unique_ptr<Engine> owned, std::shared_ptr<Fault> fault)
      : owned_(std::move(owned)), inner_(*owned_), fault_(std::move(fault)) {}

  std::string kind() const override { return inner_.kind(); }
  std::string description() const override { return inner_.description(); }
  std::unique_ptr<Engine> make_companion() const override {
    return guard("make_companion", [&] { return std::make_unique<GuardedEngine>(inner_.make_companion(), fault_); });
  }
  void load(BlockBatch& batch) override { guard("load", [&] { inner_.load(batch); }); }
  void store(BlockBatch& batch) override { guard("store", [&] { inner_.store(batch); }); }
  void synchronize() override { guard("synchronize", [&] { inner_.synchronize(); }); }
  void apply_gain(std::span<const float> gain_per_slot) override {
    guard("apply_gain", [&] { inner_.apply_gain(gain_per_slot); });
  }
  void quantise(const kernels::QuantiseParams& params) override { guard("quantise", [&] { inner_.quantise(params); }); }
  void convolve(std::span<const ConvolveJob> per_block) override {
    guard("convolve", [&] { inner_.convolve(per_block); });
  }
  void mid_side(std::span<const BlockPair> pairs, bool encode) override {
    guard("mid_side", [&] { inner_.mid_side(pairs, encode); });
  }
  void scale_blocks(std::span<const float> scale, std::span<const float> offset,
                    std::span<const std::int64_t> offset_end) override {
    guard("scale_blocks", [&] { inner_.scale_blocks(scale, offset, offset_end); });
  }
  void fade_blocks(std::span<const std::int64_t> fade_start, std::span<const std::int64_t> fade_end) override {
    guard("fade_blocks", [&] { inner_.fade_blocks(fade_start, fade_end); });
  }
  void swap_blocks(std::span<const BlockPair> pairs) override { guard("swap_blocks", [&] { inner_.swap_blocks(pairs); }); }
  void dynamics(std::span<const DynamicsJob> jobs) override { guard("dynamics", [&] { inner_.dynamics(jobs); }); }
  void saturate(std::span<const SaturateJob> jobs) override { guard("saturate", [&] { inner_.saturate(jobs); }); }
  void copy_buffer(int from, int to) override { guard("copy_buffer", [&] { inner_.copy_buffer(from, to); }); }
  void add_buffer(int from, int to) override { guard("add_buffer", [&] { inner_.add_buffer(from, to); }); }
  void use_buffer(int k) override { guard("use_buffer", [&] { inner_.use_buffer(k); }); }
  void meter(std::span<const meter::LoudnessJob> loudness, std::span<const meter::TruePeakJob> peaks) override {
    guard("meter", [&] { inner_.meter(loudness, peaks); });
  }
  void limit(std::span<const LimitJob> jobs) override { guard("limit", [&] { inner_.limit(jobs); }); }
  void resample(std::span<const ResampleJob> jobs) override { guard("resample", [&] { inner_.resample(jobs); }); }

 private:
  template <class F>
  auto guard(const char* op, F&& f) const -> decltype(f()) {
    if (fault_->happened()) fault_->rethrow();
    try {
      return f();
    } catch (const GpuError& e) {
      fault_->record(e, op);
      throw;
    }
  }

  std::unique_ptr<Engine> owned_;  // a companion; null for the primary engine, which the caller owns
  Engine& inner_;
  std::shared_ptr<Fault> fault_;
};

// A caller's track as the runs see it: it learns whether the output was committed, and lets the fallback run
// replace an output that the primary run committed (this run's own file, whatever options.overwrite says).
// Album files made through it are counted per track (the album's first track makes its album file), so that
// those a failed run could not report, and that are not redone, are at least mentioned.
class RunTrack final : public ForwardingTrack {
 public:
  explicit RunTrack(TrackIo& target)
      : ForwardingTrack(target), album_files_(std::make_shared<std::atomic<int>>(0)) {}
  RunTrack(std::unique_ptr<TrackIo> sibling, std::shared_ptr<std::atomic<int>> album_files)
      : ForwardingTrack(*sibling), owned_(std::move(sibling)), album_files_(std::move(album_files)),
        is_album_file_(true) {}

  bool output_exists() const override { return !replace_own_ && target_.output_exists(); }
  void open_output(const WriterSpec& spec, bool overwrite) override {
    target_.open_output(spec, overwrite || replace_own_);
  }
  void commit() override {
    target_.commit();
    committed_.store(true, std::memory_order_release);
    if (is_album_file_) album_files_->fetch_add(1);
  }
  std::unique_ptr<TrackIo> sibling_output(const std::string& file_name) const override {
    std::unique_ptr<TrackIo> s = target_.sibling_output(file_name);
    return s ? std::make_unique<RunTrack>(std::move(s), album_files_) : nullptr;
  }

  bool committed() const { return committed_.load(std::memory_order_acquire); }
  int album_files_committed() const { return album_files_->load(); }
  void allow_replacing_own_output() { replace_own_ = true; }

 private:
  std::unique_ptr<TrackIo> owned_;  // an album file; null for a caller's track
  std::shared_ptr<std::atomic<int>> album_files_;
  bool is_album_file_ = false;
  bool replace_own_ = false;
  std::atomic<bool> committed_{false};
};

std::string count_text(std::size_t n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

}  // namespace

FallbackResult master_with_fallback(std::vector<std::unique_ptr<TrackIo>>& tracks, const Profile& profile,
                                    Engine& primary, const std::function<std::unique_ptr<Engine>()>& make_fallback,
                                    const MasterOptions& options,
                                    const std::function<void(const TrackReport&)>& on_track_done,
                                    const std::function<void(const std::string&)>& warn) {
  Engine* const one[] = {&primary};
  return master_with_fallback(tracks, profile, std::span<Engine* const>(one), make_fallback, options, on_track_done,
                              warn);
}

FallbackResult master_with_fallback(std::vector<std::unique_ptr<TrackIo>>& tracks, const Profile& profile,
                                    std::span<Engine* const> primaries,
                                    const std::function<std::unique_ptr<Engine>()>& make_fallback,
                                    const MasterOptions& options,
                                    const std::function<void(const TrackReport&)>& on_track_done,
                                    const std::function<void(const std::string&)>& warn) {
  const auto t_start = Clock::now();
  const std::size_t n = tracks.size();
  // One fault for all the primary engines: after a GPU error on any of them, the others stop at their next call
  // too, and everything unfinished goes to the fallback (one device in an unknown state is reason enough).
  auto fault = std::make_shared<Fault>();
  std::vector<std::unique_ptr<GuardedEngine>> guarded_engines;
  std::vector<Engine*> guarded;
  for (Engine* e : primaries) {
    guarded_engines.push_back(std::make_unique<GuardedEngine>(*e, fault));
    guarded.push_back(guarded_engines.back().get());
  }
  // Named as master_tracks over several engines names them.
  std::string primary_description = primaries.empty() ? std::string() : primaries[0]->description();
  for (std::size_t e = 1; e < primaries.size(); ++e) primary_description += "; " + primaries[e]->description();
  if (primaries.size() > 1) primary_description = std::to_string(primaries.size()) + " engines: " + primary_description;

  // The runs get RunTracks over the caller's tracks, so that `tracks` stays as it was given.
  std::vector<std::unique_ptr<TrackIo>> run_tracks;
  std::vector<RunTrack*> run(n);
  std::vector<std::pair<std::string, std::string>> names(n);  // input, output
  // master_tracks reports a track by reference to its own result, which is lost when a GpuError escapes: the
  // reports are matched to tracks by their names instead.
  std::unordered_map<std::string, std::vector<std::size_t>> unreported;
  auto name_key = [](const std::string& input, const std::string& output) { return input + '\0' + output; };
  for (std::size_t i = 0; i < n; ++i) {
    auto t = std::make_unique<RunTrack>(*tracks[i]);
    run[i] = t.get();
    names[i] = {tracks[i]->name(), tracks[i]->output_name()};
    unreported[name_key(names[i].first, names[i].second)].push_back(i);
    run_tracks.push_back(std::move(t));
  }
  // Tracks with the same names are told apart by whether their output was committed (a written track is
  // committed before it is reported, a failed one never is), then by position (tracks are started in order).
  auto take_index = [&](const TrackReport& r) -> std::optional<std::size_t> {
    const auto it = unreported.find(name_key(r.input, r.output));
    if (it == unreported.end() || it->second.empty()) return std::nullopt;
    auto& candidates = it->second;
    auto pick = candidates.begin();
    for (auto c = candidates.begin(); c != candidates.end(); ++c) {
      if (run[*c]->committed() == r.ok) {
        pick = c;
        break;
      }
    }
    const std::size_t i = *pick;
    candidates.erase(pick);
    return i;
  };

  std::vector<std::optional<TrackReport>> kept(n);  // finished on the primary engine, passed on
  std::vector<std::optional<TrackReport>> held(n);  // came after the GPU error, not passed on (yet)
  std::string fault_what;                           // the error's text, once there is one
  auto gpu_caused = [&](const TrackReport& r) {
    if (fault_what.empty()) fault_what = fault->error().what();
    return !fault_what.empty() && r.error.find(fault_what) != std::string::npos;
  };
  auto on_primary = [&](const TrackReport& r) {
    const std::optional<std::size_t> i = take_index(r);
    if (!i) {  // not one of ours: cannot happen, but a report is never dropped
      if (on_track_done) on_track_done(r);
      return;
    }
    // Album mode reports an album's tracks together after its album file, which the error may have spoiled: a
    // written track that comes after the error is held back with the failures the error caused.
    if (fault->happened() && (r.ok || gpu_caused(r))) {
      held[*i] = r;
      return;
    }
    kept[*i] = r;
    if (on_track_done) on_track_done(r);
  };

  std::optional<MasterResult> first;
  std::string aftermath;  // what else ended the primary run once the GPU had failed
  try {
    first = master_tracks(run_tracks, profile, std::span<Engine* const>(guarded), options, on_primary);
  } catch (const GpuError& e) {
    fault->record(e, "");  // a no-op when it came out of the engine, which recorded it first
  } catch (const std::exception& e) {
    // After the GPU error the run works on with tracks the error cut short; what it throws then is put down to
    // the error. A fault of lathe's own would come back from the fallback run, and propagate from there.
    if (!fault->happened()) throw;
    aftermath = e.what();
  }
  if (!fault->happened()) {
    FallbackResult out;
    out.result = std::move(*first);
    return out;
  }

  const GpuError error = fault->error();
  const std::string op = fault->op();
  const std::string what = std::string("GPU error") + (op.empty() ? "" : " in " + op) + ": " + error.what();
  FallbackResult out;
  out.gpu_error = error.message();
  MasterResult& m = out.result;
  m.tracks.resize(n);
  for (std::size_t i = 0; i < n; ++i)
    if (kept[i]) m.tracks[i] = *kept[i];
  if (first) m.stage_seconds = first->stage_seconds;

  std::unique_ptr<Engine> fallback;
  std::vector<std::size_t> redo;  // with a fallback: every track not kept; without: those not written either
  for (std::size_t i = 0; i < n; ++i)
    if (!kept[i] && (make_fallback || !(held[i] && held[i]->ok))) redo.push_back(i);
  out.unfinished = redo.size();
  // A partial output never stays (the tracks in flight when the engine failed still hold theirs).
  for (const std::size_t i : redo)
    if (!run[i]->committed()) tracks[i]->abandon();
  if (make_fallback && !redo.empty()) fallback = make_fallback();

  std::string notes;
  if (!aftermath.empty()) notes += "; the GPU run then stopped on: " + aftermath;
  // A run that ended in the exception lost the reports of the album files it had written; those of albums that
  // are redone are written and reported again.
  int lost = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (std::find(redo.begin(), redo.end(), i) == redo.end()) lost += run[i]->album_files_committed();
  if (!first && lost > 0)
    notes += "; " + count_text(static_cast<std::size_t>(lost), "album file") + " written before the error " +
             (lost == 1 ? "is" : "are") + " kept but missing from this run's report";

  if (fallback) {
    // Albums are reported whole (see on_primary), so no album should be split between the engines; if one is,
    // its redone tracks get an album gain of their own, which the warning says.
    if (profile.whole_track_delivery() && (options.album || profile.targets.album)) {
      auto folder = [&](std::size_t i) { return tracks[i]->album_key(); };
      std::set<std::string> redone, split;
      for (const std::size_t i : redo) redone.insert(folder(i));
      for (std::size_t i = 0; i < n; ++i)
        if (kept[i] && kept[i]->ok && redone.contains(folder(i))) split.insert(folder(i));
      if (!split.empty())
        notes += "; " + count_text(split.size(), "album") +
                 " had tracks finished before the error, which are kept: the album gain of the others is computed "
                 "without them";
    }
    if (warn)
      warn(what + "; redoing the " + count_text(redo.size(), "unfinished track") + " on " + fallback->description() +
           notes);
    std::vector<std::unique_ptr<TrackIo>> again;
    for (const std::size_t i : redo) {
      if (run[i]->committed()) run[i]->allow_replacing_own_output();
      again.push_back(std::move(run_tracks[i]));
    }
    MasterResult second = master_tracks(again, profile, *fallback, options, on_track_done);
    for (std::size_t k = 0; k < redo.size(); ++k) m.tracks[redo[k]] = std::move(second.tracks[k]);
    // The albums the error spoiled were made again by the fallback.
    if (first)
      for (const AlbumReport& al : first->albums)
        if (al.error.find(error.what()) == std::string::npos) m.albums.push_back(al);
    m.albums.insert(m.albums.end(), second.albums.begin(), second.albums.end());
    for (const auto& [stage, s] : second.stage_seconds) m.stage_seconds[stage] += s;
    m.engine = primary_description + " then " + second.engine + " after a GPU error";
    out.fell_back = true;
  } else {
    out.stopped = !make_fallback || !redo.empty();
    if (first) m.albums = first->albums;
    const std::string hint = "rerun with --engine cpu or auto; the tracks finished before the error are kept";
    if (warn && !redo.empty())
      warn(what + "; stopping: " + count_text(redo.size(), "track") + " not mastered (" + hint + ")" + notes);
    else if (warn)
      warn(what + "; every track had finished" + notes);
    std::vector<bool> failing(n, false);
    for (const std::size_t i : redo) failing[i] = !(held[i] && held[i]->ok);
    // What was held back is passed on now, in input order: written tracks as they are, the others as failed.
    for (std::size_t i = 0; i < n; ++i) {
      if (kept[i] || (!failing[i] && !held[i])) continue;
      TrackReport r = held[i] ? *held[i] : TrackReport{};
      if (failing[i]) {
        r.input = names[i].first;
        r.output = names[i].second;
        r.ok = false;
        r.error = what + " (" + hint + ")";
      }
      m.tracks[i] = r;
      if (on_track_done) on_track_done(m.tracks[i]);
    }
    m.engine = primary_description + " (stopped by a GPU error)";
  }
  for (const TrackReport& r : m.tracks)
    if (r.ok) m.audio_seconds += r.duration_s;
  m.started_at = t_start;
  m.wall_seconds = std::chrono::duration<double>(Clock::now() - t_start).count();
  return out;
}

}  // namespace lathe::host
