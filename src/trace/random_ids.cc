#include "trace/random_ids.h"

#include <cstdint>
#include <functional>
#include <random>
#include <thread>

#include "keel/base/hash.h"

namespace keel::trace_internal {

std::uint64_t SeedRandomState() noexcept {
  std::random_device device;
  std::uint64_t seed =
      ((std::uint64_t{device()} << 32) ^ std::uint64_t{device()}) ^
      Mix64(std::hash<std::thread::id>()(std::this_thread::get_id()));
  if (seed == 0) seed = 0x9e3779b97f4a7c15ULL;
  random_state = seed;
  return seed;
}

}  // namespace keel::trace_internal
