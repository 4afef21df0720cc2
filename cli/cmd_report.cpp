// `lathe report merge -o MERGED.json REPORT.json...`: joins the reports of a sharded catalogue run.
// `lathe report html -o REPORT.html REPORT.json...`: the HTML page of a report (of the shards' reports merged).
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "host/errors.hpp"
#include "host/io/atomic_file.hpp"
#include "host/report/report.hpp"
#include "host/report/report_html.hpp"

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
  merge->callback([&a] { a.action = "merge"; });
  CLI::App* html = cmd->add_subcommand(
      "html", "Write the self-contained HTML page of a report (several: of the reports merged as by merge): "
              "summary, sortable table, per-track plots when the run kept curves (--report-html or "
              "--report-curves)");
  html->add_option("REPORT", a.inputs, "Report files written by lathe master --report")->required();
  html->add_option("-o,--output", a.output, "The HTML file (written atomically)")->required();
  html->add_option("--plots", a.plots, "Tracks plotted at most: the problem tracks first")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1000000}))
      ->capture_default_str();
  html->add_option("--rows", a.rows,
                   "Tracks listed in the table at most: the problem tracks first (the summary counts all)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{10000000}))
      ->capture_default_str();
  html->footer("Exit codes:\n  0  written, every track written or skipped\n  1  written, some track failed\n"
               "  2  usage error, or a file that is not a lathe report: nothing written\n");
  html->callback([&a] { a.action = "html"; });
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
    // One report is rendered as it is (a merge of one would drop its run's own summary); several are merged.
    if (a.action == "html" && reports.size() == 1 && reports[0].is_object() &&
        reports[0].value("schema", "") == "lathe.report/1")
      merged = reports[0];
    else
      merged = merge_reports(reports, a.inputs);
  } catch (const InputError& e) {
    throw UsageError(e.what(), e.hint());
  }
  const auto& s = merged["summary"];
  if (a.action == "html") {
    HtmlReportOptions html;
    html.max_plotted_tracks = a.plots;
    html.max_table_rows = a.rows;
    write_text_atomically(a.output, report_html(merged, html));
    std::cout << "wrote " << a.output << ": " << s.value("tracks", 0) << " tracks, " << s.value("failed", 0)
              << " failed\n";
    return s.value("failed", 0) > 0 ? kExitSomeFailed : kExitOk;
  }
  write_text_atomically(a.output, report_text(merged));
  std::cout << a.inputs.size() << " report(s) merged into " << a.output << ": " << s["tracks"].get<int>()
            << " tracks, " << s["written"].get<int>() << " written, " << s["skipped"].get<int>() << " skipped, "
            << s["failed"].get<int>() << " failed\n";
  return s["failed"].get<int>() > 0 ? kExitSomeFailed : kExitOk;
}

}  // namespace lathe::cli
