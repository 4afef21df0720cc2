// Helpers shared by the tests: temporary folders, writing and reading audio, running the lathe binary.
#pragma once

#include <gtest/gtest.h>
#include <sndfile.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace lathe::test {

namespace fs = std::filesystem;

// A fresh folder under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "lathe";
    for (char& c : name)
      if (c == '/') c = '_';
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("lathe-test-" + name + "-" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& rel) const { return path_ / rel; }

 private:
  fs::path path_;
};

// Writes planar float samples with libsndfile in `format` (SF_FORMAT_* major | subtype). Returns success.
inline bool write_audio(const fs::path& path, const std::vector<std::vector<float>>& planar, int rate_hz,
                        int format = SF_FORMAT_WAV | SF_FORMAT_FLOAT) {
  SF_INFO info{};
  info.samplerate = rate_hz;
  info.channels = static_cast<int>(planar.size());
  info.format = format;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  if (!f) return false;
  const std::size_t frames = planar.empty() ? 0 : planar[0].size();
  std::vector<float> inter(frames * planar.size());
  for (std::size_t c = 0; c < planar.size(); ++c)
    for (std::size_t i = 0; i < frames; ++i) inter[i * planar.size() + c] = planar[c][i];
  sf_command(f, SFC_SET_CLIPPING, nullptr, SF_FALSE);
  const sf_count_t n = sf_writef_float(f, inter.data(), static_cast<sf_count_t>(frames));
  sf_close(f);
  return n == static_cast<sf_count_t>(frames);
}

struct ReadBack {
  int rate_hz = 0;
  int channels = 0;
  int format = 0;
  std::vector<std::vector<float>> planar;  // float view
  std::vector<std::vector<int>> pcm;       // left-justified int32 view
};

// Reads a whole file both as float and as left-justified int32.
inline ReadBack read_audio(const fs::path& path) {
  ReadBack r;
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  if (!f) return r;
  r.rate_hz = info.samplerate;
  r.channels = info.channels;
  r.format = info.format;
  const auto ch = static_cast<std::size_t>(info.channels);
  std::vector<float> inter(static_cast<std::size_t>(info.frames) * ch);
  const sf_count_t got = sf_readf_float(f, inter.data(), info.frames);
  r.planar.assign(ch, std::vector<float>(static_cast<std::size_t>(got)));
  for (std::size_t c = 0; c < ch; ++c)
    for (std::size_t i = 0; i < static_cast<std::size_t>(got); ++i) r.planar[c][i] = inter[i * ch + c];
  sf_seek(f, 0, SEEK_SET);
  std::vector<int> ints(static_cast<std::size_t>(info.frames) * ch);
  const sf_count_t got_i = sf_readf_int(f, ints.data(), info.frames);
  r.pcm.assign(ch, std::vector<int>(static_cast<std::size_t>(got_i)));
  for (std::size_t c = 0; c < ch; ++c)
    for (std::size_t i = 0; i < static_cast<std::size_t>(got_i); ++i) r.pcm[c][i] = ints[i * ch + c];
  sf_close(f);
  return r;
}

// A seeded stereo-ish test signal: sines plus a little noise, peak about -6 dBFS.
inline std::vector<std::vector<float>> music_like(int channels, std::int64_t frames, int rate_hz, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> noise(-0.02f, 0.02f);
  std::vector<std::vector<float>> p(static_cast<std::size_t>(channels), std::vector<float>(static_cast<std::size_t>(frames)));
  for (int c = 0; c < channels; ++c)
    for (std::int64_t i = 0; i < frames; ++i) {
      const double t = static_cast<double>(i) / rate_hz;
      p[static_cast<std::size_t>(c)][static_cast<std::size_t>(i)] = static_cast<float>(
          0.3 * std::sin(2 * M_PI * (220.0 + 110.0 * c) * t) + 0.15 * std::sin(2 * M_PI * 1234.5 * t)) + noise(rng);
    }
  return p;
}

struct RunResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs the lathe binary with `args` (a shell-quoted string) and captures its output and exit code.
inline RunResult run_lathe(const std::string& args, const std::string& prefix = "") {
  RunResult r;
  const std::string cmd = prefix + " '" + std::string(LATHE_BINARY) + "' " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

inline std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

// The id of a process that has ended and been reaped: what a killed run's temporary files are named after.
inline pid_t ended_process_id() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  if (child > 0) ::waitpid(child, nullptr, 0);
  return child;
}

// A whole file's bytes ("" when it cannot be read).
inline std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

}  // namespace lathe::test
