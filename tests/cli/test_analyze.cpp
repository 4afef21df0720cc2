// `lathe analyze` end to end: the table, JSON (lathe.analysis/1) and CSV outputs, album measures, the quality
// flags, bad inputs skipped with exit 1, usage errors with exit 2, and every format lathe reads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "host/engine/engine.hpp"
#include "tests/support.hpp"

namespace lathe::test {
namespace {

constexpr int kRate = 48000;

::testing::AssertionResult Has(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected to find \"" << part << "\" in:\n" << text;
}


// A sine of peak level `dbfs` on every channel (in phase), `seconds` long.
std::vector<std::vector<float>> sine(int channels, double seconds, double freq_hz, double dbfs, int rate_hz = kRate) {
  const auto frames = static_cast<std::size_t>(seconds * rate_hz);
  const double amp = std::pow(10.0, dbfs / 20.0);
  std::vector<std::vector<float>> p(static_cast<std::size_t>(channels), std::vector<float>(frames));
  for (std::size_t i = 0; i < frames; ++i) {
    const auto x = static_cast<float>(amp * std::sin(2 * M_PI * freq_hz * static_cast<double>(i) / rate_hz));
    for (auto& ch : p) ch[i] = x;
  }
  return p;
}

void write(const fs::path& path, const std::vector<std::vector<float>>& planar, int format = SF_FORMAT_WAV | SF_FORMAT_FLOAT,
           int rate_hz = kRate) {
  fs::create_directories(path.parent_path());
  ASSERT_TRUE(write_audio(path, planar, rate_hz, format)) << path;
}

// The table row that names `input`, or "".
std::string row_for(const std::string& output, const std::string& input) {
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);)
    if (line.find(input) != std::string::npos && line.find("lathe: error") == std::string::npos) return line;
  return "";
}

// Runs lathe with stdout and stderr kept apart (run_lathe joins them).
struct SplitRun {
  int exit_code = -1;
  std::string out, err;
};
SplitRun run_split(const TempDir& dir, const std::string& args) {
  const fs::path out = dir / "stdout.txt", err = dir / "stderr.txt";
  const RunResult r = run_lathe(args + " >" + q(out) + " 2>" + q(err) + "; exit $?");
  return {r.exit_code, file_bytes(out), file_bytes(err)};
}

nlohmann::json track_named(const nlohmann::json& doc, const fs::path& input) {
  for (const auto& t : doc.at("tracks"))
    if (t.at("input") == input.string()) return t;
  ADD_FAILURE() << input << " not in " << doc.dump(1);
  return nlohmann::json::object();
}

bool has_flag(const nlohmann::json& track, const std::string& flag) {
  for (const auto& f : track.at("flags"))
    if (f == flag) return true;
  return false;
}

// RFC 4180 rows (quoted cells may hold commas and doubled quotes; no embedded newlines in these tests).
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cells.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (c == ',' && !quoted) {
        cells.emplace_back();
      } else {
        cells.back() += c;
      }
    }
    rows.push_back(cells);
  }
  return rows;
}

// ---- the table ----------------------------------------------------------------------------------------------

TEST(CliAnalyze, TableHasOneRowPerTrackWithLoudnessAndPeaks) {
  TempDir dir;
  write(dir / "in/sine.wav", sine(2, 4.0, 1000.0, -23.0));
  write(dir / "in/sub/noise.wav", music_like(2, 3 * kRate, kRate, 7), SF_FORMAT_WAV | SF_FORMAT_PCM_24);
  const RunResult r = run_lathe("analyze " + q(dir / "in"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Has(r.output, "integrated"));
  EXPECT_TRUE(Has(r.output, "dBTP"));
  const std::string sine_row = row_for(r.output, (dir / "in/sine.wav").string());
  ASSERT_FALSE(sine_row.empty()) << r.output;
  EXPECT_TRUE(Has(sine_row, "-23.0"));
  EXPECT_TRUE(Has(sine_row, "0:04.000"));
  const std::string noise_row = row_for(r.output, (dir / "in/sub/noise.wav").string());
  ASSERT_FALSE(noise_row.empty()) << r.output;
  EXPECT_FALSE(Has(noise_row, "below gate"));
  EXPECT_TRUE(Has(r.output, "2 analysed, 0 failed"));
}

TEST(CliAnalyze, HelpListsEveryOptionAndTheExitCodes) {
  const RunResult r = run_lathe("analyze --help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* opt : {"--json", "--csv", "--album", "--threads", "--quiet", "Exit codes"})
    EXPECT_TRUE(Has(r.output, opt));
  EXPECT_TRUE(Has(run_lathe("--help").output, "analyze"));
}

// ---- JSON -------------------------------------------------------------------------------------------------------

TEST(CliAnalyze, JsonHoldsEveryMeasureOfASineAndNullsForSilence) {
  TempDir dir;
  const fs::path tone = dir / "in/tone.wav", quiet = dir / "in/silence.wav";
  write(tone, sine(2, 5.0, 1000.0, -23.0));
  write(quiet, std::vector<std::vector<float>>(2, std::vector<float>(3 * kRate, 0.0f)));
  const fs::path json = dir / "a.json";
  const RunResult r = run_lathe("analyze " + q(dir / "in") + " --json " + q(json));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string text = file_bytes(json);
  EXPECT_FALSE(Has(text, "NaN"));
  EXPECT_FALSE(Has(text, "Infinity"));
  const nlohmann::json doc = nlohmann::json::parse(text);
  EXPECT_EQ(doc.at("schema"), "lathe.analysis/1");
  EXPECT_TRUE(doc.at("version").is_string());
  EXPECT_EQ(doc.at("summary").at("analysed"), 2);
  EXPECT_EQ(doc.at("summary").at("failed"), 0);
  EXPECT_FALSE(doc.contains("album")) << "the album block is written only with --album";

  // EBU Tech 3341: a 1 kHz sine at -23 dBFS in both channels of a stereo file reads -23.0 LUFS.
  const nlohmann::json t = track_named(doc, tone);
  EXPECT_EQ(t.at("status"), "analysed");
  EXPECT_EQ(t.at("rate_hz"), kRate);
  EXPECT_EQ(t.at("channels"), 2);
  EXPECT_EQ(t.at("frames"), 5 * kRate);
  EXPECT_DOUBLE_EQ(t.at("duration_s").get<double>(), 5.0);
  EXPECT_EQ(t.at("container").get<std::string>().rfind("WAV", 0), 0u) << t.at("container");
  EXPECT_GE(t.at("oversampling").get<int>(), 1);
  EXPECT_NEAR(t.at("integrated_lufs").get<double>(), -23.0, 0.1);
  EXPECT_NEAR(t.at("momentary_max_lufs").get<double>(), -23.0, 0.1);
  EXPECT_NEAR(t.at("short_term_max_lufs").get<double>(), -23.0, 0.1);
  EXPECT_NEAR(t.at("lra_lu").get<double>(), 0.0, 0.1);
  EXPECT_NEAR(t.at("sample_peak_dbfs").get<double>(), -23.0, 0.01);
  EXPECT_NEAR(t.at("true_peak_dbtp").get<double>(), -23.0, 0.1);
  EXPECT_NEAR(t.at("correlation").get<double>(), 1.0, 1e-3);
  EXPECT_NEAR(t.at("mono_loss_lu").get<double>(), 0.0, 0.1);
  EXPECT_NEAR(t.at("balance_lu").get<double>(), 0.0, 0.01);
  EXPECT_LT(t.at("leading_silence_s").get<double>(), 0.01);
  EXPECT_LT(t.at("trailing_silence_s").get<double>(), 0.01);
  EXPECT_EQ(t.at("clipped_runs"), 0);
  EXPECT_EQ(t.at("intersample_overs"), 0);
  EXPECT_EQ(t.at("nonfinite_samples"), 0);
  EXPECT_TRUE(t.at("flags").empty()) << t.at("flags").dump();
  ASSERT_EQ(t.at("per_channel").size(), 2u);
  for (const auto& ch : t.at("per_channel")) {
    EXPECT_NEAR(ch.at("sample_peak").get<double>(), std::pow(10.0, -23.0 / 20), 1e-4);
    EXPECT_NEAR(ch.at("true_peak_dbtp").get<double>(), -23.0, 0.1);
    EXPECT_NEAR(ch.at("dc_offset").get<double>(), 0.0, 1e-4);
    EXPECT_EQ(ch.at("clipped_samples"), 0);
  }
  // The short-term curve: 10 values a second, the steady part of it at -23 LUFS.
  EXPECT_DOUBLE_EQ(t.at("short_term_curve").at("step_s").get<double>(), 0.1);
  const auto& curve = t.at("short_term_curve").at("lufs");
  ASSERT_GE(curve.size(), 20u);
  ASSERT_LE(curve.size(), 51u);
  ASSERT_TRUE(curve.back().is_number()) << curve.dump();
  EXPECT_NEAR(curve.back().get<double>(), -23.0, 0.1);

  // Digital silence: loudness undefined and peaks -infinity, both null.
  const nlohmann::json s = track_named(doc, quiet);
  EXPECT_EQ(s.at("status"), "analysed");
  for (const char* key : {"integrated_lufs", "momentary_max_lufs", "short_term_max_lufs", "lra_lu",
                          "sample_peak_dbfs", "true_peak_dbtp"})
    EXPECT_TRUE(s.at(key).is_null()) << key << " = " << s.at(key).dump();
  for (const auto& v : s.at("short_term_curve").at("lufs")) EXPECT_TRUE(v.is_null());
  for (const auto& ch : s.at("per_channel")) EXPECT_TRUE(ch.at("true_peak_dbtp").is_null());
  EXPECT_TRUE(Has(row_for(r.output, quiet.string()), "below gate")) << r.output;
}

TEST(CliAnalyze, JsonToStandardOutputKeepsTheTableOnStandardError) {
  TempDir dir;
  write(dir / "a.wav", sine(2, 1.0, 1000.0, -20.0));
  const SplitRun r = run_split(dir, "analyze " + q(dir / "a.wav") + " --json -");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json doc = nlohmann::json::parse(r.out);  // stdout is the document alone
  EXPECT_EQ(doc.at("schema"), "lathe.analysis/1");
  EXPECT_NEAR(doc.at("tracks")[0].at("integrated_lufs").get<double>(), -20.0, 0.1);
  EXPECT_TRUE(Has(r.err, "integrated"));
  EXPECT_TRUE(Has(r.err, "1 analysed, 0 failed"));
}

TEST(CliAnalyze, ThreadCountDoesNotChangeTheMeasures) {
  TempDir dir;
  for (unsigned i = 0; i < 4; ++i)
    write(dir / "in" / ("t" + std::to_string(i) + ".wav"), music_like(2, kRate, kRate, i + 1));
  const SplitRun one = run_split(dir, "analyze " + q(dir / "in") + " --threads 1 --album --json -");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const SplitRun all = run_split(dir, "analyze " + q(dir / "in") + " --album --json -");
  ASSERT_EQ(all.exit_code, 0) << all.err;
  const nlohmann::json a = nlohmann::json::parse(one.out), b = nlohmann::json::parse(all.out);
  EXPECT_EQ(a.at("tracks"), b.at("tracks"));
  EXPECT_EQ(a.at("album"), b.at("album"));
}

// --engine auto|gpu meters segments of many tracks in one engine call (the CPU engine here when no GPU works):
// the same numbers, bit for bit, as the default per-track path, and the same handling of bad files.
TEST(CliAnalyze, EngineBatchPathGivesTheSameMeasures) {
  TempDir dir;
  write(dir / "in/a.wav", music_like(2, 3 * kRate + 17, kRate, 1));
  write(dir / "in/b.wav", music_like(1, kRate / 3, kRate, 2));
  write(dir / "in/c.wav", music_like(2, 2 * 96000, 96000, 3), SF_FORMAT_WAV | SF_FORMAT_PCM_24);
  write(dir / "in/d.flac", music_like(6, kRate, kRate, 4), SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  std::ofstream(dir / "in/corrupt.wav", std::ios::binary) << "RIFF\x24\x01\x02\x03WAVEthis is not audio at all";
  const SplitRun cpu = run_split(dir, "analyze " + q(dir / "in") + " --engine cpu --album --json -");
  const SplitRun batched = run_split(dir, "analyze " + q(dir / "in") + " --engine auto --album --json -");
  EXPECT_EQ(cpu.exit_code, 1) << cpu.err;
  EXPECT_EQ(batched.exit_code, 1) << batched.err;
  EXPECT_TRUE(Has(batched.err, "corrupt.wav: "));
  EXPECT_TRUE(Has(batched.err, "4 analysed, 1 failed"));
  const nlohmann::json a = nlohmann::json::parse(cpu.out), b = nlohmann::json::parse(batched.out);
  EXPECT_EQ(a.at("tracks"), b.at("tracks"));
  EXPECT_EQ(a.at("album"), b.at("album"));
  if (lathe::host::gpu_unavailable_reason().empty()) {
    const SplitRun gpu = run_split(dir, "analyze " + q(dir / "in") + " --engine gpu --album --json -");
    const nlohmann::json g = nlohmann::json::parse(gpu.out);
    EXPECT_EQ(a.at("tracks"), g.at("tracks"));
    EXPECT_EQ(a.at("album"), g.at("album"));
  }
}

// ---- CSV --------------------------------------------------------------------------------------------------------

TEST(CliAnalyze, CsvHasAHeaderAndOneQuotedRowPerTrack) {
  TempDir dir;
  const fs::path tone = dir / "in/tone, \"loud\".wav", other = dir / "in/other.flac";
  write(tone, sine(2, 2.0, 1000.0, -23.0));
  write(other, music_like(2, kRate, kRate, 3), SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  const fs::path csv = dir / "a.csv";
  const RunResult r = run_lathe("analyze " + q(dir / "in") + " --csv " + q(csv));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string text = file_bytes(csv);
  EXPECT_TRUE(Has(text, "\"" + (dir / "in/tone, \"\"loud\"\".wav").string() + "\"")) << "paths are quoted";
  const auto rows = parse_csv(text);
  ASSERT_EQ(rows.size(), 3u) << text;
  const auto& header = rows[0];
  EXPECT_EQ(header[0], "input");
  auto column = [&](const std::string& name) {
    const auto it = std::find(header.begin(), header.end(), name);
    EXPECT_NE(it, header.end()) << name;
    return static_cast<std::size_t>(it - header.begin());
  };
  for (const auto& row : rows) EXPECT_EQ(row.size(), header.size());
  bool found = false;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    if (rows[i][0] != tone.string()) continue;
    found = true;
    EXPECT_EQ(rows[i][column("status")], "analysed");
    EXPECT_NEAR(std::stod(rows[i][column("integrated_lufs")]), -23.0, 0.1);
    EXPECT_NEAR(std::stod(rows[i][column("true_peak_dbtp")]), -23.0, 0.1);
    EXPECT_EQ(rows[i][column("rate_hz")], "48000");
    EXPECT_EQ(rows[i][column("flags")], "");
  }
  EXPECT_TRUE(found) << text;
}

// ---- album ------------------------------------------------------------------------------------------------------

TEST(CliAnalyze, AlbumLoudnessLiesBetweenItsTracks) {
  TempDir dir;
  write(dir / "in/1-soft.wav", sine(2, 3.0, 1000.0, -26.0));
  write(dir / "in/2-loud.wav", sine(2, 3.0, 1000.0, -16.0));
  const fs::path json = dir / "a.json";
  const RunResult r = run_lathe("analyze " + q(dir / "in") + " --album --json " + q(json));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Has(r.output, "album (2 track(s)): integrated "));
  const nlohmann::json doc = nlohmann::json::parse(file_bytes(json));
  const double soft = track_named(doc, dir / "in/1-soft.wav").at("integrated_lufs").get<double>();
  const double loud = track_named(doc, dir / "in/2-loud.wav").at("integrated_lufs").get<double>();
  ASSERT_TRUE(doc.contains("album"));
  EXPECT_EQ(doc.at("album").at("tracks"), 2);
  const double album = doc.at("album").at("integrated_lufs").get<double>();
  EXPECT_GT(album, soft);
  EXPECT_LT(album, loud);
  EXPECT_GT(doc.at("album").at("lra_lu").get<double>(), 5.0) << "two levels 10 LU apart make a wide range";
}

// ---- quality flags ------------------------------------------------------------------------------------------

TEST(CliAnalyze, QualityProblemsAreFlaggedAndNonFiniteSamplesCounted) {
  TempDir dir;
  const double seconds = 3.0;
  const auto n = static_cast<std::size_t>(seconds * kRate);
  auto clipped = sine(2, seconds, 997.0, 6.0);  // +6 dBFS, hard-clipped at the rails
  for (auto& ch : clipped)
    for (float& x : ch) x = std::clamp(x, -1.0f, 1.0f);
  auto dc = sine(2, seconds, 1000.0, -20.0);
  for (auto& ch : dc)
    for (float& x : ch) x += 0.01f;
  auto phase = sine(2, seconds, 1000.0, -20.0);
  for (float& x : phase[1]) x = -x;
  auto unbalanced = sine(2, seconds, 1000.0, -20.0);
  for (float& x : unbalanced[1]) x *= 0.5f;  // -6 dB on the right
  auto late = sine(2, 5.0, 1000.0, -20.0);
  for (auto& ch : late) std::fill(ch.begin(), ch.begin() + 3 * kRate, 0.0f);  // 3 s of silence first
  auto broken = sine(2, seconds, 1000.0, -20.0);
  broken[0][n / 2] = std::numeric_limits<float>::quiet_NaN();
  broken[1][n / 3] = std::numeric_limits<float>::infinity();
  broken[1][n / 3 + 1] = -std::numeric_limits<float>::infinity();
  auto clean = sine(2, seconds, 1000.0, -20.0);
  write(dir / "in/clipped.wav", clipped);
  write(dir / "in/dc.wav", dc);
  write(dir / "in/phase.wav", phase);
  write(dir / "in/unbalanced.wav", unbalanced);
  write(dir / "in/late.wav", late);
  write(dir / "in/broken.wav", broken);
  write(dir / "in/clean.wav", clean);

  const fs::path json = dir / "a.json";
  const RunResult r = run_lathe("analyze " + q(dir / "in") + " --json " + q(json));
  ASSERT_EQ(r.exit_code, 0) << "non-finite samples are reported, not refused\n" << r.output;
  const nlohmann::json doc = nlohmann::json::parse(file_bytes(json));

  const nlohmann::json c = track_named(doc, dir / "in/clipped.wav");
  EXPECT_TRUE(has_flag(c, "clipped")) << c.at("flags");
  EXPECT_GT(c.at("clipped_runs").get<int>(), 0);
  EXPECT_TRUE(Has(row_for(r.output, (dir / "in/clipped.wav").string()), "clipped:"));
  EXPECT_TRUE(has_flag(track_named(doc, dir / "in/dc.wav"), "dc-offset"));
  EXPECT_TRUE(has_flag(track_named(doc, dir / "in/phase.wav"), "out-of-phase"));
  EXPECT_LT(track_named(doc, dir / "in/phase.wav").at("correlation").get<double>(), -0.99);
  const nlohmann::json u = track_named(doc, dir / "in/unbalanced.wav");
  EXPECT_TRUE(has_flag(u, "unbalanced"));
  EXPECT_NEAR(u.at("balance_lu").get<double>(), 6.02, 0.1);
  const nlohmann::json l = track_named(doc, dir / "in/late.wav");
  EXPECT_TRUE(has_flag(l, "leading-silence"));
  EXPECT_NEAR(l.at("leading_silence_s").get<double>(), 3.0, 0.01);
  EXPECT_FALSE(has_flag(l, "trailing-silence"));
  const nlohmann::json b = track_named(doc, dir / "in/broken.wav");
  EXPECT_EQ(b.at("status"), "analysed");
  EXPECT_TRUE(has_flag(b, "non-finite"));
  EXPECT_EQ(b.at("nonfinite_samples"), 3);
  EXPECT_EQ(b.at("per_channel")[0].at("nonfinite_samples"), 1);
  EXPECT_EQ(b.at("per_channel")[1].at("nonfinite_samples"), 2);
  EXPECT_TRUE(Has(row_for(r.output, (dir / "in/broken.wav").string()), "non-finite:3"));
  EXPECT_TRUE(track_named(doc, dir / "in/clean.wav").at("flags").empty());
}

// ---- bad inputs and usage --------------------------------------------------------------------------------------

TEST(CliAnalyze, CorruptTruncatedEmptyAndMissingFilesAreSkippedWithExitOne) {
  TempDir dir;
  write(dir / "in/good.wav", sine(2, 1.0, 1000.0, -23.0));
  const fs::path corrupt = dir / "in/corrupt.wav", cut = dir / "in/cut.wav", empty = dir / "in/empty.wav",
                 missing = dir / "missing.wav";
  std::ofstream(corrupt, std::ios::binary) << "RIFF\x24\x01\x02\x03WAVEthis is not audio at all";
  write(cut, music_like(2, 2 * kRate, kRate, 9), SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  fs::resize_file(cut, fs::file_size(cut) / 2);
  write(empty, std::vector<std::vector<float>>(2));
  const fs::path json = dir / "a.json";
  const RunResult r = run_lathe("analyze " + q(dir / "in") + " " + q(missing) + " --json " + q(json));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(Has(r.output, "lathe: error: " + corrupt.string() + ": "));
  EXPECT_TRUE(Has(r.output, "lathe: error: " + cut.string() + ": truncated"));
  EXPECT_TRUE(Has(r.output, "lathe: error: " + empty.string() + ": no audio"));
  EXPECT_TRUE(Has(r.output, "lathe: error: " + missing.string() + ": input not found"));
  EXPECT_TRUE(Has(r.output, "1 analysed, 4 failed"));
  EXPECT_TRUE(Has(row_for(r.output, (dir / "in/good.wav").string()), "-23.0"));
  const nlohmann::json doc = nlohmann::json::parse(file_bytes(json));
  EXPECT_EQ(doc.at("summary").at("failed"), 4);
  for (const fs::path& bad : {corrupt, cut, empty, missing}) {
    const nlohmann::json t = track_named(doc, bad);
    EXPECT_EQ(t.at("status"), "failed");
    EXPECT_FALSE(t.at("error").get<std::string>().empty());
    EXPECT_FALSE(t.contains("integrated_lufs"));
  }
}

TEST(CliAnalyze, UsageErrorsExitWithTwo) {
  TempDir dir;
  write(dir / "a.wav", sine(2, 0.5, 1000.0, -23.0));
  const std::string in = q(dir / "a.wav");
  for (const std::string& args : {std::string("analyze"), "analyze " + in + " --frobnicate",
                                 "analyze " + in + " --threads 0", "analyze " + in + " --json - --csv -",
                                 "analyze " + in + " --json " + q(dir / "no/such/folder/a.json"),
                                 "analyze " + in + " --csv " + q(dir.path())}) {
    SCOPED_TRACE(args);
    const RunResult r = run_lathe(args);
    EXPECT_EQ(r.exit_code, 2) << r.output;
  }
  EXPECT_FALSE(fs::exists(dir / "no"));
}

// ---- formats ----------------------------------------------------------------------------------------------------

TEST(CliAnalyze, EveryFormatLatheReadsIsAnalysed) {
  TempDir dir;
  struct Format {
    const char* name;
    int format;
    double tolerance_lu;  // lossy codecs move the level a little
  };
  const std::vector<Format> formats = {
      {"pcm16.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 0.1},    {"pcm24.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 0.1},
      {"float.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0.1},     {"pcm24.rf64", SF_FORMAT_RF64 | SF_FORMAT_PCM_24, 0.1},
      {"float.w64", SF_FORMAT_W64 | SF_FORMAT_FLOAT, 0.1},     {"pcm16.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 0.1},
      {"pcm24.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 0.1},  {"pcm24.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_24, 0.1},
      {"float.caf", SF_FORMAT_CAF | SF_FORMAT_FLOAT, 0.1},     {"vorbis.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 0.5},
      {"opus.opus", SF_FORMAT_OGG | SF_FORMAT_OPUS, 0.5},      {"mp3.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 0.5},
  };
  std::vector<std::pair<fs::path, double>> written;
  for (const Format& f : formats) {
    SF_INFO probe{};
    probe.samplerate = kRate;
    probe.channels = 2;
    probe.format = f.format;
    if (!sf_format_check(&probe)) continue;  // this libsndfile cannot write it
    const fs::path path = dir / "in" / f.name;
    fs::create_directories(path.parent_path());
    if (!write_audio(path, sine(2, 2.0, 1000.0, -23.0), kRate, f.format)) continue;
    written.emplace_back(path, f.tolerance_lu);
  }
  ASSERT_GE(written.size(), 9u) << "WAV, RF64, W64, FLAC, AIFF and CAF are always written";
  const fs::path json = dir / "a.json";
  const RunResult r = run_lathe("analyze " + q(dir / "in") + " --json " + q(json));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json doc = nlohmann::json::parse(file_bytes(json));
  EXPECT_EQ(doc.at("summary").at("analysed"), static_cast<int>(written.size()));
  for (const auto& [path, tolerance] : written) {
    SCOPED_TRACE(path.filename().string());
    const nlohmann::json t = track_named(doc, path);
    ASSERT_EQ(t.at("status"), "analysed") << t.dump();
    EXPECT_NEAR(t.at("integrated_lufs").get<double>(), -23.0, tolerance);
  }
}

}  // namespace
}  // namespace lathe::test
