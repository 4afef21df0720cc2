// The HTML report (host/report/report_html.cpp): a self-contained page, escaped text, the summary's numbers,
// which tracks get plots, robustness against incomplete reports, and, in headless Chromium, that the sorting
// script runs and the plots are drawn in their colours.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "host/report/report.hpp"
#include "host/report/report_html.hpp"
#include "tests/browser.hpp"
#include "tests/support.hpp"

namespace {

using nlohmann::json;
using lathe::host::HtmlReportOptions;
using lathe::host::report_html;
namespace fs = std::filesystem;

const char* const kHostileName = "<script>alert(\"x\")</script> & \xC3\xBC \xE6\x97\xA5\xE6\x9C\xAC.wav";

// ---- test data ----------------------------------------------------------------------------------------------

// Curves like a run collects them: loudness every 0.5 s (undefined for the first second), gain reduction when
// limited, and a spectrum in 1/6 octaves from 20 Hz up to 20 kHz.
json curves(double duration_s, double level_in, double level_out, bool limited) {
  json in = json::array(), out = json::array(), gr = json::array();
  const int points = static_cast<int>(duration_s / 0.5) + 1;
  for (int i = 0; i < points; ++i) {
    const double wobble = 3.0 * std::sin(0.21 * i) + 1.5 * std::sin(0.057 * i);
    in.push_back(i < 2 ? json(nullptr) : json(level_in + wobble));
    out.push_back(i < 2 ? json(nullptr) : json(level_out + 0.4 * wobble));
    if (limited) gr.push_back(std::max(0.0, 1.2 + 1.5 * std::sin(0.13 * i)));
  }
  json hz = json::array(), spec_in = json::array(), spec_out = json::array();
  for (int k = 0;; ++k) {
    const double f = 20.0 * std::pow(2.0, k / 6.0);
    if (f > 20000) break;
    const double tilt = -4.5 * std::log2(f / 100.0);
    hz.push_back(f);
    spec_in.push_back(tilt - 12.0 + 4.0 * std::exp(-std::pow(std::log2(f / 3000.0), 2)));
    spec_out.push_back(tilt - 8.0);
  }
  return {{"loudness_step_s", 0.5},     {"short_term_in_lufs", in},   {"short_term_out_lufs", out},
          {"gain_reduction_step_s", 0.5}, {"gain_reduction_db", gr},  {"spectrum_hz", hz},
          {"spectrum_in_db", spec_in},    {"spectrum_out_db", spec_out}};
}

json loudness(double lufs, double tp) {
  return {{"integrated_lufs", lufs}, {"lra_lu", 6.5},        {"short_term_max_lufs", lufs + 3},
          {"true_peak_dbtp", tp},    {"sample_peak_dbfs", tp - 0.3}, {"correlation", 0.8}};
}

json written(const std::string& input, double lufs_in, double lufs_out, double tp_out, bool reached) {
  json t = {{"input", "/music/in/" + input},
            {"output", "/music/out/" + input},
            {"status", "written"},
            {"engine", "cpu"},
            {"rate_hz", 44100},
            {"channels", 2},
            {"frames", 44100 * 60},
            {"duration_s", 60.0},
            {"input_peak_dbfs", -3.0},
            {"clipped_samples", 0},
            {"input_loudness", loudness(lufs_in, -2.0)},
            {"output_loudness", loudness(lufs_out, tp_out)},
            {"delivery",
             {{"rate_hz", 44100},
              {"frames", 44100 * 60},
              {"target_lufs", -14.0},
              {"gain_db", lufs_out - lufs_in},
              {"album", false},
              {"limited", true},
              {"target_reached", reached},
              {"passes", 1},
              {"gain_reduction",
               {{"max_db", 2.7}, {"mean_db", 0.8}, {"seconds_above_1db", 12.0}, {"ceiling_correction_db", 0.0}}}}},
            {"warnings", json::array()},
            {"timing", {{"started_s", 0.1}, {"finished_s", 2.3}, {"seconds", 2.2}}}};
  if (!reached) t["delivery"]["not_reached"] = "the limiter would exceed 6 dB of gain reduction";
  return t;
}

// Six tracks, the profile -14 LUFS / -1 dBTP:
//   0 a_loud       written, target reached, curves                   compliant
//   1 b_quiet      written, target not reached, a warning, curves     not compliant
//   2 c_broken     failed with an error
//   3 d_done       skipped (an earlier run wrote it)
//   4 hostile name written, a warning, true peak 0.3 mdB over -1, curves   compliant (within the slack)
//   5 e_nocurves   written, manifest ceiling -2 dBTP under a -1.5 dBTP peak, no curves   not compliant
json sample_report() {
  json tracks = json::array();
  json a = written("a_loud.wav", -20.0, -14.0, -1.2, true);
  a["curves"] = curves(60, -20, -14, true);
  tracks.push_back(a);
  json b = written("b_quiet.wav", -30.0, -16.5, -1.0, false);
  b["warnings"] = {"target not reached: the limiter would exceed 6 dB of gain reduction"};
  b["curves"] = curves(60, -30, -16.5, true);
  tracks.push_back(b);
  tracks.push_back({{"input", "/music/in/c_broken.wav"}, {"status", "failed"}, {"error", "cannot decode: bad header"}});
  tracks.push_back({{"input", "/music/in/d_done.wav"}, {"output", "/music/out/d_done.wav"}, {"status", "skipped"}});
  json h = written(kHostileName, -12.0, -13.95, -0.9997, true);
  h["warnings"] = {"heavy limiting: up to 7.00 dB <b>"};
  h["curves"] = curves(60, -12, -13.95, false);
  tracks.push_back(h);
  json e = written("e_nocurves.wav", -15.0, -14.05, -1.5, true);
  e["manifest"] = {{"row", "catalogue.csv:7"}, {"profile", "streaming"}, {"ceiling_dbtp", -2.0}};
  tracks.push_back(e);
  return {{"schema", "lathe.report/1"},
          {"version", "0.1.0"},
          {"engine", "cpu (2 threads)"},
          {"profile",
           {{"name", "streaming"},
            {"source", "built-in"},
            {"delivery", {{"format", "flac"}, {"bits", "24"}, {"sample_rate_hz", 48000}}},
            {"targets",
             {{"integrated_lufs", -14.0},
              {"ceiling_dbtp", -1.0},
              {"tolerance_lu", 0.5},
              {"max_gain_db", 20.0},
              {"max_gain_reduction_db", 6.0},
              {"album", false}}},
            {"stages", {"eq", "limiter"}}}},
          {"summary",
           {{"tracks", 6},
            {"written", 4},
            {"skipped", 1},
            {"failed", 1},
            {"audio_seconds", 5400.0},
            {"wall_seconds", 42.5},
            {"times_real_time", 127.1},
            {"stage_seconds", {{"decode", 1.5}, {"limiter", 20.25}}}}},
          {"tracks", tracks}};
}

// ---- reading the page back ----------------------------------------------------------------------------------

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

std::string decode_entities(const std::string& s) {
  static const std::pair<const char*, const char*> entities[] = {
      {"&quot;", "\""}, {"&#39;", "'"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&nbsp;", "\xC2\xA0"}, {"&amp;", "&"}};
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    bool replaced = false;
    if (s[i] == '&') {
      for (const auto& [entity, text] : entities) {
        if (s.compare(i, std::string(entity).size(), entity) == 0) {
          out += text;
          i += std::string(entity).size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += s[i++];
  }
  return out;
}

// A start or end tag with its attributes (values decoded).
struct Tag {
  std::string name;
  bool end = false;
  std::map<std::string, std::string> attrs;
  bool has_class(const std::string& c) const {
    const auto it = attrs.find("class");
    if (it == attrs.end()) return false;
    const std::string padded = " " + it->second + " ";
    return padded.find(" " + c + " ") != std::string::npos;
  }
  std::string attr(const std::string& key) const {
    const auto it = attrs.find(key);
    return it == attrs.end() ? std::string() : it->second;
  }
};

// The tags of an HTML document in order: just enough of a tokenizer to tell real elements from text that looks like
// markup inside attribute values (Chromium's DOM dump leaves '<' unescaped there), and to skip script and style.
std::vector<Tag> scan_tags(const std::string& html) {
  std::vector<Tag> tags;
  auto is_name = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':'; };
  std::size_t i = 0;
  while ((i = html.find('<', i)) != std::string::npos) {
    if (html.compare(i, 4, "<!--") == 0) {
      i = html.find("-->", i);
      if (i == std::string::npos) break;
      continue;
    }
    if (i + 1 < html.size() && html[i + 1] == '!') {
      i = html.find('>', i);
      if (i == std::string::npos) break;
      continue;
    }
    Tag t;
    std::size_t j = i + 1;
    if (j < html.size() && html[j] == '/') {
      t.end = true;
      ++j;
    }
    while (j < html.size() && is_name(html[j])) t.name += static_cast<char>(std::tolower(static_cast<unsigned char>(html[j++])));
    if (t.name.empty()) {
      i = j;
      continue;
    }
    while (j < html.size() && html[j] != '>') {
      if (std::isspace(static_cast<unsigned char>(html[j])) || html[j] == '/') {
        ++j;
        continue;
      }
      std::string key;
      while (j < html.size() && !std::isspace(static_cast<unsigned char>(html[j])) && html[j] != '=' &&
             html[j] != '>' && html[j] != '/')
        key += html[j++];
      std::string value;
      if (j < html.size() && html[j] == '=') {
        ++j;
        if (j < html.size() && (html[j] == '"' || html[j] == '\'')) {
          const char quote = html[j++];
          const std::size_t close = html.find(quote, j);
          value = html.substr(j, close - j);
          j = close == std::string::npos ? html.size() : close + 1;
        } else {
          while (j < html.size() && !std::isspace(static_cast<unsigned char>(html[j])) && html[j] != '>') value += html[j++];
        }
      }
      t.attrs[key] = decode_entities(value);
    }
    i = j;
    tags.push_back(t);
    if (!t.end && (t.name == "script" || t.name == "style")) {
      i = html.find("</" + t.name, i);
      if (i == std::string::npos) break;
    }
  }
  return tags;
}

struct TrackTable {
  std::vector<std::string> keys;                 // the header cells' data-key, in column order
  std::vector<int> index;                        // each row's data-index, in DOM order
  std::vector<std::vector<std::string>> values;  // each row's cells' data-v
  std::size_t column(const std::string& key) const {
    return static_cast<std::size_t>(std::find(keys.begin(), keys.end(), key) - keys.begin());
  }
};

TrackTable read_table(const std::vector<Tag>& tags) {
  TrackTable t;
  bool inside = false, in_body = false;
  for (const Tag& tag : tags) {
    if (tag.name == "table" && !tag.end && tag.attr("id") == "tracks") inside = true;
    if (!inside) continue;
    if (tag.name == "table" && tag.end) break;
    if (tag.name == "tbody") in_body = !tag.end;
    if (tag.end) continue;
    if (tag.name == "th" && !in_body) t.keys.push_back(tag.attr("data-key"));
    if (tag.name == "tr" && in_body) {
      t.index.push_back(std::atoi(tag.attr("data-index").c_str()));
      t.values.emplace_back();
    }
    if (tag.name == "td" && in_body && !t.values.empty()) t.values.back().push_back(tag.attr("data-v"));
  }
  return t;
}

// The data-v of the element with this id, as a number (NaN when missing).
double summary_value(const std::vector<Tag>& tags, const std::string& id) {
  for (const Tag& t : tags) {
    if (!t.end && t.attr("id") == id) {
      const std::string v = t.attr("data-v");
      return v.empty() ? std::nan("") : std::strtod(v.c_str(), nullptr);
    }
  }
  return std::nan("");
}

std::size_t count_tags(const std::vector<Tag>& tags, const std::string& name, const std::string& cls) {
  return static_cast<std::size_t>(std::count_if(tags.begin(), tags.end(), [&](const Tag& t) {
    return !t.end && (name.empty() || t.name == name) && (cls.empty() || t.has_class(cls));
  }));
}

// The section ids (track-N) in page order.
std::vector<std::string> section_ids(const std::vector<Tag>& tags) {
  std::vector<std::string> ids;
  for (const Tag& t : tags) {
    if (!t.end && t.name == "section" && t.has_class("track")) ids.push_back(t.attr("id"));
  }
  return ids;
}

void expect_summary(const std::vector<Tag>& tags) {
  EXPECT_EQ(summary_value(tags, "s-tracks"), 6);
  EXPECT_EQ(summary_value(tags, "s-written"), 4);
  EXPECT_EQ(summary_value(tags, "s-skipped"), 1);
  EXPECT_EQ(summary_value(tags, "s-failed"), 1);
  EXPECT_EQ(summary_value(tags, "s-compliant"), 2);
  EXPECT_EQ(summary_value(tags, "s-noncompliant"), 2);
  EXPECT_NEAR(summary_value(tags, "s-hours"), 1.5, 1e-9);
}

// ---- the page as text ---------------------------------------------------------------------------------------

TEST(ReportHtml, IsOneSelfContainedDocument) {
  const std::string html = report_html(sample_report());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(occurrences(html, "<html"), 1u);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  EXPECT_NE(html.find("<meta charset=\"utf-8\">"), std::string::npos);
  for (const char* external : {"http://", "https://", "src=", "<link", "@import", "url("}) {
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }
  // The only script is the page's own, and nothing from the report can close it.
  EXPECT_EQ(occurrences(html, "<script"), 1u);
  EXPECT_EQ(occurrences(html, "</script>"), 1u);
}

TEST(ReportHtml, EscapesTextFromTheReport) {
  const std::string html = report_html(sample_report());
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  // The name shows as text: escaped in element content and in attributes, its UTF-8 kept as it is.
  EXPECT_NE(html.find("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; \xC3\xBC \xE6\x97\xA5\xE6\x9C\xAC.wav"),
            std::string::npos);
  EXPECT_NE(html.find("heavy limiting: up to 7.00 dB &lt;b&gt;"), std::string::npos);
  const std::vector<Tag> tags = scan_tags(html);
  EXPECT_EQ(count_tags(tags, "script", ""), 1u);
  EXPECT_EQ(count_tags(tags, "b", ""), 0u);
  // The name in the table and the section's heading is the part after the last '/'.
  EXPECT_NE(html.find(">script&gt; &amp; \xC3\xBC \xE6\x97\xA5\xE6\x9C\xAC.wav</a></td>"), std::string::npos);
  // A file name that is markup by itself (no '/' in it), in the table, a heading, titles and an SVG title.
  json report = sample_report();
  report["tracks"][0]["input"] = "/in/<svg onload=alert(1)>'.wav";
  const std::string named = report_html(report);
  EXPECT_EQ(named.find("<svg onload"), std::string::npos);
  EXPECT_NE(named.find(">&lt;svg onload=alert(1)&gt;&#39;.wav</a></td>"), std::string::npos);
  EXPECT_NE(named.find("<title>Short-term loudness of &lt;svg onload=alert(1)&gt;&#39;.wav"), std::string::npos);
  EXPECT_EQ(count_tags(scan_tags(named), "svg", ""), 9u);
  // A title and the page's options are text too.
  HtmlReportOptions options;
  options.title = "</title><script>x</script>";
  const std::string titled = report_html(sample_report(), options);
  EXPECT_EQ(titled.find("<script>x"), std::string::npos);
  EXPECT_NE(titled.find("&lt;/title&gt;&lt;script&gt;x"), std::string::npos);
}

TEST(ReportHtml, SummaryHeaderAndCompliance) {
  const std::string html = report_html(sample_report());
  const std::vector<Tag> tags = scan_tags(html);
  expect_summary(tags);
  EXPECT_NE(html.find("id=\"s-hours\" data-v=\"1.5000\">1.50<"), std::string::npos);
  // Problems are highlighted: failed and not compliant counts above zero.
  EXPECT_NE(html.find("<div class=\"card bad\"><span class=\"big\" id=\"s-failed\""), std::string::npos);
  EXPECT_NE(html.find("<div class=\"card bad\"><span class=\"big\" id=\"s-noncompliant\""), std::string::npos);
  // Header: profile, engine, delivery, target and ceiling.
  EXPECT_NE(html.find("streaming"), std::string::npos);
  EXPECT_NE(html.find("cpu (2 threads)"), std::string::npos);
  EXPECT_NE(html.find("flac 24-bit 48 kHz"), std::string::npos);
  EXPECT_NE(html.find("-14.0 LUFS"), std::string::npos);
  EXPECT_NE(html.find("-1.0 dBTP"), std::string::npos);

  // Per row: compliance (the manifest's ceiling counts for track 5, the 0.5 mdB slack for track 4), and the bad rows.
  const TrackTable table = read_table(tags);
  ASSERT_EQ(table.index.size(), 6u);
  const std::size_t compliant = table.column("compliant");
  ASSERT_LT(compliant, table.keys.size());
  const std::vector<std::string> expected = {"1", "0", "", "", "1", "0"};
  for (std::size_t r = 0; r < 6; ++r) {
    EXPECT_EQ(table.index[r], static_cast<int>(r));
    ASSERT_EQ(table.values[r].size(), table.keys.size()) << "row " << r;
    EXPECT_EQ(table.values[r][compliant], expected[r]) << "row " << r;
  }
  std::vector<int> bad_rows;
  for (const Tag& t : tags) {
    if (!t.end && t.name == "tr" && t.has_class("bad")) bad_rows.push_back(std::atoi(t.attr("data-index").c_str()));
  }
  EXPECT_EQ(bad_rows, (std::vector<int>{1, 2, 5}));
  for (const char* key : {"index", "input", "status", "duration", "lufs_in", "lufs_out", "tp_out", "lra_out", "gain",
                          "gr_max", "compliant", "engine", "warnings"}) {
    EXPECT_LT(table.column(key), table.keys.size()) << key;
  }
  EXPECT_EQ(table.values[0][table.column("lufs_out")], "-14.0000");
  EXPECT_EQ(table.values[2][table.column("lufs_out")], "");
  EXPECT_EQ(table.values[2][table.column("warnings")], "1");  // the error
}

TEST(ReportHtml, PlotsProblemTracksFirstWithinTheLimit) {
  // All three tracks with curves: the non-compliant one, then the one with a warning, then the rest.
  const std::string all = report_html(sample_report());
  std::vector<Tag> tags = scan_tags(all);
  EXPECT_EQ(section_ids(tags), (std::vector<std::string>{"track-1", "track-4", "track-0"}));
  EXPECT_EQ(count_tags(tags, "svg", "plot"), 9u);
  EXPECT_EQ(count_tags(tags, "", "before"), 6u);
  EXPECT_EQ(count_tags(tags, "", "after"), 6u);
  EXPECT_EQ(count_tags(tags, "", "gr"), 2u);  // track 4 was not limited
  EXPECT_NE(all.find("no limiting"), std::string::npos);
  EXPECT_EQ(all.find("Plots for"), std::string::npos);
  for (const char* plot : {"loudness", "gr", "spectrum"}) {
    EXPECT_EQ(occurrences(all, std::string("data-plot=\"") + plot + "\""), 3u) << plot;
  }
  // The target as a dashed line in each loudness plot, the spectrum's decade ticks.
  EXPECT_EQ(occurrences(all, "class=\"target\""), 3u);
  EXPECT_NE(all.find(">1k</text>"), std::string::npos);
  EXPECT_NE(all.find(">20k</text>"), std::string::npos);
  // The table links the plotted tracks only.
  EXPECT_NE(all.find("href=\"#track-0\""), std::string::npos);
  EXPECT_EQ(all.find("href=\"#track-5\""), std::string::npos);

  HtmlReportOptions two;
  two.max_plotted_tracks = 2;
  const std::string limited = report_html(sample_report(), two);
  tags = scan_tags(limited);
  EXPECT_EQ(section_ids(tags), (std::vector<std::string>{"track-1", "track-4"}));
  EXPECT_EQ(count_tags(tags, "svg", "plot"), 6u);
  EXPECT_NE(limited.find("Plots for 2 of 3 tracks: the problem tracks first"), std::string::npos);
  EXPECT_EQ(limited.find("href=\"#track-0\""), std::string::npos);

  HtmlReportOptions none;
  none.max_plotted_tracks = 0;
  EXPECT_EQ(section_ids(scan_tags(report_html(sample_report(), none))).size(), 0u);
}

// A catalogue's page lists at most max_table_rows tracks: the problem tracks first, shown in report order, and
// says so; plots are drawn only for listed tracks.
TEST(ReportHtml, TableRowsAreCappedProblemTracksFirst) {
  auto rows = [](const std::string& html) {
    std::vector<std::string> out;
    const std::string key = "<tr data-index=\"";
    for (std::size_t at = html.find(key); at != std::string::npos; at = html.find(key, at + 1))
      out.push_back(html.substr(at + key.size(), html.find('"', at + key.size()) - at - key.size()));
    return out;
  };
  EXPECT_EQ(rows(report_html(sample_report())), (std::vector<std::string>{"0", "1", "2", "3", "4", "5"}));
  EXPECT_EQ(report_html(sample_report()).find("id=\"rows-note\""), std::string::npos);
  HtmlReportOptions four;
  four.max_table_rows = 4;  // not compliant: 1 (target), 2 (failed), 5 (over its manifest ceiling); warned: 4
  const std::string capped = report_html(sample_report(), four);
  EXPECT_EQ(rows(capped), (std::vector<std::string>{"1", "2", "4", "5"}));
  EXPECT_NE(capped.find("The table lists 4 of 6 tracks: the problem tracks first"), std::string::npos);
  EXPECT_EQ(section_ids(scan_tags(capped)), (std::vector<std::string>{"track-1", "track-4"}));
  HtmlReportOptions two;
  two.max_table_rows = 2;
  const std::string tight = report_html(sample_report(), two);
  EXPECT_EQ(rows(tight), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(section_ids(scan_tags(tight)), (std::vector<std::string>{"track-1"}));
  EXPECT_NE(tight.find("id=\"s-tracks\" data-v=\"6"), std::string::npos);  // the summary still counts all
}

TEST(ReportHtml, SaysWhenTheRunCollectedNoCurves) {
  json report = sample_report();
  for (json& t : report["tracks"]) t.erase("curves");
  const std::string html = report_html(report);
  EXPECT_EQ(occurrences(html, "<svg"), 0u);
  EXPECT_NE(html.find("did not collect curves"), std::string::npos);
  EXPECT_NE(html.find("--report-html or --report-curves"), std::string::npos);
}

TEST(ReportHtml, RendersIncompleteAndMergedReports) {
  auto renders = [](const json& report, const char* what) {
    std::string html;
    EXPECT_NO_THROW(html = report_html(report)) << what;
    EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u) << what;
    EXPECT_NE(html.find("</html>"), std::string::npos) << what;
    return html;
  };
  renders(json(nullptr), "null");
  renders(json::array(), "an array");
  renders(json::object(), "an empty object");
  const std::string empty = renders({{"schema", "lathe.report/1"}, {"tracks", json::array()}}, "no tracks");
  EXPECT_EQ(summary_value(scan_tags(empty), "s-tracks"), 0);

  // Every field null, or of the wrong type, at every level.
  json nulls = sample_report();
  std::function<void(json&)> null_all = [&](json& j) {
    if (j.is_object()) {
      for (auto& [k, v] : j.items()) {
        if (v.is_structured()) {
          null_all(v);
        } else {
          v = nullptr;
        }
      }
    } else if (j.is_array()) {
      for (json& v : j) {
        if (v.is_structured()) {
          null_all(v);
        } else {
          v = nullptr;
        }
      }
    }
  };
  null_all(nulls);
  const std::string html = renders(nulls, "nulls everywhere");
  EXPECT_EQ(summary_value(scan_tags(html), "s-compliant"), 0);
  json wrong = sample_report();
  wrong["summary"] = "six";
  wrong["profile"]["targets"] = json::array({1, 2});
  wrong["tracks"][0]["curves"]["short_term_in_lufs"] = "loud";
  wrong["tracks"][0]["curves"]["spectrum_hz"] = {-1, 0, "x", nullptr, 1e9};
  wrong["tracks"][0]["curves"]["loudness_step_s"] = -1;
  wrong["tracks"][1]["delivery"] = 7;
  wrong["tracks"][1]["warnings"] = {1, nullptr, "text"};
  wrong["tracks"].push_back("not a track");
  wrong["tracks"].push_back(json::object());
  wrong["albums"] = {json::object(), 3, {{"output", "/out/<album>.wav"}, {"tracks", 12}, {"status", "failed"}}};
  const std::string odd = renders(wrong, "wrong types");
  EXPECT_EQ(odd.find("<album>"), std::string::npos);
  EXPECT_NE(odd.find("&lt;album&gt;.wav"), std::string::npos);

  // `lathe report merge` output: merged_from, the summed wall time, several profiles.
  json shard1 = sample_report(), shard2 = sample_report();
  shard1["shard"] = "1/2";
  shard2["shard"] = "2/2";
  shard2["profile"]["name"] = "loud";
  for (json& t : shard2["tracks"]) t["output"] = "/music/out2/" + t.value("input", "x");
  const json merged = lathe::host::merge_reports({shard1, shard2}, {"shard1.json", "shard2.json"});
  const std::string page = renders(merged, "merged");
  EXPECT_NE(page.find("merged from"), std::string::npos);
  EXPECT_NE(page.find("streaming, loud"), std::string::npos);
  EXPECT_NE(page.find("id=\"s-wall-sum\""), std::string::npos);
  EXPECT_EQ(summary_value(scan_tags(page), "s-tracks"), 12);
}

TEST(ReportHtml, AlbumsTable) {
  json report = sample_report();
  report["albums"] = {{{"output", "/music/out/album.flac"},
                       {"cue", "/music/out/album.cue"},
                       {"tracks", 12},
                       {"status", "written"},
                       {"rate_hz", 44100},
                       {"frames", 1000},
                       {"loudness", loudness(-14.02, -1.1)}}};
  const std::string html = report_html(report);
  EXPECT_NE(html.find("<table id=\"albums\">"), std::string::npos);
  EXPECT_NE(html.find("album.flac"), std::string::npos);
  EXPECT_NE(html.find(">-14.0<"), std::string::npos);
}

// ---- the page in a browser ----------------------------------------------------------------------------------

// The browser, or a skip (a failure under LATHE_REQUIRE_BROWSER=1). A macro: GTEST_SKIP returns from the test.
#define LATHE_BROWSER_OR_SKIP(browser)                                                                           \
  const std::string browser = lathe::test::find_chromium();                                                      \
  if ((browser).empty()) {                                                                                       \
    if (lathe::test::browser_required()) {                                                                       \
      FAIL() << "LATHE_REQUIRE_BROWSER=1 but no Chromium ($LATHE_CHROMIUM, /usr/bin/chromium, "                  \
                "/usr/bin/chromium-browser)";                                                                    \
    }                                                                                                            \
    GTEST_SKIP() << "no Chromium found ($LATHE_CHROMIUM, /usr/bin/chromium, /usr/bin/chromium-browser): the "    \
                    "browser checks of the HTML report are skipped";                                             \
  }

fs::path write_page(const lathe::test::TempDir& dir, const std::string& html) {
  const fs::path page = dir / "report.html";
  std::ofstream(page, std::ios::binary) << html;
  return page;
}

TEST(ReportHtmlBrowser, SortsFromTheUrlFragment) {
  LATHE_BROWSER_OR_SKIP(browser);
  const lathe::test::TempDir dir;
  const fs::path page = write_page(dir, report_html(sample_report()));

  const auto by_lufs = lathe::test::chromium_dump_dom(browser, lathe::test::file_url(page) + "#sort=-lufs_out", dir.path());
  ASSERT_EQ(by_lufs.command.exit_code, 0) << "chromium failed or hung (" << by_lufs.command.seconds << " s):\n"
                                          << by_lufs.log;
  const std::vector<Tag> tags = scan_tags(by_lufs.output);
  const TrackTable table = read_table(tags);
  // Loudest first (-13.95, -14.0, -14.05, -16.5), then the two without an output, in report order.
  EXPECT_EQ(table.index, (std::vector<int>{4, 0, 5, 1, 2, 3}));
  const std::size_t lufs = table.column("lufs_out");
  ASSERT_LT(lufs, table.keys.size());
  double previous = 1e9;
  bool missing_seen = false;
  for (const auto& row : table.values) {
    ASSERT_LT(lufs, row.size());
    if (row[lufs].empty()) {
      missing_seen = true;
      continue;
    }
    EXPECT_FALSE(missing_seen) << "a missing value sorted before a present one";
    const double v = std::strtod(row[lufs].c_str(), nullptr);
    EXPECT_LE(v, previous);
    previous = v;
  }
  // The script marked the column; the summary, the plots and the escaped name are in the live DOM.
  EXPECT_NE(by_lufs.output.find("aria-sort=\"descending\""), std::string::npos);
  expect_summary(tags);
  EXPECT_EQ(count_tags(tags, "svg", "plot"), 9u);
  EXPECT_EQ(count_tags(tags, "", "before"), 6u);
  EXPECT_EQ(count_tags(tags, "", "after"), 6u);
  EXPECT_EQ(count_tags(tags, "script", ""), 1u);
  EXPECT_NE(by_lufs.output.find("&lt;script&gt;alert(\"x\")&lt;/script&gt; &amp; \xC3\xBC \xE6\x97\xA5\xE6\x9C\xAC.wav"),
            std::string::npos);

  const auto by_name = lathe::test::chromium_dump_dom(browser, lathe::test::file_url(page) + "#sort=input", dir.path());
  ASSERT_EQ(by_name.command.exit_code, 0) << by_name.log;
  // By file name: a_ b_ c_ d_ e_, then track 4, whose file name is what follows the last '/' of its path (the one
  // in "</script>"): "script> & ...".
  EXPECT_EQ(read_table(scan_tags(by_name.output)).index, (std::vector<int>{0, 1, 2, 3, 5, 4}));
  EXPECT_NE(by_name.output.find("aria-sort=\"ascending\""), std::string::npos);

  // No fragment: the report's order.
  const auto plain = lathe::test::chromium_dump_dom(browser, lathe::test::file_url(page), dir.path());
  ASSERT_EQ(plain.command.exit_code, 0) << plain.log;
  EXPECT_EQ(read_table(scan_tags(plain.output)).index, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  std::printf("[ browser  ] three DOM dumps in %.2f s, %.2f s, %.2f s\n", by_lufs.command.seconds,
              by_name.command.seconds, plain.command.seconds);
}

TEST(ReportHtmlBrowser, ScreenshotShowsThePlots) {
  LATHE_BROWSER_OR_SKIP(browser);
  const lathe::test::TempDir dir;
  const fs::path page = write_page(dir, report_html(sample_report()));
  const fs::path png = dir / "shot.png";
  const auto shot = lathe::test::chromium_screenshot(browser, lathe::test::file_url(page), png, 1280, 2000, dir.path());
  ASSERT_EQ(shot.command.exit_code, 0) << "chromium failed or hung (" << shot.command.seconds << " s):\n" << shot.log;
  ASSERT_TRUE(fs::exists(png)) << shot.log;
  std::printf("[ browser  ] screenshot in %.2f s\n", shot.command.seconds);
  if (const char* keep = std::getenv("LATHE_KEEP_SHOT"); keep && std::string(keep) == "1") {
    std::error_code ec;
    fs::copy_file(png, "/tmp/report_html_shot.png", fs::copy_options::overwrite_existing, ec);
    EXPECT_FALSE(ec) << "cannot keep the screenshot: " << ec.message();
  }
  if (!lathe::test::have_png()) GTEST_SKIP() << "built without libpng: the screenshot's pixels are not checked";

  std::string error;
  const auto image = lathe::test::read_png_rgb(png, &error);
  ASSERT_TRUE(image) << error;
  EXPECT_EQ(image->width, 1280);
  EXPECT_EQ(image->height, 2000);
  // Pixels near a colour: anti-aliased edges differ a little, the strokes' middles not at all.
  auto near = [](const unsigned char* p, int r, int g, int b) {
    return std::abs(p[0] - r) <= 12 && std::abs(p[1] - g) <= 12 && std::abs(p[2] - b) <= 12;
  };
  std::size_t not_white = 0, before = 0, after = 0;
  for (std::size_t i = 0; i + 2 < image->rgb.size(); i += 3) {
    const unsigned char* p = &image->rgb[i];
    not_white += (p[0] < 240 || p[1] < 240 || p[2] < 240) ? 1 : 0;
    before += near(p, 0x2b, 0x6c, 0xb0) ? 1 : 0;
    after += near(p, 0xdd, 0x6b, 0x20) ? 1 : 0;
  }
  std::printf("[ browser  ] %zu pixels not white, %zu before-blue, %zu after-orange\n", not_white, before, after);
  EXPECT_GT(not_white, 20000u);
  EXPECT_GT(before, 400u);
  EXPECT_GT(after, 400u);
}

// The helper that runs the browser: a command that does not finish is ended at the limit, its output kept.
TEST(ReportHtmlBrowser, TimeLimitEndsAHungCommand) {
  const lathe::test::TempDir dir;
  const auto ended = lathe::test::run_with_time_limit({"sh", "-c", "echo started; exec sleep 30"}, 1, dir / "out",
                                                      dir / "err");
  EXPECT_TRUE(ended.timed_out);
  EXPECT_EQ(ended.exit_code, 124);
  EXPECT_LT(ended.seconds, 10.0);
  std::ifstream out(dir / "out");
  std::string line;
  std::getline(out, line);
  EXPECT_EQ(line, "started");
  const auto fine = lathe::test::run_with_time_limit({"sh", "-c", "exit 3"}, 5, dir / "out2", dir / "err2");
  EXPECT_FALSE(fine.timed_out);
  EXPECT_EQ(fine.exit_code, 3);
}

}  // namespace
