// Host-callable launchers of the delivery pass's whole-track kernels: the true-peak limiter's five phases
// (kernels/limiter.hpp) and the resampler (kernels/resample.hpp). Device pointers throughout; each returns the
// launch's cudaError_t as an int (0 = success). The decomposition is the CPU driver's (host/dsp/limiter.cpp):
// detection, hold and smoothing are pure per index, block minima per block, the release one thread per track.
#pragma once

#include <cstdint>

#include "kernels/limiter.hpp"
#include "kernels/resample.hpp"

namespace lathe::kernels::cuda {

using Stream = void*;  // cudaStream_t

// g[i], i in [0, n): the required gain, linked over d_channels[0 .. nch).
int launch_limiter_detect(const limiter::Interp* d_interp, float ceiling, const float* const* d_channels, int nch,
                          std::int64_t n, float* d_g, Stream stream);
// Prefix minima into d_g (in place) and suffix minima into d_suf, blocks of w frames.
int launch_limiter_block_minima(float* d_g, float* d_suf, std::int64_t n, std::int64_t w, Stream stream);
// The hold over the extended track: d_hr[j + LA] for j in [-LA, n).
int launch_limiter_hold(const float* d_pre, const float* d_suf, std::int64_t n, limiter::Shape shape, float* d_hr,
                        Stream stream);
// The release recurrence over d_hr[0 .. count), in order, one thread.
int launch_limiter_release(limiter::ReleaseCoeffs coeffs, float* d_hr, std::int64_t count, Stream stream);
// a[i] = smoothed gain, then x[i] *= a[i] on every channel, i in [0, n).
int launch_limiter_smooth_apply(const float* d_r_ext, limiter::Shape shape, std::int64_t n, float* d_a,
                                float* const* d_channels, int nch, Stream stream);

// y[0 .. n_out) = the resampled x[0 .. n_in) (d_table.coeffs is device memory).
int launch_resample(resample::ResampleTable d_table, const float* d_x, std::int64_t n_in, float* d_y,
                    std::int64_t n_out, Stream stream);

}  // namespace lathe::kernels::cuda
