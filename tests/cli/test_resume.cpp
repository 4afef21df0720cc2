// Resumable runs (issue 9, host/io/resume.hpp): a run killed with SIGKILL at random moments and run again ends
// with every output complete and bit-identical to an uninterrupted run; a rerun skips what is finished, redoes
// what changed, and --force redoes everything.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support.hpp"

namespace lathe::test {
namespace {


// Starts `lathe master IN -o OUT -q --engine cpu` and returns its pid.
pid_t start_master(const fs::path& in, const fs::path& out) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::execl(LATHE_BINARY, LATHE_BINARY, "master", in.c_str(), "-o", out.c_str(), "-q", "--engine", "cpu",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

TEST(Resume, KilledRunsRerunToCompleteIdenticalOutputs) {
  TempDir dir;
  constexpr int kTracks = 8;
  for (int i = 0; i < kTracks; ++i) {
    fs::create_directories(dir / "in");
    ASSERT_TRUE(write_audio(dir / "in" / ("t" + std::to_string(i) + ".wav"),
                            music_like(2, 44100 * (1 + i % 3), 44100, static_cast<unsigned>(i + 1)), 44100,
                            SF_FORMAT_WAV | SF_FORMAT_PCM_24));
  }
  RunResult r = run_lathe("master " + q(dir / "in") + " -o " + q(dir / "ref") + " -q --engine cpu");
  ASSERT_EQ(r.exit_code, 0) << r.output;

  std::mt19937 rng(20261203);
  std::uniform_int_distribution<int> delay_ms(1, 350);  // a run takes about 0.3 s here: most kills land inside it
  int killed = 0;
  for (int attempt = 0; attempt < 12; ++attempt) {
    const pid_t pid = start_master(dir / "in", dir / "out");
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    if (::kill(pid, SIGKILL) == 0) ++killed;
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  EXPECT_GT(killed, 0);
  r = run_lathe("master " + q(dir / "in") + " -o " + q(dir / "out") + " -q --engine cpu");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (int i = 0; i < kTracks; ++i) {
    const std::string name = "t" + std::to_string(i) + ".wav";
    ASSERT_TRUE(fs::exists(dir / "out" / name)) << name;
    EXPECT_TRUE(file_bytes(dir / "out" / name) == file_bytes(dir / "ref" / name)) << name << " differs from the reference";
  }
  // Nothing is left of the killed runs but the finished outputs and lathe's records.
  for (const auto& e : fs::recursive_directory_iterator(dir / "out")) {
    EXPECT_EQ(e.path().filename().string().find(".lathe-tmp-"), std::string::npos) << e.path();
  }
  // Everything is finished now: a rerun skips every track.
  r = run_lathe("master " + q(dir / "in") + " -o " + q(dir / "out") + " --engine cpu");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("0 written, 8 skipped"), std::string::npos) << r.output;
}

// A run killed while it wrote a record leaves the record's temporary file in OUTDIR/.lathe/state: the next run
// removes it, for a track it redoes and for one it skips alike.
TEST(Resume, TemporaryRecordsOfKilledRunsAreRemoved) {
  TempDir dir;
  fs::create_directories(dir / "in");
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(write_audio(dir / "in" / ("t" + std::to_string(i) + ".wav"), music_like(2, 44100, 44100, 5u + i),
                            44100, SF_FORMAT_WAV | SF_FORMAT_PCM_24));
  }
  const std::string cmd = "master " + q(dir / "in") + " -o " + q(dir / "out") + " --engine cpu";
  ASSERT_EQ(run_lathe(cmd).exit_code, 0);
  const pid_t child = ended_process_id();  // its pid names the "killed run"
  ASSERT_GT(child, 0);
  const fs::path state = dir / "out" / ".lathe" / "state";
  for (const char* name : {"t0", "t1"}) {
    std::ofstream(state / ("." + std::string(name) + ".wav.json.lathe-tmp-" + std::to_string(child) + "-3")) << "{";
  }
  fs::remove(dir / "out" / "t1.wav");  // t1 is redone, t0 skipped
  const RunResult r = run_lathe(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("1 written, 1 skipped"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("removed 2 temporary file(s)"), std::string::npos) << r.output;
  for (const auto& e : fs::directory_iterator(state)) {
    EXPECT_EQ(e.path().filename().string().find(".lathe-tmp-"), std::string::npos) << e.path();
  }
}

TEST(Resume, ChangedInputsOrSettingsAreRedoneAndForeignOutputsKept) {
  TempDir dir;
  fs::create_directories(dir / "in");
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(write_audio(dir / "in" / ("t" + std::to_string(i) + ".wav"),
                            music_like(2, 44100, 44100, static_cast<unsigned>(i + 1)), 44100,
                            SF_FORMAT_WAV | SF_FORMAT_PCM_24));
  }
  const std::string cmd = "master " + q(dir / "in") + " -o " + q(dir / "out") + " --engine cpu";
  ASSERT_EQ(run_lathe(cmd).exit_code, 0);
  // A changed input is redone; the others are skipped.
  ASSERT_TRUE(write_audio(dir / "in" / "t1.wav", music_like(2, 44100, 44100, 99), 44100,
                          SF_FORMAT_WAV | SF_FORMAT_PCM_24));
  RunResult r = run_lathe(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("1 written, 2 skipped"), std::string::npos) << r.output;
  // Another profile: every track is redone (its outputs are lathe's own, so they may be replaced).
  r = run_lathe(cmd + " --profile transparent");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("3 written, 0 failed"), std::string::npos) << r.output;
  // An output somebody changed is not lathe's any more: kept, and the track fails until --overwrite or --force.
  { std::ofstream(dir / "out" / "t2.wav", std::ios::binary) << "edited by hand"; }
  r = run_lathe(cmd + " --profile transparent");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(file_bytes(dir / "out" / "t2.wav"), "edited by hand");
  r = run_lathe(cmd + " --profile transparent --force");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("3 written"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace lathe::test
