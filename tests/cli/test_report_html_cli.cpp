// The HTML report end to end (issue 9): `lathe master --report-html` on real files, its JSON twin with curves,
// `lathe report html` from the JSON (the same page) and from shards' reports, and the page in headless Chromium:
// the summary's numbers, every track in the table, the plots drawn, a hostile file name shown as text.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/browser.hpp"
#include "tests/support.hpp"

namespace lathe::test {
namespace {


nlohmann::json json_file(const fs::path& p) { return nlohmann::json::parse(file_bytes(p)); }

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// The text of the element with id `id` in a DOM dump ("" when absent).
std::string text_of(const std::string& dom, const std::string& id) {
  std::smatch m;
  if (!std::regex_search(dom, m, std::regex("id=\"" + id + "\"[^>]*>([^<]*)<"))) return "";
  return m[1];
}

class ReportHtmlCli : public ::testing::Test {
 protected:
  void SetUp() override {
    // A track whose peaks the limiter must catch (a quiet body with a 20 ms burst every half second: too peaky to
    // reach the target within the profile's limiting), a quiet one, a file that is not audio, and a name that is
    // HTML.
    std::vector<std::vector<float>> loud = music_like(2, 44100 * 6, 44100, 1);
    for (auto& ch : loud)
      for (std::size_t i = 0; i < ch.size(); ++i) ch[i] *= (i % 22050) < 882 ? 0.9f : 0.12f;
    fs::create_directories(dir_ / "in");
    ASSERT_TRUE(write_audio(dir_ / "in/01 loud.wav", loud, 44100, SF_FORMAT_WAV | SF_FORMAT_PCM_24));
    std::vector<std::vector<float>> quiet = music_like(2, 48000 * 5, 48000, 2);
    for (auto& ch : quiet)
      for (float& x : ch) x *= 0.1f;
    ASSERT_TRUE(write_audio(dir_ / "in/02 quiet.wav", quiet, 48000, SF_FORMAT_WAV | SF_FORMAT_PCM_16));
    ASSERT_TRUE(write_audio(dir_ / "in" / hostile_, music_like(1, 44100 * 4, 44100, 3), 44100,
                            SF_FORMAT_WAV | SF_FORMAT_PCM_16));
    std::ofstream(dir_ / "in/04 broken.wav", std::ios::binary) << "RIFF0000WAVEnot audio at all";
  }

  TempDir dir_;
  const std::string hostile_ = "03 <img src=x onerror=alert(1)> & \xC3\xA9t\xC3\xA9.wav";
};

TEST_F(ReportHtmlCli, MasterWritesThePageAndItsJsonWithCurves) {
  const RunResult r = run_lathe("master " + q(dir_ / "in") + " -o " + q(dir_ / "out") + " -q --report " +
                                q(dir_ / "r.json") + " --report-csv " + q(dir_ / "r.csv") + " --report-html " +
                                q(dir_ / "r.html"));
  ASSERT_EQ(r.exit_code, 1) << r.output;  // the broken file fails, the others are written
  const nlohmann::json j = json_file(dir_ / "r.json");
  ASSERT_EQ(j["tracks"].size(), 4u);
  int with_curves = 0;
  for (const auto& t : j["tracks"]) {
    if (t["status"] != "written") continue;
    ASSERT_TRUE(t.contains("curves")) << t["input"];
    ++with_curves;
    const auto& c = t["curves"];
    EXPECT_EQ(c["short_term_in_lufs"].size(), c["short_term_out_lufs"].size()) << t["input"];
    EXPECT_EQ(c["spectrum_hz"].size(), 60u);
    // Timing: inside the run, in order.
    ASSERT_TRUE(t.contains("timing"));
    EXPECT_GE(t["timing"]["started_s"].get<double>(), 0.0);
    EXPECT_GE(t["timing"]["finished_s"].get<double>(), t["timing"]["started_s"].get<double>());
    EXPECT_LE(t["timing"]["finished_s"].get<double>(), j["summary"]["wall_seconds"].get<double>() + 0.01);
    EXPECT_EQ(t["stages"], nlohmann::json({"limiter", "dither"}));
  }
  EXPECT_EQ(with_curves, 3);
  // The loud track was limited: its gain-reduction curve shows it, its largest point the report's maximum.
  const auto& loud = j["tracks"][0];
  ASSERT_EQ(loud["input"].get<std::string>().find("01 loud.wav") != std::string::npos, true);
  double gr_max = 0;
  for (const auto& v : loud["curves"]["gain_reduction_db"]) gr_max = std::max(gr_max, v.get<double>());
  EXPECT_GT(gr_max, 1.0);
  EXPECT_NEAR(gr_max, loud["delivery"]["gain_reduction"]["max_db"].get<double>(), 0.006);
  // The CSV has the new columns, the warnings and stages as words.
  const std::string csv = file_bytes(dir_ / "r.csv");
  EXPECT_NE(csv.find(",stages,warnings,engine,started_s,seconds,input_lra_lu,input_sample_peak_dbfs,"
                     "output_short_term_max_lufs,output_sample_peak_dbfs,output_correlation\r\n"),
            std::string::npos)
      << csv.substr(0, 600);
  EXPECT_NE(csv.find("limiter; dither"), std::string::npos);

  // The page: one file, nothing fetched from anywhere, each track in the table, the hostile name as text.
  const std::string html = file_bytes(dir_ / "r.html");
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  for (const char* external : {"http://", "https://", "src=\"", "<link", "@import", "url("}) {
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_NE(html.find("&lt;img src=x onerror=alert(1)&gt; &amp; \xC3\xA9t\xC3\xA9.wav"), std::string::npos);
  EXPECT_EQ(count(html, "data-plot=\"loudness\""), 3);
  EXPECT_EQ(count(html, "data-plot=\"spectrum\""), 3);

  // `lathe report html` from the JSON draws the same page.
  const RunResult again = run_lathe("report html " + q(dir_ / "r.json") + " -o " + q(dir_ / "again.html"));
  EXPECT_EQ(again.exit_code, 1) << again.output;  // a track failed
  EXPECT_EQ(file_bytes(dir_ / "again.html"), html);

  // In a browser: the summary's numbers, the rows, the plots, and no element made from the file name.
  const std::string browser = find_chromium();
  if (browser.empty()) {
    if (browser_required()) FAIL() << "no Chromium (LATHE_REQUIRE_BROWSER=1)";
    GTEST_SKIP() << "no Chromium found: the page was checked as text only";
  }
  const BrowserRun run = chromium_dump_dom(browser, file_url(dir_ / "r.html") + "#sort=-lufs_in", dir_ / "chromium");
  ASSERT_EQ(run.command.exit_code, 0) << run.log;
  const std::string& dom = run.output;
  EXPECT_EQ(text_of(dom, "s-tracks"), "4") << dom.substr(0, 2000);
  EXPECT_EQ(text_of(dom, "s-written"), "3");
  EXPECT_EQ(text_of(dom, "s-failed"), "1");
  std::string why;
  for (const auto& t : j["tracks"])
    why += t.value("input", "") + ": " + t.value("warnings", nlohmann::json::array()).dump() + " TP " +
           (t.contains("output_loudness") ? t["output_loudness"]["true_peak_dbtp"].dump() : "-") + "\n";
  // The peaky track would need more than the profile's 6 dB of limiting to reach -14 LUFS: written, but not
  // compliant, and its row marked.
  EXPECT_EQ(text_of(dom, "s-compliant"), "2") << why;
  EXPECT_EQ(text_of(dom, "s-noncompliant"), "1") << why;
  EXPECT_NE(j["tracks"][0]["warnings"].dump().find("target not reached"), std::string::npos) << why;
  EXPECT_EQ(count(dom, "<tr data-index=\"0\" class=\"bad\""), 1);
  EXPECT_EQ(count(dom, "<tr data-index=\"3\" class=\"bad\""), 1);  // failed
  EXPECT_EQ(count(dom, "<img"), 0);
  EXPECT_EQ(count(dom, "class=\"plot\""), 9);
  // Sorted by input loudness, loudest first: the loud track's row comes before the quiet one's.
  const std::size_t table = dom.find("id=\"tracks\"");
  ASSERT_NE(table, std::string::npos);
  const std::size_t at_loud = dom.find("01 loud.wav", table), at_quiet = dom.find("02 quiet.wav", table);
  ASSERT_NE(at_loud, std::string::npos);
  ASSERT_NE(at_quiet, std::string::npos);
  EXPECT_LT(at_loud, at_quiet);
  const BrowserRun up = chromium_dump_dom(browser, file_url(dir_ / "r.html") + "#sort=lufs_in", dir_ / "chromium2");
  ASSERT_EQ(up.command.exit_code, 0) << up.log;
  const std::size_t t2 = up.output.find("id=\"tracks\"");
  EXPECT_GT(up.output.find("01 loud.wav", t2), up.output.find("02 quiet.wav", t2));
}

// Shards' reports with curves make one page; a report without curves makes a page with the table only.
TEST_F(ReportHtmlCli, ShardsMergeIntoOnePageAndCurvesAreOptional) {
  std::ofstream list(dir_ / "in/list.csv");
  list << "input,output\n01 loud.wav,a.wav\n02 quiet.wav,b.wav\n";
  list.close();
  for (int k = 1; k <= 2; ++k) {
    const RunResult r = run_lathe("master --manifest " + q(dir_ / "in/list.csv") + " -o " + q(dir_ / "out") +
                                  " -q --report-curves --shard " + std::to_string(k) + "/2 --report " +
                                  q(dir_ / ("s" + std::to_string(k) + ".json")));
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  const RunResult merged = run_lathe("report html " + q(dir_ / "s1.json") + " " + q(dir_ / "s2.json") + " -o " +
                                     q(dir_ / "all.html") + " --plots 1");
  ASSERT_EQ(merged.exit_code, 0) << merged.output;
  const std::string html = file_bytes(dir_ / "all.html");
  EXPECT_NE(html.find("a.wav"), std::string::npos);
  EXPECT_NE(html.find("b.wav"), std::string::npos);
  EXPECT_EQ(count(html, "data-plot=\"loudness\""), 1);  // --plots 1
  EXPECT_NE(html.find("merged from 2"), std::string::npos);

  const RunResult plain = run_lathe("master " + q(dir_ / "in/02 quiet.wav") + " -o " + q(dir_ / "plain") +
                                    " -q --report " + q(dir_ / "plain.json"));
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  EXPECT_FALSE(json_file(dir_ / "plain.json")["tracks"][0].contains("curves"));
  ASSERT_EQ(run_lathe("report html " + q(dir_ / "plain.json") + " -o " + q(dir_ / "plain.html")).exit_code, 0);
  const std::string table_only = file_bytes(dir_ / "plain.html");
  EXPECT_EQ(count(table_only, "data-plot="), 0);
  EXPECT_NE(table_only.find("--report-curves"), std::string::npos);  // the page says how to get plots

  // Not a report: exit 2, nothing written.
  std::ofstream(dir_ / "junk.json") << "{\"schema\": \"something else\"}";
  const RunResult junk = run_lathe("report html " + q(dir_ / "junk.json") + " -o " + q(dir_ / "junk.html"));
  EXPECT_EQ(junk.exit_code, 2) << junk.output;
  EXPECT_FALSE(fs::exists(dir_ / "junk.html"));
}

}  // namespace
}  // namespace lathe::test
