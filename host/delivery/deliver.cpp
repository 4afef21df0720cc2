#include "host/delivery/deliver.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "host/album/sequence.hpp"
#include "host/dsp/true_peak_check.hpp"
#include "host/dsp/limiter.hpp"
#include "host/dsp/resample_design.hpp"
#include "kernels/dither.hpp"
#include "kernels/limiter.hpp"
#include "kernels/resample.hpp"
#include "host/errors.hpp"
#include "host/meter/meter.hpp"

namespace lathe::host {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::int64_t frames_of(const PlanarAudio& a) { return a.empty() ? 0 : static_cast<std::int64_t>(a[0].size()); }

// The track as delivered: PCM words (left-justified int32) or float, and what the meter read of them.
struct Delivered {
  std::vector<std::vector<std::int32_t>> pcm;  // PCM delivery
  PlanarAudio floats;                          // float delivery (the limited samples themselves)
  meter::TrackReport measured;
  std::uint64_t clipped = 0;
};

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
    BlockBatch batch;
    batch.bits = s.bits;
    for (std::size_t c = 0; c < channels; ++c) {
      float* dst = batch.add_block(0, static_cast<std::uint32_t>(c), 0, frames, key, 0);
      std::copy(limited[c].begin(), limited[c].end(), dst);
    }
    batch.slots = 1;
    engine.load(batch);
    for (const Stage* st : s.post) {
      StageState* none = nullptr;
      st->process(engine, batch, std::span<StageState* const>(&none, 1));
    }
    engine.store(batch);
    if (!batch.quantised_valid) throw std::logic_error("the delivery's last stage did not quantise");
    d.clipped = batch.clipped_samples.empty() ? 0 : batch.clipped_samples[0];
    d.pcm.assign(channels, {});
    d.floats.assign(channels, {});
    for (std::size_t c = 0; c < channels; ++c) {
      const auto off = static_cast<std::ptrdiff_t>(batch.blocks[c].offset);
      d.pcm[c].assign(batch.quantised.begin() + off, batch.quantised.begin() + off + frames);
      // The meter reads the delivered words: left-justified int32 / 2^31 is exact in float.
      d.floats[c].resize(static_cast<std::size_t>(frames));
      for (std::int64_t i = 0; i < frames; ++i)
        d.floats[c][static_cast<std::size_t>(i)] = static_cast<float>(d.pcm[c][static_cast<std::size_t>(i)]) *
                                                   (1.0f / 2147483648.0f);
    }
  }
  for (std::size_t c = 0; c < channels; ++c) ptrs[c] = d.floats[c].data();
  if (frames > 0) {
    const meter::SegmentInput in{&m, ptrs, frames};
    meter::TrackMeter::add_many(engine, std::span<const meter::SegmentInput>(&in, 1));
  }
  d.measured = m.finish();
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
  // 1. Sample-rate conversion, track by track (channels in parallel inside).
  for (DeliveryJob& j : jobs) {
    if (!j.error.empty() || !s.rate_hz || *s.rate_hz == j.rate_hz) continue;
    const auto t0 = Clock::now();
    try {
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
    }
    seconds["resample"] += seconds_since(t0);
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
  auto album_loudness = [&](const std::vector<const PlanarAudio*>& audio) {
    std::vector<meter::TrackReport> reports;
    for (std::size_t k = 0; k < audio.size(); ++k) {
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
