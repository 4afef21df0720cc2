// remove_stale_temporaries (host/io/atomic_file.hpp): the temporary files of killed runs are removed, those of
// live processes and anything else in the folder are not.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "host/io/atomic_file.hpp"
#include "tests/support.hpp"

namespace lathe::test {
namespace {

TEST(StaleTemporaries, OnlyThoseOfDeadProcessesAreRemoved) {
  TempDir dir;
  // A process id that certainly is not running: a child that has exited and been reaped.
  const pid_t child = ended_process_id();
  ASSERT_GT(child, 0);
  const std::string dead = std::to_string(child), live = std::to_string(::getppid());
  const fs::path out = dir / "song.wav";
  for (const std::string& name : {".song.wav.lathe-tmp-" + dead + "-0", ".song.wav.lathe-tmp-" + dead + "-7",
                                  ".song.wav.lathe-tmp-" + live + "-0", ".other.wav.lathe-tmp-" + dead + "-0",
                                  std::string(".song.wav.lathe-tmp-x-0"), std::string("song.wav")}) {
    std::ofstream(dir / name) << "x";
  }
  EXPECT_EQ(host::remove_stale_temporaries(out), 2);
  EXPECT_FALSE(fs::exists(dir / (".song.wav.lathe-tmp-" + dead + "-0")));
  EXPECT_FALSE(fs::exists(dir / (".song.wav.lathe-tmp-" + dead + "-7")));
  EXPECT_TRUE(fs::exists(dir / (".song.wav.lathe-tmp-" + live + "-0")));  // a live process's
  EXPECT_TRUE(fs::exists(dir / (".other.wav.lathe-tmp-" + dead + "-0")));  // another output's
  EXPECT_TRUE(fs::exists(dir / ".song.wav.lathe-tmp-x-0"));
  EXPECT_TRUE(fs::exists(dir / "song.wav"));
  EXPECT_EQ(host::remove_stale_temporaries(dir / "missing" / "x.wav"), 0);
}

// Many outputs in few folders: each folder read once, the same rule per name.
TEST(StaleTemporaries, ManyOutputsInOneCall) {
  TempDir dir;
  const pid_t child = ended_process_id();
  ASSERT_GT(child, 0);
  const std::string dead = std::to_string(child), live = std::to_string(::getppid());
  fs::create_directories(dir / "a");
  fs::create_directories(dir / "b");
  std::vector<fs::path> finals;
  for (int i = 0; i < 300; ++i) {
    const std::string name = "t" + std::to_string(i) + ".wav";
    finals.push_back(dir / (i % 2 ? "a" : "b") / name);
    std::ofstream(dir / (i % 2 ? "a" : "b") / ("." + name + ".lathe-tmp-" + (i % 3 ? dead : live) + "-1")) << "x";
  }
  std::ofstream(dir / "a" / (".unlisted.wav.lathe-tmp-" + dead + "-1")) << "x";
  finals.push_back(dir / "missing" / "x.wav");
  EXPECT_EQ(host::remove_stale_temporaries(finals), 200);  // the dead process's, not the live one's (i % 3 == 0)
  int left = 0;
  for (const char* folder : {"a", "b"})
    for (const auto& e : fs::directory_iterator(dir / folder)) {
      ++left;
      EXPECT_TRUE(e.path().filename().string().find(".lathe-tmp-" + live + "-") != std::string::npos ||
                  e.path().filename().string().rfind(".unlisted.wav", 0) == 0)
          << e.path();
    }
  EXPECT_EQ(left, 101);
}

}  // namespace
}  // namespace lathe::test
