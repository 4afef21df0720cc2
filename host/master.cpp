#include "host/master.hpp"

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>

#include "host/delivery/deliver.hpp"
#include "host/dsp/ltas.hpp"
#include "host/report/curves.hpp"
#include "host/errors.hpp"
#include "host/io/audio_reader.hpp"
#include "host/io/atomic_file.hpp"
#include "host/io/audio_writer.hpp"
#include "host/io/manifest.hpp"
#include "host/meter/meter.hpp"
#include "host/stages/limiter_stage.hpp"
#include "host/util/sha256.hpp"
#include "kernels/dither.hpp"

namespace lathe::host {
namespace {

using Clock = std::chrono::steady_clock;
// Whole-track delivery's host memory per delivered sample: the premaster, the limited trial and the kept best,
// the delivered words and their float copy, the limiter's work arrays. Measured: 1.59 GiB peak for a 4-minute
// 96 kHz stereo track with the streaming profile (46 M samples: 37 bytes each, the decoder's buffers included).
constexpr std::int64_t kWholeTrackBytesPerSample = 36;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

class FileTrack final : public TrackIo {
 public:
  explicit FileTrack(Job job) : job_(std::move(job)) {}
  std::string name() const override { return job_.input.string(); }
  std::string output_name() const override { return job_.output.string(); }
  std::string album_key() const override { return album_key_of(job_); }
  bool output_exists() const override {
    std::error_code ec;
    return !job_.replace_own && std::filesystem::exists(job_.output, ec);
  }
  AudioInfo open_input() override {
    reader_ = std::make_unique<AudioReader>(job_.input);
    return reader_->info();
  }
  std::int64_t read_interleaved(float* out, std::int64_t max_frames) override {
    return reader_->read_interleaved(out, max_frames);
  }
  void rewind() override {
    // Re-opening is valid for every format libsndfile reads, seekable or not.
    reader_.reset();
    reader_ = std::make_unique<AudioReader>(job_.input);
  }
  void open_output(const WriterSpec& spec, bool overwrite) override {
    if (!job_.confine_to.empty())
      confined_output(job_.confine_to, job_.output.lexically_relative(job_.confine_to).generic_string());
    std::error_code ec;
    const auto folder = job_.output.parent_path();
    if (!folder.empty()) std::filesystem::create_directories(folder, ec);
    if (ec)
      throw OutputError("cannot create output folder " + folder.string() + ": " + ec.message(),
                        "choose an output folder you can write to");
    // An album file's leftovers from a killed run (a track's are swept once for the whole run, by the CLI).
    if (sibling_) remove_stale_temporaries(job_.output);
    writer_ = std::make_unique<AudioWriter>(job_.output, spec, overwrite || job_.replace_own);
  }
  void write_pcm(const std::vector<const std::int32_t*>& planar, std::int64_t frames) override {
    writer_->write_pcm(planar, frames);
  }
  void write_float(const std::vector<const float*>& planar, std::int64_t frames) override {
    writer_->write_float(planar, frames);
  }
  void commit() override {
    writer_->commit();
    writer_.reset();
    reader_.reset();
  }
  void abandon() override {
    writer_.reset();  // removes the temporary file
    reader_.reset();
  }
  std::unique_ptr<TrackIo> sibling_output(const std::string& file_name) const override {
    Job j;
    j.output = job_.output.parent_path() / file_name;
    auto sibling = std::make_unique<FileTrack>(std::move(j));
    sibling->sibling_ = true;
    return sibling;
  }
  void write_sidecar(const std::string& file_name, const std::string& text, bool overwrite) override {
    const auto path = job_.output.parent_path() / file_name;
    std::error_code ec;
    if (!overwrite && std::filesystem::exists(path, ec))
      throw OutputError("output exists: " + path.string(), "pass --overwrite to replace it");
    remove_stale_temporaries(path);
    write_text_atomically(path, text);
  }

 private:
  Job job_;
  bool sibling_ = false;  // an album file beside the tracks (sibling_output)
  std::unique_ptr<AudioReader> reader_;
  std::unique_ptr<AudioWriter> writer_;
};

// What the analysis pass learns about a track before its chain runs.
struct Analysis {
  AudioInfo info;
  std::int64_t frames = 0;
  std::uint64_t key = 0;
  double peak = 0;
  LoudnessSummary loudness;
  std::vector<double> dc_offset;  // per channel
  std::shared_ptr<const dsp::Ltas> spectrum;  // the input's long-term average spectrum, when a stage wants it
  std::optional<TrackCurves> curves;          // the input's curves, when the report wants them
};


std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Reads the whole track once in bounded segments: counts frames, checks every sample is finite, measures the
// sample peak and hashes the decoded audio (the dither key: same audio, same noise, in any batch).
Analysis analyse(TrackIo& io, std::int64_t segment_frames, bool want_spectrum, bool want_curves) {
  Analysis a;
  a.info = io.open_input();
  const auto channels = static_cast<std::size_t>(a.info.channels);
  std::optional<dsp::LtasAccumulator> spectrum;
  if (want_spectrum || want_curves) spectrum.emplace(a.info.rate_hz, a.info.channels, /*overlap=*/want_spectrum);
  std::vector<float> buf(static_cast<std::size_t>(segment_frames) * channels);
  ContentHash64 hash;
  meter::TrackMeter loudness(a.info.rate_hz, a.info.channels);
  float peak = 0.0f;
  for (;;) {
    const std::int64_t got = io.read_interleaved(buf.data(), segment_frames);
    if (got <= 0) break;
    const std::size_t n = static_cast<std::size_t>(got) * channels;
    for (std::size_t i = 0; i < n; ++i) {
      const float x = buf[i];
      if (!std::isfinite(x)) {
        const std::int64_t frame = a.frames + static_cast<std::int64_t>(i / channels);
        throw InputError(std::string(std::isnan(x) ? "NaN" : "infinite") + " sample at " +
                             format_time(static_cast<double>(frame) / a.info.rate_hz) + " (sample " +
                             std::to_string(frame) + ", channel " + std::to_string(i % channels + 1) + ")",
                         "repair or re-export the file; lathe refuses non-finite audio");
      }
      peak = std::max(peak, std::fabs(x));
    }
    hash.update(buf.data(), n * sizeof(float));
    loudness.add_interleaved(buf.data(), got);
    if (spectrum) spectrum->add_interleaved(buf.data(), got);
    a.frames += got;
  }
  if (a.frames == 0) throw InputError("no audio: the file holds 0 samples", "nothing to master; remove it");
  if (a.info.truncated || (a.info.frames > 0 && a.frames < a.info.frames))
    throw InputError("truncated: the file holds less audio than its header declares (" + std::to_string(a.frames) +
                         " frames readable)",
                     "the file is damaged; re-export or re-copy it");
  a.key = kernels::mix64(hash.value() ^ (static_cast<std::uint64_t>(a.info.rate_hz) << 8) ^
                         static_cast<std::uint64_t>(a.info.channels));
  a.peak = peak;
  const meter::TrackReport measured = loudness.finish();
  a.loudness = summarise(measured);
  for (const auto& ch : measured.per_channel) a.dc_offset.push_back(ch.dc_offset);
  if (spectrum) {
    auto ltas = std::make_shared<const dsp::Ltas>(spectrum->finish());
    if (want_curves) a.curves = input_curves(measured, ltas.get());
    if (want_spectrum) a.spectrum = std::move(ltas);
  }
  io.rewind();
  return a;
}

// A track being processed: its place in `tracks`, what analysis found, how far the chain has got.
// The chain's stream for a track is its audio followed by `latency` zero frames (so that stages with latency
// can finish); the first `latency` frames of the chain's output are pre-roll and are not written.
struct Active {
  std::size_t index;
  Analysis analysis;
  std::vector<std::unique_ptr<StageState>> states;  // one per stage of the profile (null when stateless)
  std::int64_t latency = 0;          // frames: the sum of the stages' latencies
  std::int64_t tail = 0;             // frames: the sum of the stages' tails (output longer than the input)
  std::int64_t segment = 0;          // frames per segment for this track (a multiple of every stage's block)
  std::int64_t read_frames = 0;      // audio frames decoded so far
  std::int64_t fed_frames = 0;       // stream frames through the chain so far (audio + flush zeros)
  std::int64_t written_frames = 0;   // frames written to the output
  std::int64_t seg_frames = 0;       // stream frames in the current batch
  std::vector<float> staging;        // interleaved segment as read (flush zeros included)
  std::unique_ptr<meter::TrackMeter> output_meter;  // meters what is written (streamed delivery)
  std::optional<dsp::LtasAccumulator> output_spectrum;  // the same for the report's curves
  std::unique_ptr<SampleStore> store;  // whole-track delivery of a long track: its premaster on disk
  PlanarAudio premaster;             // the chain's whole output (delivery pass)
  std::string error;                 // set when the track fails mid-way

  std::int64_t stream_frames() const { return analysis.frames + tail + latency; }
};

}  // namespace

std::unique_ptr<TrackIo> make_file_track(const Job& job) { return std::make_unique<FileTrack>(job); }

LoudnessSummary summarise(const meter::TrackReport& m) {
  LoudnessSummary s;
  s.integrated_lufs = m.integrated_lufs;
  s.lra_lu = m.lra_lu;
  s.short_term_max_lufs = m.short_term_max_lufs;
  s.true_peak_dbtp = m.true_peak_dbtp;
  s.sample_peak_dbfs = m.sample_peak_dbfs;
  s.correlation = m.correlation;
  return s;
}

int MasterResult::failed() const {
  return static_cast<int>(std::count_if(tracks.begin(), tracks.end(), [](const TrackReport& t) { return !t.ok; }));
}

std::string format_time(double seconds) {
  if (!(seconds >= 0)) seconds = 0;
  const auto ms_total = static_cast<long long>(std::llround(seconds * 1000.0));
  const long long h = ms_total / 3600000, m = (ms_total / 60000) % 60, s = (ms_total / 1000) % 60, ms = ms_total % 1000;
  char buf[48];
  if (h > 0)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld.%03lld", h, m, s, ms);
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld.%03lld", m, s, ms);
  return buf;
}

MasterResult master_tracks(std::vector<std::unique_ptr<TrackIo>>& tracks, const Profile& profile, Engine& engine,
                           const MasterOptions& options, const std::function<void(const TrackReport&)>& on_track_done) {
  const auto t_start = Clock::now();
  MasterResult result;
  result.started_at = t_start;
  result.engine = engine.description();
  result.tracks.resize(tracks.size());
  for (std::size_t i = 0; i < tracks.size(); ++i) {
    result.tracks[i].input = tracks[i]->name();
    result.tracks[i].output = tracks[i]->output_name();
  }
  const OutputFormat format = options.format.value_or(profile.delivery.format);
  const SampleBits bits = options.bits.value_or(profile.delivery.bits);
  check_format_supported(format, bits);
  const std::int64_t seg = std::max<std::int64_t>(1, options.segment_frames);
  const std::size_t width = static_cast<std::size_t>(std::max(1, options.batch_tracks));

  // Streamed delivery runs every stage over batches and writes as it goes; whole-track delivery (resampling,
  // targeting, the limiter) runs the stages before `split` over batches, keeps each track's output, and hands
  // it to the delivery pass (host/delivery/deliver.hpp).
  const bool whole = profile.whole_track_delivery();
  const std::size_t split = whole ? profile.delivery_stage_index() : profile.stages.size();
  DeliverySettings delivery;
  delivery.format = format;
  delivery.bits = bits;
  delivery.overwrite = options.overwrite;
  delivery.rate_hz = profile.delivery.sample_rate_hz;
  delivery.segment_frames = seg;
  delivery.plan.integrated_lufs = profile.targets.integrated_lufs;
  delivery.plan.tolerance_lu = profile.targets.tolerance_lu;
  delivery.plan.max_gain_db = profile.targets.max_gain_db;
  delivery.plan.max_gain_reduction_db = profile.targets.max_gain_reduction_db;
  delivery.sequencing = profile.album;
  delivery.curves = options.curves;
  std::size_t post_from = split;
  if (whole) {
    if (const auto* lim = dynamic_cast<const LimiterStage*>(profile.stages[split].get())) {
      delivery.plan.limiter = lim->params(profile.targets.ceiling_dbtp);
      delivery.ceiling_dbtp = delivery.plan.limiter->ceiling_dbtp;
      post_from = split + 1;
    }
    for (std::size_t i = post_from; i < profile.stages.size(); ++i) delivery.post.push_back(profile.stages[i].get());
  }
  const bool album = whole && (options.album || profile.targets.album);
  // Whole-track deliveries run as tasks beside the chain, so that the calling thread goes on with the next
  // batches while a track (or an album) is targeted, limited, dithered, checked and written: the delivery has
  // serial parts (the meter's and the limiter's recurrences, the gain search's passes one after another) that
  // would otherwise leave cores idle. Each running delivery has its own engine of the same kind (see
  // Engine::make_companion: engines are not thread-safe), from a pool that grows to `max_deliveries`. At most
  // that many deliveries are pending (each holds its premaster); the calling thread waits for them beyond.
  // A delivery's results are handed back to the calling thread, which reports them (on_track_done is always
  // called from it). Deliveries are independent of one another, so the bits do not depend on this overlap.
  struct PendingDelivery {
    std::vector<DeliveryJob> jobs;
    std::vector<std::size_t> index;
    std::map<std::string, double> seconds;
    std::vector<AlbumReport> albums;
    std::exception_ptr error;  // anything that escaped deliver(): rethrown on the calling thread
    Clock::time_point ended;   // when deliver() returned (the tracks' end times)
  };
  const std::size_t max_deliveries =
      whole ? static_cast<std::size_t>(std::max(2, tbb::this_task_arena::max_concurrency())) : 0;
  std::vector<std::unique_ptr<Engine>> delivery_engines;
  std::vector<Engine*> free_engines;                  // guarded by pool_mutex
  std::mutex pool_mutex;
  std::vector<std::unique_ptr<PendingDelivery>> ended_deliveries;  // guarded by done_mutex
  std::mutex done_mutex;
  std::size_t deliveries_pending = 0;                 // calling thread only
  tbb::task_group deliveries;
  // Album mode: the tracks of one input folder are delivered together once all of them have left the chain.
  auto album_of = [&](std::size_t i) {
    return album ? tracks[i]->album_key() : std::to_string(i);
  };
  std::map<std::string, std::size_t> album_left;
  for (std::size_t i = 0; i < tracks.size(); ++i) ++album_left[album_of(i)];
  std::map<std::string, std::vector<DeliveryJob>> album_ready;
  std::map<std::string, std::vector<std::size_t>> album_index;

  auto finish = [&](std::size_t index, const std::string& error,
                    std::optional<Clock::time_point> ended = std::nullopt) {
    TrackReport& r = result.tracks[index];
    r.finished_at = ended.value_or(Clock::now());
    r.ok = error.empty();
    r.error = error;
    r.engine = result.engine;
    if (r.ok) result.audio_seconds += r.duration_s;
    if (on_track_done) on_track_done(r);
  };
  // Reports the deliveries that have ended (all of them after waiting, when `wait`), on the calling thread.
  auto collect_deliveries = [&](bool wait) {
    if (wait) deliveries.wait();
    std::vector<std::unique_ptr<PendingDelivery>> ended;
    {
      const std::lock_guard<std::mutex> lock(done_mutex);
      ended.swap(ended_deliveries);
    }
    std::exception_ptr error;
    for (auto& d : ended) {
      --deliveries_pending;
      for (const auto& [stage, sec] : d->seconds) result.stage_seconds[stage] += sec;
      for (auto& al : d->albums) result.albums.push_back(std::move(al));
      if (d->error && !error) error = d->error;
      for (std::size_t k = 0; k < d->jobs.size(); ++k) finish(d->index[k], d->jobs[k].error, d->ended);
    }
    if (error) std::rethrow_exception(error);
  };
  // Nothing lost when an error ends the run (a GpuError from the chain, see host/master_fallback.hpp): the
  // deliveries still running end (before their engines and tracks go away), and every delivery that ended is
  // reported before the error goes on. A run that ends normally has waited for them all.
  struct OnUnwind {
    std::function<void()> fn;
    int before = std::uncaught_exceptions();
    ~OnUnwind() {
      if (std::uncaught_exceptions() > before) fn();
    }
  } report_on_error{[&] {
    deliveries.wait();
    try {
      collect_deliveries(false);
    } catch (...) {  // the first error is the one that goes on
    }
  }};
  // Whole-track delivery: a track that left the chain (`job` set) or failed before (`job` null) counts down its
  // album; the album is delivered when none is left.
  auto album_step = [&](std::size_t index, DeliveryJob* job, const std::string& error) {
    const std::string key = album_of(index);
    if (job) {
      album_ready[key].push_back(std::move(*job));
      album_index[key].push_back(index);
    } else {
      finish(index, error);
    }
    if (--album_left[key] > 0) return;
    auto& jobs = album_ready[key];
    auto& idx = album_index[key];
    // The album's order is the input order (tracks leave the chain in order of length, not of position).
    std::vector<std::size_t> order(jobs.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return idx[x] < idx[y]; });
    std::vector<DeliveryJob> sorted_jobs;
    std::vector<std::size_t> sorted_idx;
    for (std::size_t k : order) {
      sorted_jobs.push_back(std::move(jobs[k]));
      sorted_idx.push_back(idx[k]);
    }
    jobs = std::move(sorted_jobs);
    idx = std::move(sorted_idx);
    auto d = std::make_unique<PendingDelivery>();
    d->jobs = std::move(jobs);
    d->index = std::move(idx);
    album_ready.erase(key);
    album_index.erase(key);
    if (d->jobs.empty()) return;
    if (deliveries_pending >= max_deliveries) collect_deliveries(true);
    Engine* own = nullptr;
    {
      const std::lock_guard<std::mutex> lock(pool_mutex);
      if (free_engines.empty()) {
        delivery_engines.push_back(engine.make_companion());
        free_engines.push_back(delivery_engines.back().get());
      }
      own = free_engines.back();
      free_engines.pop_back();
    }
    ++deliveries_pending;
    deliveries.run([&, own, work = d.release()] {
      std::unique_ptr<PendingDelivery> w(work);
      try {
        deliver(w->jobs, album, delivery, *own, w->seconds, &w->albums);
      } catch (...) {
        w->error = std::current_exception();
      }
      w->ended = Clock::now();
      {
        const std::lock_guard<std::mutex> lock(pool_mutex);
        free_engines.push_back(own);
      }
      const std::lock_guard<std::mutex> lock(done_mutex);
      ended_deliveries.push_back(std::move(w));
    });
  };
  auto fail = [&](std::size_t index, const std::string& error) {
    if (whole)
      album_step(index, nullptr, error);
    else
      finish(index, error);
  };

  // The analysis pass measures the input's spectrum only when a stage needs it (the match stage).
  const bool want_spectrum = std::any_of(profile.stages.begin(), profile.stages.end(),
                                         [](const auto& st) { return st->wants_input_spectrum(); });

  std::vector<Active> active;
  std::deque<Active> waiting;        // analysed, waiting for room in the batch (max_batch_samples)
  std::int64_t batch_samples = 0;    // the active tracks' samples per batch (segment x channels)
  std::size_t next = 0;
  BlockBatch batch;
  batch.bits = bits;
  double t_decode = 0, t_analysis = 0, t_encode = 0;

  while (true) {
    // Admit tracks into free slots: analyse them side by side, then start their outputs.
    if (active.size() + waiting.size() < width && next < tracks.size()) {
      const std::size_t take = std::min(width - active.size() - waiting.size(), tracks.size() - next);
      std::vector<Active> admitted(take);
      const auto t0 = Clock::now();
      tbb::parallel_for(std::size_t{0}, take, [&](std::size_t k) {
        Active& a = admitted[k];
        a.index = next + k;
        TrackIo& io = *tracks[a.index];
        TrackReport& r = result.tracks[a.index];
        try {
          if (!options.overwrite && io.output_exists())
            throw OutputError("output exists: " + io.output_name(), "pass --overwrite to replace it");
          r.started_at = Clock::now();
          a.analysis = analyse(io, seg, want_spectrum, options.curves);
          r.curves = std::move(a.analysis.curves);
          const AudioInfo& info = a.analysis.info;
          r.rate_hz = info.rate_hz;
          r.channels = info.channels;
          r.frames = a.analysis.frames;
          r.duration_s = static_cast<double>(a.analysis.frames) / info.rate_hz;
          r.content_key = hex64(a.analysis.key);
          r.input_peak_dbfs = a.analysis.peak > 0 ? 20.0 * std::log10(a.analysis.peak) : r.input_peak_dbfs;
          r.input_loudness = a.analysis.loudness;
          if (!whole) {
            a.output_meter = std::make_unique<meter::TrackMeter>(info.rate_hz, info.channels);
            if (options.curves) a.output_spectrum.emplace(info.rate_hz, info.channels, /*overlap=*/false);
          }
          r.metadata = info.metadata;
          // Each stage plans the track (filters designed for this rate, state made); the segment length is the
          // option rounded up to a multiple of every stage's block.
          TrackShape shape{info.rate_hz, info.channels, a.analysis.dc_offset, a.analysis.frames, 0, 0,
                           a.analysis.spectrum};
          std::int64_t block = 1;
          for (const auto& stage : profile.stages) {
            shape.latency_before = a.latency;
            shape.tail_before = a.tail;
            TrackPlan plan = stage->start_track(shape);
            a.states.push_back(std::move(plan.state));
            a.latency += plan.latency_frames;
            a.tail += plan.tail_frames;
            block = std::max(block, plan.block_frames);
          }
          a.segment = (seg + block - 1) / block * block;
          if (whole) {
            // The delivery pass opens the output once the delivered rate and length are known. A track whose
            // whole-track working set would pass the budget waits for it on disk (album mode: always memory).
            const double delivered_rate = profile.delivery.sample_rate_hz.value_or(info.rate_hz);
            const double ratio = std::max(1.0, delivered_rate / static_cast<double>(info.rate_hz));
            const double working = static_cast<double>(a.analysis.frames + a.tail) * info.channels * ratio *
                                   static_cast<double>(kWholeTrackBytesPerSample);
            if (!album && working > static_cast<double>(options.track_memory_bytes)) {
              a.store = std::make_unique<SampleStore>(info.channels);
            } else {
              a.premaster.assign(static_cast<std::size_t>(info.channels), {});
              for (auto& ch : a.premaster) ch.reserve(static_cast<std::size_t>(a.analysis.frames + a.tail));
            }
          } else {
            WriterSpec spec{format, bits, info.rate_hz, info.channels, info.metadata, a.analysis.frames + a.tail};
            io.open_output(spec, options.overwrite);
          }
        } catch (const Error& e) {
          a.error = e.message();
        } catch (const std::exception& e) {
          a.error = e.what();
        }
        if (!a.error.empty()) io.abandon();
      });
      t_analysis += seconds_since(t0);
      next += take;
      for (auto& a : admitted) {
        if (a.error.empty())
          waiting.push_back(std::move(a));
        else
          fail(a.index, a.error);
      }
      continue;  // fill every slot before running a batch
    }
    // Analysed tracks join the batch in order while its samples stay within options.max_batch_samples (a device
    // memory budget); a batch always takes at least one track. Batch composition never changes the bits.
    while (!waiting.empty()) {
      const Active& a = waiting.front();
      const std::int64_t samples = a.segment * a.analysis.info.channels;
      if (!active.empty() && options.max_batch_samples > 0 && batch_samples + samples > options.max_batch_samples)
        break;
      batch_samples += samples;
      active.push_back(std::move(waiting.front()));
      waiting.pop_front();
    }
    if (whole) collect_deliveries(false);
    if (active.empty()) break;

    // Decode the next segment of every active track, side by side.
    auto t0 = Clock::now();
    tbb::parallel_for(std::size_t{0}, active.size(), [&](std::size_t s) {
      Active& a = active[s];
      const auto channels = static_cast<std::size_t>(a.analysis.info.channels);
      const std::int64_t stream_want = std::min(a.segment, a.stream_frames() - a.fed_frames);
      const std::int64_t want = std::min(stream_want, a.analysis.frames - a.read_frames);
      a.staging.assign(static_cast<std::size_t>(stream_want) * channels, 0.0f);  // flush frames stay zero
      try {
        std::int64_t got = 0;
        while (got < want) {
          const std::int64_t n = tracks[a.index]->read_interleaved(a.staging.data() + got * channels, want - got);
          if (n <= 0) break;
          got += n;
        }
        if (got != want)
          throw InputError("the file changed while it was being mastered (fewer frames on the second read)",
                           "do not modify inputs during a run");
        a.read_frames += got;
        a.seg_frames = stream_want;
      } catch (const Error& e) {
        a.error = e.message();
        a.seg_frames = 0;
      }
    });
    batch.clear();
    batch.bits = bits;
    for (std::size_t s = 0; s < active.size(); ++s) {
      Active& a = active[s];
      const auto channels = static_cast<std::size_t>(a.analysis.info.channels);
      for (std::size_t c = 0; c < channels; ++c) {
        float* dst = batch.add_block(static_cast<std::uint32_t>(s), static_cast<std::uint32_t>(c), a.fed_frames,
                                     a.seg_frames, a.analysis.key, a.latency);
        const float* src = a.staging.data() + c;
        for (std::int64_t i = 0; i < a.seg_frames; ++i) dst[i] = src[static_cast<std::size_t>(i) * channels];
      }
    }
    batch.slots = static_cast<int>(active.size());
    t_decode += seconds_since(t0);

    // The chain, one launch per stage over the whole batch.
    engine.load(batch);
    std::vector<StageState*> states(active.size());
    for (std::size_t i = 0; i < split; ++i) {
      const Stage& stage = *profile.stages[i];
      for (std::size_t s = 0; s < active.size(); ++s) states[s] = active[s].states[i].get();
      const auto ts = Clock::now();
      stage.process(engine, batch, states);
      engine.synchronize();
      result.stage_seconds[stage.type()] += seconds_since(ts);
    }
    engine.store(batch);

    // Encode, side by side; finished tracks are committed (temp file -> fsync -> rename).
    t0 = Clock::now();
    std::vector<std::size_t> first_block(active.size());
    for (std::size_t b = batch.blocks.size(); b-- > 0;) first_block[batch.blocks[b].slot] = b;
    tbb::parallel_for(std::size_t{0}, active.size(), [&](std::size_t s) {
      Active& a = active[s];
      if (!a.error.empty()) return;
      TrackIo& io = *tracks[a.index];
      const auto channels = static_cast<std::size_t>(a.analysis.info.channels);
      try {
        // Frames of the stream before `latency` are pre-roll: skip them.
        const std::int64_t skip = std::clamp<std::int64_t>(a.latency - a.fed_frames, 0, a.seg_frames);
        const std::int64_t frames = a.seg_frames - skip;
        if (whole && a.store) {
          std::vector<const float*> planar(channels);
          for (std::size_t c = 0; c < channels; ++c)
            planar[c] = batch.samples.data() + batch.blocks[first_block[s] + c].offset + skip;
          if (frames > 0) a.store->append(planar, frames);
        } else if (whole) {
          for (std::size_t c = 0; c < channels; ++c) {
            const float* src = batch.samples.data() + batch.blocks[first_block[s] + c].offset + skip;
            if (frames > 0) a.premaster[c].insert(a.premaster[c].end(), src, src + frames);
          }
        } else if (frames > 0 && batch.quantised_valid) {
          std::vector<const std::int32_t*> planar(channels);
          for (std::size_t c = 0; c < channels; ++c)
            planar[c] = batch.quantised.data() + batch.blocks[first_block[s] + c].offset + skip;
          io.write_pcm(planar, frames);
          // The meter reads the delivered words: left-justified int32 / 2^31 is exact in float.
          std::vector<std::vector<float>> delivered(channels, std::vector<float>(static_cast<std::size_t>(frames)));
          std::vector<const float*> ptrs(channels);
          for (std::size_t c = 0; c < channels; ++c) {
            words_as_float(planar[c], frames, delivered[c].data());
            ptrs[c] = delivered[c].data();
          }
          a.output_meter->add(ptrs, frames);
          if (a.output_spectrum) a.output_spectrum->add(ptrs, frames);
        } else if (frames > 0) {
          std::vector<const float*> planar(channels);
          for (std::size_t c = 0; c < channels; ++c)
            planar[c] = batch.samples.data() + batch.blocks[first_block[s] + c].offset + skip;
          io.write_float(planar, frames);
          a.output_meter->add(planar, frames);
          if (a.output_spectrum) a.output_spectrum->add(planar, frames);
        }
        a.fed_frames += a.seg_frames;
        a.written_frames += frames;
        if (a.fed_frames == a.stream_frames() && !whole) {
          io.commit();
          TrackReport& r = result.tracks[a.index];
          const meter::TrackReport measured = a.output_meter->finish();
          r.output_loudness = summarise(measured);
          if (r.curves && a.output_spectrum) {
            const dsp::Ltas spectrum = a.output_spectrum->finish();
            add_output_curves(*r.curves, measured, &spectrum, nullptr);
          }
        }
      } catch (const Error& e) {
        a.error = e.message();
      } catch (const std::exception& e) {
        a.error = e.what();
      }
    });
    t_encode += seconds_since(t0);

    // Retire finished and failed tracks, in slot order.
    std::vector<Active> still;
    for (std::size_t s = 0; s < active.size(); ++s) {
      Active& a = active[s];
      if (s < batch.clipped_samples.size()) result.tracks[a.index].clipped_samples += batch.clipped_samples[s];
      if (a.error.empty() && a.fed_frames == a.stream_frames()) {
        // The track has been through the whole chain: each stage adds its part to the report.
        for (std::size_t i = 0; i < profile.stages.size(); ++i)
          profile.stages[i]->report_track(a.states[i].get(), result.tracks[a.index]);
      }
      if (!a.error.empty()) {
        tracks[a.index]->abandon();
        fail(a.index, a.error);
      } else if (a.fed_frames == a.stream_frames() && whole) {
        DeliveryJob job;
        job.io = tracks[a.index].get();
        job.report = &result.tracks[a.index];
        job.premaster = std::move(a.premaster);
        job.stored = std::move(a.store);
        job.rate_hz = a.analysis.info.rate_hz;
        job.key = a.analysis.key;
        job.metadata = a.analysis.info.metadata;
        album_step(a.index, &job, "");
      } else if (a.fed_frames == a.stream_frames()) {
        finish(a.index, "");
      } else {
        still.push_back(std::move(a));
      }
    }
    active = std::move(still);
    batch_samples = 0;
    for (const Active& a : active) batch_samples += a.segment * a.analysis.info.channels;
  }

  if (whole) collect_deliveries(true);
  result.stage_seconds["analysis"] += t_analysis;
  result.stage_seconds["decode"] += t_decode;
  result.stage_seconds["encode"] += t_encode;
  result.wall_seconds = seconds_since(t_start);
  return result;
}

}  // namespace lathe::host
