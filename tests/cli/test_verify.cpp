// `lathe verify OUTDIR --profile NAME` (issue 9): delivered files measured again and held to the profile.
#include <gtest/gtest.h>

#include <string>

#include "tests/support.hpp"

namespace lathe::test {
namespace {

TEST(CliVerify, MasteredFilesComplyAndAnAlteredOneIsNamed) {
  TempDir dir;
  fs::create_directories(dir / "in");
  for (unsigned i = 0; i < 3; ++i) {
    ASSERT_TRUE(write_audio(dir / "in" / ("t" + std::to_string(i) + ".wav"),
                            music_like(2, 3 * 44100, 44100, i + 1), 44100, SF_FORMAT_WAV | SF_FORMAT_PCM_24));
  }
  RunResult r = run_lathe("master " + q(dir / "in") + " -o " + q(dir / "out") + " -q --engine cpu");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_lathe("verify " + q(dir / "out"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("3 of 3 files comply with 'streaming'"), std::string::npos) << r.output;

  // Another profile's delivery: wrong word length and loudness for every file.
  r = run_lathe("verify " + q(dir / "out") + " --profile cd");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("the profile delivers 16-bit PCM"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("target -12.0"), std::string::npos) << r.output;

  // One file replaced by a version 3 dB louder: it alone fails, on its loudness.
  ReadBack t1 = read_audio(dir / "out" / "t1.wav");
  for (auto& ch : t1.planar)
    for (auto& v : ch) v *= 1.4125f;
  ASSERT_TRUE(write_audio(dir / "out" / "t1.wav", t1.planar, 44100, SF_FORMAT_WAV | SF_FORMAT_PCM_24));
  r = run_lathe("verify " + q(dir / "out") + " -q");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("FAILED  " + (dir / "out" / "t1.wav").string()), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("t0.wav"), std::string::npos) << "-q prints only the failures: " << r.output;
  EXPECT_NE(r.output.find("2 of 3 files comply"), std::string::npos) << r.output;

  fs::create_directories(dir / "empty");
  r = run_lathe("verify " + q(dir / "empty"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

}  // namespace
}  // namespace lathe::test
