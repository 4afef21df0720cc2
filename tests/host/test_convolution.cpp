// The partitioned overlap-save convolution: exact against double-precision references for short, odd and very
// long filters; segment boundaries invisible (bit for bit); the CPU engine's batched form equals the single
// stream; the CUDA engine equals the CPU engine where a GPU exists.
#include <fftw3.h>
#include <gtest/gtest.h>
#include <tbb/global_control.h>
#include <tbb/task_arena.h>

#include <cmath>
#include <complex>
#include <vector>

#include "host/dsp/convolution.hpp"
#include "host/engine/engine.hpp"
#include "tests/signals.hpp"

namespace lathe::test {
namespace {

using host::dsp::ConvolveScratch;
using host::dsp::PartitionedFir;

std::vector<double> random_fir(std::int64_t taps, std::uint64_t seed, bool decaying) {
  Noise n(seed);
  std::vector<double> h(static_cast<std::size_t>(taps));
  for (std::int64_t i = 0; i < taps; ++i) {
    const double env = decaying ? std::exp(-4.0 * static_cast<double>(i) / static_cast<double>(taps)) : 1.0;
    h[static_cast<std::size_t>(i)] = env * n.next();
  }
  return h;
}

std::vector<float> random_signal(std::int64_t length, std::uint64_t seed) {
  Noise n(seed);
  std::vector<float> x(static_cast<std::size_t>(length));
  for (auto& v : x) v = static_cast<float>(0.5 * n.next());
  return x;
}

// Causal linear convolution y[n] = sum_k h[k] x[n-k], n < x.size(), in double: directly for short filters,
// through FFTW in double for long ones.
std::vector<double> reference(const std::vector<double>& h, const std::vector<float>& x) {
  const std::size_t L = h.size(), N = x.size();
  std::vector<double> y(N, 0.0);
  if (L * N <= 40'000'000) {
    for (std::size_t n = 0; n < N; ++n) {
      double acc = 0;
      const std::size_t kmax = std::min(L, n + 1);
      for (std::size_t k = 0; k < kmax; ++k) acc += h[k] * static_cast<double>(x[n - k]);
      y[n] = acc;
    }
    return y;
  }
  std::size_t M = 1;
  while (M < L + N) M <<= 1;
  std::vector<double> a(M, 0.0), b(M, 0.0);
  std::copy(h.begin(), h.end(), a.begin());
  for (std::size_t i = 0; i < N; ++i) b[i] = x[i];
  std::vector<std::complex<double>> A(M / 2 + 1), Bs(M / 2 + 1);
  auto* pa = fftw_plan_dft_r2c_1d(static_cast<int>(M), a.data(), reinterpret_cast<fftw_complex*>(A.data()), FFTW_ESTIMATE);
  auto* pb = fftw_plan_dft_r2c_1d(static_cast<int>(M), b.data(), reinterpret_cast<fftw_complex*>(Bs.data()), FFTW_ESTIMATE);
  fftw_execute(pa);
  fftw_execute(pb);
  for (std::size_t k = 0; k < A.size(); ++k) A[k] *= Bs[k] / static_cast<double>(M);
  auto* pc = fftw_plan_dft_c2r_1d(static_cast<int>(M), reinterpret_cast<fftw_complex*>(A.data()), a.data(), FFTW_ESTIMATE);
  fftw_execute(pc);
  fftw_destroy_plan(pa);
  fftw_destroy_plan(pb);
  fftw_destroy_plan(pc);
  std::copy_n(a.begin(), N, y.begin());
  return y;
}

// Runs the stream through convolve_segment in segments of `segment` samples (0: one segment).
std::vector<float> run_stream(const PartitionedFir& fir, std::vector<float> x, std::int64_t segment) {
  std::vector<float> history(static_cast<std::size_t>(fir.state_floats()), 0.0f);
  ConvolveScratch scratch;
  const auto n = static_cast<std::int64_t>(x.size());
  if (segment == 0) segment = n;
  for (std::int64_t first = 0; first < n; first += segment)
    host::dsp::convolve_segment(fir, x.data() + first, std::min(segment, n - first), history.data(), scratch,
                                /*parallel=*/(first / segment) % 2 == 1);
  return x;
}

// Error of `got` against `want`, in dB relative to the reference's RMS.
double error_db(const std::vector<float>& got, const std::vector<double>& want) {
  double e = 0, s = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double d = static_cast<double>(got[i]) - want[i];
    e += d * d;
    s += want[i] * want[i];
  }
  return 10.0 * std::log10(e / s);
}

class ConvolutionExactness : public ::testing::TestWithParam<std::int64_t> {};

TEST_P(ConvolutionExactness, MatchesDoubleReferenceBelowMinus120dB) {
  const std::int64_t taps = GetParam();
  const auto h = random_fir(taps, 11 + static_cast<std::uint64_t>(taps), taps > 5000);
  const auto fir = host::dsp::partition_fir(h);
  const std::int64_t length = std::max<std::int64_t>(3 * fir->block, taps + 3 * fir->block + 17);
  const auto x = random_signal(length, 5);
  const auto y = run_stream(*fir, x, 4 * fir->block);
  const auto want = reference(h, x);
  const double db = error_db(y, want);
  EXPECT_LT(db, -120.0) << taps << " taps, block " << fir->block << ", " << fir->partitions << " partitions";
  RecordProperty("error_db", std::to_string(db));
}

INSTANTIATE_TEST_SUITE_P(ShortOddAndLong, ConvolutionExactness,
                         ::testing::Values(1, 2, 3, 31, 64, 65, 1001, 4097, 16383, 16385, 100003),
                         [](const auto& param) { return "taps_" + std::to_string(param.param); });

// 2^21 taps (a 43-second impulse response at 48 kHz): 128 partitions of 2^14, against FFTW in double.
TEST(Convolution, LongestFilterMatchesDoubleReference) {
  const std::int64_t taps = std::int64_t{1} << 21;
  const auto h = random_fir(taps, 3, true);
  const auto fir = host::dsp::partition_fir(h);
  EXPECT_EQ(fir->partitions, 128);
  const auto x = random_signal(taps + 40000, 9);
  const auto y = run_stream(*fir, x, 65536);
  EXPECT_LT(error_db(y, reference(h, x)), -120.0);
}

TEST(Convolution, SegmentsAreInvisibleBitForBit) {
  for (const std::int64_t taps : {1, 300, 5000, 40000}) {
    const auto fir = host::dsp::partition_fir(random_fir(taps, 21, true));
    const auto x = random_signal(9 * fir->block + 123, 4);
    const auto whole = run_stream(*fir, x, 0);
    for (const std::int64_t seg : {fir->block, 2 * fir->block, 3 * fir->block, 8 * fir->block}) {
      const auto parts = run_stream(*fir, x, seg);
      EXPECT_TRUE(std::equal(whole.begin(), whole.end(), parts.begin()))
          << taps << " taps, segments of " << seg;
    }
  }
}

TEST(Convolution, UnitImpulseFilterIsAnIdentityBelowMinus130dBFS) {
  const auto fir = host::dsp::partition_fir(std::vector<double>{1.0});
  const auto x = random_signal(5000, 8);
  const auto y = run_stream(*fir, x, 0);
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(static_cast<double>(y[i] - x[i])));
  EXPECT_LT(20.0 * std::log10(worst + 1e-30), -130.0);
}

TEST(Convolution, RejectsEmptyAndOversizedFilters) {
  EXPECT_THROW(host::dsp::partition_fir(std::vector<double>{}), std::invalid_argument);
  EXPECT_THROW(host::dsp::partition_fir(std::vector<double>((std::size_t{1} << 21) + 1, 0.0)), std::invalid_argument);
}

// The engines' batched convolution: several tracks, channels and filters in one batch, segment after segment,
// equal to each stream run alone; and the CUDA engine equal to the CPU engine.
std::vector<std::vector<float>> run_engine(host::Engine& engine, const std::vector<const PartitionedFir*>& firs,
                                           const std::vector<std::vector<float>>& streams, std::int64_t segment) {
  std::vector<std::vector<float>> histories, out(streams.size());
  for (const auto* f : firs) histories.emplace_back(static_cast<std::size_t>(f->state_floats()), 0.0f);
  std::int64_t longest = 0;
  for (const auto& s : streams) longest = std::max<std::int64_t>(longest, static_cast<std::int64_t>(s.size()));
  for (std::int64_t first = 0; first < longest; first += segment) {
    host::BlockBatch batch;
    std::vector<host::ConvolveJob> jobs;
    for (std::size_t i = 0; i < streams.size(); ++i) {
      const auto n = std::clamp<std::int64_t>(static_cast<std::int64_t>(streams[i].size()) - first, 0, segment);
      float* dst = batch.add_block(static_cast<std::uint32_t>(i), 0, first, n, 1);
      std::copy_n(streams[i].data() + first, n, dst);
      jobs.push_back({n > 0 ? firs[i] : nullptr, histories[i].data()});
    }
    engine.load(batch);
    engine.convolve(jobs);
    engine.store(batch);
    for (std::size_t i = 0; i < streams.size(); ++i)
      out[i].insert(out[i].end(), batch.samples.begin() + batch.blocks[i].offset,
                    batch.samples.begin() + batch.blocks[i].offset + batch.blocks[i].length_samples);
  }
  return out;
}

struct EngineCase {
  std::shared_ptr<const PartitionedFir> a = host::dsp::partition_fir(random_fir(2047, 1, false));
  std::shared_ptr<const PartitionedFir> b = host::dsp::partition_fir(random_fir(40001, 2, true));
  std::vector<const PartitionedFir*> firs = {a.get(), b.get(), a.get(), b.get()};
  std::vector<std::vector<float>> streams = {random_signal(70000, 1), random_signal(100000, 2), random_signal(5, 3),
                                             random_signal(65536 * 2, 4)};
};

TEST(Convolution, CpuEngineMatchesTheSingleStreamBitForBit) {
  const EngineCase ec;
  const auto& firs = ec.firs;
  const auto& streams = ec.streams;
  auto cpu = host::make_cpu_engine();
  const auto got = run_engine(*cpu, firs, streams, 65536);
  for (std::size_t i = 0; i < streams.size(); ++i) {
    const auto want = run_stream(*firs[i], streams[i], 65536);
    EXPECT_TRUE(got[i] == want) << "stream " << i;
  }
  // More threads than cores and many more blocks than threads: nested parallel loops steal each other's tasks; no block may
  // see another's work space (a bug found this way once: per-thread scratch shared by two blocks).
  std::vector<const PartitionedFir*> many_firs;
  std::vector<std::vector<float>> many_streams;
  for (int i = 0; i < 48; ++i) {
    many_firs.push_back(firs[static_cast<std::size_t>(i) % firs.size()]);
    many_streams.push_back(random_signal(40000 + 1000 * i, 100 + static_cast<std::uint64_t>(i)));
  }
  tbb::global_control allow(tbb::global_control::max_allowed_parallelism, 17);  // beyond this machine's cores
  tbb::task_arena wide(16);
  std::vector<std::vector<float>> wide_got;
  wide.execute([&] { wide_got = run_engine(*cpu, many_firs, many_streams, 65536); });
  for (std::size_t i = 0; i < many_streams.size(); ++i)
    EXPECT_TRUE(wide_got[i] == run_stream(*many_firs[i], many_streams[i], 65536)) << "stream " << i << ", 16 threads";
}

TEST(Convolution, CudaEngineMatchesTheCpuEngineBitForBit) {
  if (!host::gpu_unavailable_reason().empty()) GTEST_SKIP() << "no GPU: " << host::gpu_unavailable_reason();
  const EngineCase ec;
  const auto& firs = ec.firs;
  const auto& streams = ec.streams;
  auto cpu = host::make_cpu_engine();
  const auto got = run_engine(*cpu, firs, streams, 65536);
  auto gpu = host::make_cuda_engine();
  const auto dev = run_engine(*gpu, firs, streams, 65536);
  for (std::size_t i = 0; i < streams.size(); ++i) EXPECT_TRUE(dev[i] == got[i]) << "stream " << i << " on the GPU";
}

}  // namespace
}  // namespace lathe::test
