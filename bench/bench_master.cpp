// lathe_bench: times mastering a generated batch, per stage and end to end, on every engine this machine has.
//
//   lathe_bench [--tracks N] [--seconds S] [--rate HZ] [--profile NAME] [--files [--keep DIR]]
//
// Reports "times real time" (seconds of audio mastered per wall-clock second) and the machine it ran on.
// Memory mode (default) feeds the engines from RAM, so the figures are the engines' own; --files adds decoding
// and atomic encoding of real WAV files in a temporary folder (the end-to-end figure users see); --keep DIR
// writes them to DIR/in and keeps them, so that bench/run.sh can time other tools on the same files.
#include <tbb/info.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "host/engine/engine.hpp"
#include "host/io/audio_writer.hpp"
#include "host/io/memory_track.hpp"
#include "host/master.hpp"
#include "host/profile/profile.hpp"

namespace {

using namespace lathe::host;

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

// A music-like stereo track: two detuned partials and a slow tremolo, different per track.
std::vector<std::vector<float>> make_track(int index, std::int64_t frames, int rate_hz) {
  std::vector<std::vector<float>> p(2, std::vector<float>(static_cast<std::size_t>(frames)));
  const double f0 = 110.0 * (1.0 + 0.05 * index);
  for (int c = 0; c < 2; ++c)
    for (std::int64_t i = 0; i < frames; ++i) {
      const double t = static_cast<double>(i) / rate_hz;
      p[static_cast<std::size_t>(c)][static_cast<std::size_t>(i)] =
          static_cast<float>(0.3 * std::sin(2 * M_PI * f0 * t + c) + 0.1 * std::sin(2 * M_PI * 3.01 * f0 * t) *
                                                                         (0.6 + 0.4 * std::sin(2 * M_PI * 0.5 * t)));
    }
  return p;
}

void report(const std::string& label, const MasterResult& r) {
  std::printf("%-44s %8.1fx real time  (%.1f s of audio in %.3f s)\n", label.c_str(),
              r.wall_seconds > 0 ? r.audio_seconds / r.wall_seconds : 0.0, r.audio_seconds, r.wall_seconds);
  for (const auto& [stage, seconds] : r.stage_seconds)
    std::printf("    %-12s %10.4f s  %10.1fx real time\n", stage.c_str(), seconds,
                seconds > 0 ? r.audio_seconds / seconds : 0.0);
}

}  // namespace

int main(int argc, char** argv) {
  int tracks = 32;
  double seconds = 30;
  int rate_hz = 44100;
  std::string profile_name = "transparent";
  bool files = false;
  std::string keep;
  CLI::App app{"lathe_bench: times mastering a generated batch on every engine this machine has"};
  app.add_option("--tracks", tracks, "Stereo tracks in the batch")->check(CLI::PositiveNumber);
  app.add_option("--seconds", seconds, "Seconds per track")->check(CLI::PositiveNumber);
  app.add_option("--rate", rate_hz, "Sample rate in Hz")->check(CLI::Range(8000, 384000));
  app.add_option("--profile", profile_name, "Built-in profile name or TOML file");
  app.add_flag("--files", files, "Master WAV files on disk instead of memory");
  app.add_option("--keep", keep, "With --files: write the files into this folder and keep them");
  CLI11_PARSE(app, argc, argv);
  const Profile profile = load_profile(profile_name);
  const auto frames = static_cast<std::int64_t>(seconds * rate_hz);
  std::printf("lathe_bench %s: %d stereo tracks x %.0f s at %d Hz, profile '%s', %s\n", LATHE_VERSION, tracks,
              seconds, rate_hz, profile.name.c_str(), files ? "WAV files on disk" : "in memory");
  std::printf("machine: %s, %d hardware threads; gpu: %s\n", cpu_model().c_str(),
              tbb::info::default_concurrency(),
              gpu_unavailable_reason().empty() ? gpu_description().c_str() : gpu_unavailable_reason().c_str());

  std::vector<std::vector<std::vector<float>>> inputs;
  for (int t = 0; t < tracks; ++t) inputs.push_back(make_track(t, frames, rate_hz));

  std::filesystem::path dir;
  if (files) {
    dir = keep.empty() ? std::filesystem::temp_directory_path() / ("lathe-bench-" + std::to_string(::getpid()))
                       : std::filesystem::path(keep);
    std::filesystem::create_directories(dir / "in");
    for (int t = 0; t < tracks; ++t) {
      WriterSpec spec{OutputFormat::kWav, SampleBits::k24, rate_hz, 2, {}};
      AudioWriter w(dir / "in" / ("track" + std::to_string(t) + ".wav"), spec, true);
      std::vector<std::int32_t> l(static_cast<std::size_t>(frames)), r(static_cast<std::size_t>(frames));
      for (std::int64_t i = 0; i < frames; ++i) {
        l[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(std::lrint(inputs[t][0][i] * 8388607.0)) * 256;
        r[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(std::lrint(inputs[t][1][i] * 8388607.0)) * 256;
      }
      w.write_pcm({l.data(), r.data()}, frames);
      w.commit();
    }
  }

  std::vector<std::unique_ptr<Engine>> engines;
  engines.push_back(make_cpu_engine());
  if (gpu_unavailable_reason().empty()) engines.push_back(make_cuda_engine());
  for (auto& engine : engines) {
    std::vector<std::unique_ptr<TrackIo>> batch;
    for (int t = 0; t < tracks; ++t) {
      if (files)
        batch.push_back(make_file_track(Job{dir / "in" / ("track" + std::to_string(t) + ".wav"),
                                            dir / ("out-" + engine->kind()) / ("track" + std::to_string(t) + ".wav")}));
      else
        batch.push_back(std::make_unique<MemoryTrack>("track" + std::to_string(t), inputs[t], rate_hz));
    }
    if (files) std::filesystem::create_directories(dir / ("out-" + engine->kind()));
    MasterOptions options;
    options.overwrite = true;
    const MasterResult r = master_tracks(batch, profile, *engine, options);
    if (r.failed() > 0) {
      std::cerr << "lathe_bench: " << r.failed() << " tracks failed on " << engine->description() << "\n";
      return 1;
    }
    report(engine->description(), r);
  }
  if (files && keep.empty()) std::filesystem::remove_all(dir);
  return 0;
}
