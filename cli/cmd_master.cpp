// `lathe master INPUT... -o OUTDIR`: plan the jobs, pick the engine, master, print a table, write the report.
#include <tbb/global_control.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>

#include "cli/commands.hpp"
#include "host/engine/engine.hpp"
#include "host/errors.hpp"
#include "host/io/atomic_file.hpp"
#include "host/io/jobs.hpp"
#include "host/master.hpp"
#include "host/master_fallback.hpp"
#include "host/profile/profile.hpp"
#include "host/report/report.hpp"

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
  cmd->add_option("INPUT", a.inputs, "Audio files, or folders searched recursively (structure mirrored in OUTDIR)")
      ->required();
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
  cmd->add_flag("--overwrite", a.overwrite, "Replace outputs that already exist (never an input)");
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

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

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
  Profile profile = load_profile(a.profile);  // ProfileError -> exit 2
  MasterOptions options;
  options.track_memory_bytes = a.track_memory_mib << 20;
  options.overwrite = a.overwrite;
  options.album = a.album;
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
  if (!a.report.empty()) {
    const fs::path report(a.report);
    const fs::path folder = report.parent_path().empty() ? fs::path(".") : report.parent_path();
    std::error_code ec;
    if (fs::is_directory(report, ec) || !fs::is_directory(folder, ec))
      throw UsageError("cannot write the report to " + report.string(),
                       "give --report a file name in an existing folder");
  }
  // The output root must exist and be writable before anything starts.
  const fs::path out_dir(a.out_dir);
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec || !fs::is_directory(out_dir) || ::access(out_dir.c_str(), W_OK | X_OK) != 0)
    throw OutputError("cannot write to output folder " + out_dir.string() + (ec ? ": " + ec.message() : ""),
                      "choose an output folder you can write to (-o)");

  JobPlan plan = plan_jobs(a.inputs, out_dir, format);
  for (const auto& p : plan.problems) print_error(p.input + ": " + p.message);
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
  const FallbackResult run =
      master_with_fallback(tracks, profile, std::span<Engine* const>(engines), fallback, options, on_track_done, warn);
  const MasterResult& result = run.result;
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
  const int written = static_cast<int>(result.tracks.size()) - result.failed();
  std::cout << written << " written, " << failed << " failed; " << fixed(result.audio_seconds, 1) << " s of audio in "
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

  if (!a.report.empty()) {
    nlohmann::json j = make_report(result, profile, format, bits);
    for (const auto& p : plan.problems)
      j["tracks"].push_back({{"input", p.input}, {"status", "failed"}, {"error", p.message}});
    j["summary"]["failed"] = failed;
    j["summary"]["tracks"] = static_cast<int>(result.tracks.size() + plan.problems.size());
    try {
      write_text_atomically(a.report, j.dump(2) + "\n");
    } catch (const Error& e) {
      // The masters are written; only the report is lost: a partial failure, not a usage error.
      print_error("report: " + e.message());
      return run.stopped ? kExitEngineUnavailable : kExitSomeFailed;
    }
  }
  if (run.stopped) return kExitEngineUnavailable;
  return failed > 0 || album_failures > 0 ? kExitSomeFailed : kExitOk;
}

}  // namespace lathe::cli
