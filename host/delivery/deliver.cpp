#include "host/delivery/deliver.hpp"

#include <tbb/parallel_for.h>
#include <tbb/task_group.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "host/album/sequence.hpp"
#include "host/dsp/true_peak_check.hpp"
#include "host/dsp/limiter.hpp"
#include "host/dsp/limiter_stream.hpp"
#include "host/dsp/ltas.hpp"
#include "host/dsp/resample_design.hpp"
#include "kernels/gain.hpp"
#include "kernels/dither.hpp"
#include "kernels/limiter.hpp"
#include "kernels/resample.hpp"
#include "host/errors.hpp"
#include "host/meter/meter.hpp"
#include "host/report/curves.hpp"
#include "host/util/text.hpp"

namespace lathe::host {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::int64_t frames_of(const PlanarAudio& a) { return a.empty() ? 0 : static_cast<std::int64_t>(a[0].size()); }

// The track as delivered: PCM words (left-justified int32) or float, and what the meter read of them.
struct Delivered {
  std::vector<std::vector<std::int32_t>> pcm;  // PCM delivery
  PlanarAudio floats;                          // float delivery (the limited samples themselves)
  meter::TrackReport measured;
  std::optional<dsp::Ltas> spectrum;           // of the delivered values, when the report keeps curves
  std::uint64_t clipped = 0;
};

// The post stages (dither and quantisation) over frames [start, start + frames) of a track through the engine;
// the dither noise is keyed by the track's key and each sample's position, so a segment gets the bits of the
// same frames in the whole track. Returns the batch with its quantised words; adds the clipped samples.
BlockBatch quantise_through_engine(const std::vector<const float*>& planar, std::int64_t start, std::int64_t frames,
                                   std::uint64_t key, const DeliverySettings& s, Engine& engine,
                                   std::uint64_t& clipped) {
  BlockBatch batch;
  batch.bits = s.bits;
  for (std::size_t c = 0; c < planar.size(); ++c) {
    float* dst = batch.add_block(0, static_cast<std::uint32_t>(c), start, frames, key, 0);
    std::copy(planar[c], planar[c] + frames, dst);
  }
  batch.slots = 1;
  engine.load(batch);
  for (const Stage* st : s.post) {
    StageState* none = nullptr;
    st->process(engine, batch, std::span<StageState* const>(&none, 1));
  }
  engine.store(batch);
  if (!batch.quantised_valid) throw std::logic_error("the delivery's last stage did not quantise");
  clipped += batch.clipped_samples.empty() ? 0 : batch.clipped_samples[0];
  return batch;
}

// Runs the post stages (dither) over the whole track through the engine, then meters the delivered values.
Delivered finish_track(const PlanarAudio& limited, int rate_hz, std::uint64_t key, const DeliverySettings& s,
                       Engine& engine) {
  Delivered d;
  const std::int64_t frames = frames_of(limited);
  const auto channels = limited.size();
  meter::TrackMeter m(rate_hz, static_cast<int>(channels));
  std::vector<const float*> ptrs(channels);
  if (s.bits == SampleBits::kFloat32) {
    d.floats = limited;
  } else {
    std::vector<const float*> in(channels);
    for (std::size_t c = 0; c < channels; ++c) in[c] = limited[c].data();
    const BlockBatch batch = quantise_through_engine(in, 0, frames, key, s, engine, d.clipped);
    d.pcm.assign(channels, {});
    d.floats.assign(channels, {});
    for (std::size_t c = 0; c < channels; ++c) {
      const auto off = static_cast<std::ptrdiff_t>(batch.blocks[c].offset);
      d.pcm[c].assign(batch.quantised.begin() + off, batch.quantised.begin() + off + frames);
      // The meter reads the delivered words: left-justified int32 / 2^31 is exact in float.
      d.floats[c].resize(static_cast<std::size_t>(frames));
      words_as_float(d.pcm[c].data(), frames, d.floats[c].data());
    }
  }
  for (std::size_t c = 0; c < channels; ++c) ptrs[c] = d.floats[c].data();
  if (frames > 0) {
    const meter::SegmentInput in{&m, ptrs, frames};
    meter::TrackMeter::add_many(engine, std::span<const meter::SegmentInput>(&in, 1));
  }
  d.measured = m.finish();
  if (s.curves && channels > 0) {
    dsp::LtasAccumulator spectrum(rate_hz, static_cast<int>(channels), /*overlap=*/false);
    spectrum.add(ptrs, frames);
    d.spectrum = spectrum.finish();
  }
  return d;
}

void write_track(TrackIo& io, const Delivered& d, int rate_hz, const Metadata& metadata, const DeliverySettings& s) {
  const std::size_t channels = s.bits == SampleBits::kFloat32 ? d.floats.size() : d.pcm.size();
  const std::int64_t frames = s.bits == SampleBits::kFloat32 ? frames_of(d.floats)
                                                             : (d.pcm.empty() ? 0 : static_cast<std::int64_t>(d.pcm[0].size()));
  WriterSpec spec{s.format, s.bits, rate_hz, static_cast<int>(channels), metadata, frames};
  io.open_output(spec, s.overwrite);
  for (std::int64_t done = 0; done < frames; done += s.segment_frames) {
    const std::int64_t n = std::min(s.segment_frames, frames - done);
    if (s.bits == SampleBits::kFloat32) {
      std::vector<const float*> p(channels);
      for (std::size_t c = 0; c < channels; ++c) p[c] = d.floats[c].data() + done;
      io.write_float(p, n);
    } else {
      std::vector<const std::int32_t*> p(channels);
      for (std::size_t c = 0; c < channels; ++c) p[c] = d.pcm[c].data() + done;
      io.write_pcm(p, n);
    }
  }
  io.commit();
}

// Target, limit, finish and check one track at `gain` (album) or with its own search; lowers the ceiling and
// goes again while the delivered true peak is above it (at most 4 corrections).
struct TrackResult {
  TargetOutcome outcome;
  Delivered delivered;
  double correction_db = 0;
  PlanarAudio limited;  // before dither (kept for the album file)
  int passes = 0;       // limiter + meter passes over all attempts (corrections included)
};

TrackResult make_track(const PlanarAudio& premaster, int rate_hz, std::uint64_t key, const DeliverySettings& s,
                       Engine& engine, std::optional<double> gain, std::map<std::string, double>& seconds) {
  TrackResult r;
  for (int attempt = 0;; ++attempt) {
    PlanarAudio limited;
    auto t0 = Clock::now();
    // A correction lowers the ceiling by a fraction of a dB: its search starts from the gain it corrects, which
    // usually lands within the aim at once.
    const std::optional<double> first_guess = attempt > 0 ? std::optional<double>(r.outcome.gain_db) : std::nullopt;
    r.outcome = target_track(premaster, rate_hz, s.plan, engine, limited, gain, r.correction_db, first_guess);
    r.passes += r.outcome.passes;
    seconds["targeting"] += seconds_since(t0);
    t0 = Clock::now();
    r.delivered = finish_track(limited, rate_hz, key, s, engine);
    seconds["dither"] += seconds_since(t0);
    r.limited = std::move(limited);
    if (!s.ceiling_dbtp || !s.plan.limiter) return r;
    // The judge: the larger of lathe's meter and the check's readings (the 8x detector, a long interpolator near
    // the ceiling, and the common meters' interpolators).
    t0 = Clock::now();
    const double over = std::max(r.delivered.measured.true_peak_dbtp - *s.ceiling_dbtp,
                                 dsp::over_ceiling_db(r.delivered.floats, rate_hz, *s.ceiling_dbtp));
    seconds["verify"] += seconds_since(t0);
    if (!(over > 0.0) || attempt == 4) {
      if (over > 0.0)
        throw Error("the delivered true peak stays " + fixed(over, 3) + " dB above the ceiling after " +
                        std::to_string(attempt) + " corrections; nothing was written",
                    "please report this with the file");
      return r;
    }
    // A residue (detection estimate, dither): limit again with the ceiling lowered by the excess and a margin.
    r.correction_db += over + 0.005;
  }
}

// ---- long tracks: the same delivery, streamed from a SampleStore ---------------------------------------------
// A track whose premaster sits in a SampleStore (its whole-track working set would exceed the run's memory
// budget) is delivered in segments (long_segment(): four of the run's segments): every pass of the gain search
// streams the premaster from disk through the gain, the streaming limiter (host/dsp/limiter_stream.hpp, the bits
// of the whole-track limiter) and the meter; the chosen gain is then rendered once more through dither, the
// meter, the true-peak check (streamed) and the encoder. Every piece gives the bits of its whole-track counterpart, so a long track
// comes out exactly as it would from memory (tests/host/test_long_delivery.cpp). Memory: a few segments.
std::int64_t long_segment(const DeliverySettings& s) { return std::max<std::int64_t>(s.segment_frames, 256) * 4; }

struct SegmentBuffers {
  PlanarAudio in, out;
  std::vector<float*> in_ptr, out_ptr;
  SegmentBuffers(int channels, std::int64_t in_frames, std::int64_t out_frames)
      : in(static_cast<std::size_t>(channels), std::vector<float>(static_cast<std::size_t>(in_frames))),
        out(static_cast<std::size_t>(channels), std::vector<float>(static_cast<std::size_t>(out_frames))) {
    for (auto& c : in) in_ptr.push_back(c.data());
    for (auto& c : out) out_ptr.push_back(c.data());
  }
  std::span<const float* const> in_view() const {
    return {const_cast<const float* const*>(in_ptr.data()), in_ptr.size()};
  }
  std::span<const float* const> out_view() const {
    return {const_cast<const float* const*>(out_ptr.data()), out_ptr.size()};
  }
};

// Streams `store` at `gain_db` (the float gain of render()) through the limiter (when the plan has one, with
// its ceiling lowered by `ceiling_offset_db`), handing each limited segment to `sink(planar, start, frames)` in
// order. Returns the limiter's statistics.
template <typename Sink>
dsp::LimiterResult stream_pass(const SampleStore& store, int rate_hz, const TargetPlan& plan, double gain_db,
                               double ceiling_offset_db, std::int64_t seg, Sink&& sink) {
  const int ch = store.channels();
  const std::int64_t n = store.frames();
  const float g = static_cast<float>(std::pow(10.0, gain_db / 20.0));
  std::optional<dsp::LimiterDesign> design;
  std::optional<dsp::LimiterStream> lim;
  if (plan.limiter && n > 0) {
    dsp::LimiterParams p = *plan.limiter;
    p.ceiling_dbtp -= ceiling_offset_db;
    design = dsp::limiter_design(p, rate_hz);
    lim.emplace(*design, rate_hz, ch, n);
  }
  const std::int64_t latency = lim ? lim->latency_frames() : 0;
  // The sink of one segment (meter, dither, encoder: mostly serial work) runs as a task while the next segment is
  // read, gained and limited; sinks run one at a time and in order. Two sets of buffers alternate.
  SegmentBuffers bufs[2] = {SegmentBuffers(ch, seg, lim ? seg + latency : 0),
                            SegmentBuffers(ch, seg, lim ? seg + latency : 0)};
  tbb::task_group sinking;
  auto hand_over = [&](const SegmentBuffers& b, bool limited, std::int64_t start, std::int64_t frames) {
    sinking.wait();  // the previous segment's sink: order, and its buffers free again
    if (frames > 0)
      sinking.run([&sink, &b, limited, start, frames] { sink(limited ? b.out_view() : b.in_view(), start, frames); });
  };
  std::int64_t emitted = 0;
  try {
    int turn = 0;
    for (std::int64_t pos = 0; pos < n; pos += seg, turn ^= 1) {
      SegmentBuffers& b = bufs[turn];
      const std::int64_t k = std::min(seg, n - pos);
      store.read(pos, k, b.in_ptr);
      if (g != 1.0f)
        tbb::parallel_for(0, ch, [&](int c) { kernels::gain_apply(b.in_ptr[static_cast<std::size_t>(c)], k, g); });
      if (!lim) {
        hand_over(b, false, emitted, k);
        emitted += k;
        continue;
      }
      const std::int64_t got = lim->push(b.in_view(), k, b.out_ptr, nullptr);
      hand_over(b, true, emitted, got);
      emitted += got;
    }
    if (lim) {
      sinking.wait();
      const std::int64_t got = lim->finish(bufs[0].out_ptr, nullptr);
      hand_over(bufs[0], true, emitted, got);
      emitted += got;
    }
    sinking.wait();
  } catch (...) {
    try {
      sinking.wait();
    } catch (...) {  // the first error is the one that goes on
    }
    throw;
  }
  if (!lim) return {};
  if (emitted != n) throw std::logic_error("the streaming limiter returned " + std::to_string(emitted) + " of " +
                                           std::to_string(n) + " frames");
  return lim->stats();
}

// Integrated loudness of a store (its premaster, for the search's first guess).
std::optional<double> store_loudness(const SampleStore& store, int rate_hz, std::int64_t seg) {
  meter::TrackMeter m(rate_hz, store.channels(), /*loudness_only=*/true);
  SegmentBuffers b(store.channels(), seg, 0);
  for (std::int64_t pos = 0; pos < store.frames(); pos += seg) {
    const std::int64_t k = std::min(seg, store.frames() - pos);
    store.read(pos, k, b.in_ptr);
    m.add(b.in_view(), k);
  }
  return store.frames() > 0 ? m.finish().integrated_lufs : std::nullopt;
}

// Resamples a store into a new one (kernels/resample.hpp over windows of the input: the bits of
// Engine::resample on the whole channel).
std::unique_ptr<SampleStore> resample_store(const SampleStore& in, const dsp::ResampleDesign& design,
                                            std::int64_t seg) {
  const kernels::resample::ResampleTable t = design.table();
  const std::int64_t n_in = in.frames();
  const std::int64_t n_out = kernels::resample::output_frames(t, n_in);
  auto out = std::make_unique<SampleStore>(in.channels());
  const auto ch = static_cast<std::size_t>(in.channels());
  PlanarAudio y(ch, std::vector<float>(static_cast<std::size_t>(seg)));
  std::vector<const float*> yp;
  for (auto& c : y) yp.push_back(c.data());
  PlanarAudio x(ch);
  std::vector<float*> xp(ch);
  for (std::int64_t ob = 0; ob < n_out; ob += seg) {
    const std::int64_t oe = std::min(n_out, ob + seg);
    const kernels::resample::InputSpan span = kernels::resample::input_span(t, ob, oe);
    const std::int64_t xb = std::clamp<std::int64_t>(span.first, 0, n_in);
    const std::int64_t xe = std::clamp<std::int64_t>(span.end, xb, n_in);
    for (std::size_t c = 0; c < ch; ++c) {
      x[c].resize(static_cast<std::size_t>(std::max<std::int64_t>(xe - xb, 1)));
      xp[c] = x[c].data();
    }
    in.read(xb, xe - xb, xp);
    constexpr std::int64_t kPiece = 4096;
    const std::int64_t pieces = (oe - ob + kPiece - 1) / kPiece;
    tbb::parallel_for(std::int64_t{0}, pieces * static_cast<std::int64_t>(ch), [&](std::int64_t w) {
      const auto c = static_cast<std::size_t>(w / pieces);
      const std::int64_t pb = ob + (w % pieces) * kPiece, pe = std::min(oe, pb + kPiece);
      kernels::resample::resample_range_window(t, x[c].data(), xb, xe, y[c].data() + (pb - ob), pb, pe);
    });
    out->append(yp, oe - ob);
  }
  return out;
}

TrackResult make_long_track(DeliveryJob& j, const DeliverySettings& s, Engine& engine,
                            std::map<std::string, double>& seconds) {
  const SampleStore& pre = *j.stored;
  const int rate = j.rate_hz;
  const int ch = pre.channels();
  const std::int64_t n = pre.frames();
  const std::int64_t seg = long_segment(s);
  TrackResult r;
  std::optional<std::optional<double>> l0;
  auto premaster_loudness = [&] {
    if (!l0) l0 = store_loudness(pre, rate, seg);
    return *l0;
  };
  for (int attempt = 0;; ++attempt) {
    auto t0 = Clock::now();
    const std::optional<double> first_guess = attempt > 0 ? std::optional<double>(r.outcome.gain_db) : std::nullopt;
    const double offset = r.correction_db;
    r.outcome = search_gain(
        s.plan, premaster_loudness,
        [&](double g) {
          meter::TrackMeter m(rate, ch, /*loudness_only=*/true);
          dsp::LimiterResult st = stream_pass(pre, rate, s.plan, g, offset, seg,
                                              [&](std::span<const float* const> p, std::int64_t, std::int64_t k) {
                                                m.add(p, k);
                                              });
          return std::make_pair(n > 0 ? m.finish().integrated_lufs : std::nullopt, st);
        },
        [] {}, std::nullopt, first_guess);
    r.passes += r.outcome.passes + 1;
    seconds["targeting"] += seconds_since(t0);

    // The outcome's gain once more, to the output: dither (the post stages through the engine, segment by
    // segment at the segment's position: the dither noise is keyed by position), meter, check, encode.
    const auto channels = static_cast<std::size_t>(ch);
    WriterSpec spec{s.format, s.bits, rate, ch, j.metadata, n};
    j.io->open_output(spec, s.overwrite);
    meter::TrackMeter m(rate, ch);
    std::optional<dsp::LtasAccumulator> spectrum;
    if (s.curves && ch > 0) spectrum.emplace(rate, ch, /*overlap=*/false);
    std::optional<dsp::TruePeakCheckStream> check;
    if (s.ceiling_dbtp && s.plan.limiter) check.emplace(rate, ch, *s.ceiling_dbtp, n);
    r.delivered = Delivered{};
    double t_dither = 0, t_verify = 0, t_encode = 0;
    t0 = Clock::now();
    stream_pass(pre, rate, s.plan, r.outcome.gain_db, offset, seg,
                [&](std::span<const float* const> p, std::int64_t start, std::int64_t k) {
                  auto tp = Clock::now();
                  std::vector<const float*> delivered(p.begin(), p.end());
                  PlanarAudio as_float;
                  if (s.bits != SampleBits::kFloat32) {
                    const BlockBatch batch =
                        quantise_through_engine(delivered, start, k, j.key, s, engine, r.delivered.clipped);
                    std::vector<const std::int32_t*> words(channels);
                    as_float.assign(channels, std::vector<float>(static_cast<std::size_t>(k)));
                    for (std::size_t c = 0; c < channels; ++c) {
                      words[c] = batch.quantised.data() + batch.blocks[c].offset;
                      words_as_float(words[c], k, as_float[c].data());
                      delivered[c] = as_float[c].data();
                    }
                    t_dither += seconds_since(tp);
                    tp = Clock::now();
                    j.io->write_pcm(words, k);
                  } else {
                    t_dither += seconds_since(tp);
                    tp = Clock::now();
                    j.io->write_float(delivered, k);
                  }
                  t_encode += seconds_since(tp);
                  tp = Clock::now();
                  m.add(delivered, k);
                  if (spectrum) spectrum->add(delivered, k);
                  if (check) check->push(delivered, k);
                  t_verify += seconds_since(tp);
                });
    r.delivered.measured = m.finish();
    if (spectrum) r.delivered.spectrum = spectrum->finish();
    seconds["dither"] += t_dither;
    seconds["encode"] += t_encode;
    seconds["verify"] += t_verify;
    if (!check) {
      j.io->commit();
      return r;
    }
    const double over = std::max(r.delivered.measured.true_peak_dbtp - *s.ceiling_dbtp, check->over_ceiling_db());
    if (!(over > 0.0)) {
      j.io->commit();
      return r;
    }
    j.io->abandon();
    if (attempt == 4)
      throw Error("the delivered true peak stays " + fixed(over, 3) + " dB above the ceiling after " +
                      std::to_string(attempt) + " corrections; nothing was written",
                  "please report this with the file");
    r.correction_db += over + 0.005;
  }
}

void fill_report(TrackReport& rep, const TrackResult& r, int rate_hz, const DeliverySettings& s) {
  DeliveryReport& d = rep.delivery;
  d.whole_track = true;
  d.rate_hz = rate_hz;
  d.frames = r.delivered.measured.frames;
  d.target_lufs = s.plan.integrated_lufs;
  d.gain_db = r.outcome.gain_db;
  d.limited = s.plan.limiter.has_value();
  d.max_gain_reduction_db = r.outcome.limiter.max_gain_reduction_db;
  d.mean_gain_reduction_db = r.outcome.limiter.mean_gain_reduction_db;
  d.seconds_above_1db = r.outcome.limiter.seconds_above_1db;
  d.target_reached = r.outcome.target_reached;
  d.not_reached = r.outcome.not_reached;
  d.ceiling_correction_db = r.correction_db;
  d.passes = r.passes;
  rep.output_loudness = summarise(r.delivered.measured);
  rep.clipped_samples += r.delivered.clipped;
  if (rep.curves)
    add_output_curves(*rep.curves, r.delivered.measured, r.delivered.spectrum ? &*r.delivered.spectrum : nullptr,
                      s.plan.limiter ? &r.outcome.limiter : nullptr);
  // The delivered loudness is the judge: dither can move a track that sat at the edge of the tolerance.
  if (s.plan.integrated_lufs && d.target_reached) {
    const auto& got = r.delivered.measured.integrated_lufs;
    if (!got || std::abs(*got - *s.plan.integrated_lufs) > s.plan.tolerance_lu) {
      d.target_reached = false;
      d.not_reached = "delivered at " + (got ? fixed(*got, 2) + " LUFS" : std::string("below gate"));
    }
  }
}

// The album as one file: the limited tracks placed with gaps or equal-power crossfades (host/album/sequence),
// limited again at unity gain (a crossfade can add up above the ceiling), dithered, checked and written next to
// the tracks with a CUE sheet.
AlbumReport write_album_file(const std::vector<DeliveryJob*>& ok, const std::vector<TrackResult>& results,
                             const DeliverySettings& s, bool cd_frames, Engine& engine,
                             std::map<std::string, double>& seconds) {
  AlbumReport a;
  const DeliveryJob& first = *ok.front();
  std::string folder = std::filesystem::path(first.io->output_name()).parent_path().filename().string();
  if (folder.empty() || folder == "." || folder == "..") folder = "album";
  // Never the name of one of the album's own tracks (a track called like its folder): that output must stay.
  for (const DeliveryJob* j : ok) {
    const std::string stem = std::filesystem::path(j->io->output_name()).stem().string();
    if (stem == folder) folder += " (album)";
  }
  const std::string file = folder + "." + to_string(s.format);
  const std::string cue_name = folder + ".cue";
  a.tracks = static_cast<int>(ok.size());
  a.rate_hz = first.rate_hz;
  try {
    std::vector<album::SequenceItem> items;
    std::vector<PlanarAudio> audio;
    for (std::size_t k = 0; k < ok.size(); ++k) {
      const DeliveryJob& j = *ok[k];
      if (j.rate_hz != first.rate_hz || j.premaster.size() != first.premaster.size())
        throw InputError("the album's tracks differ in rate or channel count",
                         "deliver them at one rate (sample_rate_hz) and one layout to make an album file");
      album::SequenceItem it;
      const auto title = j.metadata.find("title");
      const auto artist = j.metadata.find("artist");
      it.title = title != j.metadata.end() ? title->second : std::filesystem::path(j.io->name()).stem().string();
      it.performer = artist != j.metadata.end() ? artist->second : "";
      it.frames = frames_of(results[k].limited);
      it.gap_before_s = k == 0 ? 0.0 : s.sequencing.gap_s;
      it.crossfade_s = k == 0 ? 0.0 : s.sequencing.crossfade_s;
      items.push_back(it);
      audio.push_back(results[k].limited);
    }
    album::SequenceOptions opt;
    opt.rate_hz = first.rate_hz;
    opt.cd_frames = cd_frames;
    const auto album_title = first.metadata.find("album");
    const auto album_artist = first.metadata.find("artist");
    opt.album_title = album_title != first.metadata.end() ? album_title->second : folder;
    opt.album_performer = album_artist != first.metadata.end() ? album_artist->second : "";
    const album::Sequence seq = album::plan_sequence(items, opt);
    const std::string cue = album::cue_sheet(seq, items, opt, file);  // fails early past 99 tracks
    PlanarAudio rendered;
    album::render_album(seq, items, audio, static_cast<int>(first.premaster.size()), rendered);
    DeliverySettings unity = s;
    unity.plan.integrated_lufs.reset();
    std::uint64_t key = 0x9e3779b97f4a7c15ULL;
    for (const DeliveryJob* j : ok) key = kernels::mix64(key ^ j->key);
    const TrackResult r = make_track(rendered, first.rate_hz, key, unity, engine, 0.0, seconds);
    const auto io = first.io->sibling_output(file);
    if (!io) throw OutputError("no output folder for the album file " + file);
    a.output = io->output_name();
    try {
      write_track(*io, r.delivered, first.rate_hz, first.metadata, s);
      first.io->write_sidecar(cue_name, cue, s.overwrite);
    } catch (...) {
      io->abandon();
      throw;
    }
    a.cue = (std::filesystem::path(a.output).parent_path() / cue_name).string();
    a.frames = r.delivered.measured.frames;
    a.loudness = summarise(r.delivered.measured);
  } catch (const Error& e) {
    a.error = e.message();
  } catch (const std::exception& e) {
    a.error = e.what();
  }
  return a;
}

}  // namespace

void deliver(std::span<DeliveryJob> jobs, bool album, const DeliverySettings& s, Engine& engine,
             std::map<std::string, double>& seconds, std::vector<AlbumReport>* albums) {
  auto guarded_read = [](DeliveryJob& j, const std::vector<float*>& p) {
    try {
      j.stored->read(0, j.stored->frames(), p);
    } catch (const Error& e) {
      j.error = e.message();
    }
  };
  // 1. Sample-rate conversion, track by track (channels in parallel inside).
  for (DeliveryJob& j : jobs) {
    if (!j.error.empty() || !s.rate_hz || *s.rate_hz == j.rate_hz) continue;
    const auto t0 = Clock::now();
    try {
      if (j.stored) {
        j.stored = resample_store(*j.stored, dsp::resample_design(j.rate_hz, *s.rate_hz), long_segment(s));
        j.rate_hz = *s.rate_hz;
        seconds["resample"] += seconds_since(t0);
        continue;
      }
      const dsp::ResampleDesign& design = dsp::resample_design(j.rate_hz, *s.rate_hz);
      PlanarAudio out(j.premaster.size());
      std::vector<ResampleJob> rj;
      for (std::size_t c = 0; c < j.premaster.size(); ++c) {
        const auto n_in = static_cast<std::int64_t>(j.premaster[c].size());
        out[c].resize(static_cast<std::size_t>(kernels::resample::output_frames(design.table(), n_in)));
        rj.push_back(ResampleJob{&design, j.premaster[c].data(), n_in, out[c].data()});
      }
      engine.resample(rj);
      j.premaster = std::move(out);
      j.rate_hz = *s.rate_hz;
    } catch (const std::invalid_argument& e) {
      j.error = std::string("cannot convert to ") + std::to_string(*s.rate_hz) + " Hz: " + e.what();
    } catch (const Error& e) {
      j.error = e.message();
    }
    seconds["resample"] += seconds_since(t0);
  }

  // Album mode holds an album's tracks in memory (one common gain, fades, the album file): a long track's
  // premaster is read back from its store. The master never stores an album's tracks; this keeps the rule whole.
  if (album) {
    for (DeliveryJob& j : jobs) {
      if (!j.stored) continue;
      if (j.error.empty()) {
        j.premaster.assign(static_cast<std::size_t>(j.stored->channels()),
                           std::vector<float>(static_cast<std::size_t>(j.stored->frames())));
        std::vector<float*> p;
        for (auto& c : j.premaster) p.push_back(c.data());
        guarded_read(j, p);
      }
      j.stored.reset();
    }
  }

  // Album sequencing: fades on every track (before targeting, so the loudness is measured as delivered), and on
  // a CD delivery every track padded with silence to whole CD frames (rate / 75 frames).
  const bool cd_frames = s.sequencing.cd_frames.value_or(s.rate_hz.value_or(jobs.empty() ? 0 : jobs[0].rate_hz) == 44100 &&
                                                         s.bits == SampleBits::k16);
  if (album) {
    for (DeliveryJob& j : jobs) {
      if (!j.error.empty()) continue;
      const std::int64_t n = frames_of(j.premaster);
      album::Placement fades;
      fades.fade_in_frames = std::min<std::int64_t>(n, std::llround(s.sequencing.fade_in_s * j.rate_hz));
      fades.fade_out_frames = std::min<std::int64_t>(n, std::llround(s.sequencing.fade_out_s * j.rate_hz));
      if (fades.fade_in_frames > 0 || fades.fade_out_frames > 0) album::apply_track_fades(fades, j.premaster);
      if (cd_frames && j.rate_hz % album::kCdFramesPerSecond == 0) {
        const std::int64_t grid = j.rate_hz / album::kCdFramesPerSecond;
        const std::int64_t padded = (n + grid - 1) / grid * grid;
        for (auto& ch : j.premaster) ch.resize(static_cast<std::size_t>(padded), 0.0f);
      }
    }
  }

  auto guarded = [](DeliveryJob& j, auto&& body) {
    try {
      body();
    } catch (const Error& e) {
      j.error = e.message();
    } catch (const std::exception& e) {
      j.error = e.what();
    }
    if (!j.error.empty()) j.io->abandon();
  };

  if (!album || !s.plan.integrated_lufs) {
    for (DeliveryJob& j : jobs) {
      if (!j.error.empty()) continue;
      if (j.stored) {
        guarded(j, [&] {
          const TrackResult r = make_long_track(j, s, engine, seconds);
          fill_report(*j.report, r, j.rate_hz, s);
        });
        j.stored.reset();
        continue;
      }
      guarded(j, [&] {
        const TrackResult r = make_track(j.premaster, j.rate_hz, j.key, s, engine, std::nullopt, seconds);
        fill_report(*j.report, r, j.rate_hz, s);
        const auto t0 = Clock::now();
        write_track(*j.io, r.delivered, j.rate_hz, j.metadata, s);
        seconds["encode"] += seconds_since(t0);
      });
      PlanarAudio().swap(j.premaster);
    }
    return;
  }

  // 2. Album: one gain for every track, so that the album (all blocks of all tracks gated as one programme)
  // lands on the target; each track is limited only where it needs it. The limiter lowers the album's loudness
  // a little, so the common gain is corrected from the limited tracks (a few passes).
  std::vector<DeliveryJob*> ok;
  for (DeliveryJob& j : jobs)
    if (j.error.empty()) ok.push_back(&j);
  if (ok.empty()) return;
  const double target = *s.plan.integrated_lufs;
  // A track that failed on the way (its error is set) drops out of the album's loudness from then on.
  auto album_loudness = [&](const std::vector<const PlanarAudio*>& audio) {
    std::vector<meter::TrackReport> reports;
    for (std::size_t k = 0; k < audio.size(); ++k) {
      if (!ok[k]->error.empty()) continue;
      meter::TrackMeter m(ok[k]->rate_hz, static_cast<int>(audio[k]->size()), /*loudness_only=*/true);
      std::vector<const float*> ptrs;
      for (const auto& ch : *audio[k]) ptrs.push_back(ch.data());
      const meter::SegmentInput in{&m, ptrs, frames_of(*audio[k])};
      if (in.frames > 0) meter::TrackMeter::add_many(engine, std::span<const meter::SegmentInput>(&in, 1));
      reports.push_back(m.finish());
    }
    return meter::album_integrated_lufs(reports);
  };
  std::vector<const PlanarAudio*> pre;
  for (auto* j : ok) pre.push_back(&j->premaster);
  const std::optional<double> l0 = album_loudness(pre);
  double gain = l0 ? std::min(target - *l0, s.plan.max_gain_db) : 0.0;
  std::vector<TrackResult> results(ok.size());
  std::optional<double> album_out;
  for (int pass = 0; pass < 6; ++pass) {
    for (std::size_t k = 0; k < ok.size(); ++k) {
      DeliveryJob& j = *ok[k];
      if (!j.error.empty()) continue;
      guarded(j, [&] { results[k] = make_track(j.premaster, j.rate_hz, j.key, s, engine, gain, seconds); });
    }
    std::vector<const PlanarAudio*> delivered;
    for (std::size_t k = 0; k < ok.size(); ++k)
      delivered.push_back(&results[k].delivered.floats);
    album_out = album_loudness(delivered);
    if (!l0 || !album_out || std::abs(*album_out - target) <= std::min(0.02, s.plan.tolerance_lu / 5.0)) break;
    const double next = std::min(gain + (target - *album_out), s.plan.max_gain_db);
    if (std::abs(next - gain) < 1e-4) break;
    gain = next;
  }
  for (std::size_t k = 0; k < ok.size(); ++k) {
    DeliveryJob& j = *ok[k];
    if (!j.error.empty()) continue;
    guarded(j, [&] {
      fill_report(*j.report, results[k], j.rate_hz, s);
      DeliveryReport& d = j.report->delivery;
      d.album = true;
      d.album_lufs = album_out;
      // In an album the target is the album's: a track keeps its own loudness relative to the others.
      d.target_reached = results[k].outcome.target_reached;
      d.not_reached = results[k].outcome.not_reached;
      if (d.target_reached && (!album_out || std::abs(*album_out - target) > s.plan.tolerance_lu)) {
        d.target_reached = false;
        d.not_reached = "the album reached " + (album_out ? fixed(*album_out, 2) + " LUFS" : std::string("below gate"));
      }
      const auto t0 = Clock::now();
      write_track(*j.io, results[k].delivered, j.rate_hz, j.metadata, s);
      seconds["encode"] += seconds_since(t0);
    });
  }
  if (s.sequencing.album_file) {
    std::vector<DeliveryJob*> written;
    std::vector<TrackResult> kept;
    for (std::size_t k = 0; k < ok.size(); ++k)
      if (ok[k]->error.empty()) {
        written.push_back(ok[k]);
        kept.push_back(std::move(results[k]));
      }
    if (!written.empty()) {
      const auto t0 = Clock::now();
      AlbumReport a = write_album_file(written, kept, s, cd_frames, engine, seconds);
      seconds["album-file"] += seconds_since(t0);
      if (albums) albums->push_back(std::move(a));
    }
  }
  for (DeliveryJob* j : ok) PlanarAudio().swap(j->premaster);
}

}  // namespace lathe::host
