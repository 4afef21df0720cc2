// `lathe master INPUT... -o OUTDIR`: plan the jobs, pick the engine, master, print a table, write the report.
#include <tbb/global_control.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/commands.hpp"
#include "host/engine/engine.hpp"
#include "host/errors.hpp"
#include "host/io/atomic_file.hpp"
#include "host/io/jobs.hpp"
#include "host/master.hpp"
#include "host/profile/profile.hpp"
#include "host/report/report.hpp"

namespace lathe::cli {
namespace fs = std::filesystem;
using namespace lathe::host;

void print_error(const std::string& what) { std::cerr << "lathe: error: " << what << "\n"; }

CLI::App* add_master(CLI::App& app, MasterArgs& a) {
  CLI::App* cmd = app.add_subcommand("master", "Master audio files or folders into OUTDIR with a profile");
  cmd->add_option("INPUT", a.inputs, "Audio files, or folders searched recursively (structure mirrored in OUTDIR)")
      ->required();
  cmd->add_option("-o,--output", a.out_dir, "Output folder (created if missing)")->required();
  cmd->add_option("-p,--profile", a.profile, "Built-in profile name (see `lathe profiles`) or a .toml file")
      ->capture_default_str();
  cmd->add_option("-e,--engine", a.engine,
                  "auto: the GPU when one works, else the CPU (says which); cpu; gpu: fail with exit 3 without one")
      ->check(CLI::IsMember({"auto", "cpu", "gpu"}))
      ->capture_default_str();
  cmd->add_option("--format", a.format, "Output container, overriding the profile's delivery")
      ->check(CLI::IsMember({"wav", "flac", "aiff"}));
  cmd->add_option("--bits", a.bits, "Output word length, overriding the profile's delivery (16/24 are dithered)")
      ->check(CLI::IsMember({"16", "24", "32f"}));
  cmd->add_option("--threads", a.threads, "CPU threads (default: all cores)")->check(CLI::Range(1, 4096));
  cmd->add_option("--report", a.report, "Write a JSON report of the run to this file");
  cmd->add_flag("--overwrite", a.overwrite, "Replace outputs that already exist (never an input)");
  cmd->add_flag("--album", a.album,
                "Album mode: the tracks of each input folder get one common gain so that the album hits the "
                "profile's loudness target, keeping their relative levels (also [targets] album = true)");
  cmd->add_flag("-q,--quiet", a.quiet, "Print only errors and the summary");
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
              << engine->description() << "\n";
    std::cout << "status     rate  ch  duration  peakdB LUFS-in LUFSout   LRA dBTPout  gain    GR clipped  track\n";
  }
  const MasterResult result = master_tracks(tracks, profile, *engine, options, [&](const TrackReport& r) {
    if (!a.quiet) print_row(r);
    if (!r.ok) print_error(r.input + ": " + r.error);
  });

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
      return kExitSomeFailed;
    }
  }
  return failed > 0 || album_failures > 0 ? kExitSomeFailed : kExitOk;
}

}  // namespace lathe::cli
