// keel/pool/options.h
//
// `keel::pool::PoolOptions`: every knob of the generic connection pool
// (keel/pool/pool.h) with its default, and the startup policy. The defaults
// follow HikariCP's advice: a small fixed-size pool (set min_idle = max_size)
// beats a large elastic one; connections are retired before the server or a
// firewall kills them (max_lifetime below any server/network idle limit, with
// jitter so they do not all reconnect at once).
//
// Example:
//   keel::pool::PoolOptions options;
//   options.name = "orders-db";
//   options.max_size = 8;
//   options.min_idle = 8;                          // fixed-size pool
//   options.acquire_timeout = std::chrono::milliseconds(250);
//   options.max_lifetime = std::chrono::minutes(30);
//   options.scheduler = scheduler.get();           // drives RunMaintenance()
//
// Sizing: connections = (CPU cores of the database * 2) + spindles is the
// classic starting point; beyond the server's parallelism more connections
// only queue inside the server. Prefer a bounded wait queue (max_waiters) and
// a short acquire_timeout so that overload fails fast instead of piling up.
//
// Thread safety: a plain value type.

#ifndef KEEL_POOL_OPTIONS_H_
#define KEEL_POOL_OPTIONS_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "keel/base/clock.h"
#include "keel/base/scheduler.h"
#include "keel/pool/stats.h"

namespace keel::metrics {
class Registry;
}  // namespace keel::metrics

namespace keel::pool {

// What Pool::Create() does before returning.
enum class StartupPolicy {
  // Return at once; connector threads open `min_idle` connections in the
  // background and the first Acquire() may wait for a connect.
  kLazy,
  // Open one connection on the calling thread and fail Create() with its
  // error if that fails (catches a wrong password or host at startup).
  kFailFast,
  // Wait until `min_idle` connections are open; fail Create() after
  // `startup_timeout` with the last connect error.
  kBlockUntilMinIdle,
};

struct PoolOptions {
  // Identifies the pool in error messages, leak reports and metric labels.
  // Default "default"; must not be empty.
  std::string name = "default";

  // Upper bound on open connections (idle + in use + being connected or
  // checked). Default 10; must be >= 1.
  std::size_t max_size = 10;
  // Idle connections kept open (re-opened in the background when closed).
  // Default 0; must be <= max_size. min_idle == max_size makes a fixed pool.
  std::size_t min_idle = 0;

  // How long Acquire() waits for a connection before kDeadlineExceeded.
  // Default 5 s; must be >= 0 (0: never wait, only take an idle connection).
  std::chrono::nanoseconds acquire_timeout = std::chrono::seconds(5);
  // Callers allowed to wait at once; one more fails at once with
  // kResourceExhausted instead of queueing (fail fast under overload).
  // While the pool can still grow, up to (max_size - open connections)
  // callers may wait for new connections regardless. Default 1000; 0 means
  // nobody waits for a full pool.
  std::size_t max_waiters = 1000;

  // Idle connections unused for this long are closed (down to min_idle).
  // Default 10 min; 0 disables.
  std::chrono::nanoseconds idle_timeout = std::chrono::minutes(10);
  // Connections are retired this long after they were opened, minus a random
  // jitter in [0, max_lifetime_jitter] drawn per connection: an idle one is
  // closed by maintenance, an in-use one when it is released. Keep it a few
  // minutes below any server or network idle/lifetime limit. Default 30 min;
  // 0 disables.
  std::chrono::nanoseconds max_lifetime = std::chrono::minutes(30);
  // Default 45 s (2.5 % of the default lifetime); must be >= 0 and below
  // max_lifetime when that is set.
  std::chrono::nanoseconds max_lifetime_jitter = std::chrono::seconds(45);

  // Idle connections are validated (Factory::Validate) every
  // keepalive_interval minus a random jitter in [0, keepalive_jitter], on a
  // connector thread, so that NATs and firewalls keep them and dead ones are
  // replaced before a caller meets them. Default 2 min; 0 disables.
  std::chrono::nanoseconds keepalive_interval = std::chrono::minutes(2);
  // Default 12 s; must be >= 0 and below keepalive_interval when that is set.
  std::chrono::nanoseconds keepalive_jitter = std::chrono::seconds(12);

  // Acquire() runs Factory::Validate (a round trip) only on connections idle
  // for at least this long; fresher ones get only the cheap IsAlive() check.
  // Default 500 ms (HikariCP's bypass window); 0 validates on every borrow.
  std::chrono::nanoseconds validation_idle_threshold =
      std::chrono::milliseconds(500);

  // A lease held longer than this is reported once as a leak (counted,
  // `on_leak` called with the acquisition site). Default 0 (disabled).
  std::chrono::nanoseconds leak_detection_threshold{0};
  // When true, a reported leak also gives its capacity back to the pool: the
  // connection stops counting against max_size and is closed (never reused)
  // when the lease is finally released. Default false.
  bool reclaim_leaked = false;
  // Called on the maintenance thread for each newly detected leak. Must not
  // block or call back into the pool. Default: none.
  std::function<void(const LeakReport&)> on_leak;

  // Pool-owned connector threads, i.e. connects (and keepalive checks) that
  // may run at once. Default 2; must be in [1, 64].
  std::size_t max_concurrent_connects = 2;
  // Passed to Factory::Create as its time budget. Default 5 s; must be > 0.
  std::chrono::nanoseconds connect_timeout = std::chrono::seconds(5);
  // After a failed connect, the next one waits a random delay in [b/2, b]
  // where b doubles from connect_backoff_initial up to connect_backoff_max
  // (so a down server is not hammered and replicas do not reconnect in
  // lockstep). Defaults 100 ms and 10 s; initial > 0, max >= initial.
  std::chrono::nanoseconds connect_backoff_initial =
      std::chrono::milliseconds(100);
  std::chrono::nanoseconds connect_backoff_max = std::chrono::seconds(10);

  // What Create() waits for. Default kLazy.
  StartupPolicy startup = StartupPolicy::kLazy;
  // Bound for kBlockUntilMinIdle. Default 10 s; must be > 0.
  std::chrono::nanoseconds startup_timeout = std::chrono::seconds(10);

  // Time source for deadlines, lifetimes and idle times, read twice per
  // acquire + release. Default: the precise system clock; must not be null
  // and must outlive the pool. &Clock::Coarse() (1-4 ms resolution, enough
  // for a pool) halves the cost of an uncontended acquire + release.
  Clock* clock = &Clock::System();
  // When set, RunMaintenance() runs on it every maintenance_interval (must
  // outlive the pool). Default null: the owner calls RunMaintenance().
  Scheduler* scheduler = nullptr;
  // Default 1 s; must be > 0.
  std::chrono::nanoseconds maintenance_interval = std::chrono::seconds(1);

  // When set, the pool reports these series, labelled pool=`name` (must
  // outlive the pool; two pools of one name cannot share a registry):
  //   keel_pool_connections, keel_pool_idle_connections,
  //   keel_pool_in_use_connections, keel_pool_waiters      gauges (at scrape)
  //   keel_pool_acquire_seconds              histogram of the wait of each
  //                                          successful Acquire()
  //   keel_pool_acquire_timeouts_total, keel_pool_acquire_rejections_total,
  //   keel_pool_connection_creates_total, keel_pool_connect_failures_total,
  //   keel_pool_leaks_total                  counters
  //   keel_pool_connection_closes_total{reason}  by CloseReasonName()
  // Recording is lock-free through handles bound at Create(). Default null.
  metrics::Registry* metrics = nullptr;
};

// Checks every field; kInvalidArgument naming the first bad one, e.g.
// "pool options: min_idle (5) exceeds max_size (4)".
absl::Status ValidatePoolOptions(const PoolOptions& options);

}  // namespace keel::pool

#endif  // KEEL_POOL_OPTIONS_H_
