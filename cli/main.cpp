// lathe: batch mastering on GPU or CPU with bit-identical results.
#include <csignal>
#include <iostream>

#include "cli/commands.hpp"
#include "host/engine/engine.hpp"
#include "host/errors.hpp"

namespace {

const char* kExitCodesText =
    "Exit codes:\n"
    "  0  every track was written\n"
    "  1  the batch finished but some tracks failed (the others are written; see the errors and the report)\n"
    "  2  usage or profile error: nothing was processed\n"
    "  3  the requested engine is unavailable (--engine gpu without a usable GPU, or a GPU error stopped it)\n";

void print_version() {
  std::cout << "lathe " LATHE_VERSION "\n";
#if defined(LATHE_HAVE_CUDA)
  std::cout << "engines: cpu (oneTBB), gpu (CUDA " LATHE_CUDA_VERSION ")\n";
  const std::string why = lathe::host::gpu_unavailable_reason();
  if (why.empty())
    std::cout << "gpu: " << lathe::host::gpu_description() << "\n";
  else
    std::cout << "gpu: none (" << why << ")\n";
#else
  std::cout << "engines: cpu (oneTBB); built without CUDA\n";
  std::cout << "gpu: none (" << lathe::host::gpu_unavailable_reason() << ")\n";
#endif
}

}  // namespace

int main(int argc, char** argv) {
  using namespace lathe::cli;
  // A file-size limit (ulimit -f) must surface as a write error on the track, not kill the whole batch.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"lathe: masters finished mixes into release-ready files, thousands at a time, on a GPU (CUDA) or the "
               "CPU (oneTBB) with bit-identical results.",
               "lathe"};
  app.footer(kExitCodesText);
  app.require_subcommand(0, 1);
  bool version = false;
  app.add_flag("--version", version, "Print the version, the engines built in and the GPU found");

  MasterArgs master;
  ProfilesArgs profiles;
  DemoArgs demo;
  AnalyzeArgs analyze;
  VerifyArgs verify;
  ReportArgs report;
  CLI::App* master_cmd = add_master(app, master);
  CLI::App* analyze_cmd = add_analyze(app, analyze);
  CLI::App* verify_cmd = add_verify(app, verify);
  CLI::App* report_cmd = add_report(app, report);
  CLI::App* profiles_cmd = add_profiles(app, profiles);
  CLI::App* demo_cmd = add_demo(app, demo);
  master_cmd->footer(kExitCodesText);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  try {
    if (version) {
      print_version();
      return kExitOk;
    }
    if (*master_cmd) return run_master(master);
    if (*analyze_cmd) return run_analyze(analyze);
    if (*verify_cmd) return run_verify(verify);
    if (*report_cmd) return run_report(report);
    if (*profiles_cmd) return run_profiles(profiles);
    if (*demo_cmd) return run_demo(demo);
    std::cout << app.help();
    return kExitUsage;
  } catch (const lathe::host::GpuError& e) {
    print_error(e.message());
    return kExitEngineUnavailable;
  } catch (const lathe::host::Error& e) {
    print_error(e.message());
    return kExitUsage;
  } catch (const std::exception& e) {
    print_error(std::string("internal error: ") + e.what() + " (please report this with the command line)");
    return kExitSomeFailed;
  }
}
