#include "keel/base/hash.h"

#include <cstring>

namespace keel {
namespace {

inline std::uint32_t Rotl32(std::uint32_t x, int r) {
  return (x << r) | (x >> (32 - r));
}

inline std::uint32_t Load32(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;  // keel supports little-endian targets only (checked below)
}

inline std::uint64_t Load64(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "keel's hashes read words little-endian; big-endian targets are "
              "unsupported");

// GCC and clang provide 128-bit integers on 64-bit targets; __extension__ marks
// the use as deliberate under -Wpedantic.
__extension__ using Uint128 = unsigned __int128;

// 64x64 -> 128 multiply folded to 64 bits: the core mixing step of wyhash.
inline std::uint64_t MulFold(std::uint64_t a, std::uint64_t b) {
  const Uint128 r = static_cast<Uint128>(a) * b;
  return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}

constexpr std::uint64_t kP0 = 0xa0761d6478bd642fULL;
constexpr std::uint64_t kP1 = 0xe7037ed1a0b428dbULL;
constexpr std::uint64_t kP2 = 0x8ebc6af09c88c6e3ULL;
constexpr std::uint64_t kP3 = 0x589965cc75374cc3ULL;

// Reads 1..3 bytes as one word, touching each byte at most once.
inline std::uint64_t LoadSmall(const char* p, std::size_t k) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (static_cast<std::uint64_t>(u[0]) << 16) |
         (static_cast<std::uint64_t>(u[k >> 1]) << 8) | u[k - 1];
}

}  // namespace

std::uint32_t Murmur3X86_32(std::string_view data,
                            std::uint32_t seed) noexcept {
  constexpr std::uint32_t c1 = 0xcc9e2d51;
  constexpr std::uint32_t c2 = 0x1b873593;
  const std::size_t len = data.size();
  const std::size_t nblocks = len / 4;
  const char* p = data.data();
  std::uint32_t h1 = seed;

  for (std::size_t i = 0; i < nblocks; ++i) {
    std::uint32_t k1 = Load32(p + i * 4);
    k1 *= c1;
    k1 = Rotl32(k1, 15);
    k1 *= c2;
    h1 ^= k1;
    h1 = Rotl32(h1, 13);
    h1 = h1 * 5 + 0xe6546b64;
  }

  const auto* tail = reinterpret_cast<const unsigned char*>(p + nblocks * 4);
  std::uint32_t k1 = 0;
  switch (len & 3) {
    case 3:
      k1 ^= static_cast<std::uint32_t>(tail[2]) << 16;
      [[fallthrough]];
    case 2:
      k1 ^= static_cast<std::uint32_t>(tail[1]) << 8;
      [[fallthrough]];
    case 1:
      k1 ^= tail[0];
      k1 *= c1;
      k1 = Rotl32(k1, 15);
      k1 *= c2;
      h1 ^= k1;
  }

  h1 ^= static_cast<std::uint32_t>(len);
  h1 ^= h1 >> 16;
  h1 *= 0x85ebca6b;
  h1 ^= h1 >> 13;
  h1 *= 0xc2b2ae35;
  h1 ^= h1 >> 16;
  return h1;
}

std::uint64_t Hash64(std::string_view data, std::uint64_t seed) noexcept {
  const char* p = data.data();
  std::size_t len = data.size();
  seed ^= MulFold(seed ^ kP0, kP1);
  std::uint64_t a;
  std::uint64_t b;
  if (len <= 16) {
    if (len >= 4) {
      a = (static_cast<std::uint64_t>(Load32(p)) << 32) |
          Load32(p + ((len >> 3) << 2));
      b = (static_cast<std::uint64_t>(Load32(p + len - 4)) << 32) |
          Load32(p + len - 4 - ((len >> 3) << 2));
    } else if (len > 0) {
      a = LoadSmall(p, len);
      b = 0;
    } else {
      a = b = 0;
    }
  } else {
    std::size_t i = len;
    if (i > 48) {
      std::uint64_t see1 = seed;
      std::uint64_t see2 = seed;
      do {
        seed = MulFold(Load64(p) ^ kP1, Load64(p + 8) ^ seed);
        see1 = MulFold(Load64(p + 16) ^ kP2, Load64(p + 24) ^ see1);
        see2 = MulFold(Load64(p + 32) ^ kP3, Load64(p + 40) ^ see2);
        p += 48;
        i -= 48;
      } while (i > 48);
      seed ^= see1 ^ see2;
    }
    while (i > 16) {
      seed = MulFold(Load64(p) ^ kP1, Load64(p + 8) ^ seed);
      i -= 16;
      p += 16;
    }
    a = Load64(p + i - 16);
    b = Load64(p + i - 8);
  }
  a ^= kP1;
  b ^= seed;
  const Uint128 r = static_cast<Uint128>(a) * b;
  a = static_cast<std::uint64_t>(r);
  b = static_cast<std::uint64_t>(r >> 64);
  return MulFold(a ^ kP0 ^ len, b ^ kP1);
}

}  // namespace keel
