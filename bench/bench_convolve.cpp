// lathe_bench_convolve: partitioned convolution throughput, lathe against zita-convolver (the named CPU
// baseline) in one run, with a reverb-length impulse response (default 2 s stereo at 48 kHz, one IR per
// channel). Prints times real time by wall clock and per core (audio seconds per CPU second of the process),
// and checks that both give the same signal.
//   lathe_bench_convolve [--seconds 60] [--ir-seconds 2] [--rate 48000] [--tracks 1] [--gpu-tracks 64]
#include <CLI/CLI.hpp>
#include <sched.h>
#include <tbb/global_control.h>
#include <tbb/info.h>
#include <zita-convolver.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "host/dsp/convolution.hpp"
#include "host/engine/engine.hpp"

namespace {

using lathe::host::dsp::PartitionedFir;

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Timing {
  double wall = 0, cpu = 0;
};

std::uint64_t rng_state = 0x1234567ULL;
double uniform() {
  std::uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

// threads = 0: the library's own (zita-convolver runs its longer partitions in threads of its own).
void report(const char* name, const Timing& t, double audio_s, int threads) {
  const std::string th = threads > 0 ? std::to_string(threads) + " threads" : "its own threads";
  std::printf("%-52s %9.1fx real time  %8.1fx per core  (%.1f s of audio: %.3f s wall, %.3f s CPU, %s)\n", name,
              audio_s / t.wall, audio_s / t.cpu, audio_s, t.wall, t.cpu, th.c_str());
}

// zita-convolver, two inputs -> two outputs, one IR per channel, `quantum`-sample periods, synchronous.
Timing run_zita(const std::vector<std::vector<float>>& ir, const std::vector<std::vector<float>>& in,
                std::vector<std::vector<float>>& out, unsigned quantum, unsigned maxpart) {
  Convproc conv;
  conv.set_options(Convproc::OPT_FFTW_MEASURE);
  const auto ir_len = static_cast<unsigned>(ir[0].size());
  if (conv.configure(2, 2, ir_len, quantum, quantum, maxpart, 0.0f) != 0) {
    std::fprintf(stderr, "zita-convolver: configure failed\n");
    return {};
  }
  for (unsigned c = 0; c < 2; ++c)
    conv.impdata_create(c, c, 1, const_cast<float*>(ir[c].data()), 0, static_cast<int>(ir_len));
  if (conv.start_process(0, SCHED_OTHER) != 0) {
    std::fprintf(stderr, "zita-convolver: start_process failed\n");
    return {};
  }
  const std::size_t n = in[0].size();
  out.assign(2, std::vector<float>(n, 0.0f));
  const double w0 = wall_seconds(), c0 = cpu_seconds();
  for (std::size_t first = 0; first + quantum <= n; first += quantum) {
    for (unsigned c = 0; c < 2; ++c) std::memcpy(conv.inpdata(c), in[c].data() + first, quantum * sizeof(float));
    conv.process(true);
    for (unsigned c = 0; c < 2; ++c) std::memcpy(out[c].data() + first, conv.outdata(c), quantum * sizeof(float));
  }
  Timing t{wall_seconds() - w0, cpu_seconds() - c0};
  conv.stop_process();
  conv.cleanup();
  return t;
}

// lathe's engine: `tracks` stereo tracks per batch, segments of 65536 frames, as the scheduler runs them.
Timing run_lathe(lathe::host::Engine& engine, const std::vector<std::shared_ptr<const PartitionedFir>>& firs,
                 const std::vector<std::vector<float>>& in, int tracks, std::vector<std::vector<float>>* out) {
  const std::int64_t seg = 65536;
  const auto n = static_cast<std::int64_t>(in[0].size());
  std::vector<std::vector<float>> history(static_cast<std::size_t>(2 * tracks));
  for (std::size_t b = 0; b < history.size(); ++b) history[b].assign(static_cast<std::size_t>(firs[b % 2]->state_floats()), 0.0f);
  if (out) out->assign(2, {});
  lathe::host::BlockBatch batch;
  std::vector<lathe::host::ConvolveJob> jobs(static_cast<std::size_t>(2 * tracks));
  const double w0 = wall_seconds(), c0 = cpu_seconds();
  for (std::int64_t first = 0; first < n; first += seg) {
    const std::int64_t len = std::min(seg, n - first);
    batch.clear();
    for (int t = 0; t < tracks; ++t)
      for (int c = 0; c < 2; ++c) {
        float* dst = batch.add_block(static_cast<std::uint32_t>(t), static_cast<std::uint32_t>(c), first, len, 1);
        std::memcpy(dst, in[static_cast<std::size_t>(c)].data() + first, static_cast<std::size_t>(len) * sizeof(float));
        const auto b = static_cast<std::size_t>(2 * t + c);
        jobs[b] = {firs[static_cast<std::size_t>(c)].get(), history[b].data()};
      }
    engine.load(batch);
    engine.convolve(jobs);
    engine.store(batch);
    if (out)
      for (int c = 0; c < 2; ++c)
        (*out)[static_cast<std::size_t>(c)].insert((*out)[static_cast<std::size_t>(c)].end(),
                                                   batch.samples.begin() + batch.blocks[static_cast<std::size_t>(c)].offset,
                                                   batch.samples.begin() + batch.blocks[static_cast<std::size_t>(c)].offset + len);
  }
  return {wall_seconds() - w0, cpu_seconds() - c0};
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 60, ir_seconds = 2;
  int rate = 48000, tracks = 1, gpu_tracks = 64;
  CLI::App app{"lathe_bench_convolve: partitioned convolution against zita-convolver"};
  app.add_option("--seconds", seconds, "Seconds of stereo signal")->check(CLI::PositiveNumber);
  app.add_option("--ir-seconds", ir_seconds, "Impulse response length in seconds")->check(CLI::Range(0.001, 40.0));
  app.add_option("--rate", rate, "Sample rate in Hz")->check(CLI::Range(8000, 384000));
  app.add_option("--tracks", tracks, "Stereo tracks per batch for the all-threads CPU run")->check(CLI::PositiveNumber);
  app.add_option("--gpu-tracks", gpu_tracks, "Stereo tracks per batch on the GPU")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  const auto ir_len = static_cast<std::size_t>(ir_seconds * rate);
  const auto n = static_cast<std::size_t>(seconds * rate) / 8192 * 8192;
  std::vector<std::vector<float>> ir(2, std::vector<float>(ir_len)), in(2, std::vector<float>(n));
  std::vector<std::vector<double>> ir_d(2, std::vector<double>(ir_len));
  for (std::size_t c = 0; c < 2; ++c) {
    for (std::size_t i = 0; i < ir_len; ++i) {
      // Exponential decay reaching -60 dB at the end: a reverb tail.
      const double env = std::pow(10.0, -3.0 * static_cast<double>(i) / static_cast<double>(ir_len));
      ir[c][i] = static_cast<float>(0.05 * env * uniform());
      ir_d[c][i] = ir[c][i];
    }
    for (auto& v : in[c]) v = static_cast<float>(0.3 * uniform());
  }
  const double audio = static_cast<double>(n) / rate * 2;  // channel-seconds count as one stereo track's seconds / 2
  const double track_audio = static_cast<double>(n) / rate;
  std::printf("lathe_bench_convolve: %.0f s stereo at %d Hz, IR %.2f s (%zu taps) per channel; %d hardware threads\n",
              track_audio, rate, ir_seconds, ir_len, tbb::info::default_concurrency());
  (void)audio;

  std::vector<std::shared_ptr<const PartitionedFir>> firs = {lathe::host::dsp::partition_fir(ir_d[0]),
                                                             lathe::host::dsp::partition_fir(ir_d[1])};
  std::printf("lathe partitions: %lld x %lld taps (FFT %lld)\n", static_cast<long long>(firs[0]->partitions),
              static_cast<long long>(firs[0]->block), static_cast<long long>(2 * firs[0]->block));

  std::vector<std::vector<float>> zita_out, lathe_out;
  for (const unsigned q : {1024u, 8192u}) {
    const Timing t = run_zita(ir, in, zita_out, q, 8192);
    const std::string name = "zita-convolver 4 (quantum " + std::to_string(q) + ", maxpart 8192)";
    report(name.c_str(), t, track_audio, 0);
  }
  {
    auto cpu = lathe::host::make_cpu_engine();
    const int threads = tbb::info::default_concurrency();
    const Timing t = run_lathe(*cpu, firs, in, tracks, nullptr);
    const std::string name = "lathe cpu engine, all threads, " + std::to_string(tracks) + " track(s)";
    report(name.c_str(), t, track_audio * tracks, threads);
  }
  {
    tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
    auto cpu = lathe::host::make_cpu_engine();
    const Timing t = run_lathe(*cpu, firs, in, 1, &lathe_out);
    report("lathe cpu engine, 1 thread, 1 track", t, track_audio, 1);
  }
  if (lathe::host::gpu_unavailable_reason().empty()) {
    auto gpu = lathe::host::make_cuda_engine();
    run_lathe(*gpu, firs, in, 1, nullptr);  // warm-up: spectra upload, plans
    const Timing t = run_lathe(*gpu, firs, in, gpu_tracks, nullptr);
    const std::string name = "lathe gpu engine, " + std::to_string(gpu_tracks) + " tracks per batch";
    report(name.c_str(), t, track_audio * gpu_tracks, 1);
  } else {
    std::printf("gpu: %s\n", lathe::host::gpu_unavailable_reason().c_str());
  }
  // Same signal? zita's output lags by its latency (found here as the best of a few lags); lathe's engine
  // output is the causal convolution.
  double best = 1e9;
  std::size_t best_lag = 0;
  for (const std::size_t lag : {std::size_t{0}, std::size_t{1024}, std::size_t{8192}, std::size_t{16384}}) {
    double e = 0, s = 0;
    for (std::size_t c = 0; c < 2; ++c)
      for (std::size_t i = 0; i + lag < n; ++i) {
        const double d = static_cast<double>(zita_out[c][i + lag]) - lathe_out[c][i];
        e += d * d;
        s += static_cast<double>(lathe_out[c][i]) * lathe_out[c][i];
      }
    const double db = 10.0 * std::log10(e / s);
    if (db < best) best = db, best_lag = lag;
  }
  std::printf("lathe vs zita-convolver output (zita latency %zu samples): difference %.1f dB relative to the signal\n",
              best_lag, best);
  return 0;
}
