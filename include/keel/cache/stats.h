// keel/cache/stats.h
//
// Value types shared by keel's caches: why an entry left (`RemovalCause`),
// the counters of a cache (`CacheStats`), and the eviction policy selector.
//
//   keel::cache::CacheStats stats = cache->Stats();
//   double ratio = stats.HitRatio();   // hits / (hits + misses)
//
// Thread safety: plain value types.

#ifndef KEEL_CACHE_STATS_H_
#define KEEL_CACHE_STATS_H_

#include <chrono>
#include <cstdint>
#include <string_view>

namespace keel::cache {

// Why an entry left the cache; passed to the removal listener and used as the
// `cause` label of `keel_cache_removals_total`.
enum class RemovalCause : std::uint8_t {
  kExplicit,  // Invalidate() / InvalidateAll()
  kReplaced,  // a Put() or load overwrote the value
  kSize,      // evicted by the size/weight bound
  kExpired,   // its time-to-live (plus any stale window) ran out
};

// "explicit", "replaced", "size" or "expired".
std::string_view RemovalCauseName(RemovalCause cause);

// Which entries leave first when the cache is full.
enum class EvictionPolicy : std::uint8_t {
  // Adaptive W-TinyLFU (admission window + segmented LRU + frequency sketch +
  // hill climber). The default: near-optimal hit ratios on both recency- and
  // frequency-skewed workloads.
  kWTinyLfu,
  // Least recently used: for comparison and for workloads known to be purely
  // recency-driven.
  kLru,
};

// A snapshot of a cache's counters since creation. Counters are read without
// stopping the cache, so a snapshot taken during traffic is not atomic across
// fields.
struct CacheStats {
  // Lookups that returned a value (including stale values served within a
  // stale-while-revalidate window, and cached "not found" results).
  std::uint64_t hits = 0;
  // Lookups that found nothing usable.
  std::uint64_t misses = 0;
  // Loader calls that returned a value (or a cacheable "not found").
  std::uint64_t load_successes = 0;
  // Loader calls that returned any other error.
  std::uint64_t load_failures = 0;
  // Wall time spent in loaders, measured with the cache's clock.
  std::chrono::nanoseconds total_load_time{0};
  // Removals by cause.
  std::uint64_t evictions_size = 0;
  std::uint64_t evictions_expired = 0;
  std::uint64_t removals_explicit = 0;
  std::uint64_t replacements = 0;
  // Current number of entries (values and cached "not found" markers).
  std::uint64_t entries = 0;
  // Current total weight (equals `entries` without a weigher).
  std::uint64_t weight = 0;

  // hits / (hits + misses), or 0 before the first lookup.
  double HitRatio() const {
    const std::uint64_t requests = hits + misses;
    return requests == 0
               ? 0.0
               : static_cast<double>(hits) / static_cast<double>(requests);
  }
};

}  // namespace keel::cache

#endif  // KEEL_CACHE_STATS_H_
