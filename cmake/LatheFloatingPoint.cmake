# The floating-point contract of both engines, in one place (DESIGN.md section 2).
#
# Host: no fused multiply-add anywhere (-ffp-contract=off), and a baseline x86-64 target: GCC 12 was measured
# (2026-11) vectorising a complex multiply into vfmaddsub under -march=x86-64-v3 despite -ffp-contract=off, so
# no -march beyond the baseline is allowed for code that runs kernels/. No -ffast-math, never FTZ/DAZ.
# CUDA: --fmad=false, IEEE division and square root, denormals kept.
set(LATHE_CXX_FP_FLAGS -ffp-contract=off -fno-fast-math)
set(LATHE_CUDA_FP_FLAGS --fmad=false -ftz=false -prec-div=true -prec-sqrt=true)
set(LATHE_WARNING_FLAGS -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
    # GCC 12 reports false -Wrestrict positives inside libstdc++'s std::string operator+ (GCC bug 105329).
    -Wno-restrict)
if(LATHE_WERROR)
  list(APPEND LATHE_WARNING_FLAGS -Werror)
endif()

# Refuse flags that break bit-identical engines, wherever they were added (cache, environment, toolchain).
function(lathe_check_fp_flags)
  set(all "${CMAKE_CXX_FLAGS} ${CMAKE_CXX_FLAGS_${CMAKE_BUILD_TYPE}} ${CMAKE_CUDA_FLAGS} ${CMAKE_CUDA_FLAGS_${CMAKE_BUILD_TYPE}}")
  foreach(bad "-ffast-math" "-Ofast" "-march=" "-mfma" "-funsafe-math-optimizations" "--use_fast_math"
              "-use_fast_math" "-ftz=true" "--ftz=true" "-fmad=true" "--fmad=true" "-prec-div=false"
              "-prec-sqrt=false")
    string(FIND "${all}" "${bad}" pos)
    if(NOT pos EQUAL -1)
      message(FATAL_ERROR "lathe: compiler flag '${bad}' found in CMAKE_CXX_FLAGS/CMAKE_CUDA_FLAGS. It breaks the "
                          "bit-identical CPU/GPU contract (DESIGN.md section 2); remove it.")
    endif()
  endforeach()
endfunction()
