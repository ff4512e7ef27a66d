// Per-thread id generation for keel::trace (private). Inline so that span
// start compiles to a few multiplies with no calls.

#ifndef KEEL_SRC_TRACE_RANDOM_IDS_H_
#define KEEL_SRC_TRACE_RANDOM_IDS_H_

#include <array>
#include <cstdint>
#include <cstring>

#include "keel/trace/span_context.h"

namespace keel::trace_internal {

// This thread's generator state; zero means "not seeded yet".
inline thread_local std::uint64_t random_state = 0;

// Seeds this thread's generator from std::random_device and the thread's
// identity; returns the (non-zero) new state. Called once per thread.
std::uint64_t SeedRandomState() noexcept;

// The next 64 random bits of this thread's generator: wyrand (Wang Yi), one
// 64x64->128-bit multiply per output, which passes BigCrush and PractRand. Not
// cryptographic: ids must be unique and uniformly distributed, not secret.
inline std::uint64_t NextRandom64() noexcept {
  __extension__ typedef unsigned __int128 Uint128;
  std::uint64_t state = random_state;
  if (__builtin_expect(state == 0, 0)) state = SeedRandomState();
  state += 0xa0761d6478bd642fULL;
  random_state = state;
  const Uint128 product =
      static_cast<Uint128>(state) * (state ^ 0xe7037ed1a0b428dbULL);
  return static_cast<std::uint64_t>(product >> 64) ^
         static_cast<std::uint64_t>(product);
}

// Writes `v` big-endian into out[0..7]. A byte swap and one store: GCC does
// not always merge the portable byte loop when two ids are built in a row.
inline void StoreBigEndian64(std::uint64_t v, std::uint8_t* out) noexcept {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  v = __builtin_bswap64(v);
  std::memcpy(out, &v, sizeof(v));
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  std::memcpy(out, &v, sizeof(v));
#else
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
#endif
}

// A fresh random, valid (non-zero) trace id. All 16 bytes are random, which
// entitles spans to the W3C Level 2 `random` flag.
inline trace::TraceId NewTraceId() noexcept {
  std::uint64_t hi;
  std::uint64_t lo;
  do {
    hi = NextRandom64();
    lo = NextRandom64();
  } while ((hi | lo) == 0);
  std::array<std::uint8_t, 16> bytes;
#if (defined(__GNUC__) || defined(__clang__)) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  // One 16-byte store: the id is copied right away as one 16-byte load, which
  // cannot be forwarded from two 8-byte stores (that stall was a third of an
  // unsampled span).
  typedef std::uint64_t Words __attribute__((vector_size(16)));
  const Words words = {__builtin_bswap64(hi), __builtin_bswap64(lo)};
  std::memcpy(bytes.data(), &words, sizeof(words));
#else
  StoreBigEndian64(hi, bytes.data());
  StoreBigEndian64(lo, bytes.data() + 8);
#endif
  return trace::TraceId(bytes);
}

// A fresh random, valid (non-zero) span id.
inline trace::SpanId NewSpanId() noexcept {
  std::uint64_t v;
  do {
    v = NextRandom64();
  } while (v == 0);
  std::array<std::uint8_t, 8> bytes;
  StoreBigEndian64(v, bytes.data());
  return trace::SpanId(bytes);
}

}  // namespace keel::trace_internal

#endif  // KEEL_SRC_TRACE_RANDOM_IDS_H_
