// CUDA engine of the deterministic FFT. The arithmetic of every butterfly, twiddle and real pre/post step is
// kernels/fft.hpp, on the host plan's twiddle bytes; only the mapping onto threads differs from the CPU loops.
//
// Mapping. A complex transform of 2^L points is a Stockham FFT of passes p = 0..P-1 (kernels/fft.hpp). Its
// passes are grouped into phases (kernels/fft.hpp: fft_phase; one phase up to 2^12 points, else phases of at
// most 2^10 points), each phase one kernel launch working in shared memory:
//  - the first phase of Pb bits computes, for each column G in [0, n/2^Pb), the 2^Pb-point sub-transform of
//    x[G + l * n/2^Pb] (the first passes of a Stockham FFT act on such strided subsequences independently);
//  - a later phase with Q0 = 2^(bits of the earlier phases) and Pb bits works, for each residue q in [0, Q0) and
//    each sub-block G', on the points q + Q0 * (G' + l * n/(Q0 2^Pb)), with twiddle index k = q + Q0 * k_local;
//  - each butterfly sees the same inputs and the same twiddle entry as in the CPU's whole-array pass.
// For L <= 12 the whole transform is one phase and a block holds 2^12 / 2^L transforms. A block always holds
// a tile of 2^12 complex values (C columns of 2^Pb points) and 256 threads; each pass loads its butterflies'
// inputs into registers, synchronises, computes and stores in place.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cuda/fft.hpp"
#include "kernels/fft.hpp"

namespace lathe::kernels::cuda {

struct DeviceFft::State {
  Complex* tw = nullptr;        // n-point complex plan
  Complex* half_tw = nullptr;   // n/2-point complex plan (real transforms)
  Complex* rtw = nullptr;       // W^k, k < n/2
  Complex* scratch = nullptr;   // two buffers of scratch_each complex values
  std::size_t scratch_each = 0;
};

namespace {

constexpr int kTileLog2 = kFftTileLog2;
constexpr int kTile = 1 << kTileLog2;
constexpr int kThreads = 256;
// Scratch per buffer is bounded by chunking the batch: at most this many complex values (32 MiB).
constexpr std::size_t kScratchCap = std::size_t{1} << 22;

enum LoadMode : int { kLoadComplex = 0, kLoadRealPre = 1 };
enum StoreMode : int { kStoreComplex = 0, kStoreRealPost = 1 };

// Read-only cached load of a table entry (Complex is 8-byte aligned, like float2).
__device__ __forceinline__ Complex ldg(const Complex* p) {
  const float2 v = __ldg(reinterpret_cast<const float2*>(p));
  return Complex{v.x, v.y};
}

struct TileArgs {
  const Complex* src;
  Complex* dst;
  const Complex* tw;   // twiddles of the complex plan of 2^log2n points
  const Complex* rtw;  // real twiddles (kLoadRealPre / kStoreRealPost)
  long long src_stride;  // per transform, in Complex
  long long dst_stride;
  long long count;       // transforms
  FftPhase ph;           // the phase (kernels/fft.hpp); ph.log2n is the complex transform size
  float sign_in;         // multiplies the imaginary part on load (-1: conjugate)
  float sign_out;        // multiplies the imaginary part on store
};

template <int R, int LOG2P>
__device__ __forceinline__ void tile_pass(Complex* s, const TileArgs& a, int gpass, long long col0) {
  constexpr int P = 1 << LOG2P;
  constexpr int LOG2C = kTileLog2 - LOG2P;
  constexpr int SP = P >= 32 ? P + 1 : P;
  constexpr int PR = P / R;  // butterflies per column
  constexpr int K = kTile / (R * kThreads);
  static_assert(K >= 1 && PR >= 1, "tile too small for this radix");
  (void)LOG2C;
  const FftPass ps = fft_pass(a.ph.log2n, gpass);
  const long long ns = ps.span >> a.ph.log2q0;  // local span
  const bool twiddle = ps.span > 1;
  const long long cpt_mask = (1LL << (a.ph.log2n - LOG2P)) - 1;

  Complex v[K][R];
#pragma unroll
  for (int kk = 0; kk < K; ++kk) {
    const int bi = static_cast<int>(threadIdx.x) + kk * kThreads;
    const int c = bi / PR;
    const int j = bi % PR;
#pragma unroll
    for (int r = 0; r < R; ++r) v[kk][r] = s[c * SP + j + r * PR];
  }
  __syncthreads();
#pragma unroll
  for (int kk = 0; kk < K; ++kk) {
    const int bi = static_cast<int>(threadIdx.x) + kk * kThreads;
    const int c = bi / PR;
    const int j = bi % PR;
    Complex w[R - 1];
#pragma unroll
    for (int r = 0; r < R - 1; ++r) w[r] = Complex{1.0f, 0.0f};
    if (twiddle) {
      const long long t1 = fft_phase_twiddle(a.ph, ps, (col0 + c) & cpt_mask, j);
#pragma unroll
      for (int r = 1; r < R; ++r) w[r - 1] = ldg(&a.tw[t1 + (r - 1) * ps.span]);
    }
    if constexpr (R == 2)
      fft_butterfly2(v[kk], w, twiddle);
    else
      fft_butterfly4(v[kk], w, twiddle);
#pragma unroll
    for (int r = 0; r < R; ++r) s[c * SP + static_cast<int>(fft_dst_index(j, ns, R, r))] = v[kk][r];
  }
  __syncthreads();
}

template <int LOG2P, int LOAD, int STORE>
__global__ void __launch_bounds__(kThreads) fft_tile(TileArgs a) {
  constexpr int P = 1 << LOG2P;
  constexpr int LOG2C = kTileLog2 - LOG2P;
  constexpr int C = 1 << LOG2C;
  constexpr int SP = P >= 32 ? P + 1 : P;
  __shared__ Complex s[C * SP];

  const int tid = static_cast<int>(threadIdx.x);
  const long long col0 = static_cast<long long>(blockIdx.x) << LOG2C;
  const int log2cpt = a.ph.log2n - LOG2P;  // columns per transform
  const long long cpt_mask = (1LL << log2cpt) - 1;
  const long long total_cols = a.count << log2cpt;

  // Load: columns adjacent in memory when a transform has at least C of them, else points of a column.
  const bool cfast_load = log2cpt >= LOG2C;
  for (int e = tid; e < kTile; e += kThreads) {
    const int c = cfast_load ? (e & (C - 1)) : (e >> LOG2P);
    const int l = cfast_load ? (e >> LOG2C) : (e & (P - 1));
    const long long gc = col0 + c;
    Complex v{0.0f, 0.0f};
    if (gc < total_cols) {
      const long long b = gc >> log2cpt;
      const long long cc = gc & cpt_mask;
      if constexpr (LOAD == kLoadRealPre) {  // single phase: column = transform, P = h points, l = k
        const Complex* x = a.src + b * a.src_stride;
        const Complex z = rfft_pre(x[l], x[P - l], ldg(&a.rtw[l]));
        v = Complex{z.re, -z.im};
      } else {
        const Complex x = a.src[b * a.src_stride + fft_phase_src(a.ph, cc, l)];
        v = Complex{x.re, x.im * a.sign_in};
      }
    }
    s[c * SP + l] = v;
  }
  __syncthreads();

  constexpr int kPasses = (LOG2P & 1) + LOG2P / 2;
  if constexpr (kPasses > 0) {
    int lp = 0;
    if constexpr ((LOG2P & 1) != 0) {
      tile_pass<2, LOG2P>(s, a, a.ph.first_pass, col0);
      lp = 1;
    }
    if constexpr (LOG2P >= 2) {
      for (; lp < kPasses; ++lp) tile_pass<4, LOG2P>(s, a, a.ph.first_pass + lp, col0);
    }
  }

  if constexpr (STORE == kStoreRealPost) {  // single phase: column = transform, P = h
    for (int e = tid; e < kTile; e += kThreads) {
      const int c = e >> LOG2P;
      const int l = e & (P - 1);
      const long long gc = col0 + c;
      if (gc >= total_cols) continue;
      Complex* x = a.dst + gc * a.dst_stride;
      if (l == 0) {
        Complex x0, xh;
        rfft_post_edges(s[c * SP], x0, xh);
        x[0] = x0;
        x[P] = xh;
      } else {
        x[l] = rfft_post(s[c * SP + l], s[c * SP + P - l], ldg(&a.rtw[l]));
      }
    }
  } else {
    const bool cfast_store = a.ph.log2q0 >= LOG2C;
    for (int e = tid; e < kTile; e += kThreads) {
      const int c = cfast_store ? (e & (C - 1)) : (e >> LOG2P);
      const int l = cfast_store ? (e >> LOG2C) : (e & (P - 1));
      const long long gc = col0 + c;
      if (gc >= total_cols) continue;
      const long long b = gc >> log2cpt;
      const long long cc = gc & cpt_mask;
      const Complex v = s[c * SP + l];
      a.dst[b * a.dst_stride + fft_phase_dst(a.ph, cc, l)] = Complex{v.re, v.im * a.sign_out};
    }
  }
}

// Real forward post-processing in place on Z (h points, stride per transform): thread (b, k) for 0 <= k <= h/2
// writes X[k] and X[h-k] (k = 0: X[0] and X[h]).
__global__ void rfft_post_kernel(Complex* data, long long stride, long long count, long long h,
                                 const Complex* rtw) {
  const long long per = h / 2 + 1;
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count * per) return;
  const long long b = i / per;
  const long long k = i - b * per;
  Complex* x = data + b * stride;
  if (k == 0) {
    Complex x0, xh;
    rfft_post_edges(x[0], x0, xh);
    x[0] = x0;
    x[h] = xh;
  } else if (2 * k == h) {
    x[k] = rfft_post(x[k], x[k], ldg(&rtw[k]));
  } else {
    const Complex zk = x[k];
    const Complex zm = x[h - k];
    x[k] = rfft_post(zk, zm, ldg(&rtw[k]));
    x[h - k] = rfft_post(zm, zk, ldg(&rtw[h - k]));
  }
}

// Real inverse pre-processing: bins (h+1 per transform) -> conj(Z') (h per transform, contiguous).
__global__ void rfft_pre_kernel(const Complex* in, long long in_stride, Complex* out, long long count, long long h,
                                const Complex* rtw) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count * h) return;
  const long long b = i / h;
  const long long k = i - b * h;
  const Complex* x = in + b * in_stride;
  const Complex z = rfft_pre(x[k], x[h - k], ldg(&rtw[k]));
  out[b * h + k] = Complex{z.re, -z.im};
}

template <int LOG2P>
int launch_tile_p(int load, int store, const TileArgs& a, cudaStream_t st) {
  const long long cols = a.count << (a.ph.log2n - LOG2P);
  const long long per_block = 1LL << (kTileLog2 - LOG2P);
  const auto blocks = static_cast<unsigned>((cols + per_block - 1) / per_block);
  if (load == kLoadRealPre)
    fft_tile<LOG2P, kLoadRealPre, kStoreComplex><<<blocks, kThreads, 0, st>>>(a);
  else if (store == kStoreRealPost)
    fft_tile<LOG2P, kLoadComplex, kStoreRealPost><<<blocks, kThreads, 0, st>>>(a);
  else
    fft_tile<LOG2P, kLoadComplex, kStoreComplex><<<blocks, kThreads, 0, st>>>(a);
  return static_cast<int>(cudaGetLastError());
}

int launch_tile(int log2p, int load, int store, const TileArgs& a, cudaStream_t st) {
  switch (log2p) {
    case 0: return launch_tile_p<0>(load, store, a, st);
    case 1: return launch_tile_p<1>(load, store, a, st);
    case 2: return launch_tile_p<2>(load, store, a, st);
    case 3: return launch_tile_p<3>(load, store, a, st);
    case 4: return launch_tile_p<4>(load, store, a, st);
    case 5: return launch_tile_p<5>(load, store, a, st);
    case 6: return launch_tile_p<6>(load, store, a, st);
    case 7: return launch_tile_p<7>(load, store, a, st);
    case 8: return launch_tile_p<8>(load, store, a, st);
    case 9: return launch_tile_p<9>(load, store, a, st);
    case 10: return launch_tile_p<10>(load, store, a, st);
    case 11: return launch_tile_p<11>(load, store, a, st);
    case 12: return launch_tile_p<12>(load, store, a, st);
    default: return static_cast<int>(cudaErrorInvalidValue);
  }
}

int ensure_scratch(DeviceFft::State& st, std::size_t each, cudaStream_t stream) {
  if (st.scratch_each >= each) return 0;
  if (st.scratch != nullptr) {
    if (const cudaError_t e = cudaStreamSynchronize(stream); e != cudaSuccess) return static_cast<int>(e);
    cudaFree(st.scratch);
    st.scratch = nullptr;
    st.scratch_each = 0;
  }
  if (const cudaError_t e = cudaMalloc(reinterpret_cast<void**>(&st.scratch), 2 * each * sizeof(Complex));
      e != cudaSuccess) {
    st.scratch = nullptr;
    return static_cast<int>(e);
  }
  st.scratch_each = each;
  return 0;
}

// The phases of `count` complex transforms of 2^L points from src to dst (dst may equal src), through the two
// scratch buffers (a, b: `count` transforms of 2^L points each, contiguous).
int run_phases(int L, const Complex* tw, const Complex* src, long long src_stride, Complex* dst,
               long long dst_stride, long long count, float sign_in, float sign_out, Complex* sa, Complex* sb,
               cudaStream_t stream) {
  const int phases = fft_phase_count(L);
  const long long n = 1LL << L;
  const Complex* cur = src;
  long long cur_stride = src_stride;
  for (int i = 0; i < phases; ++i) {
    const bool last = i + 1 == phases;
    const FftPhase ph = fft_phase(L, i);
    Complex* out = last ? dst : (cur == sa ? sb : sa);
    const long long out_stride = last ? dst_stride : n;
    TileArgs a{};
    a.src = cur;
    a.dst = out;
    a.tw = tw;
    a.rtw = nullptr;
    a.src_stride = cur_stride;
    a.dst_stride = out_stride;
    a.count = count;
    a.ph = ph;
    a.sign_in = i == 0 ? sign_in : 1.0f;
    a.sign_out = last ? sign_out : 1.0f;
    if (const int e = launch_tile(ph.log2p, kLoadComplex, kStoreComplex, a, stream); e != 0) return e;
    cur = out;
    cur_stride = out_stride;
  }
  return 0;
}

std::size_t chunk_for(int L, std::size_t count) {
  const std::size_t n = std::size_t{1} << L;
  return std::min(count, std::max<std::size_t>(1, kScratchCap / n));
}

bool real_ok(const float* p, std::size_t stride, std::size_t count) {
  return (reinterpret_cast<std::uintptr_t>(p) % 8) == 0 && (count <= 1 || stride % 2 == 0);
}

}  // namespace

DeviceFft::~DeviceFft() {
  if (state_) {
    cudaFree(state_->tw);
    cudaFree(state_->half_tw);
    cudaFree(state_->rtw);
    cudaFree(state_->scratch);
  }
}

std::unique_ptr<DeviceFft> make_device_fft(const FftTables& t) {
  if (t.log2n < 1 || t.log2n > kFftMaxLog2)
    throw std::runtime_error("lathe FFT: device plan size out of range: 2^" + std::to_string(t.log2n));
  std::unique_ptr<DeviceFft> fft(new DeviceFft());
  fft->log2n_ = t.log2n;
  fft->state_ = std::make_unique<DeviceFft::State>();
  DeviceFft::State& st = *fft->state_;
  const auto copy = [](Complex** dst, const Complex* src, long long count) {
    const std::size_t bytes = static_cast<std::size_t>(std::max(count, 1LL)) * sizeof(Complex);
    cudaError_t e = cudaMalloc(reinterpret_cast<void**>(dst), bytes);
    if (e == cudaSuccess && count > 0)
      e = cudaMemcpy(*dst, src, static_cast<std::size_t>(count) * sizeof(Complex), cudaMemcpyHostToDevice);
    if (e != cudaSuccess)
      throw std::runtime_error(std::string("lathe FFT: copying twiddles to the GPU: ") + cudaGetErrorString(e));
  };
  copy(&st.tw, t.twiddles, fft_twiddle_count(t.log2n));
  copy(&st.half_tw, t.half_twiddles, fft_twiddle_count(t.log2n - 1));
  copy(&st.rtw, t.real_twiddles, 1LL << (t.log2n - 1));
  return fft;
}

int fft_complex(DeviceFft& fft, Complex* d_data, std::size_t stride, std::size_t count, bool inverse, void* stream) {
  if (count == 0) return 0;
  const auto st = static_cast<cudaStream_t>(stream);
  DeviceFft::State& s = fft.state();
  const int L = fft.log2n();
  const float sign = inverse ? -1.0f : 1.0f;
  if (L <= kTileLog2) {
    TileArgs a{d_data, d_data, s.tw, nullptr, static_cast<long long>(stride), static_cast<long long>(stride),
               static_cast<long long>(count), fft_phase(L, 0), sign, sign};
    return launch_tile(L, kLoadComplex, kStoreComplex, a, st);
  }
  const std::size_t chunk = chunk_for(L, count);
  const std::size_t n = std::size_t{1} << L;
  if (const int e = ensure_scratch(s, chunk * n, st); e != 0) return e;
  for (std::size_t b0 = 0; b0 < count; b0 += chunk) {
    const std::size_t c = std::min(chunk, count - b0);
    Complex* p = d_data + b0 * stride;
    if (const int e = run_phases(L, s.tw, p, static_cast<long long>(stride), p, static_cast<long long>(stride),
                                 static_cast<long long>(c), sign, sign, s.scratch, s.scratch + s.scratch_each, st);
        e != 0)
      return e;
  }
  return 0;
}

int rfft_forward(DeviceFft& fft, const float* d_in, std::size_t in_stride, Complex* d_out, std::size_t out_stride,
                 std::size_t count, void* stream) {
  if (count == 0) return 0;
  if (!real_ok(d_in, in_stride, count)) return static_cast<int>(cudaErrorInvalidValue);
  const auto st = static_cast<cudaStream_t>(stream);
  DeviceFft::State& s = fft.state();
  const int L = fft.log2n() - 1;  // complex size
  const long long h = 1LL << L;
  const auto* src = reinterpret_cast<const Complex*>(d_in);
  const auto src_stride = static_cast<long long>(in_stride / 2);
  if (L <= kTileLog2) {
    TileArgs a{src, d_out, s.half_tw, s.rtw, src_stride, static_cast<long long>(out_stride),
               static_cast<long long>(count), fft_phase(L, 0), 1.0f, 1.0f};
    return launch_tile(L, kLoadComplex, kStoreRealPost, a, st);
  }
  const std::size_t chunk = chunk_for(L, count);
  if (const int e = ensure_scratch(s, chunk * static_cast<std::size_t>(h), st); e != 0) return e;
  for (std::size_t b0 = 0; b0 < count; b0 += chunk) {
    const std::size_t c = std::min(chunk, count - b0);
    Complex* out = d_out + b0 * out_stride;
    if (const int e = run_phases(L, s.half_tw, src + static_cast<long long>(b0) * src_stride, src_stride, out,
                                 static_cast<long long>(out_stride), static_cast<long long>(c), 1.0f, 1.0f,
                                 s.scratch, s.scratch + s.scratch_each, st);
        e != 0)
      return e;
    const long long threads = static_cast<long long>(c) * (h / 2 + 1);
    rfft_post_kernel<<<static_cast<unsigned>((threads + 255) / 256), 256, 0, st>>>(
        out, static_cast<long long>(out_stride), static_cast<long long>(c), h, s.rtw);
    if (const cudaError_t e = cudaGetLastError(); e != cudaSuccess) return static_cast<int>(e);
  }
  return 0;
}

int rfft_inverse(DeviceFft& fft, const Complex* d_in, std::size_t in_stride, float* d_out, std::size_t out_stride,
                 std::size_t count, void* stream) {
  if (count == 0) return 0;
  if (!real_ok(d_out, out_stride, count)) return static_cast<int>(cudaErrorInvalidValue);
  const auto st = static_cast<cudaStream_t>(stream);
  DeviceFft::State& s = fft.state();
  const int L = fft.log2n() - 1;
  const long long h = 1LL << L;
  auto* dst = reinterpret_cast<Complex*>(d_out);
  const auto dst_stride = static_cast<long long>(out_stride / 2);
  if (L <= kTileLog2) {
    TileArgs a{d_in, dst, s.half_tw, s.rtw, static_cast<long long>(in_stride), dst_stride,
               static_cast<long long>(count), fft_phase(L, 0), 1.0f, -1.0f};
    return launch_tile(L, kLoadRealPre, kStoreComplex, a, st);
  }
  const std::size_t chunk = chunk_for(L, count);
  if (const int e = ensure_scratch(s, chunk * static_cast<std::size_t>(h), st); e != 0) return e;
  for (std::size_t b0 = 0; b0 < count; b0 += chunk) {
    const std::size_t c = std::min(chunk, count - b0);
    const long long threads = static_cast<long long>(c) * h;
    rfft_pre_kernel<<<static_cast<unsigned>((threads + 255) / 256), 256, 0, st>>>(
        d_in + b0 * in_stride, static_cast<long long>(in_stride), s.scratch, static_cast<long long>(c), h, s.rtw);
    if (const cudaError_t e = cudaGetLastError(); e != cudaSuccess) return static_cast<int>(e);
    if (const int e = run_phases(L, s.half_tw, s.scratch, h, dst + static_cast<long long>(b0) * dst_stride,
                                 dst_stride, static_cast<long long>(c), 1.0f, -1.0f, s.scratch,
                                 s.scratch + s.scratch_each, st);
        e != 0)
      return e;
  }
  return 0;
}

}  // namespace lathe::kernels::cuda
