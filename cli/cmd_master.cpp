// `lathe master INPUT... -o OUTDIR`: plan the jobs, pick the engine, master, print a table, write the report.
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>

#include "cli/commands.hpp"
#include "host/engine/engine.hpp"
#include "host/errors.hpp"
#include "host/io/atomic_file.hpp"
#include "host/io/jobs.hpp"
#include "host/io/manifest.hpp"
#include "host/io/resume.hpp"
#include "host/master.hpp"
#include "host/master_fallback.hpp"
#include "host/run_plan.hpp"
#include "host/profile/profile.hpp"
#include "host/report/report.hpp"
#include "host/report/report_html.hpp"
#include "host/util/text.hpp"

namespace lathe::cli {
namespace fs = std::filesystem;
using namespace lathe::host;

void print_error(const std::string& what) { std::cerr << "lathe: error: " << what << "\n"; }

namespace {

// The progress line on a terminal: tracks done, audio done, speed and the time left, redrawn in place on stderr
// after each track (and cleared before anything else is printed). Off when stderr is not a terminal or with
// --quiet, so logs and pipes get only the table.
class Progress {
 public:
  Progress(std::size_t total, bool enabled) : total_(total), enabled_(enabled), start_(Clock::now()) {}
  void track_done(const TrackReport& r) {
    ++done_;
    if (r.ok) audio_s_ += r.duration_s;
  }
  void draw() {
    if (!enabled_ || done_ == 0) return;
    const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    const double left = elapsed / static_cast<double>(done_) * static_cast<double>(total_ - done_);
    char line[160];
    std::snprintf(line, sizeof line, "[%zu/%zu tracks] %s of audio, %.1fx real time, about %s left", done_, total_,
                  clock_text(audio_s_).c_str(), elapsed > 0 ? audio_s_ / elapsed : 0.0, clock_text(left).c_str());
    std::cerr << "\r" << line << "\033[K" << std::flush;
    drawn_ = true;
  }
  void clear() {
    if (drawn_) std::cerr << "\r\033[K" << std::flush;
    drawn_ = false;
  }

 private:
  using Clock = std::chrono::steady_clock;
  // Whole seconds: "42s", "3:07", "2:03:07".
  static std::string clock_text(double seconds) {
    const long long s = std::llround(std::max(0.0, seconds));
    char buf[48];
    if (s >= 3600)
      std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
    else if (s >= 60)
      std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
    else
      std::snprintf(buf, sizeof buf, "%llds", s);
    return buf;
  }
  std::size_t total_, done_ = 0;
  bool enabled_;
  bool drawn_ = false;
  double audio_s_ = 0;
  Clock::time_point start_;
};

}  // namespace

CLI::App* add_master(CLI::App& app, MasterArgs& a) {
  CLI::App* cmd = app.add_subcommand("master", "Master audio files or folders into OUTDIR with a profile");
  CLI::Option* inputs =
      cmd->add_option("INPUT", a.inputs, "Audio files, or folders searched recursively (structure mirrored in OUTDIR)");
  CLI::Option* manifest = cmd->add_option(
      "--manifest", a.manifest,
      "A CSV or JSON list of tracks instead of INPUT: input, output name, profile, album, track number and "
      "per-track target/ceiling/trim (docs/manifest.md); outputs never leave OUTDIR");
  inputs->excludes(manifest);
  manifest->excludes(inputs);
  cmd->add_option("--shard", a.shard,
                  "K/N: master only the manifest rows of shard K of N (a stable split by output name, for job arrays)")
      ->needs(manifest);
  cmd->add_option("-o,--output", a.out_dir, "Output folder (created if missing)")->required();
  cmd->add_option("-p,--profile", a.profile, "Built-in profile name (see `lathe profiles`) or a .toml file")
      ->capture_default_str();
  cmd->add_option("-e,--engine", a.engine,
                  "auto: the GPU when one works, else the CPU (says which), and the CPU with a warning for the "
                  "tracks a GPU error mid-run left unfinished; cpu; gpu: exit 3 without a usable GPU, or after a GPU "
                  "error mid-run (finished tracks are kept, the others reported as failed)")
      ->check(CLI::IsMember({"auto", "cpu", "gpu"}))
      ->capture_default_str();
  cmd->add_option("--gpus", a.gpus,
                  "GPUs the GPU engine uses: all, or numbers from 0 separated by commas (default 0); tracks are "
                  "shared out in batches, with the same bits whatever the count");
  cmd->add_option("--gpu-memory", a.gpu_memory_mib,
                  "MiB of device memory lathe may hold on each GPU (default: no cap); batches shrink to fit half of "
                  "it, and an allocation past it is a GPU error (auto: the CPU takes over)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 30));
  cmd->add_option("--format", a.format, "Output container, overriding the profile's delivery")
      ->check(CLI::IsMember({"wav", "flac", "aiff"}));
  cmd->add_option("--bits", a.bits, "Output word length, overriding the profile's delivery (16/24 are dithered)")
      ->check(CLI::IsMember({"16", "24", "32f"}));
  cmd->add_option("--threads", a.threads, "CPU threads (default: all cores)")->check(CLI::Range(1, 4096));
  cmd->add_option("--track-memory", a.track_memory_mib,
                  "MiB of host memory one track's loudness targeting may hold; a longer track is delivered in "
                  "segments from a temporary file in TMPDIR, with the same result (album mode: always in memory)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 30))
      ->capture_default_str();
  cmd->add_option("--report", a.report, "Write a JSON report of the run to this file");
  cmd->add_option("--report-csv", a.report_csv,
                  "Also write the report's tracks as CSV (one row per track: status, loudness in and out, true "
                  "peak, gain, gain reduction) to this file");
  cmd->add_option("--report-html", a.report_html,
                  "Also write the report as one self-contained HTML page (opens offline): a summary with "
                  "compliance, a sortable table (open it as FILE#sort=-lufs_out to sort by a column), and plots "
                  "per track of short-term loudness and long-term spectrum before and after and of the gain "
                  "reduction; implies --report-curves");
  cmd->add_flag("--report-curves", a.report_curves,
                "Keep each track's curves (short-term loudness and spectrum in and out, gain reduction; at most "
                "about 10 kB per track) in the JSON report, for lathe report html; costs a spectrum analysis of each "
                "input and output");
  cmd->add_option("--report-plots", a.report_plots,
                  "Tracks plotted in the HTML report at most: the problem tracks first")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1000000}))
      ->capture_default_str();
  cmd->add_option("--report-rows", a.report_rows,
                  "Tracks listed in the HTML report's table at most: the problem tracks first (the summary counts "
                  "all, the CSV lists all)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{10000000}))
      ->capture_default_str();
  cmd->add_flag("--overwrite", a.overwrite, "Replace outputs that already exist (never an input)");
  cmd->add_flag("--force", a.force,
                "Master every track again, replacing existing outputs (a rerun otherwise skips the tracks it "
                "finished before with the same input, profile and options, and redoes the rest)");
  cmd->add_flag("--album", a.album,
                "Album mode: the tracks of each input folder get one common gain so that the album hits the "
                "profile's loudness target, keeping their relative levels (also [targets] album = true)");
  cmd->add_flag("-q,--quiet", a.quiet, "Print only errors and the summary (no table, no progress line)");
  cmd->add_flag("-v,--verbose", a.verbose,
                "Also print where the time went (seconds per stage, decoding, analysis, encoding) and each track's "
                "delivery details");
  return cmd;
}

std::unique_ptr<Engine> choose_engine(const std::string& choice) {
  if (choice == "cpu") return make_cpu_engine();
  if (choice == "gpu") return make_cuda_engine();  // GpuError -> exit 3 in main
  if (const std::string why = gpu_unavailable_reason(); !why.empty()) {
    std::cerr << "lathe: engine auto: " << why << "; using the CPU engine\n";
    return make_cpu_engine();
  }
  try {
    return make_cuda_engine();
  } catch (const GpuError& e) {
    std::cerr << "lathe: engine auto: GPU unusable (" << e.what() << "); using the CPU engine\n";
    return make_cpu_engine();
  }
}

// The device numbers of --gpus ("all", or "0,2"); `count` GPUs exist. Throws UsageError.
std::vector<int> parse_gpus(const std::string& text, int count) {
  if (text.empty()) return {0};
  if (text == "all") {
    std::vector<int> all;
    for (int d = 0; d < count; ++d) all.push_back(d);
    if (all.empty()) throw UsageError("--gpus all: no GPU found", "use --engine cpu");
    return all;
  }
  std::vector<int> list;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t end = std::min(text.find(',', pos), text.size());
    const std::string item = text.substr(pos, end - pos);
    const bool digits = !item.empty() && item.size() <= 4 &&
                        std::all_of(item.begin(), item.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits)
      throw UsageError("--gpus " + text + ": '" + item + "' is not a GPU number",
                       "give all, or GPU numbers from 0 separated by commas (e.g. 0,1)");
    const int d = std::stoi(item);
    if (std::find(list.begin(), list.end(), d) != list.end())
      throw UsageError("--gpus " + text + ": GPU " + item + " is listed twice", "list each GPU once");
    list.push_back(d);
    pos = end + 1;
  }
  return list;
}

namespace {

std::string lufs(const std::optional<double>& v) { return v ? fixed(*v, 1) : "gate"; }
std::string db(double v) { return std::isfinite(v) ? fixed(v, 1) : "-inf"; }

void print_row(const TrackReport& r) {
  const std::string peak = db(r.input_peak_dbfs);
  const bool in = r.rate_hz > 0, out = r.ok;
  char line[512];
  const bool delivered = out && r.delivery.whole_track;
  std::snprintf(line, sizeof line, "%-7s %7s %3s %9s %7s %7s %7s %5s %7s %6s %5s %7s  ", r.ok ? "written" : "FAILED",
                in ? std::to_string(r.rate_hz).c_str() : "-", r.channels ? std::to_string(r.channels).c_str() : "-",
                in ? format_time(r.duration_s).c_str() : "-", in ? peak.c_str() : "-",
                in ? lufs(r.input_loudness.integrated_lufs).c_str() : "-",
                out ? lufs(r.output_loudness.integrated_lufs).c_str() : "-",
                out && r.output_loudness.lra_lu ? fixed(*r.output_loudness.lra_lu, 1).c_str() : "-",
                out ? db(r.output_loudness.true_peak_dbtp).c_str() : "-",
                delivered ? fixed(r.delivery.gain_db, 1).c_str() : "-",
                delivered && r.delivery.limited ? fixed(r.delivery.max_gain_reduction_db, 1).c_str() : "-",
                in ? std::to_string(r.clipped_samples).c_str() : "-");
  std::cout << line << r.input << (r.ok ? "  ->  " + r.output : "") << "\n";
  if (delivered && !r.delivery.target_reached)
    std::cout << "        target not reached: " << r.delivery.not_reached << "\n";
  std::cout << std::flush;
}

}  // namespace

int run_master(const MasterArgs& a) {
  if (a.inputs.empty() && a.manifest.empty())
    throw UsageError("nothing to master: INPUT is required (audio files or folders), or --manifest FILE",
                     "see lathe master --help");
  Profile profile = load_profile(a.profile);  // ProfileError -> exit 2
  MasterOptions options;
  options.track_memory_bytes = a.track_memory_mib << 20;
  options.overwrite = a.overwrite;
  options.album = a.album;
  options.curves = a.report_curves || !a.report_html.empty();
  if (!a.format.empty())
    options.format = a.format == "flac" ? OutputFormat::kFlac : a.format == "aiff" ? OutputFormat::kAiff : OutputFormat::kWav;
  if (!a.bits.empty())
    options.bits = a.bits == "16" ? SampleBits::k16 : a.bits == "24" ? SampleBits::k24 : SampleBits::kFloat32;
  if (a.album && !profile.targets.integrated_lufs)
    throw UsageError("--album needs a profile with a loudness target ([targets] integrated_lufs); profile '" +
                         profile.name + "' has none",
                     "use a delivery profile such as streaming, or add a target to yours");
  const OutputFormat format = options.format.value_or(profile.delivery.format);
  const SampleBits bits = options.bits.value_or(profile.delivery.bits);
  check_format_supported(format, bits);  // UsageError -> exit 2

  std::unique_ptr<tbb::global_control> threads;
  if (a.threads > 0)
    threads = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                    static_cast<std::size_t>(a.threads));
  std::unique_ptr<Engine> engine = choose_engine(a.engine);  // GpuError -> exit 3, before anything is created
  // A GPU that fails mid-run: `auto` redoes the unfinished tracks on the CPU engine (the same bits); `gpu` was a
  // request for the GPU only, so the run stops there (exit 3 once the table and the report are out).
  // --gpus: one engine per GPU listed (the first one made above is GPU 0). It needs the GPU engine; with auto on
  // a machine without one, the CPU note above has said what runs instead.
  std::vector<std::unique_ptr<Engine>> gpu_engines;
  std::vector<Engine*> engines{engine.get()};
  if (!a.gpus.empty() && a.engine == "cpu")
    throw UsageError("--gpus " + a.gpus + " needs the GPU engine", "drop --gpus, or use --engine gpu or auto");
  if (a.gpu_memory_mib > 0 && a.engine == "cpu")
    throw UsageError("--gpu-memory needs the GPU engine", "drop --gpu-memory, or use --engine gpu or auto");
  if (engine->kind() == "gpu") {
    const std::vector<int> devices = parse_gpus(a.gpus, gpu_count());
    if (a.gpu_memory_mib > 0) {
      // Half of the budget for the chain's batch, the rest for filters, FFT plans and the deliveries' buffers.
      const auto bytes = static_cast<std::size_t>(a.gpu_memory_mib) << 20;
      for (const int d : devices) set_gpu_memory_budget(d, bytes);
      options.max_batch_samples =
          std::max<std::int64_t>(1, static_cast<std::int64_t>(bytes / 2 / kDeviceBytesPerBatchSample));
    }
    engines.clear();
    for (const int d : devices) {
      if (d == 0) {
        engines.push_back(engine.get());
        continue;
      }
      gpu_engines.push_back(make_cuda_engine(d));  // GpuError -> exit 3
      engines.push_back(gpu_engines.back().get());
    }
  } else if (!a.gpus.empty() && a.gpus != "all") {
    parse_gpus(a.gpus, 0);  // the CPU runs instead (said above), but a malformed list is still an error
  }
  std::function<std::unique_ptr<Engine>()> fallback;
  if (a.engine == "auto" && engine->kind() == "gpu") fallback = [] { return make_cpu_engine(); };

  // The report's folder must exist, so a run is never lost for want of its report.
  for (const std::string& file : {a.report, a.report_csv, a.report_html}) {
    if (file.empty()) continue;
    const fs::path report(file);
    const fs::path folder = report.parent_path().empty() ? fs::path(".") : report.parent_path();
    std::error_code ec;
    if (fs::is_directory(report, ec) || !fs::is_directory(folder, ec))
      throw UsageError("cannot write the report to " + report.string(),
                       "give --report, --report-csv and --report-html a file name in an existing folder");
  }
  // The output root must exist and be writable before anything starts.
  const fs::path out_dir(a.out_dir);
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec || !fs::is_directory(out_dir) || ::access(out_dir.c_str(), W_OK | X_OK) != 0)
    throw OutputError("cannot write to output folder " + out_dir.string() + (ec ? ": " + ec.message() : ""),
                      "choose an output folder you can write to (-o)");

  // The jobs, and the profile of each (host/run_plan.hpp).
  RunPlan planned = plan_run(profile, a.inputs, a.manifest, a.shard, out_dir, format, options);  // ManifestError: 2
  JobPlan& plan = planned.plan;
  const std::vector<const ManifestRow*>& row_of_job = planned.row_of_job;
  const std::vector<Profile>& group_profiles = planned.group_profiles;
  const std::vector<std::size_t>& group_of_job = planned.group_of_job;
  for (const auto& p : plan.problems) print_error(p.input + ": " + p.message);

  // Resume (host/io/resume.hpp): each job's fingerprint; a job finished before with the same one is skipped, the
  // others get a pending record first. In album mode an album is redone whole when any of its tracks is.
  std::vector<std::string> fingerprint(plan.jobs.size());
  std::vector<bool> skipped(plan.jobs.size(), false);
  tbb::parallel_for(std::size_t{0}, plan.jobs.size(), [&](std::size_t k) {
    const Profile& gp = group_profiles[group_of_job[k]];
    const std::string settings = std::string("version ") + LATHE_VERSION + "\nformat " +
                                 to_string(options.format.value_or(gp.delivery.format)) + "\nbits " +
                                 to_string(options.bits.value_or(gp.delivery.bits)) + "\nalbum " +
                                 (options.album ? "on" : "off") + "\nprofile\n" + gp.to_toml();
    try {
      fingerprint[k] = track_fingerprint(settings, plan.jobs[k].input);
      skipped[k] = !a.force && finished_before(out_dir, plan.jobs[k].output, fingerprint[k]);
    } catch (const Error&) {
      // Unreadable input: the track fails when it is opened, with the reader's message.
    }
  });
  {
    std::map<std::string, bool> album_redone;
    auto album_of = [&](std::size_t k) { return album_key_of(plan.jobs[k]); };
    auto in_album_mode = [&](std::size_t k) { return options.album || group_profiles[group_of_job[k]].targets.album; };
    for (std::size_t k = 0; k < plan.jobs.size(); ++k)
      if (in_album_mode(k) && !skipped[k]) album_redone[album_of(k)] = true;
    for (std::size_t k = 0; k < plan.jobs.size(); ++k)
      if (in_album_mode(k) && album_redone.count(album_of(k))) skipped[k] = false;
  }
  for (std::size_t k = 0; k < plan.jobs.size(); ++k) {
    if (skipped[k] || fingerprint[k].empty()) continue;
    Job& job = plan.jobs[k];
    job.replace_own = a.force || is_own_output(out_dir, job.output);
    write_pending_record(out_dir, job.output, fingerprint[k]);
  }
  // Temporary files that killed runs left beside this run's outputs and beside every record (a run killed while
  // it wrote one), never those of a live process.
  std::vector<fs::path> finals;
  for (std::size_t k = 0; k < plan.jobs.size(); ++k) {
    if (!skipped[k]) finals.push_back(plan.jobs[k].output);
    finals.push_back(resume_record_path(out_dir, plan.jobs[k].output));
  }
  const int stale = remove_stale_temporaries(finals);
  if (stale > 0 && !a.quiet)
    std::cerr << "lathe: removed " << stale << " temporary file(s) that interrupted runs had left in OUTDIR\n";
  if (a.force) options.overwrite = true;
  std::map<std::string, std::size_t> job_of_output;
  for (std::size_t k = 0; k < plan.jobs.size(); ++k) job_of_output[plan.jobs[k].output.string()] = k;
  std::vector<std::unique_ptr<TrackIo>> tracks;
  for (const auto& job : plan.jobs) tracks.push_back(make_file_track(job));

  if (!a.quiet) {
    std::cout << "lathe " LATHE_VERSION ": " << tracks.size() << " track(s), profile '" << profile.name << "' ("
              << profile.source << "), " << to_string(format) << " " << to_string(bits) << "-bit, engine "
              << (engines.size() > 1 ? std::to_string(engines.size()) + " GPUs, " : std::string()) +
                     engines[0]->description()
              << "\n";
    std::cout << "status     rate  ch  duration  peakdB LUFS-in LUFSout   LRA dBTPout  gain    GR clipped  track\n";
  }
  Progress progress(tracks.size(), !a.quiet && ::isatty(STDERR_FILENO) != 0);
  auto on_track_done = [&](const TrackReport& r) {
    progress.clear();
    if (r.ok) {
      // The output is committed: its record says so, with its hash (a rerun skips it).
      if (const auto it = job_of_output.find(r.output); it != job_of_output.end() && !fingerprint[it->second].empty()) {
        try {
          write_done_record(out_dir, r.output, fingerprint[it->second]);
        } catch (const Error& e) {
          print_error(r.output + ": cannot record it as finished (a rerun will master it again): " + e.message());
        }
      }
    }
    if (!a.quiet) print_row(r);
    if (!r.ok) print_error(r.input + ": " + r.error);
    if (a.verbose && r.ok && r.delivery.whole_track)
      std::cout << "        delivery: " << r.delivery.passes << " pass(es), gain " << fixed(r.delivery.gain_db, 2)
                << " dB, max GR " << fixed(r.delivery.max_gain_reduction_db, 2) << " dB, mean GR "
                << fixed(r.delivery.mean_gain_reduction_db, 2) << " dB, " << fixed(r.delivery.seconds_above_1db, 2)
                << " s above 1 dB, ceiling correction " << fixed(r.delivery.ceiling_correction_db, 3) << " dB\n";
    std::cout << std::flush;
    progress.track_done(r);
    progress.draw();
  };
  // Warnings go to stderr even with --quiet: they say why the run took another engine or stopped.
  auto warn = [&](const std::string& what) {
    progress.clear();
    std::cerr << "lathe: warning: " << what << "\n" << std::flush;
  };
  // One run per group (all of INPUT... is group 0), merged in the order of the jobs.
  MasterResult result;
  result.tracks.resize(tracks.size());
  bool stopped = false;
  for (std::size_t g = 0; g < group_profiles.size(); ++g) {
    std::vector<std::size_t> members;
    for (std::size_t k = 0; k < tracks.size(); ++k)
      if (group_of_job[k] == g && !skipped[k]) members.push_back(k);
    if (members.empty()) continue;
    std::vector<std::unique_ptr<TrackIo>> group_tracks;
    for (const std::size_t k : members) group_tracks.push_back(std::move(tracks[k]));
    const FallbackResult run = master_with_fallback(group_tracks, group_profiles[g],
                                                    std::span<Engine* const>(engines), fallback, options,
                                                    on_track_done, warn);
    for (std::size_t m = 0; m < members.size(); ++m) {
      tracks[members[m]] = std::move(group_tracks[m]);
      result.tracks[members[m]] = run.result.tracks[m];
    }
    for (const auto& al : run.result.albums) result.albums.push_back(al);
    for (const auto& [stage, sec] : run.result.stage_seconds) result.stage_seconds[stage] += sec;
    result.audio_seconds += run.result.audio_seconds;
    result.wall_seconds += run.result.wall_seconds;
    if (result.started_at == std::chrono::steady_clock::time_point{}) result.started_at = run.result.started_at;
    if (result.engine.empty() || run.result.engine.find(" then ") != std::string::npos ||
        run.result.engine.find("stopped") != std::string::npos)
      result.engine = run.result.engine;
    stopped = stopped || run.stopped;
  }
  if (result.engine.empty()) result.engine = engines[0]->description();
  // Skipped tracks: finished by an earlier run, reported as such.
  std::size_t skipped_count = 0;
  for (std::size_t k = 0; k < tracks.size(); ++k) {
    if (!skipped[k]) continue;
    ++skipped_count;
    result.tracks[k].input = plan.jobs[k].input.string();
    result.tracks[k].output = plan.jobs[k].output.string();
    result.tracks[k].ok = true;
    if (!a.quiet)
      std::cout << "skipped  (finished before)  " << result.tracks[k].input << "  ->  " << result.tracks[k].output
                << "\n";
  }
  progress.clear();

  for (const AlbumReport& al : result.albums) {
    if (!al.error.empty()) {
      print_error("album file: " + al.error);
    } else if (!a.quiet) {
      std::cout << "album   " << al.tracks << " track(s), " << format_time(static_cast<double>(al.frames) / al.rate_hz)
                << ", " << lufs(al.loudness.integrated_lufs) << " LUFS, " << db(al.loudness.true_peak_dbtp)
                << " dBTP  ->  " << al.output << " + " << al.cue << "\n";
    }
  }
  const int album_failures = static_cast<int>(
      std::count_if(result.albums.begin(), result.albums.end(), [](const AlbumReport& al) { return !al.error.empty(); }));
  const int failed = result.failed() + static_cast<int>(plan.problems.size());
  const int written = static_cast<int>(result.tracks.size()) - result.failed() - static_cast<int>(skipped_count);
  std::cout << written << " written, "
            << (skipped_count ? std::to_string(skipped_count) + " skipped (finished before), " : std::string())
            << failed << " failed; " << fixed(result.audio_seconds, 1) << " s of audio in "
            << fixed(result.wall_seconds, 2) << " s ("
            << fixed(result.wall_seconds > 0 ? result.audio_seconds / result.wall_seconds : 0.0, 1)
            << "x real time) on " << result.engine << "\n";
  if (a.verbose) {
    double in_stages = 0;
    std::cout << "seconds:";
    const char* sep = " ";
    for (const auto& [stage, s] : result.stage_seconds) {
      std::cout << sep << stage << " " << fixed(s, 2);
      sep = ", ";
      in_stages += s;
    }
    // Deliveries run beside the chain, so the stages' seconds add up over work that overlaps.
    std::cout << "; " << fixed(in_stages, 2) << " in stages over " << fixed(result.wall_seconds, 2)
              << " s of wall time (work overlaps)\n";
  }

  if (!a.report.empty() || !a.report_csv.empty() || !a.report_html.empty()) {
    nlohmann::json j = make_report(result, profile, format, bits);
    // A manifest run says, per track, which row it came from and the profile and overrides it was mastered with.
    for (std::size_t k = 0; k < row_of_job.size() && k < j["tracks"].size(); ++k) {
      const ManifestRow& r = *row_of_job[k];
      nlohmann::json m = {{"row", r.where}, {"profile", group_profiles[group_of_job[k]].name}};
      if (!r.album.empty()) m["album"] = r.album;
      if (r.track_number > 0) m["track"] = r.track_number;
      if (r.target_lufs) m["target_lufs"] = *r.target_lufs;
      if (r.ceiling_dbtp) m["ceiling_dbtp"] = *r.ceiling_dbtp;
      if (r.trim_db) m["trim_db"] = *r.trim_db;
      j["tracks"][k]["manifest"] = m;
      if (j["tracks"][k].contains("stages")) {
        nlohmann::json stages = nlohmann::json::array();
        for (const auto& st : group_profiles[group_of_job[k]].stages) stages.push_back(st->type());
        j["tracks"][k]["stages"] = stages;
      }
    }
    if (!a.shard.empty()) j["shard"] = a.shard;
    j["summary"]["skipped"] = skipped_count;
    j["summary"]["written"] = j["summary"]["written"].get<int>() - static_cast<int>(skipped_count);
    for (std::size_t k = 0; k < skipped.size() && k < j["tracks"].size(); ++k)
      if (skipped[k])
        j["tracks"][k] = {{"input", plan.jobs[k].input.string()}, {"output", plan.jobs[k].output.string()},
                          {"status", "skipped"}};
    for (const auto& p : plan.problems)
      j["tracks"].push_back({{"input", p.input}, {"status", "failed"}, {"error", p.message}});
    j["summary"]["failed"] = failed;
    j["summary"]["tracks"] = static_cast<int>(result.tracks.size() + plan.problems.size());
    try {
      if (!a.report.empty()) write_text_atomically(a.report, report_text(j));
      if (!a.report_csv.empty()) write_text_atomically(a.report_csv, report_csv(j));
      if (!a.report_html.empty()) {
        HtmlReportOptions html;
        html.max_plotted_tracks = a.report_plots;
        html.max_table_rows = a.report_rows;
        write_text_atomically(a.report_html, report_html(j, html));
      }
    } catch (const Error& e) {
      // The masters are written; only the report is lost: a partial failure, not a usage error.
      print_error("report: " + e.message());
      return stopped ? kExitEngineUnavailable : kExitSomeFailed;
    }
  }
  if (stopped) return kExitEngineUnavailable;
  return failed > 0 || album_failures > 0 ? kExitSomeFailed : kExitOk;
}

}  // namespace lathe::cli
