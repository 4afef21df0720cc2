// remove_stale_temporaries (host/io/atomic_file.hpp): the temporary files of killed runs are removed, those of
// live processes and anything else in the folder are not.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "host/io/atomic_file.hpp"
#include "tests/support.hpp"

namespace lathe::test {
namespace {

TEST(StaleTemporaries, OnlyThoseOfDeadProcessesAreRemoved) {
  TempDir dir;
  // A process id that certainly is not running: a child that has exited and been reaped.
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ::waitpid(child, nullptr, 0);
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

}  // namespace
}  // namespace lathe::test
