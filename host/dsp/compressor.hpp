// PLACEHOLDER (issue 7): the compressor stage's design; replaced by its implementation.
#pragma once
namespace lathe::host::dsp {
struct CompressorDesign {};
}  // namespace lathe::host::dsp
