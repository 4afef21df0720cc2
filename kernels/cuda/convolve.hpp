// Host-callable launchers of the block convolution (kernels/convolve.hpp) and the mid/side matrix. Device
// pointers are prefixed d_. Each returns the launch's cudaError_t as an int (0 = success).
#pragma once

#include <cstdint>

#include "kernels/block.hpp"
#include "kernels/complex.hpp"

namespace lathe::kernels::cuda {

using Stream = void*;  // cudaStream_t

// One block of a convolution group (all blocks of a group share one partitioned filter).
struct ConvBlock {
  std::int64_t sample_offset;   // the block's first sample in the batch buffer
  std::int64_t count;           // samples in the segment
  std::int64_t out_blocks;      // T = ceil(count / B)
  std::int64_t fresh_base;      // index of the block's first fresh frame (X_P) in the group's frame arrays
  const float* state;           // the stream's state (device memory, state_floats, kernels/convolve.hpp)
  float* new_state;             // where its next state goes (another buffer: the update is not in place)
};
// One unit of work of a group: fresh frame / output block t of block `block`.
struct ConvItem {
  std::uint32_t block;
  std::uint32_t pad;
  std::int64_t index;
};

// Fresh frames (2B samples each) into d_frame_buf, item i of the list at d_frame_buf + i * 2B. The state's time
// samples are its first B floats.
int launch_conv_gather(const float* d_samples, const ConvBlock* d_blocks,
                       const ConvItem* d_items, std::int64_t item_count, std::int64_t block, float* d_frame_buf,
                       Stream stream);
// Spectral sums: output item i into d_sums + i * bins. Fresh spectra of item i are at d_fresh + i * bins (items
// of one block consecutive, from its fresh_base); old spectra at the block's state + B, as Complex.
int launch_conv_mac(const Complex* d_fresh, const Complex* d_fir_spectra,
                    const ConvBlock* d_blocks, const ConvItem* d_items, std::int64_t item_count,
                    std::int64_t partitions, std::int64_t block, Complex* d_sums, Stream stream);
// The next state of every block into its new_state, before the scatter.
int launch_conv_state(const float* d_samples, const Complex* d_fresh, const ConvBlock* d_blocks,
                      std::int64_t block_count, std::int64_t partitions, std::int64_t block, Stream stream);
// Output blocks (the last B of each 2B inverse transform at d_time + i * 2B) back into the batch buffer.
int launch_conv_scatter(const float* d_time, float* d_samples, const ConvBlock* d_blocks, const ConvItem* d_items,
                        std::int64_t item_count, std::int64_t block, Stream stream);

// Mid/side matrix over pairs of blocks (`d_pairs`: first, second block index, interleaved).
int launch_mid_side(float* d_samples, const Block* d_blocks, const std::uint32_t* d_pairs, std::int64_t pair_count,
                    std::int64_t max_block_samples, bool encode, Stream stream);

}  // namespace lathe::kernels::cuda
