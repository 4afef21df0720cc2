// CUDA engine of the deterministic FFT: batched transforms on a stream, bit-identical to host/dsp/fft.hpp (the
// arithmetic is kernels/fft.hpp, the twiddles are the host plan's bytes). No CUDA headers here: streams are
// passed as void* (cudaStream_t), errors are returned as int (cudaError_t, 0 = success).
//
// Pointers prefixed d_ are device memory. Strides are in elements of the pointer's type. Real-side pointers
// (float) must be 8-byte aligned and their strides even (the real data are read and written as complex pairs);
// otherwise the call returns cudaErrorInvalidValue and launches nothing.
//
// A DeviceFft keeps grow-only device scratch (for transforms of more than one phase: above 2^12..2^14 complex
// points, depending on the device's shared memory), so calls on one DeviceFft
// must be ordered: use one DeviceFft per stream (or the same stream for all its calls).
#pragma once

#include <cstddef>
#include <memory>

#include "kernels/complex.hpp"
#include "kernels/fft.hpp"

namespace lathe::kernels::cuda {

class DeviceFft {
 public:
  ~DeviceFft();
  DeviceFft(const DeviceFft&) = delete;
  DeviceFft& operator=(const DeviceFft&) = delete;

  int log2n() const { return log2n_; }
  std::size_t size() const { return std::size_t{1} << log2n_; }

  // Internal state, used by the launchers in fft.cu.
  struct State;
  State& state() { return *state_; }

 private:
  friend std::unique_ptr<DeviceFft> make_device_fft(const FftTables& tables);
  DeviceFft() = default;
  int log2n_ = 0;
  std::unique_ptr<State> state_;
};

// Copies the plan's tables (host pointers) to the current device. Throws std::runtime_error on a CUDA error.
std::unique_ptr<DeviceFft> make_device_fft(const FftTables& tables);
// Same, from anything with a tables() member returning FftTables (host::dsp::FftPlan).
template <class Plan>
std::unique_ptr<DeviceFft> make_device_fft(const Plan& plan) {
  return make_device_fft(static_cast<const FftTables&>(plan.tables()));
}

// `count` transforms of n = 2^log2n reals -> n/2+1 bins; transform b reads d_in + b*in_stride, writes
// d_out + b*out_stride.
int rfft_forward(DeviceFft& fft, const float* d_in, std::size_t in_stride, Complex* d_out, std::size_t out_stride,
                 std::size_t count, void* stream);
// n/2+1 bins -> n reals, unnormalised (n * x).
int rfft_inverse(DeviceFft& fft, const Complex* d_in, std::size_t in_stride, float* d_out, std::size_t out_stride,
                 std::size_t count, void* stream);
// In place, n points each, unnormalised.
int fft_complex(DeviceFft& fft, Complex* d_data, std::size_t stride, std::size_t count, bool inverse, void* stream);

}  // namespace lathe::kernels::cuda
