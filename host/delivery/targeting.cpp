// The gain search of loudness targeting (see targeting.hpp).
//
// L(g), the limited output's integrated loudness at pre-limiter gain g (dB), rises with g, with slope 1 while
// the limiter is idle and below 1 once it works; R(g), the largest gain reduction, rises with g too. The search
// keeps a bracket: `lo`, the largest gain known to fall short of the target within the reduction cap, and `hi`,
// the smallest gain known to overshoot the target or the cap. Each step is a secant step from the last two
// points (a Newton step of slope 1 at first), kept strictly inside the bracket (bisection otherwise). It stops
// when the loudness is within the aim, or when the bracket is narrower than 0.005 dB (the cap or the gain limit
// decides: the track is reported as not reaching its target, with the loudness it got).
#include "host/delivery/targeting.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "host/meter/meter.hpp"
#include "kernels/gain.hpp"
#include "host/util/text.hpp"

namespace lathe::host {
namespace {

// out = premaster * gain (float gain rounded once from double; the kernel's multiply), then the limiter through
// the engine; the statistics come from its gain curve.
dsp::LimiterResult render(const PlanarAudio& premaster, int rate_hz, const std::optional<dsp::LimiterParams>& lim,
                          double gain_db, double ceiling_offset_db, Engine& engine, PlanarAudio& out) {
  const float g = static_cast<float>(std::pow(10.0, gain_db / 20.0));
  out.resize(premaster.size());
  tbb::parallel_for(std::size_t{0}, premaster.size(), [&](std::size_t c) {
    out[c] = premaster[c];
    if (g != 1.0f) kernels::gain_apply(out[c].data(), static_cast<std::int64_t>(out[c].size()), g);
  });
  const auto frames = static_cast<std::int64_t>(out.empty() ? 0 : out[0].size());
  if (!lim || frames == 0) return {};
  dsp::LimiterParams p = *lim;
  p.ceiling_dbtp -= ceiling_offset_db;
  const dsp::LimiterDesign design = dsp::limiter_design(p, rate_hz);
  std::vector<float*> ptrs;
  for (auto& ch : out) ptrs.push_back(ch.data());
  std::vector<float> gain(static_cast<std::size_t>(frames));
  const LimitJob job{&design, ptrs.data(), static_cast<int>(ptrs.size()), frames, gain.data()};
  engine.limit(std::span<const LimitJob>(&job, 1));
  return dsp::gain_reduction_stats(gain, rate_hz);
}

}  // namespace

std::optional<double> integrated_loudness(Engine& engine, const PlanarAudio& audio, int rate_hz) {
  if (audio.empty() || audio[0].empty()) return std::nullopt;
  meter::TrackMeter m(rate_hz, static_cast<int>(audio.size()), /*loudness_only=*/true);
  std::vector<const float*> ptrs;
  for (const auto& ch : audio) ptrs.push_back(ch.data());
  const meter::SegmentInput in{&m, ptrs, static_cast<std::int64_t>(audio[0].size())};
  meter::TrackMeter::add_many(engine, std::span<const meter::SegmentInput>(&in, 1));
  return m.finish().integrated_lufs;
}

TargetOutcome search_gain(const TargetPlan& plan, const std::function<std::optional<double>()>& premaster_loudness,
                          const GainEvaluator& evaluate, const std::function<void()>& keep_last,
                          std::optional<double> fixed_gain_db, std::optional<double> first_guess_db) {
  TargetOutcome o;
  auto pass = [&](double g) {
    ++o.passes;
    return evaluate(g);
  };

  // No target, or an album's common gain: one pass.
  if (!plan.integrated_lufs || fixed_gain_db) {
    double g = fixed_gain_db.value_or(0.0);
    if (g > plan.max_gain_db) {
      o.target_reached = false;
      o.not_reached = "gain capped at max_gain_db = " + fixed(plan.max_gain_db, 1) + " dB (quiet material)";
      g = plan.max_gain_db;
    }
    o.gain_db = g;
    std::tie(o.integrated_lufs, o.limiter) = pass(g);
    keep_last();
    if (plan.integrated_lufs && o.target_reached && o.limiter.max_gain_reduction_db > plan.max_gain_reduction_db) {
      o.target_reached = false;
      o.not_reached = "the album gain needs " + fixed(o.limiter.max_gain_reduction_db, 1) +
                      " dB of limiting on this track (more than max_gain_reduction_db = " +
                      fixed(plan.max_gain_reduction_db, 1) + " dB)";
    }
    return o;
  }

  const double target = *plan.integrated_lufs;
  const std::optional<double> l0 = premaster_loudness();
  if (!l0) {
    // Silence, or shorter than one 400 ms block: nothing to aim with. Limit at unity gain and say why.
    std::tie(o.integrated_lufs, o.limiter) = pass(0.0);
    keep_last();
    o.target_reached = false;
    o.not_reached = "below gate (silence, or shorter than 400 ms): no loudness to target; gain 0 dB";
    return o;
  }
  const double aim = std::min(0.02, plan.tolerance_lu / 5.0);
  const double cap = plan.max_gain_reduction_db;
  double lo = -std::numeric_limits<double>::infinity();   // falls short, within the cap
  double hi = plan.max_gain_db + 1e-9;                    // overshoots (or beyond the gain cap)
  bool hi_is_cap = false;                                 // hi was set by the reduction cap
  double g = std::min(first_guess_db.value_or(target - *l0), plan.max_gain_db);
  // The best admissible pass so far (within the reduction cap); keep_last() keeps its output.
  double best_err = std::numeric_limits<double>::infinity();
  bool have_best = false;
  double prev_g = 0, prev_l = 0;
  bool have_prev = false;
  for (int iter = 0; iter < 24; ++iter) {
    auto [l, r] = pass(g);
    if (!l) break;  // cannot happen for g >= the first guess; stop on the best so far
    const bool over_cap = r.max_gain_reduction_db > cap;
    const double err = *l - target;
    if (!over_cap && std::abs(err) < best_err) {
      best_err = std::abs(err);
      have_best = true;
      o.gain_db = g;
      o.integrated_lufs = l;
      o.limiter = r;
      keep_last();
    }
    if (!over_cap && std::abs(err) <= aim) break;
    if (over_cap) {
      if (g <= hi) {
        hi = g;
        hi_is_cap = true;
      }
    } else if (err > 0) {
      if (g < hi) {
        hi = g;
        hi_is_cap = false;
      }
    } else {
      lo = std::max(lo, g);
    }
    if (std::isfinite(lo) && hi - lo < 0.005) break;
    if (!std::isfinite(lo) && g <= -120.0) break;
    // Next gain: secant through the last two admissible points, else a unit-slope step.
    double slope = 1.0;
    if (have_prev && !over_cap && std::abs(g - prev_g) > 1e-6) slope = std::clamp((*l - prev_l) / (g - prev_g), 0.05, 1.5);
    double next = over_cap ? g - (r.max_gain_reduction_db - cap) - 0.01 : g - err / slope;
    if (!(next > lo && next < hi)) next = std::isfinite(lo) ? 0.5 * (lo + hi) : std::min(hi, g) - 1.0;
    if (!over_cap) {
      prev_g = g;
      prev_l = *l;
      have_prev = true;
    }
    g = next;
  }
  if (!have_best) {
    // Every pass went over the reduction cap (cannot happen with a cap >= 0 at very low gain): use the last.
    std::tie(o.integrated_lufs, o.limiter) = pass(g);
    keep_last();
    o.gain_db = g;
  }
  const double achieved = o.integrated_lufs.value_or(-std::numeric_limits<double>::infinity());
  if (std::abs(achieved - target) > plan.tolerance_lu) {
    o.target_reached = false;
    if (o.gain_db >= plan.max_gain_db - 1e-6 && achieved < target)
      o.not_reached = "gain capped at max_gain_db = " + fixed(plan.max_gain_db, 1) + " dB (quiet material); reached " +
                      fixed(achieved, 2) + " LUFS";
    else if (hi_is_cap)
      o.not_reached = "reaching " + fixed(target, 1) + " LUFS needs more than max_gain_reduction_db = " +
                      fixed(cap, 1) + " dB of limiting; stopped at " + fixed(achieved, 2) + " LUFS";
    else
      o.not_reached = "the search ended at " + fixed(achieved, 2) + " LUFS";
  }
  return o;
}

TargetOutcome target_track(const PlanarAudio& premaster, int rate_hz, const TargetPlan& plan, Engine& engine,
                           PlanarAudio& out, std::optional<double> fixed_gain_db, double ceiling_offset_db,
                           std::optional<double> first_guess_db) {
  PlanarAudio trial;
  return search_gain(
      plan, [&] { return integrated_loudness(engine, premaster, rate_hz); },
      [&](double g) {
        dsp::LimiterResult r = render(premaster, rate_hz, plan.limiter, g, ceiling_offset_db, engine, trial);
        return std::make_pair(integrated_loudness(engine, trial, rate_hz), r);
      },
      [&] { std::swap(out, trial); }, fixed_gain_db, first_guess_db);
}

}  // namespace lathe::host
