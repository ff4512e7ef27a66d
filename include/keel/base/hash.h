// keel/base/hash.h
//
// Two hash functions with different jobs:
//   * Murmur3X86_32  bit-exact MurmurHash3_x86_32 (Austin Appleby's reference).
//                    Its output is part of keel's contract: flag bucketing
//                    (flagd's `fractional`) must agree with every other flagd
//                    implementation, so it never changes.
//   * Hash64         a fast, well-mixed 64-bit hash for sharding and hash
//   tables.
//                    Its values may change between keel releases; never persist
//                    them or send them to another process.
//
// Thread safety: pure functions.

#ifndef KEEL_BASE_HASH_H_
#define KEEL_BASE_HASH_H_

#include <cstdint>
#include <string_view>

namespace keel {

// MurmurHash3_x86_32 of `data` with `seed`. Complexity: O(size), ~1 byte/cycle.
std::uint32_t Murmur3X86_32(std::string_view data,
                            std::uint32_t seed = 0) noexcept;

// 64-bit hash of `data` for sharding (wyhash-style multiply-fold mixing; passes
// avalanche tests; not cryptographic, so per-process `seed`s are the defence
// against hash flooding where keys are attacker-controlled).
std::uint64_t Hash64(std::string_view data, std::uint64_t seed = 0) noexcept;

// Mixes a 64-bit integer key into a well-distributed 64-bit hash (the
// SplitMix64 finaliser). Bijective, so distinct inputs never collide.
constexpr std::uint64_t Mix64(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace keel

#endif  // KEEL_BASE_HASH_H_
