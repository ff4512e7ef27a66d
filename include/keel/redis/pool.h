// keel/redis/pool.h
//
// `keel::redis::Pool`: a pool of `keel::redis::Connection`s on keel's generic
// pool (keel/pool/pool.h), optionally following a Redis Sentinel deployment
// to whichever server is the current master.
//
// Example:
//   keel::redis::PoolOptions options;
//   options.connection.host = "10.0.0.5";
//   options.connection.command_timeout = std::chrono::milliseconds(100);
//   options.pool.max_size = 8;
//   auto pool = keel::redis::Pool::Create(options);
//   if (!pool.ok()) return pool.status();
//   absl::StatusOr<keel::redis::Reply> reply =
//       (*pool)->Command({"GET", "user:42"});
//
//   // Several commands on one connection:
//   auto lease = (*pool)->Acquire();
//   if (!lease.ok()) return lease.status();
//   auto replies = (*lease)->Pipeline({{"INCR", "a"}, {"EXPIRE", "a", "60"}});
//   if (!replies.ok()) lease->MarkBroken();
//
// Connection health: a connection that saw an I/O, timeout or protocol error
// is `broken()` and is discarded when returned (Reset) or before hand-out
// (IsAlive); one idle for options.pool.validation_idle_threshold is PINGed
// before hand-out, and idle ones are PINGed every keepalive_interval, so a
// server `timeout` kill or a restart is found before a caller meets it.
//
// Dirty connections: a lease returned with session state that the next
// caller would inherit (Connection::dirty(): an open MULTI, WATCHed keys,
// another SELECTed database) is cleaned with one pipelined DISCARD / UNWATCH
// / SELECT before reuse; one left in subscriber or MONITOR mode, with
// replies switched off or authenticated as someone else, or with replies
// still pending after a timeout (broken()), is closed instead. No caller is
// ever handed a connection in another caller's MULTI or database.
//
// Sentinel: with `sentinels` set, every new connection first asks the
// sentinels (in order, first answer wins) for the address of
// `sentinel_master_name` (SENTINEL get-master-addr-by-name) and then checks
// with ROLE that the server it reached is a master. The pool follows a
// failover in three ways, whichever comes first:
//   * Create() starts one thread that asks the sentinels every
//     sentinel_check_interval; when the master's address changed, every
//     connection is evicted (EvictAll: idle ones close at once, leased ones
//     when returned) and replacements go to the new master. This matters
//     because after a failover the old master keeps accepting writes (that
//     are lost) until the sentinels reconfigure it, which can take ten
//     seconds or more.
//   * A connect that finds the master moved evicts the others the same way.
//   * A READONLY error reply (the server became a replica, e.g. through a
//     manual REPLICAOF) evicts every connection and makes the next connects
//     ask the sentinels again; the caller still receives that reply.
// When the old master dies, its connections fail with kUnavailable once each
// and are replaced; connects fail (with backoff) until the sentinels have
// promoted a replica.
//
// Errors: Create() fails with kInvalidArgument for bad options (naming the
// field) and as keel::pool::Pool::Create for the startup policy. Acquire()
// fails as keel::pool::Pool::Acquire. Command() adds the connection errors of
// keel/redis/connection.h (kDeadlineExceeded, kUnavailable, kInternal).
//
// Thread safety: Pool is thread-safe; a lease is used by one thread at a time.

#ifndef KEEL_REDIS_POOL_H_
#define KEEL_REDIS_POOL_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "keel/health/check.h"
#include "keel/pool/pool.h"
#include "keel/redis/connection.h"
#include "keel/redis/reply.h"

namespace keel::redis_internal {
class MasterTracker;
}  // namespace keel::redis_internal

namespace keel::redis {

struct PoolOptions {
  // How each connection is made. With sentinels, host/port/unix_socket are
  // replaced by the current master's address; the other fields (timeouts,
  // AUTH, db, client name) still apply to the master connection.
  ConnectionOptions connection;
  // The generic pool's options (size, timeouts, lifetime, keepalive, ...).
  pool::PoolOptions pool;
  // Sentinel addresses as "host:port". Default: none (connect directly).
  std::vector<std::string> sentinels;
  // The master group name monitored by the sentinels; required with
  // `sentinels`.
  std::string sentinel_master_name;
  // Password for the sentinels themselves (sentinel `requirepass`). Default:
  // none. Sentinels are reached with `connection.tls` too, each verified
  // against its own address rather than `connection.tls.server_name`.
  std::string sentinel_password;
  // With sentinels: how often the pool's sentinel thread asks for the
  // current master (one short connection to a sentinel per check). Default
  // 1 s; 0 disables the thread (failovers are then noticed only through
  // connects and READONLY replies); must be >= 0.
  std::chrono::milliseconds sentinel_check_interval{1000};
};

// A leased Redis connection.
using Lease = pool::Lease<Connection>;

class Pool {
 public:
  // Validates options (kInvalidArgument naming the field) and starts the
  // pool.
  static absl::StatusOr<std::unique_ptr<Pool>> Create(PoolOptions options);

  // Leases a connection; see keel::pool::Pool::Acquire.
  absl::StatusOr<Lease> Acquire(
      pool::AcquireSite site = pool::AcquireSite::Current()) {
    return pool_->Acquire(site);
  }
  absl::StatusOr<Lease> Acquire(
      std::chrono::nanoseconds timeout,
      pool::AcquireSite site = pool::AcquireSite::Current()) {
    return pool_->Acquire(timeout, site);
  }

  // Runs one command on a pooled connection. A connection error marks the
  // connection broken (it is replaced) and is returned; an error *reply*
  // (WRONGTYPE, ...) is a successful call returning a Reply of type kError.
  absl::StatusOr<Reply> Command(
      absl::Span<const std::string_view> args,
      pool::AcquireSite site = pool::AcquireSite::Current());

  // Stops the sentinel thread, then shuts the pool down (see Shutdown()).
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Retires every connection (e.g. to move to a new master at once).
  void EvictAll() { pool_->EvictAll(); }
  // One maintenance pass; see keel::pool::Pool::RunMaintenance.
  void RunMaintenance() { pool_->RunMaintenance(); }
  // Stops the sentinel thread and the pool; see keel::pool::Pool::Shutdown.
  // Idempotent.
  void Shutdown();
  pool::PoolStats Stats() const { return pool_->Stats(); }
  const pool::PoolOptions& options() const { return pool_->options(); }

  // Readiness: leases a connection within `bound` and PINGs it.
  health::CheckResult CheckHealth(std::chrono::nanoseconds bound);
  // The same as a function for keel::health::HealthRegistry; the pool must
  // outlive the registration.
  health::CheckFunction HealthCheck(std::chrono::nanoseconds bound) {
    return [this, bound] { return CheckHealth(bound); };
  }

 private:
  Pool(std::unique_ptr<pool::Pool<Connection>> pool,
       std::shared_ptr<redis_internal::MasterTracker> tracker);

  std::unique_ptr<pool::Pool<Connection>> pool_;
  // With sentinels: the current master as the sentinels name it, shared with
  // the connection factory, and the thread that keeps asking. Null without.
  std::shared_ptr<redis_internal::MasterTracker> tracker_;
};

}  // namespace keel::redis

#endif  // KEEL_REDIS_POOL_H_
