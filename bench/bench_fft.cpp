// lathe_bench_fft: throughput of lathe's deterministic FFT against FFTW (single precision, FFTW_MEASURE, same
// thread count through oneTBB) on the CPU, and against cuFFT on the GPU when one is usable.
//
//   lathe_bench_fft [--sizes A-B] [--batch-points N] [--min-seconds S] [--no-complex] [--no-cpu] [--no-gpu]
//
// For each size 2^A..2^B (default 10-20) a batch of N points in all (default 2^22) is transformed:
// real R2C followed by C2R, and complex forward followed by inverse. Figures are Gpts/s = batch points per
// second for one forward+inverse pair; "ratio" is lathe / baseline (the goal is >= 0.5 at 2^12..2^16).
#include <fftw3.h>
#include <tbb/blocked_range.h>
#include <tbb/info.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "host/dsp/fft.hpp"
#include "host/engine/engine.hpp"

#ifdef LATHE_HAVE_CUDA
#include <cuda_runtime.h>
#include <cufft.h>

#include "kernels/cuda/fft.hpp"
#endif

namespace {

using lathe::kernels::Complex;
namespace dsp = lathe::host::dsp;

struct Options {
  int min_log2 = 10, max_log2 = 20;
  std::size_t batch_points = std::size_t{1} << 22;
  double min_seconds = 0.15;
  bool complex = true, cpu = true, gpu = true;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "%s\nusage: lathe_bench_fft [--sizes A-B] [--batch-points N] [--min-seconds S] [--no-complex] "
               "[--no-cpu] [--no-gpu]\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + a).c_str());
      return argv[++i];
    };
    if (a == "--sizes") {
      const std::string v = value();
      const auto dash = v.find('-');
      o.min_log2 = std::stoi(v.substr(0, dash));
      o.max_log2 = dash == std::string::npos ? o.min_log2 : std::stoi(v.substr(dash + 1));
    } else if (a == "--batch-points") {
      o.batch_points = static_cast<std::size_t>(std::stod(value()));
    } else if (a == "--min-seconds") {
      o.min_seconds = std::stod(value());
    } else if (a == "--no-complex") {
      o.complex = false;
    } else if (a == "--no-cpu") {
      o.cpu = false;
    } else if (a == "--no-gpu") {
      o.gpu = false;
    } else {
      usage(("unknown option " + a).c_str());
    }
  }
  if (o.min_log2 < 1 || o.max_log2 > 21 || o.min_log2 > o.max_log2) usage("--sizes must be within 1-21");
  return o;
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Runs f until min_seconds have passed (at least 3 times, after one warm-up); returns seconds per run (best).
template <class F>
double time_cpu(double min_seconds, F&& f) {
  f();
  double best = 1e30, total = 0;
  int runs = 0;
  while (runs < 3 || total < min_seconds) {
    const double t0 = now();
    f();
    const double dt = now() - t0;
    best = std::min(best, dt);
    total += dt;
    ++runs;
  }
  return best;
}

void fill_random(float* p, std::size_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  for (std::size_t i = 0; i < count; ++i) p[i] = d(rng);
}

void print_row(const char* kind, int log2n, std::size_t count, double lathe_pts, double base_pts) {
  std::printf("  %-12s 2^%-3d %8zu %12.3f %12.3f %8.2f\n", kind, log2n, count, lathe_pts * 1e-9, base_pts * 1e-9,
              lathe_pts / base_pts);
}

void bench_cpu(const Options& o) {
  const int threads = tbb::info::default_concurrency();
  std::printf("\nCPU: lathe (oneTBB, %d threads) vs FFTW single (FFTW_MEASURE, same threads via oneTBB)\n", threads);
  std::printf("  %-12s %-5s %8s %12s %12s %8s\n", "transform", "n", "batch", "lathe Gpt/s", "fftwf Gpt/s", "ratio");
  for (int log2n = o.min_log2; log2n <= o.max_log2; ++log2n) {
    const std::size_t n = std::size_t{1} << log2n;
    const std::size_t h = n / 2;
    const std::size_t count = std::max<std::size_t>(1, o.batch_points / n);
    const auto plan = dsp::FftPlan::get(log2n);
    // Strides keep every transform 16-byte aligned (FFTW's new-array execute needs the planned alignment).
    const std::size_t rstride = n, bstride = h + 2, cstride = n;
    auto* real = static_cast<float*>(fftwf_malloc(sizeof(float) * rstride * count));
    auto* bins = static_cast<fftwf_complex*>(fftwf_malloc(sizeof(fftwf_complex) * bstride * count));
    fill_random(real, rstride * count, 1);
    std::memset(static_cast<void*>(bins), 0, sizeof(fftwf_complex) * bstride * count);
    auto* lbins = reinterpret_cast<Complex*>(bins);

    // Plans for one transform, executed on each transform of the batch by the oneTBB threads.
    std::vector<float> save(rstride * std::min<std::size_t>(count, 4));
    std::memcpy(save.data(), real, save.size() * sizeof(float));
    const int in = static_cast<int>(n);
    fftwf_plan r2c = fftwf_plan_dft_r2c_1d(in, real, bins, FFTW_MEASURE);
    fftwf_plan c2r = fftwf_plan_dft_c2r_1d(in, bins, real, FFTW_MEASURE);
    std::memcpy(real, save.data(), save.size() * sizeof(float));  // planning may overwrite the arrays
    const auto per_transform = [&](auto&& f) {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, count), [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t b = r.begin(); b != r.end(); ++b) f(b);
      });
    };
    const double t_fftw = time_cpu(o.min_seconds, [&] {
      per_transform([&](std::size_t b) { fftwf_execute_dft_r2c(r2c, real + b * rstride, bins + b * bstride); });
      per_transform([&](std::size_t b) { fftwf_execute_dft_c2r(c2r, bins + b * bstride, real + b * rstride); });
    });
    fill_random(real, rstride * count, 1);
    const double t_lathe = time_cpu(o.min_seconds, [&] {
      dsp::rfft_forward_batch(*plan, real, rstride, lbins, bstride, count);
      dsp::rfft_inverse_batch(*plan, lbins, bstride, real, rstride, count);
    });
    const double pts = static_cast<double>(count * n);
    print_row("r2c+c2r", log2n, count, pts / t_lathe, pts / t_fftw);
    fftwf_destroy_plan(r2c);
    fftwf_destroy_plan(c2r);
    fftwf_free(real);
    fftwf_free(bins);

    if (o.complex) {
      auto* data = static_cast<fftwf_complex*>(fftwf_malloc(sizeof(fftwf_complex) * cstride * count));
      fill_random(reinterpret_cast<float*>(data), 2 * cstride * count, 2);
      fftwf_plan fwd = fftwf_plan_dft_1d(in, data, data, FFTW_FORWARD, FFTW_MEASURE);
      fftwf_plan inv = fftwf_plan_dft_1d(in, data, data, FFTW_BACKWARD, FFTW_MEASURE);
      fill_random(reinterpret_cast<float*>(data), 2 * cstride * count, 2);
      const double c_fftw = time_cpu(o.min_seconds, [&] {
        per_transform([&](std::size_t b) { fftwf_execute_dft(fwd, data + b * cstride, data + b * cstride); });
        per_transform([&](std::size_t b) { fftwf_execute_dft(inv, data + b * cstride, data + b * cstride); });
      });
      fill_random(reinterpret_cast<float*>(data), 2 * cstride * count, 2);
      auto* ldata = reinterpret_cast<Complex*>(data);
      const double c_lathe = time_cpu(o.min_seconds, [&] {
        dsp::fft_complex_batch(*plan, ldata, cstride, count, false);
        dsp::fft_complex_batch(*plan, ldata, cstride, count, true);
      });
      print_row("c2c fwd+inv", log2n, count, pts / c_lathe, pts / c_fftw);
      fftwf_destroy_plan(fwd);
      fftwf_destroy_plan(inv);
      fftwf_free(data);
    }
    std::fflush(stdout);
  }
}

#ifdef LATHE_HAVE_CUDA
#define CHECK_CUDA(x)                                                                                        \
  do {                                                                                                       \
    const cudaError_t e_ = (x);                                                                              \
    if (e_ != cudaSuccess) {                                                                                 \
      std::fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__);         \
      std::exit(1);                                                                                          \
    }                                                                                                        \
  } while (0)
#define CHECK_LATHE(x)                                                                                       \
  do {                                                                                                       \
    const int e_ = (x);                                                                                      \
    if (e_ != 0) {                                                                                           \
      std::fprintf(stderr, "lathe FFT launch error %d (%s) at %s:%d\n", e_,                                  \
                   cudaGetErrorString(static_cast<cudaError_t>(e_)), __FILE__, __LINE__);                    \
      std::exit(1);                                                                                          \
    }                                                                                                        \
  } while (0)
#define CHECK_CUFFT(x)                                                                                       \
  do {                                                                                                       \
    const cufftResult e_ = (x);                                                                              \
    if (e_ != CUFFT_SUCCESS) {                                                                               \
      std::fprintf(stderr, "cuFFT error %d at %s:%d\n", static_cast<int>(e_), __FILE__, __LINE__);           \
      std::exit(1);                                                                                          \
    }                                                                                                        \
  } while (0)

// Seconds per run of f on `stream` (events; one warm-up, then enough runs for min_seconds, best of them).
template <class F>
double time_gpu(double min_seconds, cudaStream_t stream, F&& f) {
  cudaEvent_t a, b;
  CHECK_CUDA(cudaEventCreate(&a));
  CHECK_CUDA(cudaEventCreate(&b));
  f();
  CHECK_CUDA(cudaStreamSynchronize(stream));
  double best = 1e30, total = 0;
  int runs = 0;
  while (runs < 5 || total < min_seconds) {
    CHECK_CUDA(cudaEventRecord(a, stream));
    f();
    CHECK_CUDA(cudaEventRecord(b, stream));
    CHECK_CUDA(cudaEventSynchronize(b));
    float ms = 0;
    CHECK_CUDA(cudaEventElapsedTime(&ms, a, b));
    best = std::min(best, ms * 1e-3);
    total += ms * 1e-3;
    ++runs;
  }
  CHECK_CUDA(cudaEventDestroy(a));
  CHECK_CUDA(cudaEventDestroy(b));
  return best;
}

void bench_gpu(const Options& o) {
  namespace kc = lathe::kernels::cuda;
  std::printf("\nGPU: lathe CUDA vs cuFFT (%s)\n", lathe::host::gpu_description().c_str());
  std::printf("  %-12s %-5s %8s %12s %12s %8s\n", "transform", "n", "batch", "lathe Gpt/s", "cufft Gpt/s", "ratio");
  cudaStream_t stream;
  CHECK_CUDA(cudaStreamCreate(&stream));
  for (int log2n = o.min_log2; log2n <= o.max_log2; ++log2n) {
    const std::size_t n = std::size_t{1} << log2n;
    const std::size_t h = n / 2;
    const std::size_t count = std::max<std::size_t>(1, o.batch_points / n);
    const auto plan = dsp::FftPlan::get(log2n);
    std::unique_ptr<kc::DeviceFft> fft = kc::make_device_fft(*plan);
    float* d_real = nullptr;
    Complex* d_bins = nullptr;
    CHECK_CUDA(cudaMalloc(reinterpret_cast<void**>(&d_real), sizeof(float) * n * count));
    CHECK_CUDA(cudaMalloc(reinterpret_cast<void**>(&d_bins), sizeof(Complex) * (h + 1) * count));
    {
      std::vector<float> host(n * count);
      fill_random(host.data(), host.size(), 1);
      CHECK_CUDA(cudaMemcpy(d_real, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice));
    }
    int dims[1] = {static_cast<int>(n)};
    int inembed[1] = {static_cast<int>(n)};
    int onembed[1] = {static_cast<int>(h + 1)};
    cufftHandle r2c, c2r;
    CHECK_CUFFT(cufftPlanMany(&r2c, 1, dims, inembed, 1, static_cast<int>(n),
                              onembed, 1, static_cast<int>(h + 1), CUFFT_R2C, static_cast<int>(count)));
    CHECK_CUFFT(cufftPlanMany(&c2r, 1, dims, onembed, 1, static_cast<int>(h + 1),
                              inembed, 1, static_cast<int>(n), CUFFT_C2R, static_cast<int>(count)));
    CHECK_CUFFT(cufftSetStream(r2c, stream));
    CHECK_CUFFT(cufftSetStream(c2r, stream));
    auto* cu_bins = reinterpret_cast<cufftComplex*>(d_bins);
    const double t_cufft = time_gpu(o.min_seconds, stream, [&] {
      CHECK_CUFFT(cufftExecR2C(r2c, d_real, cu_bins));
      CHECK_CUFFT(cufftExecC2R(c2r, cu_bins, d_real));
    });
    const double t_lathe = time_gpu(o.min_seconds, stream, [&] {
      CHECK_LATHE(kc::rfft_forward(*fft, d_real, n, d_bins, h + 1, count, stream));
      CHECK_LATHE(kc::rfft_inverse(*fft, d_bins, h + 1, d_real, n, count, stream));
    });
    const double pts = static_cast<double>(count * n);
    print_row("r2c+c2r", log2n, count, pts / t_lathe, pts / t_cufft);
    cufftDestroy(r2c);
    cufftDestroy(c2r);
    CHECK_CUDA(cudaFree(d_bins));

    if (o.complex) {
      CHECK_CUDA(cudaFree(d_real));
      Complex* d_data = nullptr;
      CHECK_CUDA(cudaMalloc(reinterpret_cast<void**>(&d_data), sizeof(Complex) * n * count));
      CHECK_CUDA(cudaMemset(d_data, 0, sizeof(Complex) * n * count));
      cufftHandle c2c;
      CHECK_CUFFT(cufftPlanMany(&c2c, 1, dims, nullptr, 1, static_cast<int>(n), nullptr, 1, static_cast<int>(n),
                                CUFFT_C2C, static_cast<int>(count)));
      CHECK_CUFFT(cufftSetStream(c2c, stream));
      auto* cu_data = reinterpret_cast<cufftComplex*>(d_data);
      const double c_cufft = time_gpu(o.min_seconds, stream, [&] {
        CHECK_CUFFT(cufftExecC2C(c2c, cu_data, cu_data, CUFFT_FORWARD));
        CHECK_CUFFT(cufftExecC2C(c2c, cu_data, cu_data, CUFFT_INVERSE));
      });
      const double c_lathe = time_gpu(o.min_seconds, stream, [&] {
        CHECK_LATHE(kc::fft_complex(*fft, d_data, n, count, false, stream));
        CHECK_LATHE(kc::fft_complex(*fft, d_data, n, count, true, stream));
      });
      print_row("c2c fwd+inv", log2n, count, pts / c_lathe, pts / c_cufft);
      cufftDestroy(c2c);
      CHECK_CUDA(cudaFree(d_data));
    } else {
      CHECK_CUDA(cudaFree(d_real));
    }
    std::fflush(stdout);
  }
  CHECK_CUDA(cudaStreamDestroy(stream));
}
#endif

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::printf("lathe_bench_fft: sizes 2^%d..2^%d, %zu points per batch; Gpt/s = batch points per second for one "
              "forward+inverse pair\n",
              o.min_log2, o.max_log2, o.batch_points);
  fftwf_set_timelimit(2.0);  // bounds FFTW_MEASURE planning per plan
  if (o.cpu) bench_cpu(o);
  if (o.gpu) {
    const std::string why = lathe::host::gpu_unavailable_reason();
    if (!why.empty()) {
      std::printf("\nGPU: skipped (%s)\n", why.c_str());
    } else {
#ifdef LATHE_HAVE_CUDA
      bench_gpu(o);
#endif
    }
  }
  return 0;
}
