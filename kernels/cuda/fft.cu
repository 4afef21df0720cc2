// CUDA engine of the deterministic FFT. The arithmetic of every butterfly, twiddle and real pre/post step is
// kernels/fft.hpp, on the host plan's twiddle bytes; only the mapping onto threads differs from the CPU loops.
//
// Mapping. A complex transform of 2^L points is a Stockham FFT of passes p = 0..P-1 (kernels/fft.hpp). Its
// passes are grouped into phases (kernels/fft.hpp: fft_phase; one phase up to 2^14 points where the device's
// opt-in shared memory holds a 2^14-point tile, else up to 2^13 or 2^12; larger transforms in phases of at most
// 2^10 points), each phase one kernel launch working in (dynamic) shared memory:
//  - the first phase of Pb bits computes, for each column G in [0, n/2^Pb), the 2^Pb-point sub-transform of
//    x[G + l * n/2^Pb] (the first passes of a Stockham FFT act on such strided subsequences independently);
//  - a later phase with Q0 = 2^(bits of the earlier phases) and Pb bits works, for each residue q in [0, Q0) and
//    each sub-block G', on the points q + Q0 * (G' + l * n/(Q0 2^Pb)), with twiddle index k = q + Q0 * k_local;
//  - each butterfly sees the same inputs and the same twiddle entry as in the CPU's whole-array pass.
// A block holds a tile of 2^TL complex values (TL = 12, 13 or 14: C columns of 2^Pb points) and 2^TL/16
// threads. Within the tile, passes run two at a time in registers (kernels/fft.hpp: steps): each thread loads
// 16 values of its group(s), synchronises, runs both passes and stores in place. Shared memory rows are padded
// (one slot per 16 values, odd column pitch) so that strided step stores do not conflict on banks.
// Real transforms: the pre-processing (inverse) is fused into the first phase's loads and the post-processing
// (forward) into the last phase's stores; with several phases, a block holds mirror-paired columns
// (kernels/fft.hpp: fft_mirror_slot_column) so that Z[k] and Z[h-k] are in the same tile.
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
  int single_max_log2 = kFftTileLog2;  // largest one-phase transform the device's shared memory allows
  int multi_tile_log2 = kFftTileLog2;  // tile of the phases of larger transforms
};

namespace {

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
  int mirror;            // 1: blocks hold mirror-paired columns (real pre/post with several phases)
};

// Geometry of a tile of 2^TL complex values in columns of 2^LOG2P points.
template <int LOG2P, int TL>
struct Geo {
  static constexpr int P = 1 << LOG2P;
  static constexpr int LOG2C = TL - LOG2P;
  static constexpr int C = 1 << LOG2C;
  // Column pitch: P values plus one pad slot per 16 (spad), made odd from 32 points up.
  static constexpr int SP = P < 16 ? P : P + P / 16 + (P >= 32 ? 1 : 0);
  static constexpr int T = 1 << (TL - 4);  // threads
  static constexpr std::size_t kBytes = static_cast<std::size_t>(C) * SP * sizeof(Complex);
};

// The instantiated (LOG2P, TL) pairs: single phases of 2^0..2^12 in 2^12 tiles, 2^13 and 2^14 in their own
// tiles, phases of multi-phase transforms (<= 2^10 points) in 2^12 or 2^13 tiles.
constexpr bool valid_geo(int log2p, int tl) {
  return tl == 12 ? log2p <= 12 : (tl == 13 ? (log2p <= kFftMaxPhaseLog2 || log2p == 13) : log2p == 14);
}

__device__ __forceinline__ int spad(int i) { return i + (i >> 4); }

// The transform and column (within the transform) of tile slot c.
struct Slot {
  long long b;
  long long cc;
  bool valid;
};
template <int LOG2C>
__device__ __forceinline__ Slot slot_of(const TileArgs& a, int log2cpt, int c) {
  Slot out;
  if (a.mirror != 0) {  // grid = count * cols / C exactly, cols >= 2C
    const int log2bpt = log2cpt - LOG2C;
    const long long blk = static_cast<long long>(blockIdx.x);
    out.b = blk >> log2bpt;
    out.cc = fft_mirror_slot_column(1LL << log2cpt, 1 << LOG2C, blk & ((1LL << log2bpt) - 1), c);
    out.valid = true;
  } else {
    const long long gc = (static_cast<long long>(blockIdx.x) << LOG2C) + c;
    out.b = gc >> log2cpt;
    out.cc = gc & ((1LL << log2cpt) - 1);
    out.valid = out.b < a.count;
  }
  return out;
}

template <int R>
__device__ __forceinline__ void butterfly(Complex* v, const Complex* tw, long long t1, long long span, bool twiddle) {
  Complex w[R - 1];
#pragma unroll
  for (int r = 0; r < R - 1; ++r) w[r] = Complex{1.0f, 0.0f};
  if (twiddle) {
#pragma unroll
    for (int r = 1; r < R; ++r) w[r - 1] = ldg(&tw[t1 + (r - 1) * span]);
  }
  if constexpr (R == 2)
    fft_butterfly2(v, w, twiddle);
  else
    fft_butterfly4(v, w, twiddle);
}

// One step (kernels/fft.hpp): local passes p1 and p1+1 (radices R1, R2; R2 = 1: p1 alone) in registers.
template <int R1, int R2, int LOG2P, int TL>
__device__ __forceinline__ void tile_step(Complex* s, const TileArgs& a, int p1) {
  using G = Geo<LOG2P, TL>;
  constexpr int P = G::P;
  constexpr int V = R1 * R2;
  constexpr int GPC = P / V;            // groups per column
  constexpr int K = (1 << TL) / (V * G::T);  // groups per thread
  static_assert(GPC >= 1 && K >= 1, "tile too small for this step");
  const int tid = static_cast<int>(threadIdx.x);
  const FftPass ps1 = fft_pass(a.ph.log2n, p1);
  const long long ns1 = ps1.span >> a.ph.log2q0;
  const bool tw1 = ps1.span > 1;

  Complex v[K][V];
#pragma unroll
  for (int kk = 0; kk < K; ++kk) {
    const int gi = tid + kk * G::T;
    const int c = gi / GPC;
    const int g = gi % GPC;
#pragma unroll
    for (int m = 0; m < R2; ++m) {
#pragma unroll
      for (int r = 0; r < R1; ++r) v[kk][m * R1 + r] = s[c * G::SP + spad(g + m * GPC + r * (P / R1))];
    }
  }
  __syncthreads();
  const int log2cpt = a.ph.log2n - LOG2P;
#pragma unroll
  for (int kk = 0; kk < K; ++kk) {
    const int gi = tid + kk * G::T;
    const int c = gi / GPC;
    const int g = gi % GPC;
    const long long cc = slot_of<G::LOG2C>(a, log2cpt, c).cc;
#pragma unroll
    for (int m = 0; m < R2; ++m) {
      const long long t1 = tw1 ? fft_phase_twiddle(a.ph, ps1, cc, g + m * GPC) : 0;
      butterfly<R1>(&v[kk][m * R1], a.tw, t1, ps1.span, tw1);
    }
    if constexpr (R2 == 1) {
#pragma unroll
      for (int r = 0; r < R1; ++r) s[c * G::SP + spad(static_cast<int>(fft_dst_index(g, ns1, R1, r)))] = v[kk][r];
    } else {
      const FftPass ps2 = fft_pass(a.ph.log2n, p1 + 1);
      const long long ns2 = ps2.span >> a.ph.log2q0;
#pragma unroll
      for (int r = 0; r < R1; ++r) {
        const long long j2 = fft_dst_index(g, ns1, R1, r);
        Complex b[R2];
#pragma unroll
        for (int m = 0; m < R2; ++m) b[m] = v[kk][m * R1 + r];
        butterfly<R2>(b, a.tw, fft_phase_twiddle(a.ph, ps2, cc, j2), ps2.span, true);  // span > 1 here
#pragma unroll
        for (int r2 = 0; r2 < R2; ++r2) s[c * G::SP + spad(static_cast<int>(fft_dst_index(j2, ns2, R2, r2)))] = b[r2];
      }
    }
  }
  __syncthreads();
}

template <int LOG2P, int TL, int S>
__device__ __forceinline__ void tile_steps(Complex* s, const TileArgs& a) {
  constexpr int kPasses = (LOG2P & 1) + LOG2P / 2;
  if constexpr (2 * S < kPasses) {
    constexpr int R1 = (S == 0 && (LOG2P & 1) != 0) ? 2 : 4;
    constexpr int R2 = 2 * S + 1 < kPasses ? 4 : 1;
    tile_step<R1, R2, LOG2P, TL>(s, a, a.ph.first_pass + 2 * S);
    tile_steps<LOG2P, TL, S + 1>(s, a);
  }
}

template <int LOG2P, int TL, int LOAD, int STORE>
__global__ void __launch_bounds__(Geo<LOG2P, TL>::T) fft_tile(TileArgs a) {
  using G = Geo<LOG2P, TL>;
  constexpr int P = G::P;
  constexpr int LOG2C = G::LOG2C;
  constexpr int C = G::C;
  constexpr int SP = G::SP;
  constexpr int kTile = 1 << TL;
  extern __shared__ float2 smem[];
  Complex* s = reinterpret_cast<Complex*>(smem);

  const int tid = static_cast<int>(threadIdx.x);
  const int log2cpt = a.ph.log2n - LOG2P;  // columns per transform
  const long long h = 1LL << a.ph.log2n;

  // Load: columns adjacent in memory when a transform has at least C of them, else points of a column.
  const bool cfast_load = log2cpt >= LOG2C;
  for (int e = tid; e < kTile; e += G::T) {
    const int c = cfast_load ? (e & (C - 1)) : (e >> LOG2P);
    const int l = cfast_load ? (e >> LOG2C) : (e & (P - 1));
    const Slot sl = slot_of<LOG2C>(a, log2cpt, c);
    Complex v{0.0f, 0.0f};
    if (sl.valid) {
      const long long k = fft_phase_src(a.ph, sl.cc, l);
      if constexpr (LOAD == kLoadRealPre) {  // first phase: Z'[k] from X[k] and X[h-k], conjugated
        const Complex* x = a.src + sl.b * a.src_stride;
        const Complex z = rfft_pre(x[k], x[h - k], ldg(&a.rtw[k]));
        v = Complex{z.re, -z.im};
      } else {
        const Complex x = a.src[sl.b * a.src_stride + k];
        v = Complex{x.re, x.im * a.sign_in};
      }
    }
    s[c * SP + spad(l)] = v;
  }
  __syncthreads();

  tile_steps<LOG2P, TL, 0>(s, a);

  const bool cfast_store = a.ph.log2q0 >= LOG2C;
  for (int e = tid; e < kTile; e += G::T) {
    const int c = cfast_store ? (e & (C - 1)) : (e >> LOG2P);
    const int l = cfast_store ? (e >> LOG2C) : (e & (P - 1));
    const Slot sl = slot_of<LOG2C>(a, log2cpt, c);
    if (!sl.valid) continue;
    const long long k = fft_phase_dst(a.ph, sl.cc, l);
    const Complex v = s[c * SP + spad(l)];
    if constexpr (STORE == kStoreRealPost) {  // last phase: X[k] from Z[k] and Z[h-k]
      Complex* x = a.dst + sl.b * a.dst_stride;
      if (k == 0) {
        Complex x0, xh;
        rfft_post_edges(v, x0, xh);
        x[0] = x0;
        x[h] = xh;
      } else {
        const long long cols = 1LL << a.ph.log2q0;  // the last phase: column q holds k = q + cols * l
        const long long q = sl.cc & (cols - 1);
        const int pc = fft_real_partner_column(cols, q) == q ? c : (c < C / 2 ? c + C / 2 : c - C / 2);
        const int pl = static_cast<int>(fft_real_partner_point(P, q, l));
        x[k] = rfft_post(v, s[pc * SP + spad(pl)], ldg(&a.rtw[k]));
      }
    } else {
      a.dst[sl.b * a.dst_stride + k] = Complex{v.re, v.im * a.sign_out};
    }
  }
}

template <int LOG2P, int TL, int LOAD, int STORE>
int launch_kernel(const TileArgs& a, cudaStream_t st) {
  using G = Geo<LOG2P, TL>;
  const long long cols = a.count << (a.ph.log2n - LOG2P);
  const auto blocks = static_cast<unsigned>((cols + G::C - 1) / G::C);
  const auto kernel = fft_tile<LOG2P, TL, LOAD, STORE>;
  if constexpr (G::kBytes > 48 * 1024) {
    if (const cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                   static_cast<int>(G::kBytes));
        e != cudaSuccess)
      return static_cast<int>(e);
  }
  kernel<<<blocks, G::T, G::kBytes, st>>>(a);
  return static_cast<int>(cudaGetLastError());
}

template <int LOG2P, int TL>
int launch_tile_p(int load, int store, const TileArgs& a, cudaStream_t st) {
  if constexpr (!valid_geo(LOG2P, TL)) {
    return static_cast<int>(cudaErrorInvalidValue);
  } else {
    if (load == kLoadRealPre && store == kStoreComplex) return launch_kernel<LOG2P, TL, kLoadRealPre, kStoreComplex>(a, st);
    if (load == kLoadComplex && store == kStoreRealPost)
      return launch_kernel<LOG2P, TL, kLoadComplex, kStoreRealPost>(a, st);
    if (load == kLoadComplex && store == kStoreComplex) return launch_kernel<LOG2P, TL, kLoadComplex, kStoreComplex>(a, st);
    return static_cast<int>(cudaErrorInvalidValue);
  }
}

template <int TL>
int launch_tile_tl(int log2p, int load, int store, const TileArgs& a, cudaStream_t st) {
  switch (log2p) {
    case 0: return launch_tile_p<0, TL>(load, store, a, st);
    case 1: return launch_tile_p<1, TL>(load, store, a, st);
    case 2: return launch_tile_p<2, TL>(load, store, a, st);
    case 3: return launch_tile_p<3, TL>(load, store, a, st);
    case 4: return launch_tile_p<4, TL>(load, store, a, st);
    case 5: return launch_tile_p<5, TL>(load, store, a, st);
    case 6: return launch_tile_p<6, TL>(load, store, a, st);
    case 7: return launch_tile_p<7, TL>(load, store, a, st);
    case 8: return launch_tile_p<8, TL>(load, store, a, st);
    case 9: return launch_tile_p<9, TL>(load, store, a, st);
    case 10: return launch_tile_p<10, TL>(load, store, a, st);
    case 11: return launch_tile_p<11, TL>(load, store, a, st);
    case 12: return launch_tile_p<12, TL>(load, store, a, st);
    case 13: return launch_tile_p<13, TL>(load, store, a, st);
    case 14: return launch_tile_p<14, TL>(load, store, a, st);
    default: return static_cast<int>(cudaErrorInvalidValue);
  }
}

int launch_tile(int tl, int log2p, int load, int store, const TileArgs& a, cudaStream_t st) {
  switch (tl) {
    case 12: return launch_tile_tl<12>(log2p, load, store, a, st);
    case 13: return launch_tile_tl<13>(log2p, load, store, a, st);
    case 14: return launch_tile_tl<14>(log2p, load, store, a, st);
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
// scratch buffers (a, b: `count` transforms of 2^L points each, contiguous). `load` applies to the first
// phase, `store` to the last (real pre/post-processing; rtw the real twiddles).
int run_phases(const DeviceFft::State& s, int L, const Complex* tw, const Complex* src, long long src_stride,
               Complex* dst, long long dst_stride, long long count, float sign_in, float sign_out, int load,
               int store, cudaStream_t stream) {
  const int phases = fft_phase_count(L, s.single_max_log2);
  const long long n = 1LL << L;
  Complex* sa = s.scratch;
  Complex* sb = s.scratch + s.scratch_each;
  const Complex* cur = src;
  long long cur_stride = src_stride;
  for (int i = 0; i < phases; ++i) {
    const bool first = i == 0;
    const bool last = i + 1 == phases;
    const FftPhase ph = fft_phase(L, i, s.single_max_log2);
    Complex* out = last ? dst : (cur == sa ? sb : sa);
    const long long out_stride = last ? dst_stride : n;
    TileArgs a{};
    a.src = cur;
    a.dst = out;
    a.tw = tw;
    a.rtw = s.rtw;
    a.src_stride = cur_stride;
    a.dst_stride = out_stride;
    a.count = count;
    a.ph = ph;
    a.sign_in = first ? sign_in : 1.0f;
    a.sign_out = last ? sign_out : 1.0f;
    const int ld = first ? load : kLoadComplex;
    const int sto = last ? store : kStoreComplex;
    a.mirror = phases > 1 && (ld == kLoadRealPre || sto == kStoreRealPost) ? 1 : 0;
    const int tl = phases == 1 ? std::max(kFftTileLog2, L) : s.multi_tile_log2;
    if (const int e = launch_tile(tl, ph.log2p, ld, sto, a, stream); e != 0) return e;
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

// Complex transforms of 2^L points from src to dst in chunks that fit the scratch (one chunk, no scratch, for
// a single phase).
int run_batched(DeviceFft::State& s, int L, const Complex* tw, const Complex* src, long long src_stride,
                Complex* dst, long long dst_stride, std::size_t count, float sign_in, float sign_out, int load,
                int store, cudaStream_t st) {
  if (fft_phase_count(L, s.single_max_log2) == 1)
    return run_phases(s, L, tw, src, src_stride, dst, dst_stride, static_cast<long long>(count), sign_in,
                      sign_out, load, store, st);
  const std::size_t chunk = chunk_for(L, count);
  const std::size_t n = std::size_t{1} << L;
  if (const int e = ensure_scratch(s, chunk * n, st); e != 0) return e;
  for (std::size_t b0 = 0; b0 < count; b0 += chunk) {
    const std::size_t c = std::min(chunk, count - b0);
    const auto off_in = static_cast<long long>(b0) * src_stride;
    const auto off_out = static_cast<long long>(b0) * dst_stride;
    if (const int e = run_phases(s, L, tw, src + off_in, src_stride, dst + off_out, dst_stride,
                                 static_cast<long long>(c), sign_in, sign_out, load, store, st);
        e != 0)
      return e;
  }
  return 0;
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
  // The tiles this device's opt-in shared memory per block allows (a mapping choice: bits never depend on it).
  int dev = 0, optin = 0;
  if (cudaGetDevice(&dev) != cudaSuccess ||
      cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev) != cudaSuccess)
    optin = 0;
  const auto fits = [&](std::size_t bytes) { return bytes <= static_cast<std::size_t>(optin); };
  st.single_max_log2 = fits(Geo<14, 14>::kBytes) ? 14 : (fits(Geo<13, 13>::kBytes) ? 13 : kFftTileLog2);
  std::size_t multi13 = 0;
  for (std::size_t b : {Geo<1, 13>::kBytes, Geo<2, 13>::kBytes, Geo<3, 13>::kBytes, Geo<4, 13>::kBytes,
                        Geo<5, 13>::kBytes, Geo<6, 13>::kBytes, Geo<7, 13>::kBytes, Geo<8, 13>::kBytes,
                        Geo<9, 13>::kBytes, Geo<10, 13>::kBytes})
    multi13 = std::max(multi13, b);
  st.multi_tile_log2 = fits(multi13) ? 13 : kFftTileLog2;
  return fft;
}

int fft_complex(DeviceFft& fft, Complex* d_data, std::size_t stride, std::size_t count, bool inverse, void* stream) {
  if (count == 0) return 0;
  const float sign = inverse ? -1.0f : 1.0f;
  const auto st_ = static_cast<long long>(stride);
  return run_batched(fft.state(), fft.log2n(), fft.state().tw, d_data, st_, d_data, st_, count, sign, sign,
                     kLoadComplex, kStoreComplex, static_cast<cudaStream_t>(stream));
}

int rfft_forward(DeviceFft& fft, const float* d_in, std::size_t in_stride, Complex* d_out, std::size_t out_stride,
                 std::size_t count, void* stream) {
  if (count == 0) return 0;
  if (!real_ok(d_in, in_stride, count)) return static_cast<int>(cudaErrorInvalidValue);
  return run_batched(fft.state(), fft.log2n() - 1, fft.state().half_tw, reinterpret_cast<const Complex*>(d_in),
                     static_cast<long long>(in_stride / 2), d_out, static_cast<long long>(out_stride), count, 1.0f,
                     1.0f, kLoadComplex, kStoreRealPost, static_cast<cudaStream_t>(stream));
}

int rfft_inverse(DeviceFft& fft, const Complex* d_in, std::size_t in_stride, float* d_out, std::size_t out_stride,
                 std::size_t count, void* stream) {
  if (count == 0) return 0;
  if (!real_ok(d_out, out_stride, count)) return static_cast<int>(cudaErrorInvalidValue);
  return run_batched(fft.state(), fft.log2n() - 1, fft.state().half_tw, d_in, static_cast<long long>(in_stride),
                     reinterpret_cast<Complex*>(d_out), static_cast<long long>(out_stride / 2), count, 1.0f, -1.0f,
                     kLoadRealPre, kStoreComplex, static_cast<cudaStream_t>(stream));
}

}  // namespace lathe::kernels::cuda
