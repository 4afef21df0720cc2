// Subcommands of the lathe CLI: each file parses its options, calls host/, prints, and picks the exit code.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lathe::host {
class Engine;
}

namespace lathe::cli {

// Exit codes (README "Exit codes", `lathe --help`).
inline constexpr int kExitOk = 0;
inline constexpr int kExitSomeFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitEngineUnavailable = 3;  // --engine gpu without a usable GPU, or stopped by a GPU error

struct MasterArgs {
  std::vector<std::string> inputs;
  std::string manifest;  // instead of inputs
  std::string shard;     // "K/N", manifest runs
  std::string out_dir;
  std::string profile = "streaming";
  std::string engine = "auto";
  std::string gpus;  // empty: GPU 0
  std::int64_t gpu_memory_mib = 0;  // 0: no budget
  std::string format;
  std::string bits;
  int threads = 0;
  std::int64_t track_memory_mib = 1024;
  std::string report;
  std::string report_csv;
  std::string report_html;
  bool report_curves = false;  // curves in the JSON report (always with --report-html)
  std::size_t report_plots = 200;
  std::size_t report_rows = 5000;
  bool overwrite = false;
  bool force = false;
  bool quiet = false;
  bool verbose = false;
  bool album = false;
};
CLI::App* add_master(CLI::App& app, MasterArgs& args);
int run_master(const MasterArgs& args);

struct ProfilesArgs {
  std::string show;
};
CLI::App* add_profiles(CLI::App& app, ProfilesArgs& args);
int run_profiles(const ProfilesArgs& args);

struct DemoArgs {
  std::string out_dir = "demo-in";
  bool overwrite = true;
};
CLI::App* add_demo(CLI::App& app, DemoArgs& args);
int run_demo(const DemoArgs& args);

struct AnalyzeArgs {
  std::vector<std::string> inputs;
  std::string json;  // file, or "-" for stdout
  std::string csv;   // file, or "-" for stdout
  bool album = false;
  int threads = 0;
  bool quiet = false;
  std::string engine = "cpu";
};
CLI::App* add_analyze(CLI::App& app, AnalyzeArgs& args);
int run_analyze(const AnalyzeArgs& args);

struct VerifyArgs {
  std::string out_dir;
  std::string profile = "streaming";
  bool album = false;
  int threads = 0;
  bool quiet = false;
};
CLI::App* add_verify(CLI::App& app, VerifyArgs& args);
int run_verify(const VerifyArgs& args);

struct ReportArgs {
  std::string action;  // "merge" or "html": the subcommand given
  std::vector<std::string> inputs;
  std::string output;
  std::size_t plots = 200;  // html: tracks with plots at most
  std::size_t rows = 5000;  // html: tracks in the table at most
};
CLI::App* add_report(CLI::App& app, ReportArgs& args);
int run_report(const ReportArgs& args);

// The engine for --engine auto|cpu|gpu: auto falls back to the CPU with a note on stderr; gpu throws GpuError
// (exit 3) when no GPU works.
std::unique_ptr<host::Engine> choose_engine(const std::string& choice);

// "lathe: error: <what>" on stderr.
void print_error(const std::string& what);

}  // namespace lathe::cli
