// The lathe binary end to end: help and version, profiles, master on folders, exit codes 0-3, the report,
// refusing to overwrite or to replace inputs, unwritable output folders and a full disk.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "host/engine/engine.hpp"
#include "host/profile/builtin.hpp"
#include "tests/support.hpp"

namespace lathe::test {
namespace {

constexpr int kRate = 48000;

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected to find \"" << part << "\" in:\n" << text;
}

// A short stereo float WAV of music-like content (0.25 s by default).
void make_wav(const fs::path& path, double seconds = 0.25, unsigned seed = 1, int format = SF_FORMAT_WAV | SF_FORMAT_FLOAT) {
  fs::create_directories(path.parent_path());
  ASSERT_TRUE(write_audio(path, music_like(2, static_cast<std::int64_t>(seconds * kRate), kRate, seed), kRate, format))
      << path;
}


// Every regular file under `dir`, relative to it, sorted ("" entries never; an absent dir gives none).
// The files under `dir`, but for lathe's resume records (OUTDIR/.lathe, see host/io/resume.hpp).
std::vector<std::string> files_under(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_directory() && it->path().filename() == ".lathe") it.disable_recursion_pending();
    if (it->is_regular_file()) out.push_back(fs::relative(it->path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The line of `output` that mentions `needle`, or "".
std::string line_with(const std::string& output, const std::string& needle) {
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos) return line;
  return "";
}

// A file named .wav whose RIFF header promises audio that is not there.
void write_corrupt(const fs::path& path) {
  std::ofstream(path, std::ios::binary) << "RIFF\x24\x01\x02\x03WAVEthis is not audio at all";
}

// The table row of the track whose input is `input` (it starts with its status), or "".
std::string row_for(const std::string& output, const std::string& input) {
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);)
    if ((line.rfind("written", 0) == 0 || line.rfind("FAILED", 0) == 0) && line.find(input) != std::string::npos)
      return line;
  return "";
}

// lathe writes WAV through libsndfile's RF64 writer with auto-downgrade: a plain RIFF/WAVE file (read back as
// WAVEX, WAVE_FORMAT_EXTENSIBLE) unless it passes 4 GiB.
bool is_wav(int format) {
  const int major = format & SF_FORMAT_TYPEMASK;
  return major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX || major == SF_FORMAT_RF64;
}

bool gpu_usable() { return host::gpu_unavailable_reason().empty(); }

// ---- help, version, profiles -----------------------------------------------------------------------------

TEST(CliInfo, VersionPrintsVersionEnginesAndGpu) {
  const RunResult r = run_lathe("--version");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "lathe "));
  EXPECT_TRUE(Contains(r.output, "engines:"));
  EXPECT_TRUE(Contains(r.output, "cpu"));
  EXPECT_TRUE(Contains(r.output, "gpu:"));
  if (!gpu_usable()) {
    EXPECT_TRUE(Contains(r.output, host::gpu_unavailable_reason()));
  }
}

TEST(CliInfo, HelpExitsZeroAndExplainsEveryExitCode) {
  for (const std::string args : {"--help", "master --help"}) {
    SCOPED_TRACE(args);
    const RunResult r = run_lathe(args);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(Contains(r.output, "Exit codes"));
    for (const char* code : {"  0  ", "  1  ", "  2  ", "  3  "}) EXPECT_TRUE(Contains(r.output, code));
  }
  EXPECT_TRUE(Contains(run_lathe("--help").output, "master"));
}

TEST(CliInfo, MasterHelpListsEveryOption) {
  const RunResult r = run_lathe("master --help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* opt : {"--profile", "--engine", "--format", "--bits", "--threads", "--report", "--overwrite",
                          "--output", "--quiet"})
    EXPECT_TRUE(Contains(r.output, opt));
}

TEST(CliInfo, NoSubcommandPrintsHelpAndExitsWithTwo) {
  const RunResult r = run_lathe("");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "master"));
}

TEST(CliProfiles, ListsEveryBuiltinWithItsDescription) {
  const RunResult r = run_lathe("profiles");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const auto& b : host::builtin_profiles()) {
    const std::string line = line_with(r.output, b.name);
    ASSERT_FALSE(line.empty()) << b.name << " missing from:\n" << r.output;
    // The description is the text after the name on the same line.
    const std::string rest = line.substr(line.find(b.name) + std::string(b.name).size());
    EXPECT_NE(rest.find_first_not_of(' '), std::string::npos) << "no description for " << b.name;
  }
}

TEST(CliProfiles, ShownDefaultProfileIsAcceptedByMaster) {
  TempDir dir;
  const RunResult shown = run_lathe("profiles --show streaming");
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_TRUE(Contains(shown.output, "[delivery]"));
  EXPECT_TRUE(Contains(shown.output, "[[stage]]"));
  const fs::path profile = dir / "mine.toml";
  std::ofstream(profile) << shown.output;
  make_wav(dir / "in/a.wav");

  const RunResult r = run_lathe("master " + q(dir / "in") + " -o " + q(dir / "out") + " --profile " + q(profile));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const ReadBack out = read_audio(dir / "out/a.wav");
  EXPECT_TRUE(is_wav(out.format));
  EXPECT_EQ(out.format & SF_FORMAT_SUBMASK, SF_FORMAT_PCM_24);

  // And --show of that file prints the same text again.
  const RunResult again = run_lathe("profiles --show " + q(profile));
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(again.output, shown.output);
}

TEST(CliProfiles, ShowUnknownProfileExitsWithTwo) {
  const RunResult r = run_lathe("profiles --show no-such-profile");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "no-such-profile"));
  EXPECT_TRUE(Contains(r.output, "streaming"));
}

// ---- master: the good path ---------------------------------------------------------------------------------

TEST(CliMaster, FolderIsMasteredWithItsStructureMirrored) {
  TempDir dir;
  make_wav(dir / "in/a.wav", 0.25, 1);
  make_wav(dir / "in/sub/b.wav", 0.2, 2);
  make_wav(dir / "in/sub/deeper/c.wav", 0.3, 3, SF_FORMAT_WAV | SF_FORMAT_PCM_16);

  const RunResult r = run_lathe("master " + q(dir / "in") + " -o " + q(dir / "out"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(files_under(dir / "out"), (std::vector<std::string>{"a.wav", "sub/b.wav", "sub/deeper/c.wav"}));
  const std::vector<std::pair<std::string, double>> expected = {
      {"a.wav", 0.25}, {"sub/b.wav", 0.2}, {"sub/deeper/c.wav", 0.3}};
  for (const auto& [rel, seconds] : expected) {
    SCOPED_TRACE(rel);
    const ReadBack out = read_audio(dir / "out" / rel);
    EXPECT_TRUE(is_wav(out.format));
    EXPECT_EQ(out.format & SF_FORMAT_SUBMASK, SF_FORMAT_PCM_24);
    EXPECT_EQ(out.rate_hz, kRate);
    EXPECT_EQ(out.channels, 2);
    ASSERT_EQ(out.planar.size(), 2u);
    EXPECT_EQ(out.planar[0].size(), static_cast<std::size_t>(seconds * kRate));
    // One table row per track: status, then the input and where it went.
    const std::string row = row_for(r.output, (dir / "in" / rel).string());
    EXPECT_EQ(row.rfind("written", 0), 0u) << row;
    EXPECT_TRUE(Contains(row, (dir / "out" / rel).string()));
    EXPECT_TRUE(Contains(row, "48000"));
  }
  EXPECT_TRUE(Contains(r.output, "3 written, 0 failed"));
}

// Progress goes to a terminal only: through a pipe the output has no carriage returns. On a pseudo-terminal
// (util-linux `script`, when present) the progress line shows and is cleared. --verbose adds each track's
// delivery details and where the time went.
TEST(CliMaster, ProgressOnlyOnATerminalAndVerboseDetails) {
  TempDir dir;
  make_wav(dir / "in/a.wav", 0.5, 1);
  make_wav(dir / "in/b.wav", 0.5, 2);
  const RunResult piped = run_lathe("master " + q(dir / "in") + " -o " + q(dir / "out1") + " -v");
  ASSERT_EQ(piped.exit_code, 0) << piped.output;
  EXPECT_EQ(piped.output.find('\r'), std::string::npos) << piped.output;
  EXPECT_TRUE(Contains(piped.output, "delivery: ")) << piped.output;
  EXPECT_TRUE(Contains(piped.output, "seconds: ")) << piped.output;
  EXPECT_TRUE(Contains(piped.output, "targeting ")) << piped.output;
  if (std::system("command -v script >/dev/null 2>&1") == 0) {
    // `script` runs the command on a pseudo-terminal and copies what it shows to its stdout.
    auto on_terminal = [&](const std::string& args) {
      const std::string cmd = "script -qec \"'" + std::string(LATHE_BINARY) + "' " + args + "\" /dev/null 2>&1";
      std::string out;
      FILE* p = ::popen(cmd.c_str(), "r");
      if (p == nullptr) return out;
      char buf[4096];
      std::size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
      ::pclose(p);
      return out;
    };
    const std::string tty = on_terminal("master " + q(dir / "in") + " -o " + q(dir / "out2"));
    EXPECT_TRUE(Contains(tty, "[2/2 tracks]")) << tty;
    EXPECT_TRUE(Contains(tty, "\r\033[K")) << "the line is cleared";
    const std::string quiet = on_terminal("master " + q(dir / "in") + " -o " + q(dir / "out3") + " -q");
    EXPECT_FALSE(Contains(quiet, "tracks]")) << quiet;
  }
}

// Album mode end to end: one gain for the folder, the album file and its CUE sheet beside the tracks, both in
// the report; --album without a loudness target is a usage error.
TEST(CliMaster, AlbumModeWritesTheAlbumFileAndCueSheet) {
  TempDir dir;
  make_wav(dir / "in/My Album/01.wav", 2.0, 1);
  make_wav(dir / "in/My Album/02.wav", 1.5, 2);
  const fs::path profile = dir / "alb.toml";
  std::ofstream(profile) << "name = \"alb\"\n[targets]\nintegrated_lufs = -16.0\nceiling_dbtp = -1.0\n"
                            "[album]\ngap_s = 1.0\nalbum_file = true\n";
  const fs::path report = dir / "r.json";
  // What a run killed while writing the album file and its CUE sheet left: removed by this one.
  const pid_t gone = ended_process_id();
  ASSERT_GT(gone, 0);
  fs::create_directories(dir / "out/My Album");
  for (const char* name : {".My Album.wav.lathe-tmp-", ".My Album.cue.lathe-tmp-"}) {
    std::ofstream(dir / "out/My Album" / (name + std::to_string(gone) + "-0")) << "partial";
  }
  const RunResult r = run_lathe("master " + q(dir / "in") + " -o " + q(dir / "out") + " --album --profile " +
                                q(profile) + " --report " + q(report));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(files_under(dir / "out"), (std::vector<std::string>{"My Album/01.wav", "My Album/02.wav",
                                                                "My Album/My Album.cue", "My Album/My Album.wav"}));
  const std::string cue = file_bytes(dir / "out/My Album/My Album.cue");
  EXPECT_TRUE(Contains(cue, "FILE \"My Album.wav\" WAVE"));
  EXPECT_TRUE(Contains(cue, "TRACK 02 AUDIO"));
  const ReadBack album = read_audio(dir / "out/My Album/My Album.wav");
  EXPECT_EQ(album.planar[0].size(), static_cast<std::size_t>(4.5 * kRate));  // 2 s + 1 s gap + 1.5 s
  const nlohmann::json j = nlohmann::json::parse(file_bytes(report));
  ASSERT_EQ(j.at("albums").size(), 1u);
  EXPECT_EQ(j.at("albums")[0].at("status"), "written");
  EXPECT_EQ(j.at("tracks")[0].at("delivery").at("gain_db"), j.at("tracks")[1].at("delivery").at("gain_db"));
  EXPECT_TRUE(j.at("tracks")[0].at("delivery").at("album").get<bool>());
  EXPECT_TRUE(Contains(r.output, "album   2 track(s)"));

  // A track named like its folder keeps its output; the album file takes another name.
  make_wav(dir / "in2/Live/Live.wav", 1.0, 3);
  make_wav(dir / "in2/Live/encore.wav", 1.0, 4);
  const RunResult same = run_lathe("master " + q(dir / "in2") + " -o " + q(dir / "out3") + " --album --profile " +
                                   q(profile) + " --overwrite");
  ASSERT_EQ(same.exit_code, 0) << same.output;
  EXPECT_EQ(files_under(dir / "out3"), (std::vector<std::string>{"Live/Live (album).cue", "Live/Live (album).wav",
                                                                 "Live/Live.wav", "Live/encore.wav"}));
  EXPECT_EQ(read_audio(dir / "out3/Live/Live.wav").planar[0].size(), static_cast<std::size_t>(kRate));

  const RunResult plain = run_lathe("master " + q(dir / "in") + " -o " + q(dir / "out2") + " --album --profile transparent");
  EXPECT_EQ(plain.exit_code, 2) << plain.output;
  EXPECT_TRUE(Contains(plain.output, "--album needs a profile with a loudness target"));
}

TEST(CliMaster, SeveralFilesGoSideBySideIntoOutdir) {
  TempDir dir;
  make_wav(dir / "x/one.wav", 0.1, 4);
  make_wav(dir / "y/two.wav", 0.1, 5);
  const RunResult r = run_lathe("master " + q(dir / "x/one.wav") + " " + q(dir / "y/two.wav") + " -o " + q(dir / "out"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(files_under(dir / "out"), (std::vector<std::string>{"one.wav", "two.wav"}));
}

TEST(CliMaster, GpusAndGpuMemoryNeedTheGpuEngineAndWellFormedValues) {
  TempDir dir;
  make_wav(dir / "one.wav", 0.1, 4);
  const std::string base = "master " + q(dir / "one.wav") + " -o " + q(dir / "out") + " -q";
  RunResult r = run_lathe(base + " --engine cpu --gpus 0,1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--gpus 0,1 needs the GPU engine"), std::string::npos) << r.output;
  r = run_lathe(base + " --engine cpu --gpu-memory 64");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--gpu-memory needs the GPU engine"), std::string::npos) << r.output;
  r = run_lathe(base + " --engine auto --gpu-memory 0");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  for (const char* bad : {"1,x", "0,0", ",", "-1"}) {
    r = run_lathe(base + " --engine auto --gpus=" + bad);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.output;
    EXPECT_NE(r.output.find("--gpus"), std::string::npos) << r.output;
  }
  EXPECT_FALSE(fs::exists(dir / "out" / "one.wav"));
  if (host::gpu_count() == 0) {
    // No GPU here: --engine gpu exits 3 whatever --gpus says; auto runs on the CPU and says so.
    r = run_lathe(base + " --engine gpu --gpus all");
    EXPECT_EQ(r.exit_code, 3) << r.output;
    r = run_lathe(base + " --engine auto --gpus 0,1");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_TRUE(fs::exists(dir / "out" / "one.wav"));
  }
}

TEST(CliMaster, FlacSixteenBitOverrideWritesSixteenBitFlac) {
  TempDir dir;
  make_wav(dir / "in/a.wav", 0.2, 1);
  make_wav(dir / "in/b.wav", 0.2, 2);
  const RunResult r = run_lathe("master " + q(dir / "in") + " -o " + q(dir / "out") + " --format flac --bits 16");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(files_under(dir / "out"), (std::vector<std::string>{"a.flac", "b.flac"}));
  for (const char* name : {"a.flac", "b.flac"}) {
    const ReadBack out = read_audio(dir / "out" / name);
    EXPECT_EQ(out.format, SF_FORMAT_FLAC | SF_FORMAT_PCM_16) << name;
    EXPECT_EQ(out.rate_hz, kRate);
    ASSERT_EQ(out.planar.size(), 2u);
    EXPECT_EQ(out.planar[0].size(), static_cast<std::size_t>(0.2 * kRate));
  }
}

TEST(CliMaster, FloatBitsWithWavKeepTheSamplesExactly) {
  TempDir dir;
  make_wav(dir / "in/a.wav", 0.1, 9);
  const RunResult r = run_lathe("master " + q(dir / "in") + " -o " + q(dir / "out") + " --bits 32f");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const ReadBack in = read_audio(dir / "in/a.wav");
  const ReadBack out = read_audio(dir / "out/a.wav");
  EXPECT_TRUE(is_wav(out.format));
  EXPECT_EQ(out.format & SF_FORMAT_SUBMASK, SF_FORMAT_FLOAT);
  EXPECT_EQ(out.planar, in.planar);
}

TEST(CliMaster, FloatBitsWithFlacIsAUsageError) {
  TempDir dir;
  make_wav(dir / "in/a.wav");
  const RunResult r = run_lathe("master " + q(dir / "in") + " -o " + q(dir / "out") + " --bits 32f --format flac");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "FLAC"));
  EXPECT_TRUE(files_under(dir / "out").empty());
}

TEST(CliMaster, ReportJsonDescribesEveryTrack) {
  TempDir dir;
  make_wav(dir / "in/a.wav", 0.2, 1);
  make_wav(dir / "in/b.wav", 0.2, 2);
  const fs::path report = dir / "r.json";
  const RunResult r = run_lathe("master " + q(dir / "in") + " -o " + q(dir / "out") + " --report " + q(report));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(fs::is_regular_file(report));
  const nlohmann::json j = nlohmann::json::parse(file_bytes(report));
  EXPECT_EQ(j.at("schema"), "lathe.report/1");
  EXPECT_EQ(j.at("summary").at("written"), 2);
  EXPECT_EQ(j.at("summary").at("failed"), 0);
  EXPECT_EQ(j.at("summary").at("tracks"), 2);
  EXPECT_EQ(j.at("profile").at("name"), "streaming");
  ASSERT_EQ(j.at("tracks").size(), 2u);
  for (const auto& t : j.at("tracks")) {
    EXPECT_EQ(t.at("status"), "written") << t.dump();
    ASSERT_TRUE(t.contains("content_key")) << t.dump();
    EXPECT_EQ(t.at("content_key").get<std::string>().size(), 16u);
    EXPECT_EQ(t.at("rate_hz"), kRate);
    EXPECT_EQ(t.at("channels"), 2);
    EXPECT_TRUE(fs::is_regular_file(t.at("output").get<std::string>()));
  }
  EXPECT_NE(j.at("tracks")[0].at("content_key"), j.at("tracks")[1].at("content_key"))
      << "different audio, different dither key";
  // The report is not mistaken for an input or left as a temporary file.
  EXPECT_EQ(files_under(dir.path()), (std::vector<std::string>{"in/a.wav", "in/b.wav", "out/a.wav", "out/b.wav",
                                                               "r.json"}));
}

TEST(CliMaster, ReportRecordsFailedAndMissingInputs) {
  TempDir dir;
  make_wav(dir / "in/good.wav", 0.1, 1);
  write_corrupt(dir / "in/bad.wav");
  const fs::path report = dir / "r.json";
  const RunResult r = run_lathe("master " + q(dir / "in") + " " + q(dir / "missing.wav") + " -o " + q(dir / "out") +
                                " --report " + q(report));
  ASSERT_EQ(r.exit_code, 1) << r.output;
  const nlohmann::json j = nlohmann::json::parse(file_bytes(report));
  EXPECT_EQ(j.at("summary").at("written"), 1);
  EXPECT_EQ(j.at("summary").at("failed"), 2);
  EXPECT_EQ(j.at("summary").at("tracks"), 3);
  int failed = 0;
  for (const auto& t : j.at("tracks"))
    if (t.at("status") == "failed") {
      ++failed;
      EXPECT_FALSE(t.at("error").get<std::string>().empty());
    }
  EXPECT_EQ(failed, 2);
}

// Exit code 2 promises "nothing was processed": a report path that cannot be written must either be refused
// before any track is mastered (exit 2, no outputs) or be reported as a failure after the batch (exit 1).
TEST(CliMaster, UnwritableReportPathNeverClaimsNothingWasProcessed) {
  TempDir dir;
  make_wav(dir / "in/a.wav", 0.1, 1);
  const fs::path report = dir / "no/such/folder/r.json";
  const RunResult r = run_lathe("master " + q(dir / "in") + " -o " + q(dir / "out") + " --report " + q(report));
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "lathe: error: "));
  EXPECT_TRUE(Contains(r.output, report.parent_path().string()));
  if (r.exit_code == 2)
    EXPECT_TRUE(files_under(dir / "out").empty()) << "exit 2 says nothing was processed, yet outputs were written";
  else
    EXPECT_EQ(r.exit_code, 1) << r.output;
}

TEST(CliMaster, SingleThreadGivesTheSameBytes) {
  TempDir dir;
  make_wav(dir / "in/a.wav", 0.2, 1);
  make_wav(dir / "in/b.wav", 0.2, 2);
  const RunResult one = run_lathe("master " + q(dir / "in") + " -o " + q(dir / "one") + " --threads 1");
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const RunResult all = run_lathe("master " + q(dir / "in") + " -o " + q(dir / "all"));
  ASSERT_EQ(all.exit_code, 0) << all.output;
  for (const char* name : {"a.wav", "b.wav"}) {
    ASSERT_TRUE(fs::is_regular_file(dir / "one" / name));
    EXPECT_EQ(file_bytes(dir / "one" / name), file_bytes(dir / "all" / name)) << name;
  }
}

TEST(CliMaster, QuietPrintsOnlyTheSummary) {
  TempDir dir;
  make_wav(dir / "in/a.wav", 0.1, 1);
  const RunResult r = run_lathe("master -q " + q(dir / "in") + " -o " + q(dir / "out") + " --engine cpu");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "1 written, 0 failed"));
  EXPECT_TRUE(row_for(r.output, (dir / "in/a.wav").string()).empty()) << r.output;
}

// ---- exit 1: some tracks failed ----------------------------------------------------------------------------

TEST(CliMaster, CorruptInputFailsAloneWithExitOne) {
  TempDir dir;
  make_wav(dir / "in/a.wav", 0.2, 1);
  make_wav(dir / "in/c.wav", 0.2, 3);
  const fs::path bad = dir / "in/b.wav";
  write_corrupt(bad);
  const RunResult r = run_lathe("master " + q(dir / "in") + " -o " + q(dir / "out"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(files_under(dir / "out"), (std::vector<std::string>{"a.wav", "c.wav"}));
  EXPECT_TRUE(Contains(r.output, "lathe: error: " + bad.string() + ": "));
  EXPECT_TRUE(Contains(r.output, "2 written, 1 failed"));
  EXPECT_EQ(row_for(r.output, bad.string()).rfind("FAILED", 0), 0u) << r.output;
}

TEST(CliMaster, MissingInputAmongGoodOnesExitsWithOne) {
  TempDir dir;
  make_wav(dir / "a.wav", 0.1, 1);
  const fs::path missing = dir / "nope.wav";
  const RunResult r = run_lathe("master " + q(dir / "a.wav") + " " + q(missing) + " -o " + q(dir / "out"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(files_under(dir / "out"), (std::vector<std::string>{"a.wav"}));
  EXPECT_TRUE(Contains(r.output, "lathe: error: " + missing.string() + ": "));
  EXPECT_TRUE(Contains(r.output, "not found"));
}

TEST(CliMaster, EmptyFolderIsReportedAsAProblem) {
  TempDir dir;
  fs::create_directories(dir / "empty");
  make_wav(dir / "a.wav", 0.1, 1);
  const RunResult r = run_lathe("master " + q(dir / "a.wav") + " " + q(dir / "empty") + " -o " + q(dir / "out"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(Contains(r.output, "no audio files"));
  EXPECT_EQ(files_under(dir / "out"), (std::vector<std::string>{"a.wav"}));
}

// ---- exit 2: usage and profile errors, nothing written ------------------------------------------------------

TEST(CliUsage, UsageErrorsExitWithTwoAndWriteNothing) {
  TempDir dir;
  make_wav(dir / "in/a.wav", 0.1, 1);
  const fs::path bad_profile = dir / "oops.toml";
  std::ofstream(bad_profile) << "name = \"oops\"\n[[stage]]\ntype = \"gain\"\ngain_db = 99\n";
  const std::string in = q(dir / "in");
  const std::string out = q(dir / "out");
  struct Case {
    std::string args;
    std::vector<std::string> says;
  };
  const std::vector<Case> cases = {
      {"master " + in + " -o " + out + " --frobnicate", {"--frobnicate"}},
      {"master " + in, {"--output"}},
      {"master -o " + out, {"INPUT"}},
      {"master " + in + " -o " + out + " --engine fast", {"fast"}},
      {"master " + in + " -o " + out + " --format mp3", {"mp3"}},
      {"master " + in + " -o " + out + " --bits 20", {"20"}},
      {"master " + in + " -o " + out + " --threads 0", {"--threads"}},
      {"master " + in + " -o " + out + " --profile " + q(bad_profile), {"oops.toml:4", "gain_db", "99"}},
      {"master " + in + " -o " + out + " --profile no-such-profile", {"no-such-profile", "streaming"}},
      {"frobnicate", {"frobnicate"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args);
    const RunResult r = run_lathe(c.args);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    for (const std::string& s : c.says) EXPECT_TRUE(Contains(r.output, s));
    EXPECT_TRUE(files_under(dir / "out").empty());
  }
  EXPECT_EQ(files_under(dir.path()), (std::vector<std::string>{"in/a.wav", "oops.toml"}));
}

TEST(CliUsage, ProfileErrorIsPrintedAsOneLatheErrorLine) {
  TempDir dir;
  make_wav(dir / "in/a.wav", 0.1, 1);
  const fs::path profile = dir / "typo.toml";
  std::ofstream(profile) << "[[stage]]\ntype = \"gain\"\ngian_db = -3\n";
  const RunResult r = run_lathe("master " + q(dir / "in") + " -o " + q(dir / "out") + " -p " + q(profile));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  const std::string line = line_with(r.output, "lathe: error: ");
  EXPECT_TRUE(Contains(line, profile.string() + ":3"));
  EXPECT_TRUE(Contains(line, "gian_db"));
  EXPECT_TRUE(Contains(line, "gain_db"));
  EXPECT_FALSE(fs::exists(dir / "out"));
}

TEST(CliUsage, OutputFolderThatCannotBeCreatedExitsWithTwo) {
  TempDir dir;
  make_wav(dir / "in/a.wav", 0.1, 1);
  std::ofstream(dir / "afile") << "a regular file, not a folder";
  const fs::path out = dir / "afile" / "out";
  const RunResult r = run_lathe("master " + q(dir / "in") + " -o " + q(out));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "lathe: error: "));
  EXPECT_TRUE(Contains(r.output, "output folder"));
  EXPECT_TRUE(Contains(r.output, out.string()));
  EXPECT_EQ(files_under(dir.path()), (std::vector<std::string>{"afile", "in/a.wav"}));
}

TEST(CliUsage, OutputFolderThatIsAFileExitsWithTwo) {
  TempDir dir;
  make_wav(dir / "in/a.wav", 0.1, 1);
  std::ofstream(dir / "afile") << "x";
  const RunResult r = run_lathe("master " + q(dir / "in") + " -o " + q(dir / "afile"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_TRUE(Contains(r.output, "output folder"));
  EXPECT_EQ(file_bytes(dir / "afile"), "x");
}

// ---- exit 3 and engine choice ------------------------------------------------------------------------------

TEST(CliEngine, GpuEngineWithoutGpuExitsWithThree) {
  const std::string why = host::gpu_unavailable_reason();
  if (why.empty()) GTEST_SKIP() << "a usable GPU is present, so --engine gpu works here";
  TempDir dir;
  make_wav(dir / "in/a.wav", 0.1, 1);
  const RunResult r = run_lathe("master " + q(dir / "in") + " -o " + q(dir / "out") + " --engine gpu");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_TRUE(Contains(r.output, "lathe: error: "));
  EXPECT_TRUE(Contains(r.output, why));
  EXPECT_TRUE(Contains(r.output, "--engine cpu")) << "says what to do instead";
  EXPECT_TRUE(files_under(dir / "out").empty());
}

TEST(CliEngine, AutoEngineWithoutGpuSaysItUsesTheCpu) {
  if (gpu_usable()) GTEST_SKIP() << "a usable GPU is present, so auto picks it";
  TempDir dir;
  make_wav(dir / "in/a.wav", 0.1, 1);
  const RunResult r = run_lathe("master " + q(dir / "in") + " -o " + q(dir / "out") + " --engine auto");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "using the CPU engine"));
  EXPECT_TRUE(Contains(r.output, host::gpu_unavailable_reason()));
  EXPECT_EQ(files_under(dir / "out"), (std::vector<std::string>{"a.wav"}));
}

TEST(CliEngine, CpuEngineSaysNothingAboutTheGpu) {
  TempDir dir;
  make_wav(dir / "in/a.wav", 0.1, 1);
  const RunResult r = run_lathe("master " + q(dir / "in") + " -o " + q(dir / "out") + " --engine cpu");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(Contains(r.output, "engine auto"));
  EXPECT_TRUE(Contains(r.output, "engine cpu"));
}

// ---- existing outputs and inputs -------------------------------------------------------------------------

TEST(CliOutputs, ExistingOutputsAreKeptWithoutOverwrite) {
  TempDir dir;
  make_wav(dir / "in/a.wav", 0.2, 1);
  make_wav(dir / "in/b.wav", 0.2, 2);
  const std::string cmd = "master " + q(dir / "in") + " -o " + q(dir / "out");
  ASSERT_EQ(run_lathe(cmd).exit_code, 0);
  // Make the existing outputs recognisable so "untouched" is unambiguous.
  std::ofstream(dir / "out/a.wav", std::ios::binary) << "previous master A";
  const std::string before_b = file_bytes(dir / "out/b.wav");
  struct stat st_b {};
  ASSERT_EQ(::stat((dir / "out/b.wav").c_str(), &st_b), 0);

  const RunResult again = run_lathe(cmd);
  EXPECT_EQ(again.exit_code, 1) << again.output;
  EXPECT_TRUE(Contains(again.output, "--overwrite"));
  EXPECT_TRUE(Contains(again.output, (dir / "out/a.wav").string()));
  EXPECT_EQ(file_bytes(dir / "out/a.wav"), "previous master A");
  EXPECT_EQ(file_bytes(dir / "out/b.wav"), before_b);
  struct stat st_b2 {};
  ASSERT_EQ(::stat((dir / "out/b.wav").c_str(), &st_b2), 0);
  EXPECT_EQ(st_b2.st_ino, st_b.st_ino);
  EXPECT_EQ(files_under(dir / "out"), (std::vector<std::string>{"a.wav", "b.wav"})) << "no temporary files left";

  const RunResult forced = run_lathe(cmd + " --overwrite");
  EXPECT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_EQ(file_bytes(dir / "out/b.wav"), before_b) << "same input, same master";
  EXPECT_TRUE(is_wav(read_audio(dir / "out/a.wav").format));
  EXPECT_EQ(read_audio(dir / "out/a.wav").format & SF_FORMAT_SUBMASK, SF_FORMAT_PCM_24);
  EXPECT_EQ(files_under(dir / "out"), (std::vector<std::string>{"a.wav", "b.wav"}));
}

TEST(CliOutputs, InputGivenTwiceIsMasteredOnce) {
  TempDir dir;
  make_wav(dir / "a.wav", 0.1, 1);
  // Named twice (also through its folder): one job, not a failure.
  const RunResult r = run_lathe("master " + q(dir / "a.wav") + " " + q(dir / "a.wav") + " " + q(dir.path()) + " -o " +
                                q(dir / "out"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "1 written, 0 failed"));
  EXPECT_EQ(files_under(dir / "out"), (std::vector<std::string>{"a.wav"}));
}

TEST(CliOutputs, TwoInputsWithTheSameOutputNameAreNotMerged) {
  TempDir dir;
  make_wav(dir / "x/song.wav", 0.1, 1);
  make_wav(dir / "y/song.wav", 0.1, 2);
  const RunResult r = run_lathe("master " + q(dir / "x/song.wav") + " " + q(dir / "y/song.wav") + " -o " + q(dir / "out"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(Contains(r.output, (dir / "y/song.wav").string()));
  EXPECT_EQ(files_under(dir / "out"), (std::vector<std::string>{"song.wav"}));
}

TEST(CliOutputs, InputThatWouldMapOntoItselfIsRefusedAndUntouched) {
  TempDir dir;
  const fs::path input = dir / "x/a.wav";
  make_wav(input, 0.2, 1);
  const std::string before = file_bytes(input);
  const auto mtime = fs::last_write_time(input);

  for (const std::string& args : {"master " + q(input) + " -o " + q(dir / "x"),
                                  "master " + q(dir / "x") + " -o " + q(dir / "x"),
                                  "master " + q(input) + " -o " + q(dir / "x") + " --overwrite"}) {
    SCOPED_TRACE(args);
    const RunResult r = run_lathe(args);
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_NE(r.exit_code, 3) << r.output;
    EXPECT_TRUE(Contains(r.output, "lathe: error: "));
    EXPECT_TRUE(Contains(r.output, "input"));
    EXPECT_EQ(file_bytes(input), before);
    EXPECT_EQ(fs::last_write_time(input), mtime);
    EXPECT_EQ(files_under(dir / "x"), (std::vector<std::string>{"a.wav"}));
  }
}

TEST(CliOutputs, OutdirInsideTheInputFolderIsNotMasteredAgain) {
  TempDir dir;
  make_wav(dir / "music/a.wav", 0.1, 1);
  const std::string cmd = "master " + q(dir / "music") + " -o " + q(dir / "music/masters");
  ASSERT_EQ(run_lathe(cmd).exit_code, 0);
  const RunResult again = run_lathe(cmd + " --overwrite");
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(files_under(dir / "music"), (std::vector<std::string>{"a.wav", "masters/a.wav"}));
}

// ---- full disk -------------------------------------------------------------------------------------------

TEST(CliOutputs, FullDiskFailsTheTrackAndLeavesNoPartialFile) {
  TempDir dir;
  // 10 s of stereo 48 kHz: about 2.9 MB as 24-bit WAV, far past the 32-64 KiB file-size limit below
  // (`ulimit -f` counts 512-byte blocks in dash, 1024-byte ones in bash).
  make_wav(dir / "in/long.wav", 10.0, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  const RunResult probe = run_lathe("--version", "ulimit -f 64 &&");
  ASSERT_EQ(probe.exit_code, 0) << "ulimit -f is not available in /bin/sh: " << probe.output;

  const RunResult r = run_lathe("master " + q(dir / "in") + " -o " + q(dir / "out"), "ulimit -f 64;");
  EXPECT_EQ(r.exit_code, 1) << "lathe must report the failed write, not die of SIGXFSZ:\n" << r.output;
  EXPECT_TRUE(Contains(r.output, "lathe: error: " + (dir / "in/long.wav").string()));
  EXPECT_TRUE(Contains(r.output, "write"));
  EXPECT_TRUE(r.output.find("disk") != std::string::npos || r.output.find("space") != std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "out/long.wav"));
  for (const auto& f : files_under(dir / "out")) ADD_FAILURE() << "left behind: " << f;
}

}  // namespace
}  // namespace lathe::test
