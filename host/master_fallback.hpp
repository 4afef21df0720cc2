// Mastering that survives a failing GPU (issue 8): master_tracks on the primary engine, and when a GpuError
// stops it, the tracks it had not finished are redone on a fallback engine (the CPU's: the same bits by design),
// or, without one, reported as failed while the finished tracks keep their outputs and reports.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "host/engine/engine.hpp"
#include "host/master.hpp"
#include "host/profile/profile.hpp"

namespace lathe::host {

struct FallbackResult {
  // Every track once, in the order of `tracks`; `engine` names both engines when the fallback ran. Stage times
  // and albums are those of both runs, the primary run's only when it returned rather than threw; with a
  // fallback, an album whose file the GPU error spoiled is reported as the fallback remade it.
  MasterResult result;
  std::string gpu_error;    // "what (hint)" of the GpuError that stopped the primary engine; empty when none did
  std::size_t unfinished = 0;  // tracks redone on the fallback engine, or reported as failed without one
  bool fell_back = false;   // those tracks were redone on the fallback engine
  bool stopped = false;     // a GPU error with no fallback: those tracks are reported as failed
};

// Masters `tracks` on `primary` like master_tracks, reporting each finished track through `on_track_done` exactly
// once. When a GpuError comes out of `primary` (or of the companions it makes), the primary engine is not used
// again: every later call to it fails with the same error, and what it reports from then on is held back.
// A track is finished when its report came before the error, or came later as a failure unrelated to the GPU;
// the others are unfinished: their partial outputs are abandoned and
//  - with `make_fallback`, `warn` says what failed (once) and the unfinished tracks are mastered in one more run
//    on the engine it makes. In album mode an album is delivered whole, so the tracks of an album reach their
//    reports together: an album the error interrupted is redone whole, and one that was reported before it is
//    kept. A track whose output the primary engine committed after the error is redone too (its report was held
//    back) and may replace that output, whatever options.overwrite says: it is this run's own file.
//  - without it (`--engine gpu`), the run stops: each unfinished track is reported as failed with the GPU error
//    and what to do, `warn` says so once, and the function returns normally (result.stopped).
// Other exceptions propagate unchanged, as from master_tracks, except one that ends the primary run after its GPU
// error (a consequence of the tracks the error cut short): it is named in the warning. A fallback run's
// exceptions propagate. `tracks` itself is left as it was given.
FallbackResult master_with_fallback(std::vector<std::unique_ptr<TrackIo>>& tracks, const Profile& profile,
                                    Engine& primary, const std::function<std::unique_ptr<Engine>()>& make_fallback,
                                    const MasterOptions& options,
                                    const std::function<void(const TrackReport&)>& on_track_done = {},
                                    const std::function<void(const std::string&)>& warn = {});

// The same over several primary engines (the GPUs of `--gpus`, see master_tracks over engines): a GPU error on any
// of them stops them all, and everything unfinished goes to the fallback (or is reported as failed).
FallbackResult master_with_fallback(std::vector<std::unique_ptr<TrackIo>>& tracks, const Profile& profile,
                                    std::span<Engine* const> primaries,
                                    const std::function<std::unique_ptr<Engine>()>& make_fallback,
                                    const MasterOptions& options,
                                    const std::function<void(const TrackReport&)>& on_track_done = {},
                                    const std::function<void(const std::string&)>& warn = {});

}  // namespace lathe::host
