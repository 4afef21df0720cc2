// lathe_bench_analyze: lathe's loudness meter against libebur128 on the same generated WAV files, in one run.
//
//   lathe_bench_analyze [--tracks N] [--seconds S] [--rate HZ] [--threads N] [--keep DIR]
//
// Writes N stereo 24-bit WAV files (music-like, with a slow level swell so that LRA is not trivial) to a
// temporary folder (or DIR, kept), then times four runs, each in parallel over tracks with oneTBB:
//   files:  decode (lathe's AudioReader, 65,536-frame segments) + meter, for lathe and for libebur128;
//   memory: the meters alone over the decoded audio held in RAM (decode excluded).
// lathe's meter is host::meter::TrackMeter (integrated, momentary/short-term max, LRA, true peak, sample peak,
// the short-term curve and the quality checks); libebur128 runs EBUR128_MODE_I | EBUR128_MODE_LRA |
// EBUR128_MODE_TRUE_PEAK. Prints times real time (audio seconds / wall seconds), per core (audio seconds /
// process CPU seconds, user + system), the lathe/libebur128 ratios, and how far the two meters' results differ.
#include <CLI/CLI.hpp>
#include <ebur128.h>
#include <sndfile.h>
#include <sys/resource.h>
#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "host/io/audio_reader.hpp"
#include "host/meter/meter.hpp"

namespace {

namespace fs = std::filesystem;
using namespace lathe::host;

constexpr std::int64_t kSegmentFrames = std::int64_t{1} << 16;

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Interleaved stereo: two detuned partials, a little noise and a 20-second level swell of about 12 dB.
std::vector<float> make_track(int index, std::int64_t frames, int rate_hz) {
  std::vector<float> x(static_cast<std::size_t>(frames) * 2);
  std::mt19937 rng(static_cast<unsigned>(index) + 1);
  std::uniform_real_distribution<float> noise(-0.03f, 0.03f);
  const double f0 = 110.0 * (1.0 + 0.05 * index);
  for (std::int64_t i = 0; i < frames; ++i) {
    const double t = static_cast<double>(i) / rate_hz;
    const double swell = 0.35 + 0.3 * std::sin(2 * M_PI * t / 20.0 + index);
    for (int c = 0; c < 2; ++c)
      x[static_cast<std::size_t>(i) * 2 + static_cast<std::size_t>(c)] = static_cast<float>(
          swell * (0.5 * std::sin(2 * M_PI * f0 * t + c) + 0.2 * std::sin(2 * M_PI * 3.01 * f0 * t))) + noise(rng);
  }
  return x;
}

struct Result {
  std::optional<double> integrated_lufs, lra_lu;
  double true_peak_dbtp = 0;
};

double to_db(double lin) { return lin > 0 ? 20.0 * std::log10(lin) : -HUGE_VAL; }

// lathe's meter over one source of interleaved segments.
Result lathe_meter(int rate_hz, int channels, const std::function<std::int64_t(float*, std::int64_t)>& next) {
  meter::TrackMeter m(rate_hz, channels);
  std::vector<float> buf(static_cast<std::size_t>(kSegmentFrames) * static_cast<std::size_t>(channels));
  for (std::int64_t got; (got = next(buf.data(), kSegmentFrames)) > 0;) m.add_interleaved(buf.data(), got);
  const meter::TrackReport r = m.finish();
  return {r.integrated_lufs, r.lra_lu, r.true_peak_dbtp};
}

Result ebur128_meter(int rate_hz, int channels, const std::function<std::int64_t(float*, std::int64_t)>& next) {
  ebur128_state* st = ebur128_init(static_cast<unsigned>(channels), static_cast<unsigned long>(rate_hz),
                                   EBUR128_MODE_I | EBUR128_MODE_LRA | EBUR128_MODE_TRUE_PEAK);
  if (!st) throw std::runtime_error("ebur128_init failed");
  std::vector<float> buf(static_cast<std::size_t>(kSegmentFrames) * static_cast<std::size_t>(channels));
  for (std::int64_t got; (got = next(buf.data(), kSegmentFrames)) > 0;)
    ebur128_add_frames_float(st, buf.data(), static_cast<std::size_t>(got));
  Result r;
  double v = 0;
  if (ebur128_loudness_global(st, &v) == EBUR128_SUCCESS && std::isfinite(v)) r.integrated_lufs = v;
  if (ebur128_loudness_range(st, &v) == EBUR128_SUCCESS && std::isfinite(v)) r.lra_lu = v;
  double peak = 0;
  for (unsigned c = 0; c < static_cast<unsigned>(channels); ++c)
    if (ebur128_true_peak(st, c, &v) == EBUR128_SUCCESS) peak = std::max(peak, v);
  r.true_peak_dbtp = to_db(peak);
  ebur128_destroy(&st);
  return r;
}

using Meter = Result (*)(int, int, const std::function<std::int64_t(float*, std::int64_t)>&);

struct Timing {
  double wall_s = 0, cpu_s = 0;
  std::vector<Result> results;
};

Timing run_files(const std::vector<fs::path>& files, Meter meter) {
  Timing t;
  t.results.resize(files.size());
  const double cpu0 = cpu_seconds();
  const auto w0 = std::chrono::steady_clock::now();
  tbb::parallel_for(
      tbb::blocked_range<std::size_t>(0, files.size(), 1),
      [&](const tbb::blocked_range<std::size_t>& range) {
        for (std::size_t i = range.begin(); i != range.end(); ++i) {
          AudioReader reader(files[i]);
          t.results[i] = meter(reader.info().rate_hz, reader.info().channels,
                               [&](float* out, std::int64_t n) { return reader.read_interleaved(out, n); });
        }
      },
      tbb::simple_partitioner());
  t.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  t.cpu_s = cpu_seconds() - cpu0;
  return t;
}

Timing run_memory(const std::vector<std::vector<float>>& audio, int rate_hz, Meter meter) {
  Timing t;
  t.results.resize(audio.size());
  const double cpu0 = cpu_seconds();
  const auto w0 = std::chrono::steady_clock::now();
  tbb::parallel_for(
      tbb::blocked_range<std::size_t>(0, audio.size(), 1),
      [&](const tbb::blocked_range<std::size_t>& range) {
        for (std::size_t i = range.begin(); i != range.end(); ++i) {
          const std::vector<float>& x = audio[i];
          std::size_t pos = 0;
          t.results[i] = meter(rate_hz, 2, [&](float* out, std::int64_t n) -> std::int64_t {
            const std::size_t take = std::min(static_cast<std::size_t>(n) * 2, x.size() - pos);
            std::copy(x.begin() + static_cast<std::ptrdiff_t>(pos),
                      x.begin() + static_cast<std::ptrdiff_t>(pos + take), out);
            pos += take;
            return static_cast<std::int64_t>(take / 2);
          });
        }
      },
      tbb::simple_partitioner());
  t.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  t.cpu_s = cpu_seconds() - cpu0;
  return t;
}

void print(const std::string& label, const Timing& t, double audio_s) {
  std::printf("%-34s %9.1fx real time  %8.1fx per core  (%.0f s of audio in %.3f s wall, %.3f s CPU)\n",
              label.c_str(), audio_s / t.wall_s, audio_s / t.cpu_s, audio_s, t.wall_s, t.cpu_s);
}

void print_ratio(const std::string& label, const Timing& lathe, const Timing& ebur) {
  std::printf("%-34s %9.2fx                 %8.2fx per core\n", label.c_str(), ebur.wall_s / lathe.wall_s,
              ebur.cpu_s / lathe.cpu_s);
}

// Largest |lathe - libebur128| over the tracks, for each measure both define.
void print_agreement(const Timing& lathe, const Timing& ebur) {
  double d_i = 0, d_lra = 0, d_tp = 0;
  int undefined_mismatch = 0;
  for (std::size_t i = 0; i < lathe.results.size(); ++i) {
    const Result& a = lathe.results[i];
    const Result& b = ebur.results[i];
    if (a.integrated_lufs.has_value() != b.integrated_lufs.has_value() || a.lra_lu.has_value() != b.lra_lu.has_value())
      ++undefined_mismatch;
    if (a.integrated_lufs && b.integrated_lufs) d_i = std::max(d_i, std::fabs(*a.integrated_lufs - *b.integrated_lufs));
    if (a.lra_lu && b.lra_lu) d_lra = std::max(d_lra, std::fabs(*a.lra_lu - *b.lra_lu));
    if (std::isfinite(a.true_peak_dbtp) && std::isfinite(b.true_peak_dbtp))
      d_tp = std::max(d_tp, std::fabs(a.true_peak_dbtp - b.true_peak_dbtp));
  }
  std::printf("agreement with libebur128: max |d integrated| %.4f LU, |d LRA| %.4f LU, |d true peak| %.4f dB%s\n",
              d_i, d_lra, d_tp, undefined_mismatch ? " (some undefined on one side only)" : "");
  if (!lathe.results.empty() && lathe.results[0].integrated_lufs && ebur.results[0].integrated_lufs)
    std::printf("  track 1: lathe %.3f LUFS, LRA %.2f LU, %.2f dBTP; libebur128 %.3f LUFS, LRA %.2f LU, %.2f dBTP\n",
                *lathe.results[0].integrated_lufs, lathe.results[0].lra_lu.value_or(NAN),
                lathe.results[0].true_peak_dbtp, *ebur.results[0].integrated_lufs, ebur.results[0].lra_lu.value_or(NAN),
                ebur.results[0].true_peak_dbtp);
}

}  // namespace

int main(int argc, char** argv) {
  int tracks = 16;
  double seconds = 60;
  int rate_hz = 48000;
  int threads = 0;
  std::string keep;
  CLI::App app{"lathe_bench_analyze: lathe's meter against libebur128 on the same generated files"};
  app.add_option("--tracks", tracks, "Stereo tracks")->check(CLI::PositiveNumber);
  app.add_option("--seconds", seconds, "Seconds per track")->check(CLI::PositiveNumber);
  app.add_option("--rate", rate_hz, "Sample rate in Hz")->check(CLI::Range(kMinRateHz, kMaxRateHz));
  app.add_option("--threads", threads, "Threads for both meters (0 = all)")->check(CLI::NonNegativeNumber);
  app.add_option("--keep", keep, "Write the WAV files into this folder and keep them");
  CLI11_PARSE(app, argc, argv);
  std::unique_ptr<tbb::global_control> limit;
  if (threads > 0)
    limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                  static_cast<std::size_t>(threads));
  const auto used_threads = tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism);

  const fs::path dir = keep.empty() ? fs::temp_directory_path() / ("lathe-bench-analyze-" + std::to_string(::getpid()))
                                    : fs::path(keep);
  fs::create_directories(dir);
  const auto frames = static_cast<std::int64_t>(seconds * rate_hz);
  std::vector<fs::path> files;
  for (int t = 0; t < tracks; ++t) {
    const fs::path path = dir / ("track" + std::to_string(t + 1) + ".wav");
    const std::vector<float> x = make_track(t, frames, rate_hz);
    SF_INFO info{};
    info.samplerate = rate_hz;
    info.channels = 2;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_24;
    SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
    if (!f || sf_writef_float(f, x.data(), frames) != frames) {
      std::cerr << "lathe_bench_analyze: cannot write " << path << "\n";
      return 1;
    }
    sf_close(f);
    files.push_back(path);
  }
  // The same audio, decoded once, for the meter-only runs.
  std::vector<std::vector<float>> audio;
  for (const auto& path : files) {
    AudioReader reader(path);
    std::vector<float> x(static_cast<std::size_t>(reader.info().frames) * 2);
    x.resize(static_cast<std::size_t>(reader.read_interleaved(x.data(), reader.info().frames)) * 2);
    audio.push_back(std::move(x));
  }
  const double audio_s = static_cast<double>(frames) / rate_hz * tracks;

  std::printf("lathe_bench_analyze: %d stereo tracks x %.0f s at %d Hz (24-bit WAV), %zu threads, %s\n", tracks,
              seconds, rate_hz, used_threads, cpu_model().c_str());
  int major = 0, minor = 0, patch = 0;
  ebur128_get_version(&major, &minor, &patch);
  std::printf("libebur128 %d.%d.%d, modes I | LRA | TRUE_PEAK; lathe: TrackMeter (all its measures and checks)\n\n",
              major, minor, patch);

  // Warm-up: page cache and thread pool.
  (void)run_memory({audio[0]}, rate_hz, &lathe_meter);
  const Timing lathe_files = run_files(files, &lathe_meter);
  const Timing ebur_files = run_files(files, &ebur128_meter);
  const Timing lathe_mem = run_memory(audio, rate_hz, &lathe_meter);
  const Timing ebur_mem = run_memory(audio, rate_hz, &ebur128_meter);

  print("lathe meter, files (decode+meter)", lathe_files, audio_s);
  print("libebur128, files (decode+meter)", ebur_files, audio_s);
  print("lathe meter, memory (meter only)", lathe_mem, audio_s);
  print("libebur128, memory (meter only)", ebur_mem, audio_s);
  std::printf("\nlathe / libebur128 speed ratio (above 1: lathe faster)\n");
  print_ratio("  files", lathe_files, ebur_files);
  print_ratio("  memory", lathe_mem, ebur_mem);
  print_agreement(lathe_mem, ebur_mem);

  if (keep.empty()) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  return 0;
}
