// PLACEHOLDER (issue 7): the saturation stage's design; replaced by its implementation.
#pragma once
namespace lathe::host::dsp {
struct SaturationDesign {};
}  // namespace lathe::host::dsp
