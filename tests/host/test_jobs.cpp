// plan_jobs: from INPUT... and OUTDIR to (input, output) jobs, and the inputs it refuses.
#include <algorithm>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "host/io/jobs.hpp"
#include "tests/support.hpp"

namespace lathe::host {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

void touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "x";
}

// (input, output) pairs, sorted.
std::vector<std::pair<fs::path, fs::path>> pairs(const JobPlan& plan) {
  std::vector<std::pair<fs::path, fs::path>> v;
  for (const auto& j : plan.jobs) v.emplace_back(j.input, j.output);
  std::sort(v.begin(), v.end());
  return v;
}

bool lexically_inside(const fs::path& child, const fs::path& parent) {
  const fs::path rel = fs::weakly_canonical(child).lexically_relative(fs::weakly_canonical(parent));
  return !rel.empty() && *rel.begin() != "..";
}

std::string problems_text(const JobPlan& plan) {
  std::string s;
  for (const auto& p : plan.problems) s += p.input + ": " + p.message + "\n";
  return s;
}

TEST(JobsPlan, FolderStructureIsMirroredUnderOutdirWithTheOutputExtension) {
  TempDir dir;
  const fs::path in = dir / "album";
  touch(in / "01.wav");
  touch(in / "disc2" / "02.flac");
  touch(in / "disc2" / "bonus" / "03.aiff");
  const fs::path out = dir / "masters";
  const auto plan = plan_jobs({in.string()}, out, OutputFormat::kFlac);
  EXPECT_TRUE(plan.problems.empty()) << problems_text(plan);
  const std::vector<std::pair<fs::path, fs::path>> want{
      {in / "01.wav", out / "01.flac"},
      {in / "disc2" / "02.flac", out / "disc2" / "02.flac"},
      {in / "disc2" / "bonus" / "03.aiff", out / "disc2" / "bonus" / "03.flac"}};
  EXPECT_EQ(pairs(plan), want);
}

TEST(JobsPlan, SingleFilesMapToOutdirByName) {
  TempDir dir;
  touch(dir / "a" / "one.aiff");
  touch(dir / "b" / "two.wav");
  const fs::path out = dir / "out";
  const auto plan = plan_jobs({(dir / "a" / "one.aiff").string(), (dir / "b" / "two.wav").string()}, out,
                              OutputFormat::kWav);
  EXPECT_TRUE(plan.problems.empty()) << problems_text(plan);
  const std::vector<std::pair<fs::path, fs::path>> want{{dir / "a" / "one.aiff", out / "one.wav"},
                                                        {dir / "b" / "two.wav", out / "two.wav"}};
  EXPECT_EQ(pairs(plan), want);
}

TEST(JobsPlan, HiddenFilesAndNonAudioFilesAreSkipped) {
  TempDir dir;
  const fs::path in = dir / "in";
  touch(in / "song.wav");
  touch(in / "LOUD.WAV");
  touch(in / ".hidden.wav");
  touch(in / ".cache" / "inside-hidden-folder.wav");
  touch(in / ".song.wav.lathe-tmp-123-0");
  touch(in / "notes.txt");
  touch(in / "cover.jpg");
  touch(in / "sub" / "readme.md");
  const auto plan = plan_jobs({in.string()}, dir / "out", OutputFormat::kWav);
  EXPECT_TRUE(plan.problems.empty()) << problems_text(plan);
  const std::vector<std::pair<fs::path, fs::path>> want{{in / "LOUD.WAV", dir / "out" / "LOUD.wav"},
                                                        {in / "song.wav", dir / "out" / "song.wav"}};
  EXPECT_EQ(pairs(plan), want);
}

TEST(JobsPlan, FolderWithoutAudioIsAProblem) {
  TempDir dir;
  touch(dir / "in" / "notes.txt");
  const auto plan = plan_jobs({(dir / "in").string()}, dir / "out", OutputFormat::kWav);
  EXPECT_TRUE(plan.jobs.empty());
  ASSERT_EQ(plan.problems.size(), 1u);
  EXPECT_EQ(plan.problems[0].input, (dir / "in").string());
}

TEST(JobsPlan, MissingInputIsAProblemAndTheOthersStillPlan) {
  TempDir dir;
  touch(dir / "real.wav");
  const std::string missing = (dir / "missing.wav").string();
  const auto plan = plan_jobs({missing, (dir / "real.wav").string()}, dir / "out", OutputFormat::kWav);
  ASSERT_EQ(plan.problems.size(), 1u);
  EXPECT_EQ(plan.problems[0].input, missing);
  EXPECT_FALSE(plan.problems[0].message.empty());
  ASSERT_EQ(plan.jobs.size(), 1u);
  EXPECT_EQ(plan.jobs[0].input, dir / "real.wav");
}

TEST(JobsPlan, OutputThatWouldReplaceAnInputIsRefused) {
  TempDir dir;
  const fs::path x = dir / "X";
  touch(x / "a.wav");
  touch(x / "b.flac");
  // Folder X mastered into X as WAV: a.wav would overwrite itself; b.flac -> X/b.wav is fine.
  auto plan = plan_jobs({x.string()}, x, OutputFormat::kWav);
  ASSERT_EQ(plan.problems.size(), 1u) << problems_text(plan);
  EXPECT_EQ(plan.problems[0].input, (x / "a.wav").string());
  EXPECT_NE(plan.problems[0].message.find("input"), std::string::npos) << plan.problems[0].message;
  ASSERT_EQ(plan.jobs.size(), 1u);
  EXPECT_EQ(plan.jobs[0].input, x / "b.flac");
  EXPECT_EQ(plan.jobs[0].output, x / "b.wav");

  // The same with the file given by name, and through a path that only differs lexically.
  plan = plan_jobs({(x / "a.wav").string()}, x / "." / ".." / "X", OutputFormat::kWav);
  EXPECT_TRUE(plan.jobs.empty());
  EXPECT_EQ(plan.problems.size(), 1u);

  // An output that is another input of the same run is refused as well.
  touch(dir / "Y" / "b.wav");
  plan = plan_jobs({(x / "b.flac").string(), (dir / "Y" / "b.wav").string()}, dir / "Y", OutputFormat::kWav);
  EXPECT_EQ(plan.jobs.size(), 0u) << "X/b.flac -> Y/b.wav would replace the input Y/b.wav";
  EXPECT_EQ(plan.problems.size(), 2u) << problems_text(plan);
}

TEST(JobsPlan, TwoInputsMappingToTheSameOutputGiveOneProblem) {
  TempDir dir;
  touch(dir / "in" / "a.wav");
  touch(dir / "in" / "a.flac");
  const auto plan = plan_jobs({(dir / "in").string()}, dir / "out", OutputFormat::kWav);
  ASSERT_EQ(plan.jobs.size(), 1u);
  EXPECT_EQ(plan.jobs[0].output, dir / "out" / "a.wav");
  ASSERT_EQ(plan.problems.size(), 1u) << problems_text(plan);
  EXPECT_NE(plan.problems[0].message.find(plan.jobs[0].input.string()), std::string::npos)
      << "the problem names the input that took the output: " << plan.problems[0].message;

  // Two single files from different folders with the same name collide too.
  touch(dir / "p" / "song.wav");
  touch(dir / "q" / "song.wav");
  const auto plan2 = plan_jobs({(dir / "p" / "song.wav").string(), (dir / "q" / "song.wav").string()}, dir / "out",
                               OutputFormat::kWav);
  EXPECT_EQ(plan2.jobs.size(), 1u);
  EXPECT_EQ(plan2.problems.size(), 1u);
}

TEST(JobsPlan, OutdirInsideTheInputFolderIsNotSearched) {
  TempDir dir;
  const fs::path in = dir / "in";
  touch(in / "a.wav");
  touch(in / "masters" / "a.wav");           // the previous run's output
  touch(in / "masters" / "deep" / "b.wav");  // ... and deeper
  for (const fs::path& out : {in / "masters", in / "masters" / "", in / "sub" / ".." / "masters"}) {
    const auto plan = plan_jobs({in.string()}, out, OutputFormat::kWav);
    EXPECT_TRUE(plan.problems.empty()) << out << "\n" << problems_text(plan);
    ASSERT_EQ(plan.jobs.size(), 1u) << out;
    EXPECT_EQ(plan.jobs[0].input, in / "a.wav");
    EXPECT_TRUE(lexically_inside(plan.jobs[0].output, in / "masters")) << plan.jobs[0].output;
    EXPECT_EQ(plan.jobs[0].output.filename(), "a.wav");
  }
}

TEST(JobsPlan, OutputsNeverLeaveOutdir) {
  TempDir dir;
  const fs::path in = dir / "in";
  touch(in / "a.wav");
  touch(in / "sub" / "b.wav");
  touch(in / "link" / "c.wav");
  touch(dir / "elsewhere" / "keep.txt");
  const fs::path out = dir / "out";
  // OUTDIR/link already exists as a symbolic link to a folder outside OUTDIR: in/link/c.wav must not be
  // written through it.
  fs::create_directories(out);
  fs::create_directory_symlink(dir / "elsewhere", out / "link");

  for (const std::string& input : {in.string(), (in / "sub" / "..").string(), (in / "").string()}) {
    const auto plan = plan_jobs({input}, out, OutputFormat::kAiff);
    for (const auto& j : plan.jobs)
      EXPECT_TRUE(lexically_inside(j.output, out)) << input << ": " << j.input << " -> " << j.output;
    EXPECT_EQ(plan.jobs.size(), 2u) << input << "\n" << problems_text(plan);
    ASSERT_EQ(plan.problems.size(), 1u) << input;
    EXPECT_NE(plan.problems[0].message.find("leave"), std::string::npos) << plan.problems[0].message;
    EXPECT_EQ(fs::path(plan.problems[0].input).filename(), "c.wav");
  }
  // A relative OUTDIR works the same way.
  const fs::path cwd = fs::current_path();
  fs::current_path(dir.path());
  const auto plan = plan_jobs({"in"}, "out", OutputFormat::kWav);
  fs::current_path(cwd);
  EXPECT_EQ(plan.jobs.size(), 2u) << problems_text(plan);
  for (const auto& j : plan.jobs) EXPECT_EQ(*j.output.begin(), "out") << j.output;
}

}  // namespace
}  // namespace lathe::host
