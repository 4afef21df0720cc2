// `lathe master --manifest FILE [--shard K/N]` (issue 9): rows become tracks with their own output names,
// profiles and overrides; outputs never leave OUTDIR; shards split a manifest into disjoint parts that cover it.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "tests/support.hpp"

namespace lathe::test {
namespace {

void wav(const fs::path& path, double seconds, unsigned seed) {
  fs::create_directories(path.parent_path());
  ASSERT_TRUE(write_audio(path, music_like(2, static_cast<std::int64_t>(seconds * 44100), 44100, seed), 44100,
                          SF_FORMAT_WAV | SF_FORMAT_PCM_24))
      << path;
}

void text(const fs::path& path, const std::string& body) {
  std::ofstream(path, std::ios::binary) << body;
}

std::set<std::string> files_under(const fs::path& root) {
  std::set<std::string> out;
  if (!fs::exists(root)) return out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_directory() && it->path().filename() == ".lathe") it.disable_recursion_pending();  // resume records
    if (it->is_regular_file()) out.insert(fs::relative(it->path(), root).string());
  }
  return out;
}

nlohmann::json report(const fs::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

TEST(CliManifest, RowsGetTheirNamesProfilesAndOverrides) {
  TempDir dir;
  wav(dir / "in/Сергей Прокофьев/01 Симфония.wav", 3.0, 1);
  wav(dir / "in/日本/曲 1.wav", 3.0, 2);
  wav(dir / "in/plain.wav", 3.0, 3);
  wav(dir / "in/short.wav", 0.2, 4);
  text(dir / "list.csv",
       "input,output,profile,target_lufs,trim_db\n"
       "\"in/Сергей Прокофьев/01 Симфония.wav\",classical/01 symphony.wav,,-18,\n"
       "in/日本/曲 1.wav,,cd-16,,-3\n"
       "in/plain.wav,loud/plain.wav,,,\n"
       "in/short.wav,,,,\n");
  const RunResult r = run_lathe("master --manifest " + q(dir / "list.csv") + " -o " + q(dir / "out") + " -q --report " +
                                q(dir / "r.json") + " --report-csv " + q(dir / "r.csv"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The CSV report: a header and one row per track, names with commas or spaces quoted as needed.
  std::ifstream csv(dir / "r.csv");
  std::string header, row;
  std::getline(csv, header);
  EXPECT_EQ(header.rfind("input,output,status,error,rate_hz", 0), 0u) << header;
  int rows = 0;
  bool saw_symphony = false;
  while (std::getline(csv, row)) {
    if (row.empty() || row == "\r") continue;
    ++rows;
    if (row.find("01 symphony.wav") != std::string::npos) {
      saw_symphony = true;
      EXPECT_NE(row.find(",written,"), std::string::npos) << row;
    }
  }
  EXPECT_EQ(rows, 4);
  EXPECT_TRUE(saw_symphony);
  EXPECT_EQ(files_under(dir / "out"),
            (std::set<std::string>{"classical/01 symphony.wav", "曲 1.wav", "loud/plain.wav", "short.wav"}));
  const nlohmann::json j = report(dir / "r.json");
  ASSERT_EQ(j["tracks"].size(), 4u);
  // Warnings in words: none for a track on target, the gate for one shorter than 400 ms.
  EXPECT_TRUE(j["tracks"][2]["warnings"].empty()) << j["tracks"][2]["warnings"];
  ASSERT_GE(j["tracks"][3]["warnings"].size(), 1u);
  EXPECT_NE(j["tracks"][3]["warnings"].dump().find("below the loudness gate"), std::string::npos)
      << j["tracks"][3]["warnings"];
  // Row 1: the run's profile (streaming) at its own target; row 3: the run's target of -14.
  EXPECT_NEAR(j["tracks"][0]["output_loudness"]["integrated_lufs"].get<double>(), -18.0, 0.15) << j["tracks"][0];
  EXPECT_EQ(j["tracks"][0]["manifest"]["target_lufs"].get<double>(), -18.0);
  EXPECT_NEAR(j["tracks"][2]["output_loudness"]["integrated_lufs"].get<double>(), -14.0, 0.15);
  // Row 2: cd-16 keeps the loudness but for the trim: 3 dB quieter than its input, in 16 bits.
  const double in_lufs = j["tracks"][1]["input_loudness"]["integrated_lufs"].get<double>();
  EXPECT_NEAR(j["tracks"][1]["output_loudness"]["integrated_lufs"].get<double>(), in_lufs - 3.0, 0.05);
  EXPECT_EQ(j["tracks"][1]["manifest"]["profile"], "cd-16");
  EXPECT_EQ(read_audio(dir / "out" / "曲 1.wav").format & SF_FORMAT_SUBMASK, SF_FORMAT_PCM_16);
}

TEST(CliManifest, OutputsThatWouldLeaveOutdirAreRefused) {
  TempDir dir;
  wav(dir / "in/a.wav", 1.0, 1);
  wav(dir / "in/b.wav", 1.0, 2);
  fs::create_directories(dir / "outside");
  fs::create_directories(dir / "out");
  fs::create_symlink(dir / "outside", dir / "out" / "link");
  // A name that leaves OUTDIR by itself makes the manifest invalid: nothing is mastered (exit 2).
  for (const char* name : {"../escaped.wav", "/tmp/lathe-escaped.wav", "a/../../escaped.wav"}) {
    text(dir / "bad.csv", std::string("input,output\nin/b.wav,fine/b.wav\nin/a.wav,") + name + "\n");
    const RunResult r = run_lathe("master --manifest " + q(dir / "bad.csv") + " -o " + q(dir / "out") + " -q");
    EXPECT_EQ(r.exit_code, 2) << name << ": " << r.output;
    EXPECT_NE(r.output.find("bad.csv:3"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(dir / "out" / "fine"));
  }
  EXPECT_FALSE(fs::exists(dir / "escaped.wav"));
  EXPECT_FALSE(fs::exists("/tmp/lathe-escaped.wav"));
  // Through a symlink inside OUTDIR that points outside: that row fails, the others are written (exit 1).
  text(dir / "list.csv", "input,output\nin/a.wav,link/escaped.wav\nin/b.wav,fine/b.wav\n");
  const RunResult r = run_lathe("master --manifest " + q(dir / "list.csv") + " -o " + q(dir / "out") + " -q");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(fs::exists(dir / "out" / "fine" / "b.wav"));
  EXPECT_TRUE(fs::is_empty(dir / "outside"));
  EXPECT_NE(r.output.find("list.csv:2"), std::string::npos) << r.output;
}

TEST(CliManifest, ShardsAreDisjointAndCoverTheManifest) {
  TempDir dir;
  std::string csv = "input,output\n";
  for (int i = 0; i < 7; ++i) {
    wav(dir / ("in/t" + std::to_string(i) + ".wav"), 0.5, static_cast<unsigned>(i + 1));
    csv += "in/t" + std::to_string(i) + ".wav,o" + std::to_string(i) + ".wav\n";
  }
  text(dir / "list.csv", csv);
  std::set<std::string> all;
  std::size_t total = 0;
  for (int k = 1; k <= 3; ++k) {
    const fs::path out = dir / ("out" + std::to_string(k));
    const RunResult r = run_lathe("master --manifest " + q(dir / "list.csv") + " -o " + q(out) + " -q --profile "
                                  "transparent --shard " + std::to_string(k) + "/3 --report " +
                                  q(dir / ("r" + std::to_string(k) + ".json")));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const auto got = files_under(out);
    total += got.size();
    all.insert(got.begin(), got.end());
  }
  EXPECT_EQ(total, 7u);     // no row in two shards
  EXPECT_EQ(all.size(), 7u);  // every row in one
  // The shards' reports merge into one with every track once (shard 2 given twice: still once).
  const std::string reports = q(dir / "r1.json") + " " + q(dir / "r2.json") + " " + q(dir / "r3.json") + " " +
                              q(dir / "r2.json");
  RunResult merged = run_lathe("report merge " + reports + " -o " + q(dir / "all.json"));
  ASSERT_EQ(merged.exit_code, 0) << merged.output;
  const nlohmann::json m = report(dir / "all.json");
  EXPECT_EQ(m["summary"]["tracks"], 7);
  EXPECT_EQ(m["summary"]["written"], 7);
  EXPECT_EQ(m["merged_from"].size(), 4u);
  std::set<std::string> outputs;
  for (const auto& t : m["tracks"]) outputs.insert(t["output"].get<std::string>());
  EXPECT_EQ(outputs.size(), 7u);
  text(dir / "not-a-report.json", "{\"schema\": \"something else\"}");
  merged = run_lathe("report merge " + q(dir / "r1.json") + " " + q(dir / "not-a-report.json") + " -o " +
                     q(dir / "bad.json"));
  EXPECT_EQ(merged.exit_code, 2) << merged.output;
  EXPECT_FALSE(fs::exists(dir / "bad.json"));
  const RunResult bad = run_lathe("master --manifest " + q(dir / "list.csv") + " -o " + q(dir / "x") + " --shard 4/3");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  const RunResult both = run_lathe("master " + q(dir / "in/t0.wav") + " --manifest " + q(dir / "list.csv") + " -o " +
                                   q(dir / "x"));
  EXPECT_EQ(both.exit_code, 2) << both.output;
}

}  // namespace
}  // namespace lathe::test
