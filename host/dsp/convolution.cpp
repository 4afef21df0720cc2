#include "host/dsp/convolution.hpp"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <atomic>
#include <complex>
#include <stdexcept>

#include "host/dsp/fft.hpp"
#include "host/dsp/fft_double.hpp"
#include "kernels/convolve.hpp"

namespace lathe::host::dsp {
namespace {

std::atomic<std::uint64_t> next_fir_id{1};

struct FrameWork {
  std::vector<float> frame;
  std::vector<kernels::Complex> sum;
  std::vector<float> fft_scratch;
};

// sum[k] = sum[k] + x[k] * h[k], as kernels::cmac, over split loads so that the compiler vectorises it.
void accumulate_products(kernels::Complex* __restrict sum, const kernels::Complex* __restrict x,
                         const kernels::Complex* __restrict h, std::int64_t bins) {
  for (std::int64_t k = 0; k < bins; ++k) sum[k] = kernels::cmac(sum[k], x[k], h[k]);
}

}  // namespace

int auto_log2_block(std::int64_t taps) {
  int k = 6;
  while (k < 14 && (std::int64_t{1} << k) < taps) ++k;
  return k;
}

std::shared_ptr<const PartitionedFir> partition_fir(std::span<const double> taps, int log2_block) {
  const auto length = static_cast<std::int64_t>(taps.size());
  if (length < 1 || length > (std::int64_t{1} << 21))
    throw std::invalid_argument("partition_fir: a FIR has 1 to 2^21 taps, not " + std::to_string(length));
  if (log2_block == 0) log2_block = auto_log2_block(length);
  if (log2_block < 5 || log2_block > 19) throw std::invalid_argument("partition_fir: block out of range");
  auto fir = std::make_shared<PartitionedFir>();
  fir->taps = length;
  fir->log2_block = log2_block;
  fir->block = std::int64_t{1} << log2_block;
  fir->partitions = (length + fir->block - 1) / fir->block;
  fir->id = next_fir_id.fetch_add(1);
  const std::int64_t n = 2 * fir->block;
  const std::int64_t bins = fir->bins();
  fir->spectra.resize(static_cast<std::size_t>(fir->partitions * bins));
  const double scale = 1.0 / static_cast<double>(n);
  std::vector<double> frame(static_cast<std::size_t>(n));
  std::vector<std::complex<double>> spectrum(static_cast<std::size_t>(bins));
  const RealFftDouble fft(static_cast<std::size_t>(n));
  for (std::int64_t p = 0; p < fir->partitions; ++p) {
    std::fill(frame.begin(), frame.end(), 0.0);
    const std::int64_t first = p * fir->block;
    const std::int64_t end = std::min(length, first + fir->block);
    std::copy(taps.begin() + first, taps.begin() + end, frame.begin());
    fft.forward(frame, spectrum);
    for (std::int64_t k = 0; k < bins; ++k) {
      const std::complex<double> v = spectrum[static_cast<std::size_t>(k)] * scale;
      fir->spectra[static_cast<std::size_t>(p * bins + k)] = {static_cast<float>(v.real()),
                                                              static_cast<float>(v.imag())};
    }
  }
  return fir;
}

void convolve_segment(const PartitionedFir& fir, float* samples, std::int64_t count, float* state,
                      ConvolveScratch& s, bool parallel) {
  const std::int64_t B = fir.block, P = fir.partitions, bins = fir.bins(), n = 2 * B;
  const std::int64_t T = (count + B - 1) / B;
  if (T == 0) return;
  float* time = state;
  auto* old = reinterpret_cast<kernels::Complex*>(state + B);
  const FftPlan& plan = *FftPlan::get(fir.log2_block + 1);
  s.fresh.resize(static_cast<std::size_t>(T * bins));

  auto grow = [&](FrameWork& w) {
    w.frame.resize(static_cast<std::size_t>(n));
    w.sum.resize(static_cast<std::size_t>(bins));
    w.fft_scratch.resize(plan.scratch_floats());
  };
  // New frame t of the segment -> X_{P+t}.
  auto forward = [&](std::int64_t t, FrameWork& w) {
    for (std::int64_t i = 0; i < n; ++i)
      w.frame[static_cast<std::size_t>(i)] = kernels::conv_stream_sample(time, B, samples, count, t * B + i);
    rfft_forward(plan, w.frame.data(), s.fresh.data() + t * bins, w.fft_scratch.data());
  };
  // Output block t -> samples [tB, tB + B) (clipped to count).
  auto inverse = [&](std::int64_t t, FrameWork& w) {
    // kernels::conv_spectral_sum for every bin, with the loops swapped so that the bins vectorise: each bin
    // still gets 0 + X*H_0 + X*H_1 + ... in increasing p, the same operations in the same order.
    kernels::Complex* sum = w.sum.data();
    std::fill_n(sum, bins, kernels::Complex{0.0f, 0.0f});
    for (std::int64_t p = 0; p < P; ++p) {
      const kernels::Complex* x = kernels::conv_frame_spectrum(old, s.fresh.data(), P, bins, P + t - p);
      const kernels::Complex* h = fir.spectra.data() + p * bins;
      accumulate_products(sum, x, h, bins);
    }
    rfft_inverse(plan, w.sum.data(), w.frame.data(), w.fft_scratch.data());
    const std::int64_t first = t * B;
    const std::int64_t len = std::min(B, count - first);
    std::copy_n(w.frame.data() + B, len, samples + first);
  };
  // The next segment's time samples (read before the output overwrites the input) ...
  auto update_time = [&] {
    for (std::int64_t i = 0; i < B; ++i) time[i] = kernels::conv_stream_sample(time, B, samples, count, T * B + i);
  };
  // ... and spectra: X_{T+1} .. X_{T+P-1}, after the sums have read the old ones. Ascending copies are safe in
  // place: the source index is never below the destination.
  auto update_spectra = [&] {
    for (std::int64_t i = 0; i + 1 < P; ++i) {
      const kernels::Complex* src = kernels::conv_frame_spectrum(old, s.fresh.data(), P, bins, T + 1 + i);
      std::copy_n(src, bins, old + i * bins);
    }
  };

  if (!parallel || 2 * T < 4) {
    FrameWork w;
    w.frame.swap(s.frame);
    w.sum.swap(s.sum);
    w.fft_scratch.swap(s.fft_scratch);
    grow(w);
    for (std::int64_t t = 0; t < T; ++t) forward(t, w);
    update_time();
    for (std::int64_t t = 0; t < T; ++t) inverse(t, w);
    update_spectra();
    w.frame.swap(s.frame);
    w.sum.swap(s.sum);
    w.fft_scratch.swap(s.fft_scratch);
    return;
  }
  tbb::enumerable_thread_specific<FrameWork> work;
  tbb::parallel_for(std::int64_t{0}, T, [&](std::int64_t t) {
    FrameWork& w = work.local();
    grow(w);
    forward(t, w);
  });
  update_time();
  tbb::parallel_for(std::int64_t{0}, T, [&](std::int64_t t) {
    FrameWork& w = work.local();
    grow(w);
    inverse(t, w);
  });
  update_spectra();
}

}  // namespace lathe::host::dsp
