// keel/pool/stats.h
//
// What a keel pool reports about itself: why connections were closed, leak
// reports with the acquisition site, and a point-in-time `PoolStats`
// snapshot (gauges and monotonic counters) for metrics exporters.
//
// Example:
//   keel::pool::PoolStats stats = pool->Stats();
//   std::printf("%zu/%zu in use, %llu timeouts, %llu broken\n", stats.in_use,
//               stats.size, (unsigned long long)stats.acquire_timeouts,
//               (unsigned long long)stats.Closes(CloseReason::kBroken));
//
// Thread safety: plain value types.

#ifndef KEEL_POOL_STATS_H_
#define KEEL_POOL_STATS_H_

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace keel::pool {

// Where a lease was acquired, captured by Acquire()'s defaulted argument so
// that leak reports name the caller's file and line.
struct AcquireSite {
  const char* file = "";
  int line = 0;

  // The call site of the function whose default argument this is.
  static constexpr AcquireSite Current(const char* file = __builtin_FILE(),
                                       int line = __builtin_LINE()) {
    return AcquireSite{file, line};
  }
};

// Why the pool closed a connection (a metric label, see CloseReasonName()).
enum class CloseReason {
  kBroken = 0,        // lease marked broken, or IsAlive() false at hand-out
  kValidationFailed,  // Validate() failed at hand-out after idling
  kResetFailed,       // Reset() failed when the lease was released
  kKeepaliveFailed,   // the periodic keepalive validation failed
  kIdleTimeout,       // idle longer than idle_timeout
  kMaxLifetime,       // older than max_lifetime (minus jitter)
  kEvicted,           // opened before the last EvictAll()
  kLeakReclaimed,     // a leaked lease's connection, closed on its release
  kShutdown,          // the pool shut down
};
inline constexpr std::size_t kCloseReasonCount = 9;

// "broken", "validation_failed", "reset_failed", "keepalive_failed",
// "idle_timeout", "max_lifetime", "evicted", "leak_reclaimed", "shutdown".
std::string_view CloseReasonName(CloseReason reason);

// One lease held longer than leak_detection_threshold.
struct LeakReport {
  std::string pool;                  // PoolOptions::name
  AcquireSite site;                  // where the lease was acquired
  std::chrono::nanoseconds held{0};  // how long it had been held when found
  bool reclaimed = false;            // capacity given back (reclaim_leaked)
};

// A snapshot of one pool. Gauges are exact at the moment of the call;
// counters only grow.
struct PoolStats {
  // Gauges.
  std::size_t size = 0;          // open connections (idle + in use + checking)
  std::size_t idle = 0;          // ready to hand out
  std::size_t in_use = 0;        // leased to callers
  std::size_t waiters = 0;       // callers blocked in Acquire()
  std::size_t connecting = 0;    // connects running on connector threads
  std::uint64_t generation = 0;  // bumped by EvictAll()

  // Counters.
  std::uint64_t acquires = 0;            // successful Acquire() calls
  std::uint64_t acquire_waits = 0;       // ... of which had to wait
  std::uint64_t acquire_timeouts = 0;    // kDeadlineExceeded
  std::uint64_t acquire_rejections = 0;  // kResourceExhausted (queue full)
  std::uint64_t creates = 0;             // connections opened
  std::uint64_t create_failures = 0;     // failed Factory::Create calls
  std::uint64_t leaks = 0;               // leak reports
  std::array<std::uint64_t, kCloseReasonCount> closes{};  // by CloseReason
  // Total and maximum time successful Acquire() calls spent waiting.
  std::chrono::nanoseconds acquire_wait_total{0};
  std::chrono::nanoseconds acquire_wait_max{0};
  // Message of the last failed connect; empty if none failed since the last
  // success.
  std::string last_connect_error;

  // Closes for one reason.
  std::uint64_t Closes(CloseReason reason) const {
    return closes[static_cast<std::size_t>(reason)];
  }
  // Closes for every reason.
  std::uint64_t TotalCloses() const;
};

}  // namespace keel::pool

#endif  // KEEL_POOL_STATS_H_
