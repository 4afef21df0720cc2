// CUDA launchers of the limiter and the resampler: the LATHE_HD functions of kernels/limiter.hpp and
// kernels/resample.hpp mapped onto threads, in the CPU driver's decomposition (same bits: every phase but the
// release is a pure function per index, and the release runs in order on one thread).
#include <cuda_runtime.h>

#include "kernels/cuda/delivery.hpp"

namespace lathe::kernels::cuda {
namespace {

constexpr int kThreads = 128;
constexpr std::int64_t kFramesPerThread = 64;  // detection, hold, smoothing: a short range per thread

unsigned grid(std::int64_t items) { return static_cast<unsigned>((items + kThreads - 1) / kThreads); }

__global__ void detect_kernel(const limiter::Interp* ip, float ceiling, const float* const* ch, int nch,
                              std::int64_t n, float* g) {
  const std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const std::int64_t b = t * kFramesPerThread;
  if (b >= n) return;
  const std::int64_t e = b + kFramesPerThread < n ? b + kFramesPerThread : n;
  limiter::detect_range(*ip, ceiling, ch, nch, n, b, e, g);
}

__global__ void block_minima_kernel(float* g, float* suf, std::int64_t n, std::int64_t w, std::int64_t blocks) {
  const std::int64_t b = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (b >= blocks) return;
  limiter::block_minima(g, suf, n, w, b, b + 1);
}

__global__ void hold_kernel(const float* pre, const float* suf, std::int64_t n, limiter::Shape shape, float* hr) {
  const std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const std::int64_t total = n + shape.lookahead;
  const std::int64_t b = t * kFramesPerThread;
  if (b >= total) return;
  const std::int64_t e = b + kFramesPerThread < total ? b + kFramesPerThread : total;
  limiter::hold_range(pre, suf, n, shape, b - shape.lookahead, e - shape.lookahead, hr);
}

__global__ void release_kernel(limiter::ReleaseCoeffs rc, float* hr, std::int64_t count) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  limiter::ReleaseState st = limiter::release_init();
  limiter::release_range(st, rc, hr, count);
}

__global__ void smooth_apply_kernel(const float* r_ext, limiter::Shape shape, std::int64_t n, float* a,
                                    float* const* ch, int nch) {
  const std::int64_t t = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const std::int64_t b = t * kFramesPerThread;
  if (b >= n) return;
  const std::int64_t e = b + kFramesPerThread < n ? b + kFramesPerThread : n;
  limiter::smooth_range(r_ext, shape, b, e, a);
  for (int c = 0; c < nch; ++c) limiter::apply_range(ch[c], a, b, e);
}

__global__ void resample_kernel(resample::ResampleTable table, const float* x, std::int64_t n_in, float* y,
                                std::int64_t n_out) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n_out) return;
  resample::resample_range(table, x, n_in, y + i, i, i + 1);
}

int last_error() { return static_cast<int>(cudaGetLastError()); }

}  // namespace

int launch_limiter_detect(const limiter::Interp* d_interp, float ceiling, const float* const* d_channels, int nch,
                          std::int64_t n, float* d_g, Stream stream) {
  if (n <= 0) return 0;
  detect_kernel<<<grid((n + kFramesPerThread - 1) / kFramesPerThread), kThreads, 0,
                  static_cast<cudaStream_t>(stream)>>>(d_interp, ceiling, d_channels, nch, n, d_g);
  return last_error();
}

int launch_limiter_block_minima(float* d_g, float* d_suf, std::int64_t n, std::int64_t w, Stream stream) {
  if (n <= 0) return 0;
  const std::int64_t blocks = (n + w - 1) / w;
  block_minima_kernel<<<grid(blocks), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(d_g, d_suf, n, w, blocks);
  return last_error();
}

int launch_limiter_hold(const float* d_pre, const float* d_suf, std::int64_t n, limiter::Shape shape, float* d_hr,
                        Stream stream) {
  const std::int64_t total = n + shape.lookahead;
  if (total <= 0) return 0;
  hold_kernel<<<grid((total + kFramesPerThread - 1) / kFramesPerThread), kThreads, 0,
                static_cast<cudaStream_t>(stream)>>>(d_pre, d_suf, n, shape, d_hr);
  return last_error();
}

int launch_limiter_release(limiter::ReleaseCoeffs coeffs, float* d_hr, std::int64_t count, Stream stream) {
  if (count <= 0) return 0;
  release_kernel<<<1, 1, 0, static_cast<cudaStream_t>(stream)>>>(coeffs, d_hr, count);
  return last_error();
}

int launch_limiter_smooth_apply(const float* d_r_ext, limiter::Shape shape, std::int64_t n, float* d_a,
                                float* const* d_channels, int nch, Stream stream) {
  if (n <= 0) return 0;
  smooth_apply_kernel<<<grid((n + kFramesPerThread - 1) / kFramesPerThread), kThreads, 0,
                        static_cast<cudaStream_t>(stream)>>>(d_r_ext, shape, n, d_a, d_channels, nch);
  return last_error();
}

int launch_resample(resample::ResampleTable d_table, const float* d_x, std::int64_t n_in, float* d_y,
                    std::int64_t n_out, Stream stream) {
  if (n_out <= 0) return 0;
  resample_kernel<<<grid(n_out), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(d_table, d_x, n_in, d_y, n_out);
  return last_error();
}

}  // namespace lathe::kernels::cuda
