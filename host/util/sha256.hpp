#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace lathe::host {

// Incremental SHA-256 (FIPS 180-4). Feed bytes with update(), read the digest once with finish().
class Sha256 {
 public:
  Sha256();

  void update(const void* data, std::size_t size_bytes);

  // Pads, processes the final block(s) and returns the 32-byte digest.
  // After finish() the object must not be updated (or finished) again.
  std::array<std::uint8_t, 32> finish();

  // Lowercase hex of finish() (64 characters). Same single-use rule as finish().
  std::string finish_hex();

 private:
  void process_blocks(const std::uint8_t* blocks, std::size_t count);

  std::array<std::uint32_t, 8> state_{};
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;      // bytes currently held in buffer_ (0..63)
  std::uint64_t total_bytes_ = 0; // total message length fed so far
};

// One-shot SHA-256 of a buffer, as lowercase hex.
std::string sha256_hex(const void* data, std::size_t size_bytes);

// Whether Sha256 uses the processor's SHA extensions (x86 SHA-NI, checked once): about four times the speed of
// the portable code, which matters because a catalogue run hashes every input and output (resume records).
// The digest is the same either way; tests turn the extensions off to compare the two.
bool sha256_uses_cpu_extensions();
void sha256_allow_cpu_extensions(bool allow);

// 64-bit hash of a byte stream, incremental, portable (same result on any little- or big-endian host for the
// same byte sequence), deterministic. Not cryptographic.
//
// Construction (see sha256.cpp for the constants):
//   * The stream is cut into 8-byte words, each read as a little-endian uint64 (assembled from bytes, so the
//     host byte order does not matter). Bytes are buffered across update() calls, so the word boundaries
//     depend only on the position in the stream: any split of the input into update() calls gives the same
//     value as a single call.
//   * Each word w is premixed  w *= K1; w ^= w >> 32; w *= K2  and absorbed into the state h as
//     h = rotl(h ^ w, 29) * K3 + K4.  Both steps are bijections, so two streams of equal length that differ
//     in a single word always reach different states.
//   * value(): the 0..7 trailing bytes are zero-padded into one last word and absorbed the same way (only if
//     there are any), then the total length in bytes is xor-ed in (after a multiply, so different lengths of
//     zeros differ), and the result goes through the splitmix64 finaliser for avalanche.
class ContentHash64 {
 public:
  ContentHash64() = default;

  void update(const void* data, std::size_t size_bytes);

  // Hash of everything fed so far. Does not change the object; more update() calls may follow.
  std::uint64_t value() const;

 private:
  std::uint64_t state_ = 0x6a09e667f3bcc908ULL; // arbitrary non-zero seed (frac(sqrt(2)) bits)
  std::uint64_t total_bytes_ = 0;
  std::array<std::uint8_t, 8> tail_{};
  std::size_t tail_size_ = 0; // bytes currently held in tail_ (0..7)
};

} // namespace lathe::host
