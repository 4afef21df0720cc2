// Streaming true-peak limiter: the kernels/limiter.hpp phases over a sliding window of a long track. See
// limiter_stream.hpp for why every value equals the whole-track one.
#include "host/dsp/limiter_stream.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace lathe::host::dsp {

namespace kl = lathe::kernels::limiter;

namespace {


// Drops the first `k` values (the vector keeps its capacity, so a steady stream does not reallocate).
void drop_front(std::vector<float>& v, std::int64_t k) {
  if (k > 0) v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(std::min<std::int64_t>(k, std::ssize(v))));
}

}  // namespace

LimiterStream::LimiterStream(const LimiterDesign& d, int rate_hz, int channels, std::int64_t total_frames)
    : design_(d), rate_hz_(rate_hz), channels_(channels), total_(total_frames), stats_(rate_hz) {
  if (d.interp == nullptr) throw std::invalid_argument("limiter: empty design");
  if (channels < 0) throw std::invalid_argument("limiter: negative channel count " + std::to_string(channels));
  if (total_frames < 0) throw std::invalid_argument("limiter: negative frame count " + std::to_string(total_frames));
  half_ = d.interp->taps / 2;
  latency_ = half_ + d.shape.lookahead + d.shape.guard;
  held_ = total_frames == 0 ? 0 : -d.shape.lookahead;  // an empty track is complete (and has no extended track)
  x_.resize(static_cast<std::size_t>(channels));
  const int groups = channels == 0 ? 0 : (d.linked ? 1 : channels);
  groups_.resize(static_cast<std::size_t>(groups));
}

std::int64_t LimiterStream::push(std::span<const float* const> in, std::int64_t frames, std::span<float* const> out,
                                 float* gain) {
  if (frames < 0 || frames > total_ - pushed_)
    throw std::invalid_argument("limiter: " + std::to_string(frames) + " frames pushed, at most " +
                                std::to_string(total_ - pushed_) + " expected");
  if (std::ssize(in) != channels_ || std::ssize(out) != channels_)
    throw std::invalid_argument("limiter: " + std::to_string(in.size()) + " input and " +
                                std::to_string(out.size()) + " output channels for a stream of " +
                                std::to_string(channels_));
  if (frames == 0) return 0;
  for (int c = 0; c < channels_; ++c) {
    if (in[static_cast<std::size_t>(c)] == nullptr || out[static_cast<std::size_t>(c)] == nullptr)
      throw std::invalid_argument("limiter: null channel pointer");
    const float* src = in[static_cast<std::size_t>(c)];
    auto& w = x_[static_cast<std::size_t>(c)];
    w.insert(w.end(), src, src + frames);
  }
  pushed_ += frames;
  // What became final (see the header): g needs input up to i + T/2, h up to g[j + LA + K], a up to r[i].
  const std::int64_t la = design_.shape.lookahead, k = design_.shape.guard;
  const std::int64_t detected = pushed_ == total_ ? total_ : std::max(detected_, pushed_ - half_);
  const std::int64_t held = detected == total_ ? total_ : std::max(held_, detected - la - k);
  const std::int64_t before = emitted_;
  advance(detected, held, out, gain);
  return emitted_ - before;
}

std::int64_t LimiterStream::finish(std::span<float* const> out, float* gain) {
  if (pushed_ != total_)
    throw std::logic_error("limiter: finish after " + std::to_string(pushed_) + " of " + std::to_string(total_) +
                           " frames");
  const std::int64_t before = emitted_;
  advance(total_, total_, out, gain);  // nothing left in practice: the last push emitted the tail
  return emitted_ - before;
}

void LimiterStream::advance(std::int64_t detected, std::int64_t held, std::span<float* const> out, float* gain) {
  const std::int64_t emit = std::max<std::int64_t>(0, held);  // a[i] is final with r[i], i.e. h[i]
  const std::int64_t count = emit - emitted_;
  if (detected == detected_ && held == held_) return;
  if (channels_ == 0) {
    // No channel: nothing to limit (limit_track returns no reduction); the frames pass with unit gain.
    curve_.assign(static_cast<std::size_t>(count), 1.0f);
  } else {
    const auto ng = static_cast<int>(groups_.size());
    auto one = [&](int grp) {
      const bool linked = design_.linked;
      process_group(groups_[static_cast<std::size_t>(grp)], linked ? 0 : grp, linked ? channels_ : 1, detected,
                    held, emit, out);
    };
    if (ng == 1) {
      one(0);
    } else {
      tbb::parallel_for(0, ng, one);  // unlinked: the channels' curves are independent (one release each)
    }
    // The gain curve: linked, the group's; unlinked, per frame the smallest over the channels (exact in any order).
    curve_.resize(static_cast<std::size_t>(count));
    if (count > 0) {
      std::copy(groups_[0].a.begin(), groups_[0].a.begin() + count, curve_.begin());
      for (int grp = 1; grp < ng; ++grp) {
        const float* a = groups_[static_cast<std::size_t>(grp)].a.data();
        for_limiter_chunks(count, [&](std::int64_t b, std::int64_t e) {
          for (std::int64_t i = b; i < e; ++i) {
            const auto ui = static_cast<std::size_t>(i);
            curve_[ui] = std::min(curve_[ui], a[i]);
          }
        });
      }
    }
  }
  if (count > 0) {
    if (gain != nullptr) std::memcpy(gain, curve_.data(), static_cast<std::size_t>(count) * sizeof(float));
    stats_.add(std::span<const float>(curve_.data(), static_cast<std::size_t>(count)));
  }

  // Slide the windows: the hold next needs g from held - K, the smoothing r from emit, and the next frames read
  // input from detected - T/2 (detection) and emit (gain).
  const std::int64_t origin = std::max<std::int64_t>(0, held - design_.shape.guard);
  for (Group& grp : groups_) {
    drop_front(grp.g, origin - origin_);
    drop_front(grp.r, origin - origin_);
  }
  const std::int64_t x_begin = std::max<std::int64_t>(0, std::min(emit, detected - half_));
  for (auto& w : x_) drop_front(w, x_begin - x_begin_);
  x_begin_ = std::max(x_begin_, x_begin);
  origin_ = origin;
  detected_ = detected;
  held_ = held;
  emitted_ = emit;
}

void LimiterStream::process_group(Group& grp, int first_channel, int channel_count, std::int64_t detected,
                                  std::int64_t held, std::int64_t emit, std::span<float* const> out) {
  const kl::Shape shape = design_.shape;
  const std::int64_t la = shape.lookahead, k = shape.guard;
  const std::int64_t w = kl::hold_window(shape);
  const std::int64_t o = origin_;
  std::vector<const float*> src(static_cast<std::size_t>(channel_count));
  for (int c = 0; c < channel_count; ++c)
    src[static_cast<std::size_t>(c)] = x_[static_cast<std::size_t>(first_channel + c)].data();

  // 1. detection of [detected_, detected) into g (g[0] is frame o), reading the input window.
  grp.g.resize(static_cast<std::size_t>(detected - o));
  const std::int64_t d0 = detected_;
  for_limiter_chunks(detected - d0, [&](std::int64_t b, std::int64_t e) {
    limiter_detect(*design_.interp, design_.ceiling, src, total_, d0 + b, d0 + e, grp.g.data() + (d0 + b - o),
                   x_begin_, d0 + b);
  });

  // 2. hold of j in [held_, held): the windows [j - K, j + LA + K] lie in [o, detected) and are clipped only where
  // the track is (o = 0 at its start, detected = n at its end), so the kernel's block decomposition over the local
  // track [o, detected) (blocks aligned at o) gives the same minima. h[j] lands at r[j + LA - o].
  if (held > held_) {
    const std::int64_t m = detected - o;
    // The block minima overwrite g: keep the part the next hold needs.
    const std::int64_t keep = std::max<std::int64_t>(0, held - k) - o;
    const bool carry = held < total_;
    if (carry) grp.tail.assign(grp.g.begin() + keep, grp.g.end());
    grp.suf.resize(static_cast<std::size_t>(m));
    const std::int64_t blocks = (m + w - 1) / w;
    const std::int64_t per_task = std::max<std::int64_t>(1, kLimiterChunk / w);
    const std::int64_t tasks = (blocks + per_task - 1) / per_task;
    auto minima = [&](std::int64_t t) {
      kl::block_minima(grp.g.data(), grp.suf.data(), m, w, t * per_task, std::min(blocks, (t + 1) * per_task));
    };
    if (tasks == 1) {
      minima(0);
    } else {
      tbb::parallel_for(std::int64_t{0}, tasks, minima);
    }
    grp.r.resize(static_cast<std::size_t>(held + la - o));
    const std::int64_t h0 = held_ - o;
    for_limiter_chunks(held - held_, [&](std::int64_t b, std::int64_t e) {
      kl::hold_range(grp.g.data(), grp.suf.data(), m, shape, h0 + b, h0 + e, grp.r.data());
    });
    if (carry) std::copy(grp.tail.begin(), grp.tail.end(), grp.g.begin() + keep);

    // 3. release, in order, carrying its state.
    kl::release_range(grp.release, design_.release, grp.r.data() + (held_ + la - o), held - held_);
  }

  // 4. smoothing of [emitted_, emit) (reads r over [emitted_, emit + LA) of the extended track) and 5. gain.
  const std::int64_t count = emit - emitted_;
  grp.a.resize(static_cast<std::size_t>(count));
  const float* r0 = grp.r.data() + (emitted_ - o);
  const std::int64_t xo = emitted_ - x_begin_;
  for_limiter_chunks(count, [&](std::int64_t b, std::int64_t e) {
    kl::smooth_range(r0 + b, shape, 0, e - b, grp.a.data() + b);
    for (int c = 0; c < channel_count; ++c) {
      float* y = out[static_cast<std::size_t>(first_channel + c)];
      std::memcpy(y + b, src[static_cast<std::size_t>(c)] + xo + b, static_cast<std::size_t>(e - b) * sizeof(float));
      kl::apply_range(y, grp.a.data(), b, e);
    }
  });
}

}  // namespace lathe::host::dsp
