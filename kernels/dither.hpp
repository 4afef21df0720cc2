// Dither and quantisation to the delivery word length.
//
// TPDF dither of +-1 LSB peak (the sum of two independent uniform variables of 1 LSB each) comes from a
// counter-based generator: the noise of a sample is a pure function of (track content key, channel, sample
// index). A track therefore gets the same bits alone or in any batch, in any block split, on either engine.
// Only integer arithmetic produces the noise; the float operations below are a fixed sequence of IEEE-754
// multiply/add plus round-to-nearest-even, identical on CPU and GPU.
#pragma once

#include "kernels/hd.hpp"

namespace lathe::kernels {

enum class DitherKind : std::uint32_t {
  kNone = 0,  // plain rounding to the nearest step
  kTpdf = 1,  // triangular PDF, +-1 LSB
};

struct QuantiseParams {
  std::uint32_t bits;   // 16 or 24
  DitherKind dither;
};

// splitmix64's output function (Steele, Lea, Flood 2014): a bijective 64-bit avalanche mix.
LATHE_HD inline std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// 64 random bits for one sample: two chained mixes so that neighbouring keys, channels and indices decorrelate.
LATHE_HD inline std::uint64_t dither_random_bits(std::uint64_t track_key, std::uint32_t channel,
                                                 std::int64_t sample_index) {
  const std::uint64_t stream = mix64(track_key + 0x9e3779b97f4a7c15ULL * (std::uint64_t{channel} + 1));
  return mix64(stream ^ (static_cast<std::uint64_t>(sample_index) * 0xd1b54a32d192ed03ULL));
}

// TPDF noise in LSB, in (-1, 1): difference of two 24-bit uniforms, scaled by 2^-24. Exact in float.
LATHE_HD inline float tpdf_lsb(std::uint64_t random_bits) {
  const std::int32_t a = static_cast<std::int32_t>(random_bits >> 40);
  const std::int32_t b = static_cast<std::int32_t>(random_bits & 0xffffffULL);
  return static_cast<float>(a - b) * (1.0f / 16777216.0f);
}

// Round half to even without libm, for |v| < 2^31: truncation toward zero and the fractional part are both
// exact in IEEE-754, so the result is the same on every engine. (The "add 1.5 * 2^23" trick is not used: it
// rounds wrongly beyond 2^22, inside the 24-bit range.)
LATHE_HD inline float round_to_integer(float v) {
  const std::int32_t t = static_cast<std::int32_t>(v);
  const float frac = v - static_cast<float>(t);
  std::int32_t r = t;
  if (frac > 0.5f || (frac == 0.5f && (t & 1) != 0))
    r = t + 1;
  else if (frac < -0.5f || (frac == -0.5f && (t & 1) != 0))
    r = t - 1;
  return static_cast<float>(r);
}

// Quantises one block to signed integers of `bits` bits, stored left-justified in int32 (bit 31 = sign), the
// layout libsndfile's int writers take for any PCM width. Returns the number of samples clamped at full scale.
// Samples that are not finite cannot reach here (inputs are refused); a NaN would quantise to 0 and count.
// Samples before stream index `count_from` (a latency's pre-roll, never written) are quantised but not counted.
LATHE_HD inline std::int64_t quantise_block(const float* in, std::int32_t* out, std::int64_t count,
                                            std::int64_t start_sample, std::uint64_t track_key,
                                            std::uint32_t channel, QuantiseParams p, std::int64_t count_from = 0) {
  const float scale = static_cast<float>(std::int32_t{1} << (p.bits - 1));  // 2^(bits-1), exact
  const float top = scale - 1.0f;
  const float bottom = -scale;
  const int shift = 32 - static_cast<int>(p.bits);
  std::int64_t clamped = 0;
  for (std::int64_t i = 0; i < count; ++i) {
    float v = in[i] * scale;
    if (p.dither == DitherKind::kTpdf) v = v + tpdf_lsb(dither_random_bits(track_key, channel, start_sample + i));
    float q;
    if (v >= top) {
      q = top;
      if (v > top + 0.5f && start_sample + i >= count_from) ++clamped;
    } else if (v <= bottom) {
      q = bottom;
      if (v < bottom - 0.5f && start_sample + i >= count_from) ++clamped;
    } else if (v == v) {
      q = round_to_integer(v);
    } else {
      q = 0.0f;
      if (start_sample + i >= count_from) ++clamped;
    }
    // q is an integer in [-2^(bits-1), 2^(bits-1)-1]; the conversion is exact.
    out[i] = static_cast<std::int32_t>(static_cast<std::uint32_t>(static_cast<std::int32_t>(q)) << shift);
  }
  return clamped;
}

}  // namespace lathe::kernels
