// keel/pool/internal/pool_metrics.h
//
// The metric series of one keel pool, bound once at Pool::Create so that the
// hot path records through pre-bound handles (no look-up, lock or
// allocation). Internal to keel's pool (PoolCore holds one as a member); the
// series and their names are documented in keel/pool/options.h.
//
// Thread safety: the recording methods may be called concurrently; Bind() is
// a factory and the object is moved into place before any recording.

#ifndef KEEL_POOL_INTERNAL_POOL_METRICS_H_
#define KEEL_POOL_INTERNAL_POOL_METRICS_H_

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/metrics/instruments.h"
#include "keel/metrics/registry.h"
#include "keel/pool/stats.h"

namespace keel::pool_internal {

// Gauge values read at scrape time.
struct PoolGauges {
  std::size_t size = 0;
  std::size_t idle = 0;
  std::size_t in_use = 0;
  std::size_t waiters = 0;
};

class PoolMetrics {
 public:
  // Records nothing (no registry).
  PoolMetrics() = default;
  PoolMetrics(PoolMetrics&&) = default;
  PoolMetrics& operator=(PoolMetrics&&) = default;

  // Binds the series labelled pool=`pool` in `registry` (nullptr: a no-op
  // instance) and registers the gauges as callbacks returning `gauges()`
  // fields, which must be cheap and thread-safe and stay callable until the
  // returned object is destroyed. Fails with the registry's error: another
  // family of the same name with a different shape, or kAlreadyExists when a
  // pool of the same name already registered its gauges in `registry`.
  static absl::StatusOr<PoolMetrics> Bind(metrics::Registry* registry,
                                          const std::string& pool,
                                          std::function<PoolGauges()> gauges);

  // Successful Acquire(): the time it waited for a connection.
  void RecordAcquire(std::chrono::nanoseconds waited) const noexcept {
    acquire_seconds_.ObserveDuration(waited);
  }
  void RecordTimeout() const noexcept { timeouts_.Inc(); }
  void RecordRejection() const noexcept { rejections_.Inc(); }
  void RecordCreate() const noexcept { creates_.Inc(); }
  void RecordCreateFailure() const noexcept { create_failures_.Inc(); }
  void RecordClose(pool::CloseReason reason) const noexcept {
    closes_[static_cast<std::size_t>(reason)].Inc();
  }
  void RecordLeak() const noexcept { leaks_.Inc(); }

 private:
  metrics::Histogram acquire_seconds_;
  metrics::Counter timeouts_;
  metrics::Counter rejections_;
  metrics::Counter creates_;
  metrics::Counter create_failures_;
  std::array<metrics::Counter, pool::kCloseReasonCount> closes_;
  metrics::Counter leaks_;
  // Removed (waiting for a running scrape) before the gauge source goes away.
  std::vector<metrics::CallbackRegistration> gauge_registrations_;
};

}  // namespace keel::pool_internal

#endif  // KEEL_POOL_INTERNAL_POOL_METRICS_H_
