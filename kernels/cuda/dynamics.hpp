// Host-callable launcher of the compressor (kernels/dynamics.hpp): one thread per track, each running its
// recurrence in order over its blocks, exactly as the CPU runner (host/dsp/compressor.cpp) does. Device
// pointers throughout; returns the launch's cudaError_t as an int (0 = success).
#pragma once

#include <cstdint>

#include "kernels/block.hpp"
#include "kernels/dynamics.hpp"

namespace lathe::kernels::cuda {

using Stream = void*;  // cudaStream_t

// For j in [0, count): process_job(d_params[j], d_states[j], d_samples, d_blocks, d_jobs[j]), in place.
int launch_dynamics(float* d_samples, const Block* d_blocks, const dynamics::Params* d_params,
                    dynamics::State* d_states, const dynamics::Job* d_jobs, std::int64_t count, Stream stream);

}  // namespace lathe::kernels::cuda
