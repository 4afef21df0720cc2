// kernels/dither.hpp and kernels/gain.hpp: the per-sample math both engines share.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/dither.hpp"
#include "kernels/gain.hpp"

namespace lathe::kernels {
namespace {

TEST(Dither, TpdfNoiseIsTriangularWithinOneLsb) {
  const int n = 400000;
  double sum = 0, sum_sq = 0;
  int inner = 0;  // |x| < 0.5: 3/4 of a triangular distribution on (-1, 1)
  for (int i = 0; i < n; ++i) {
    const float x = tpdf_lsb(dither_random_bits(0x1234, 0, i));
    ASSERT_GT(x, -1.0f);
    ASSERT_LT(x, 1.0f);
    sum += x;
    sum_sq += static_cast<double>(x) * x;
    inner += std::fabs(x) < 0.5f;
  }
  const double mean = sum / n;
  const double var = sum_sq / n - mean * mean;
  EXPECT_NEAR(mean, 0.0, 0.005);
  EXPECT_NEAR(var, 1.0 / 6.0, 0.003);  // variance of TPDF of +-1 LSB peak
  EXPECT_NEAR(static_cast<double>(inner) / n, 0.75, 0.005);
}

TEST(Dither, NoiseDependsOnKeyChannelAndIndexOnly) {
  EXPECT_EQ(dither_random_bits(1, 0, 5), dither_random_bits(1, 0, 5));
  EXPECT_NE(dither_random_bits(1, 0, 5), dither_random_bits(2, 0, 5));
  EXPECT_NE(dither_random_bits(1, 0, 5), dither_random_bits(1, 1, 5));
  EXPECT_NE(dither_random_bits(1, 0, 5), dither_random_bits(1, 0, 6));
}

TEST(Dither, NeighbouringSamplesAreUncorrelated) {
  const int n = 200000;
  double acc = 0, energy = 0;
  float prev = tpdf_lsb(dither_random_bits(99, 1, 0));
  for (int i = 1; i < n; ++i) {
    const float x = tpdf_lsb(dither_random_bits(99, 1, i));
    acc += static_cast<double>(x) * prev;
    energy += static_cast<double>(x) * x;
    prev = x;
  }
  EXPECT_LT(std::fabs(acc / energy), 0.01);
}

TEST(Quantise, RoundToIntegerIsRoundHalfEven) {
  for (float v : {0.0f, 0.4f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.49f, 1000.5f, 1001.5f, 4194303.5f, -4194303.5f,
                  123456.75f, 5000000.25f, -5000000.25f, 6000000.5f, 6000001.5f, -6000001.5f, 8388606.5f, -8388607.5f,
                  8388607.0f, -8388608.0f}) {
    EXPECT_EQ(round_to_integer(v), std::nearbyint(v)) << v;
  }
  // Every float step of the whole 24-bit range near a few magnitudes, both signs.
  for (float base : {0.75f, 1000.0f, 65535.0f, 4194300.0f, 8388600.0f}) {
    float v = base;
    for (int i = 0; i < 64; ++i, v = std::nextafter(v, 1e9f)) {
      EXPECT_EQ(round_to_integer(v), std::nearbyint(v)) << v;
      EXPECT_EQ(round_to_integer(-v), std::nearbyint(-v)) << -v;
    }
  }
}

TEST(Quantise, WithoutDitherIsExactForRepresentableValues) {
  const std::vector<float> in = {0.0f, 0.5f, -0.5f, 1.0f / 32768.0f, -1.0f, 32767.0f / 32768.0f};
  std::vector<std::int32_t> out(in.size());
  const auto clamped = quantise_block(in.data(), out.data(), static_cast<std::int64_t>(in.size()), 0, 0, 0,
                                      QuantiseParams{16, DitherKind::kNone});
  EXPECT_EQ(clamped, 0);
  const std::vector<std::int32_t> want = {0, 16384 << 16, -16384 * 65536, 1 << 16, std::numeric_limits<std::int32_t>::min(),
                                          32767 << 16};
  EXPECT_EQ(out, want);
}

TEST(Quantise, FullScaleAndBeyondClampAtTheRailsAndAreCounted) {
  // More than one step beyond full scale, so that no dither value can bring them back inside.
  const std::vector<float> in = {1.001f, 1.5f, -1.001f, -3.0f, 0.25f};
  std::vector<std::int32_t> out(in.size());
  const auto clamped = quantise_block(in.data(), out.data(), 5, 0, 7, 0, QuantiseParams{24, DitherKind::kTpdf});
  EXPECT_EQ(out[0], 8388607 << 8);
  EXPECT_EQ(out[1], 8388607 << 8);
  EXPECT_EQ(out[2], std::numeric_limits<std::int32_t>::min());
  EXPECT_EQ(out[3], std::numeric_limits<std::int32_t>::min());
  EXPECT_EQ(clamped, 4);
  EXPECT_NEAR(static_cast<double>(out[4] >> 8), 0.25 * 8388608.0, 1.0);
}

TEST(Quantise, DitheredOutputStaysWithinOneAndAHalfLsbOfTheInput) {
  std::vector<float> in(10000);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = 0.9f * static_cast<float>(static_cast<int>(i % 2001) - 1000) / 1000.0f;
  std::vector<std::int32_t> out(in.size());
  quantise_block(in.data(), out.data(), static_cast<std::int64_t>(in.size()), 0, 3, 0,
                 QuantiseParams{16, DitherKind::kTpdf});
  for (std::size_t i = 0; i < in.size(); ++i) {
    const double lsb = static_cast<double>(out[i] >> 16);
    EXPECT_LE(std::fabs(lsb - static_cast<double>(in[i]) * 32768.0), 1.5) << i;
    EXPECT_EQ(out[i] & 0xffff, 0) << "16-bit words are left-justified";
  }
}

TEST(Quantise, ResultDoesNotDependOnHowTheBlockIsSplit) {
  std::vector<float> in(5000);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = 0.001f * static_cast<float>(i % 97) - 0.04f;
  std::vector<std::int32_t> whole(in.size()), parts(in.size());
  const QuantiseParams p{24, DitherKind::kTpdf};
  quantise_block(in.data(), whole.data(), 5000, 100, 42, 1, p);
  for (std::int64_t first = 0; first < 5000; first += 333)
    quantise_block(in.data() + first, parts.data() + first, std::min<std::int64_t>(333, 5000 - first), 100 + first,
                   42, 1, p);
  EXPECT_EQ(whole, parts);
}

TEST(Gain, MultipliesEverySampleOnceKeepingDenormals) {
  const float denormal = 1e-40f;
  std::vector<float> x = {1.0f, -0.5f, denormal, 0.0f};
  gain_apply(x.data(), 4, 2.0f);
  EXPECT_EQ(x[0], 2.0f);
  EXPECT_EQ(x[1], -1.0f);
  EXPECT_EQ(x[2], std::ldexp(denormal, 1));  // no flush-to-zero on either engine
  EXPECT_EQ(x[3], 0.0f);
}

}  // namespace
}  // namespace lathe::kernels
