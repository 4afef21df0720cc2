// `lathe report merge -o MERGED.json REPORT.json...`: joins the reports of a sharded catalogue run.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "host/errors.hpp"
#include "host/io/atomic_file.hpp"
#include "host/report/report.hpp"

namespace lathe::cli {
using namespace lathe::host;

CLI::App* add_report(CLI::App& app, ReportArgs& a) {
  CLI::App* cmd = app.add_subcommand("report", "Work with the JSON reports of lathe master (--report)");
  cmd->require_subcommand(1);
  CLI::App* merge = cmd->add_subcommand(
      "merge", "Join the reports of the shards of one catalogue (--shard K/N) into one: every track once (the last "
               "report that has it wins), the summary counted again");
  merge->add_option("REPORT", a.inputs, "Report files written by lathe master --report")->required();
  merge->add_option("-o,--output", a.output, "The merged report (written atomically)")->required();
  merge->footer("Exit codes:\n  0  merged, every track written or skipped\n  1  merged, some track failed\n"
                "  2  usage error, or a file that is not a lathe report: nothing written\n");
  return cmd;
}

int run_report(const ReportArgs& a) {
  std::vector<nlohmann::json> reports;
  for (const std::string& f : a.inputs) {
    std::ifstream in(f);
    if (!in) throw UsageError("cannot read report " + f, "give the files lathe master --report wrote");
    try {
      reports.push_back(nlohmann::json::parse(in));
    } catch (const nlohmann::json::exception& e) {
      throw UsageError("report " + f + " is not valid JSON: " + e.what(), "give the files lathe master --report wrote");
    }
  }
  nlohmann::json merged;
  try {
    merged = merge_reports(reports, a.inputs);
  } catch (const InputError& e) {
    throw UsageError(e.what(), e.hint());
  }
  write_text_atomically(a.output, merged.dump(2) + "\n");
  const auto& s = merged["summary"];
  std::cout << a.inputs.size() << " report(s) merged into " << a.output << ": " << s["tracks"].get<int>()
            << " tracks, " << s["written"].get<int>() << " written, " << s["skipped"].get<int>() << " skipped, "
            << s["failed"].get<int>() << " failed\n";
  return s["failed"].get<int>() > 0 ? kExitSomeFailed : kExitOk;
}

}  // namespace lathe::cli
