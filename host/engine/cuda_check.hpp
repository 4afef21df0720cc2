// Error checks of the CUDA engine and its runners (host/engine/cuda_*.cpp, built only with CUDA): a failed CUDA
// call or launch becomes a GpuError that says what was being done.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "host/errors.hpp"

namespace lathe::host {

inline void check_cuda(cudaError_t status, const char* doing) {
  if (status != cudaSuccess)
    throw GpuError(std::string("CUDA error while ") + doing + ": " + cudaGetErrorString(status),
                   "check the driver with nvidia-smi, or use --engine cpu");
}
// Launchers return their cudaError_t as an int (kernels/cuda/*.hpp do not include the runtime header).
inline void check_launch(int status, const char* doing) { check_cuda(static_cast<cudaError_t>(status), doing); }

}  // namespace lathe::host
