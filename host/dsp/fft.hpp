// lathe's deterministic FFT, CPU side: the plan (twiddles computed once in double, rounded to float once) and
// the CPU transforms. The arithmetic is kernels/fft.hpp; the CUDA engine (kernels/cuda/fft.hpp) reads the same
// tables and gives the same bits.
//
// Sizes: n = 2^log2n, 1 <= log2n <= 21. Complex transforms of n points, real transforms of n reals (n/2+1 bins).
// All transforms are unnormalised: inverse(forward(x)) = n * x.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "kernels/complex.hpp"
#include "kernels/fft.hpp"

namespace lathe::host::dsp {

// The tables of one complex size, in two layouts holding the same floats: split planes for the CPU loops and
// interleaved Complex for the device.
struct FftComplexTables {
  int log2n = 0;
  std::vector<float> re;                   // fft_twiddle_count(log2n) entries, see kernels/fft.hpp
  std::vector<float> im;
  std::vector<kernels::Complex> interleaved;
};

class FftPlan {  // immutable after construction; shared by threads
 public:
  // Plan for transforms of n = 2^log2n points, 1 <= log2n <= 21. Cached per size, thread-safe.
  // Throws std::invalid_argument outside that range.
  static std::shared_ptr<const FftPlan> get(int log2n);

  explicit FftPlan(int log2n);  // prefer get()

  int log2n() const { return log2n_; }
  std::size_t size() const { return n_; }
  // Floats of scratch one concurrent CPU call needs (any of the calls below): 4 n.
  std::size_t scratch_floats() const { return 4 * n_; }

  // The n-point complex plan and the n/2-point plan of real transforms.
  const FftComplexTables& complex_tables() const { return full_; }
  const FftComplexTables& half_tables() const { return half_; }
  // W^k = exp(-2 pi i k / n), 0 <= k < n/2, for the real pre/post-processing (split and interleaved).
  const std::vector<float>& real_twiddles_re() const { return real_re_; }
  const std::vector<float>& real_twiddles_im() const { return real_im_; }
  const std::vector<kernels::Complex>& real_twiddles() const { return real_; }
  // Host pointers to the interleaved tables, for kernels::cuda::make_device_fft.
  kernels::FftTables tables() const {
    return kernels::FftTables{log2n_, full_.interleaved.data(), half_.interleaved.data(), real_.data()};
  }

 private:
  int log2n_;
  std::size_t n_;
  FftComplexTables full_;
  FftComplexTables half_;
  std::vector<float> real_re_, real_im_;
  std::vector<kernels::Complex> real_;
};

// CPU, single-threaded and reentrant; `scratch` holds plan.scratch_floats() floats (no alignment needed).
// In place, n points, unnormalised; inverse = conj(forward(conj(x))).
void fft_complex(const FftPlan& plan, kernels::Complex* data, bool inverse, float* scratch);
// n reals -> n/2+1 bins.
void rfft_forward(const FftPlan& plan, const float* in, kernels::Complex* out, float* scratch);
// n/2+1 bins -> n reals, unnormalised (the result is n * x). The imaginary parts of bins 0 and n/2 are used as
// given (a Hermitian spectrum has them zero).
void rfft_inverse(const FftPlan& plan, const kernels::Complex* in, float* out, float* scratch);

// Batched: `count` transforms with oneTBB in parallel; transform b reads in + b*in_stride and writes
// out + b*out_stride (strides in elements of the pointer's type). Bit-identical to the single calls.
void rfft_forward_batch(const FftPlan& plan, const float* in, std::size_t in_stride, kernels::Complex* out,
                        std::size_t out_stride, std::size_t count);
void rfft_inverse_batch(const FftPlan& plan, const kernels::Complex* in, std::size_t in_stride, float* out,
                        std::size_t out_stride, std::size_t count);
void fft_complex_batch(const FftPlan& plan, kernels::Complex* data, std::size_t stride, std::size_t count,
                       bool inverse);

}  // namespace lathe::host::dsp
