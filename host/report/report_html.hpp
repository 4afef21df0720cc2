// The run report as one self-contained HTML page (`--report-html`): summary, compliance, a sortable track table
// and per-track plots of loudness, gain reduction and spectrum, drawn from a lathe.report/1 JSON.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

namespace lathe::host {

struct HtmlReportOptions {
  // Tracks with curves get a section of plots, at most this many: the problem tracks (failed, not compliant, then
  // with warnings) first, then the rest in report order. Keeps the page small for catalogue runs.
  std::size_t max_plotted_tracks = 200;
  // The table lists at most this many tracks: the problem tracks first (failed, not compliant, with warnings),
  // then the rest in report order, shown in report order. A page of 100,000 rows is about 70 MB and takes a
  // browser minutes to open; the summary counts every track, and the CSV report lists them all.
  std::size_t max_table_rows = 5000;
  std::string title = "lathe report";
};

// One HTML5 document (UTF-8) with its CSS, script and SVG plots inline and no external URL of any kind, so it opens
// offline from a file. Reads any lathe.report/1 JSON, a merged one (`lathe report merge`) included; a field that is
// missing, null or of the wrong type shows as a dash. Every text from the report is HTML-escaped. The page works
// without script except for sorting the table (which also follows a `#sort=KEY` or `#sort=-KEY` fragment).
std::string report_html(const nlohmann::json& report, const HtmlReportOptions& options = {});

}  // namespace lathe::host
