// Partitioned FIRs and the CPU side of the block convolution described in kernels/convolve.hpp.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kernels/complex.hpp"

namespace lathe::host::dsp {

class FftPlan;

// A FIR cut into uniform partitions with each partition's spectrum ready for overlap-save. Immutable once
// made; shared by every track (and both engines) that uses the filter.
struct PartitionedFir {
  std::int64_t taps = 0;
  int log2_block = 0;                      // B = 2^log2_block: partition length and output block; FFTs of 2B
  std::int64_t block = 0;                  // B
  std::int64_t partitions = 0;             // P = ceil(taps / B)
  std::vector<kernels::Complex> spectra;   // P * (B + 1) bins: FFT_2B(partition zero-padded) / (2B), from double
  std::uint64_t id = 0;                    // unique per object in this process: device caches key on it

  std::int64_t bins() const { return block + 1; }
  // Floats of a stream's state between segments: B time samples, then (P-1) frame spectra (kernels/convolve.hpp).
  std::int64_t state_floats() const { return block + 2 * (partitions - 1) * bins(); }
};

// The partition length lathe picks for a FIR of `taps` taps: the power of two at or above the length, between
// 2^6 and 2^14. Short filters run as one partition; long ones (reverb IRs) as many 2^14 partitions.
int auto_log2_block(std::int64_t taps);

// Partitions `taps` (1 .. 2^21 of them) with blocks of 2^log2_block (0 = auto_log2_block). Spectra are computed
// in double and rounded to float once.
std::shared_ptr<const PartitionedFir> partition_fir(std::span<const double> taps, int log2_block = 0);

// Work space of one concurrent convolve_segment call; reuse it across calls on one thread.
struct ConvolveScratch {
  std::vector<float> frame;
  std::vector<kernels::Complex> fresh;
  std::vector<kernels::Complex> sum;
  std::vector<float> fft_scratch;
};

// Convolves `count` samples in place as one segment of a stream (kernels/convolve.hpp), using and then
// updating `state` (fir.state_floats() floats, 8-byte aligned; zeros at the start of a stream). `count` must be
// a multiple of fir.block unless it is the stream's last segment. Runs on the calling thread, plus oneTBB when
// `parallel`.
void convolve_segment(const PartitionedFir& fir, float* samples, std::int64_t count, float* state,
                      ConvolveScratch& scratch, bool parallel = false);

}  // namespace lathe::host::dsp
