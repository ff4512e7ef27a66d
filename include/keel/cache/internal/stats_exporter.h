// keel/cache/internal/stats_exporter.h
//
// Publishes a cache's `CacheStats` as Prometheus metrics through scrape-time
// callbacks, so the cache's hot path records into its own shard-local
// counters and pays nothing for metrics. Families (label `cache`):
//   keel_cache_requests_total{result="hit"|"miss"}
//   keel_cache_loads_total{result="success"|"failure"}
//   keel_cache_load_seconds_total
//   keel_cache_removals_total{cause="explicit"|"replaced"|"size"|"expired"}
//   keel_cache_entries, keel_cache_weight (gauges)
//
// Thread safety: constructed and destroyed by the owning cache; the callbacks
// run on scraping threads and only call `snapshot`, which must be
// thread-safe.

#ifndef KEEL_CACHE_INTERNAL_STATS_EXPORTER_H_
#define KEEL_CACHE_INTERNAL_STATS_EXPORTER_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "keel/cache/stats.h"
#include "keel/metrics/registry.h"

namespace keel::cache_internal {

class StatsExporter {
 public:
  StatsExporter() = default;
  StatsExporter(const StatsExporter&) = delete;
  StatsExporter& operator=(const StatsExporter&) = delete;

  // Registers the series for cache `name` in `registry`. Fails like
  // Registry::AddCounter / AddCallback (e.g. kAlreadyExists when another
  // cache already uses `name`).
  absl::Status Register(metrics::Registry* registry, const std::string& name,
                        std::function<cache::CacheStats()> snapshot);

  // Removes the series; after it returns no callback runs.
  void Reset() { registrations_.clear(); }

 private:
  std::vector<metrics::CallbackRegistration> registrations_;
};

}  // namespace keel::cache_internal

#endif  // KEEL_CACHE_INTERNAL_STATS_EXPORTER_H_
