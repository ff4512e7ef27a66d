#include "trace/random_ids.h"

#include <array>
#include <cstdint>
#include <functional>
#include <random>
#include <thread>

#include "keel/base/hash.h"

namespace keel::trace_internal {
namespace {

thread_local std::uint64_t rng_state = 0;
thread_local bool rng_seeded = false;

std::uint64_t Seed() {
  std::random_device device;
  const std::uint64_t entropy =
      (std::uint64_t{device()} << 32) ^ std::uint64_t{device()};
  return entropy ^
         Mix64(std::hash<std::thread::id>()(std::this_thread::get_id()));
}

void StoreBigEndian(std::uint64_t v, std::uint8_t* out) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}

}  // namespace

std::uint64_t NextRandom64() noexcept {
  if (__builtin_expect(!rng_seeded, 0)) {
    rng_state = Seed();
    rng_seeded = true;
  }
  rng_state += 0x9e3779b97f4a7c15ULL;
  return Mix64(rng_state);
}

trace::TraceId NewTraceId() noexcept {
  std::array<std::uint8_t, 16> bytes;
  std::uint64_t hi;
  std::uint64_t lo;
  do {
    hi = NextRandom64();
    lo = NextRandom64();
  } while ((hi | lo) == 0);
  StoreBigEndian(hi, bytes.data());
  StoreBigEndian(lo, bytes.data() + 8);
  return trace::TraceId(bytes);
}

trace::SpanId NewSpanId() noexcept {
  std::array<std::uint8_t, 8> bytes;
  std::uint64_t v;
  do {
    v = NextRandom64();
  } while (v == 0);
  StoreBigEndian(v, bytes.data());
  return trace::SpanId(bytes);
}

}  // namespace keel::trace_internal
