#include "sha256.hpp"

#include <atomic>
#include <cstring>

#include "host/util/cpu_features.hpp"

#if defined(LATHE_HAVE_AVX2_PATHS)
#include <immintrin.h>
#define LATHE_HAVE_SHA_NI 1
#endif

namespace lathe::host {

namespace {

// FIPS 180-4 section 4.2.2: first 32 bits of the fractional parts of the cube roots of the first 64 primes.
constexpr std::array<std::uint32_t, 64> kRoundConstants = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
    0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
    0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
    0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

// FIPS 180-4 section 5.3.3: initial hash value.
constexpr std::array<std::uint32_t, 8> kInitialState = {
    0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au, 0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u,
};

constexpr std::uint32_t rotr32(std::uint32_t x, unsigned n) { return (x >> n) | (x << (32u - n)); }

constexpr std::uint64_t rotl64(std::uint64_t x, unsigned n) { return (x << n) | (x >> (64u - n)); }

std::uint32_t load_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

std::uint64_t load_le64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) {
    v = (v << 8) | p[i];
  }
  return v;
}

// ContentHash64 constants (odd multipliers from splitmix64 / Stafford's mix13, golden-ratio additive).
constexpr std::uint64_t kK1 = 0x9e3779b97f4a7c15ULL;
constexpr std::uint64_t kK2 = 0xbf58476d1ce4e5b9ULL;
constexpr std::uint64_t kK3 = 0x94d049bb133111ebULL;
constexpr std::uint64_t kK4 = 0x2545f4914f6cdd1dULL;

constexpr std::uint64_t absorb_word(std::uint64_t h, std::uint64_t w) {
  w *= kK1;
  w ^= w >> 32;
  w *= kK2;
  return rotl64(h ^ w, 29) * kK3 + kK4;
}

// splitmix64 finaliser.
constexpr std::uint64_t avalanche(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The portable compression function (FIPS 180-4 section 6.2.2) over one 64-byte block.
void compress_portable(std::array<std::uint32_t, 8>& state_, const std::uint8_t* block) {
  std::array<std::uint32_t, 64> w{};
  for (std::size_t t = 0; t < 16; ++t) {
    w[t] = load_be32(block + 4 * t);
  }
  for (std::size_t t = 16; t < 64; ++t) {
    const std::uint32_t s0 = rotr32(w[t - 15], 7) ^ rotr32(w[t - 15], 18) ^ (w[t - 15] >> 3);
    const std::uint32_t s1 = rotr32(w[t - 2], 17) ^ rotr32(w[t - 2], 19) ^ (w[t - 2] >> 10);
    w[t] = w[t - 16] + s0 + w[t - 7] + s1;
  }

  std::uint32_t a = state_[0];
  std::uint32_t b = state_[1];
  std::uint32_t c = state_[2];
  std::uint32_t d = state_[3];
  std::uint32_t e = state_[4];
  std::uint32_t f = state_[5];
  std::uint32_t g = state_[6];
  std::uint32_t h = state_[7];

  for (std::size_t t = 0; t < 64; ++t) {
    const std::uint32_t big_sigma1 = rotr32(e, 6) ^ rotr32(e, 11) ^ rotr32(e, 25);
    const std::uint32_t choose = (e & f) ^ (~e & g);
    const std::uint32_t t1 = h + big_sigma1 + choose + kRoundConstants[t] + w[t];
    const std::uint32_t big_sigma0 = rotr32(a, 2) ^ rotr32(a, 13) ^ rotr32(a, 22);
    const std::uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
    const std::uint32_t t2 = big_sigma0 + majority;
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }

  state_[0] += a;
  state_[1] += b;
  state_[2] += c;
  state_[3] += d;
  state_[4] += e;
  state_[5] += f;
  state_[6] += g;
  state_[7] += h;
}

#if defined(LATHE_HAVE_SHA_NI)
// The same over `count` blocks with the SHA extensions. The state lives in two registers as the instructions
// want it: ABEF (A in the highest lane) and CDGH. Each sha256rnds2 does two rounds from the low two lanes of
// W+K; msg1 / msg2 compute the next four schedule words from the previous sixteen.
__attribute__((target("sha,sse4.1,ssse3"))) void compress_sha_ni(std::array<std::uint32_t, 8>& state,
                                                                  const std::uint8_t* blocks, std::size_t count) {
  __m128i abcd = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state.data()));      // lanes a b c d
  __m128i efgh = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state.data() + 4));  // lanes e f g h
  abcd = _mm_shuffle_epi32(abcd, 0xB1);                 // b a d c
  efgh = _mm_shuffle_epi32(efgh, 0x1B);                 // h g f e
  __m128i abef = _mm_alignr_epi8(abcd, efgh, 8);        // f e b a
  __m128i cdgh = _mm_blend_epi16(efgh, abcd, 0xF0);     // h g d c
  // Big-endian words: reverse the bytes of each 32-bit lane.
  const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
  for (std::size_t b = 0; b < count; ++b, blocks += 64) {
    const __m128i abef_in = abef, cdgh_in = cdgh;
    __m128i w[4];  // w[g % 4] holds schedule words 4g .. 4g + 3
    for (int g = 0; g < 16; ++g) {
      if (g < 4) {
        w[g] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blocks + 16 * g)), swap);
      } else {
        const __m128i partial = _mm_add_epi32(_mm_sha256msg1_epu32(w[g % 4], w[(g + 1) % 4]),
                                              _mm_alignr_epi8(w[(g + 3) % 4], w[(g + 2) % 4], 4));
        w[g % 4] = _mm_sha256msg2_epu32(partial, w[(g + 3) % 4]);
      }
      __m128i wk = _mm_add_epi32(w[g % 4], _mm_loadu_si128(reinterpret_cast<const __m128i*>(&kRoundConstants[4 * g])));
      // Rounds 4g and 4g + 1: the result is the new ABEF, and the old ABEF becomes CDGH, so the two variables
      // trade roles; rounds 4g + 2 and 4g + 3 trade them back.
      cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
      wk = _mm_shuffle_epi32(wk, 0x0E);
      abef = _mm_sha256rnds2_epu32(abef, cdgh, wk);
    }
    abef = _mm_add_epi32(abef, abef_in);
    cdgh = _mm_add_epi32(cdgh, cdgh_in);
  }
  const __m128i abef_r = _mm_shuffle_epi32(abef, 0x1B);  // a b e f
  const __m128i cdgh_r = _mm_shuffle_epi32(cdgh, 0xB1);  // g h c d
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state.data()), _mm_blend_epi16(abef_r, cdgh_r, 0xF0));    // a b c d
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state.data() + 4), _mm_alignr_epi8(cdgh_r, abef_r, 8));  // e f g h
}

#endif

std::atomic<bool> g_allow_extensions{true};

} // namespace

bool sha256_uses_cpu_extensions() {
  return cpu_has_sha() && g_allow_extensions.load(std::memory_order_relaxed);
}

void sha256_allow_cpu_extensions(bool allow) { g_allow_extensions.store(allow, std::memory_order_relaxed); }

// ---------------------------------------------------------------------------------------------------------
// Sha256

Sha256::Sha256() : state_(kInitialState) {}

void Sha256::process_blocks(const std::uint8_t* blocks, std::size_t count) {
#if defined(LATHE_HAVE_SHA_NI)
  if (sha256_uses_cpu_extensions()) {
    compress_sha_ni(state_, blocks, count);
    return;
  }
#endif
  for (std::size_t i = 0; i < count; ++i) compress_portable(state_, blocks + 64 * i);
}

void Sha256::update(const void* data, std::size_t size_bytes) {
  if (size_bytes == 0) {
    return;
  }
  const auto* p = static_cast<const std::uint8_t*>(data);
  total_bytes_ += size_bytes;

  if (buffered_ > 0) {
    const std::size_t take = (64 - buffered_ < size_bytes) ? 64 - buffered_ : size_bytes;
    std::memcpy(buffer_.data() + buffered_, p, take);
    buffered_ += take;
    p += take;
    size_bytes -= take;
    if (buffered_ < 64) {
      return;
    }
    process_blocks(buffer_.data(), 1);
    buffered_ = 0;
  }
  if (size_bytes >= 64) {
    const std::size_t whole = size_bytes / 64;
    process_blocks(p, whole);
    p += 64 * whole;
    size_bytes -= 64 * whole;
  }
  if (size_bytes > 0) {
    std::memcpy(buffer_.data(), p, size_bytes);
    buffered_ = size_bytes;
  }
}

std::array<std::uint8_t, 32> Sha256::finish() {
  const std::uint64_t bit_length = total_bytes_ * 8u;

  // Append 0x80, then zeros until 56 bytes into a block, then the 64-bit big-endian bit length.
  buffer_[buffered_++] = 0x80;
  if (buffered_ > 56) {
    std::memset(buffer_.data() + buffered_, 0, 64 - buffered_);
    process_blocks(buffer_.data(), 1);
    buffered_ = 0;
  }
  std::memset(buffer_.data() + buffered_, 0, 56 - buffered_);
  for (std::size_t i = 0; i < 8; ++i) {
    buffer_[56 + i] = static_cast<std::uint8_t>(bit_length >> (56 - 8 * i));
  }
  process_blocks(buffer_.data(), 1);
  buffered_ = 0;

  std::array<std::uint8_t, 32> digest{};
  for (std::size_t i = 0; i < 8; ++i) {
    digest[4 * i + 0] = static_cast<std::uint8_t>(state_[i] >> 24);
    digest[4 * i + 1] = static_cast<std::uint8_t>(state_[i] >> 16);
    digest[4 * i + 2] = static_cast<std::uint8_t>(state_[i] >> 8);
    digest[4 * i + 3] = static_cast<std::uint8_t>(state_[i]);
  }
  return digest;
}

std::string Sha256::finish_hex() {
  static constexpr char kHexDigits[] = "0123456789abcdef";
  const std::array<std::uint8_t, 32> digest = finish();
  std::string hex;
  hex.reserve(64);
  for (const std::uint8_t byte : digest) {
    hex.push_back(kHexDigits[byte >> 4]);
    hex.push_back(kHexDigits[byte & 0x0f]);
  }
  return hex;
}

std::string sha256_hex(const void* data, std::size_t size_bytes) {
  Sha256 hasher;
  hasher.update(data, size_bytes);
  return hasher.finish_hex();
}

// ---------------------------------------------------------------------------------------------------------
// ContentHash64

void ContentHash64::update(const void* data, std::size_t size_bytes) {
  if (size_bytes == 0) {
    return;
  }
  const auto* p = static_cast<const std::uint8_t*>(data);
  total_bytes_ += size_bytes;

  if (tail_size_ > 0) {
    while (tail_size_ < 8 && size_bytes > 0) {
      tail_[tail_size_++] = *p++;
      --size_bytes;
    }
    if (tail_size_ < 8) {
      return;
    }
    state_ = absorb_word(state_, load_le64(tail_.data()));
    tail_size_ = 0;
  }
  std::uint64_t h = state_;
  while (size_bytes >= 8) {
    h = absorb_word(h, load_le64(p));
    p += 8;
    size_bytes -= 8;
  }
  state_ = h;
  for (std::size_t i = 0; i < size_bytes; ++i) {
    tail_[i] = p[i];
  }
  tail_size_ = size_bytes;
}

std::uint64_t ContentHash64::value() const {
  std::uint64_t h = state_;
  if (tail_size_ > 0) {
    std::array<std::uint8_t, 8> last{};
    for (std::size_t i = 0; i < tail_size_; ++i) {
      last[i] = tail_[i];
    }
    h = absorb_word(h, load_le64(last.data()));
  }
  h ^= total_bytes_ * kK1;
  return avalanche(h);
}

} // namespace lathe::host
