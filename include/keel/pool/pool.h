// keel/pool/pool.h
//
// `keel::pool::Pool<Conn>`: a generic connection pool over a user
// `Factory<Conn>` (keel/pool/factory.h), and `Lease<Conn>`, the RAII handle
// that gives the connection back when it goes out of scope.
//
// Example:
//   keel::pool::PoolOptions options;
//   options.max_size = 8;
//   options.acquire_timeout = std::chrono::milliseconds(250);
//   auto pool = keel::pool::Pool<MyConn>::Create(
//       options, std::make_unique<MyFactory>());
//   if (!pool.ok()) return pool.status();
//   auto lease = (*pool)->Acquire();
//   if (!lease.ok()) return lease.status();   // timeout, queue full, shut down
//   absl::Status s = (*lease)->DoWork();
//   if (IsConnectionError(s)) lease->MarkBroken();  // discarded, replaced
//   // ~Lease returns the connection.
//
// Behaviour:
//   * A thread gets back the connection it released last when that one is
//     idle (as with HikariCP's thread-local list: its socket and buffers are
//     still warm in that thread's cache); otherwise idle connections are
//     reused most-recently-used first (so surplus ones age out through
//     idle_timeout). Waiting callers are served strictly
//     first-in first-out, a released connection going directly to the
//     longest waiter.
//   * Connects run on pool-owned connector threads: Create() starts
//     `max_concurrent_connects` std::threads that live until Shutdown(). A
//     caller never performs a connect itself, so it never pays for someone
//     else's slow connect: it takes whichever comes first, a released
//     connection or a new one. Failed connects back off with jitter.
//   * At hand-out a connection gets the cheap Factory::IsAlive() check, and
//     Factory::Validate() only if it idled for validation_idle_threshold; a
//     connection failing either is discarded and the caller gets another, so
//     no caller is handed a connection known to be dead.
//   * Returned connections go through Factory::Reset(); a failure, or
//     Lease::MarkBroken(), discards the connection instead.
//   * Maintenance (RunMaintenance(), driven by options.scheduler or called by
//     the owner) closes idle connections past idle_timeout or max_lifetime,
//     queues keepalive validations, reports leaked leases and wakes connector
//     threads to restore min_idle.
//   * EvictAll() retires every current connection (idle ones at once, leased
//     ones when returned), e.g. after a credential rotation or failover.
//
// Errors of Acquire():
//   kDeadlineExceeded   no connection within the timeout; the message gives
//                       the pool's state and the last connect error
//   kResourceExhausted  max_waiters callers already wait (fail fast)
//   kFailedPrecondition the pool was shut down (also for callers waiting
//                       when Shutdown() is called)
//
// Thread safety: Pool is thread-safe. A Lease is a move-only handle owned by
// one thread at a time, like the connection it holds. Every lease must be
// released before the pool is destroyed.

#ifndef KEEL_POOL_POOL_H_
#define KEEL_POOL_POOL_H_

#include <chrono>
#include <exception>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/base/status_macros.h"
#include "keel/health/check.h"
#include "keel/pool/factory.h"
#include "keel/pool/internal/pool_core.h"
#include "keel/pool/options.h"
#include "keel/pool/stats.h"

namespace keel::pool {

// Exclusive use of one pooled connection until destroyed or Release()d.
//
// Thread safety: not thread-safe; move it between threads, do not share it.
template <typename Conn>
class Lease {
 public:
  // An empty lease (holds nothing).
  Lease() = default;
  ~Lease() { Release(); }

  Lease(Lease&& other) noexcept
      : core_(other.core_),
        slot_(std::exchange(other.slot_, nullptr)),
        broken_(other.broken_) {}
  Lease& operator=(Lease&& other) noexcept {
    if (this != &other) {
      Release();
      core_ = other.core_;
      slot_ = std::exchange(other.slot_, nullptr);
      broken_ = other.broken_;
    }
    return *this;
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  // The connection. Must not be called on an empty lease.
  Conn& operator*() const { return *get(); }
  Conn* operator->() const { return get(); }
  Conn* get() const {
    return slot_ == nullptr ? nullptr : static_cast<Conn*>(slot_->conn);
  }
  explicit operator bool() const { return slot_ != nullptr; }

  // Marks the connection unusable (an I/O error, a protocol desync): on
  // release it is closed instead of reused and a replacement is opened.
  void MarkBroken() { broken_ = true; }

  // Gives the connection back now; the lease becomes empty. Idempotent.
  void Release() {
    if (slot_ != nullptr) {
      core_->Release(std::exchange(slot_, nullptr), broken_);
      broken_ = false;
    }
  }

 private:
  template <typename>
  friend class Pool;
  Lease(pool_internal::PoolCore* core, pool_internal::Slot* slot)
      : core_(core), slot_(slot) {}

  pool_internal::PoolCore* core_ = nullptr;
  pool_internal::Slot* slot_ = nullptr;
  bool broken_ = false;
};

// A pool of `Conn` made by a `Factory<Conn>`. See the file comment.
template <typename Conn>
class Pool {
 public:
  // Validates `options` (kInvalidArgument naming the field; a null factory is
  // kInvalidArgument too), starts the connector threads and applies the
  // startup policy: kFailFast returns the first connect's error,
  // kBlockUntilMinIdle returns kDeadlineExceeded (with the last connect
  // error) if min_idle connections are not open within startup_timeout.
  static absl::StatusOr<std::unique_ptr<Pool>> Create(
      PoolOptions options, std::unique_ptr<Factory<Conn>> factory) {
    if (factory == nullptr) {
      return absl::InvalidArgumentError("pool: factory must not be null");
    }
    KEEL_ASSIGN_OR_RETURN(
        std::unique_ptr<pool_internal::PoolCore> core,
        pool_internal::PoolCore::Create(
            std::move(options), std::make_unique<Adapter>(std::move(factory))));
    return std::unique_ptr<Pool>(new Pool(std::move(core)));
  }

  // Shuts down (see Shutdown()). Every lease must have been released.
  ~Pool() = default;
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Leases a connection, waiting up to options.acquire_timeout (or
  // `timeout`). Errors: see the file comment. `site` records the caller for
  // leak reports; leave it defaulted. Cost when an idle connection is ready:
  // one mutex round trip, one clock read, Factory::IsAlive().
  absl::StatusOr<Lease<Conn>> Acquire(
      AcquireSite site = AcquireSite::Current()) {
    return Acquire(core_->options().acquire_timeout, site);
  }
  absl::StatusOr<Lease<Conn>> Acquire(
      std::chrono::nanoseconds timeout,
      AcquireSite site = AcquireSite::Current()) {
    KEEL_ASSIGN_OR_RETURN(pool_internal::Slot * slot,
                          core_->Acquire(timeout, site));
    return Lease<Conn>(core_.get(), slot);
  }

  // Retires every connection open now: idle ones are closed at once, leased
  // ones when returned; replacements are opened as needed. For credential
  // rotation, failover and DNS changes.
  void EvictAll() { core_->EvictAll(); }

  // One maintenance pass (see the file comment). Runs on options.scheduler
  // when one is set; tests call it directly after advancing a manual clock.
  // Cheap: one pass over the connections under the pool lock; closes happen
  // after the lock is released.
  void RunMaintenance() { core_->RunMaintenance(); }

  // Stops the pool: waiting and future Acquire() calls fail with
  // kFailedPrecondition, idle connections are closed, connector threads are
  // joined (waiting for a connect in progress, up to connect_timeout), and
  // leased connections are closed when returned. Idempotent.
  void Shutdown() { core_->Shutdown(); }

  // A snapshot of gauges and counters.
  PoolStats Stats() const { return core_->Stats(); }

  // Readiness: kPass when a connection could be leased within `bound`,
  // kFail with the acquire error otherwise. Observed value: connections in
  // use / max_size, in percent.
  health::CheckResult CheckHealth(std::chrono::nanoseconds bound) {
    return core_->CheckHealth(bound);
  }
  // The same as a function for keel::health::HealthRegistry; the pool must
  // outlive the registration.
  health::CheckFunction HealthCheck(std::chrono::nanoseconds bound) {
    return [this, bound] { return CheckHealth(bound); };
  }

  const PoolOptions& options() const { return core_->options(); }

 private:
  // Erases Conn and keeps exceptions from crossing keel's API.
  class Adapter final : public pool_internal::ErasedFactory {
   public:
    explicit Adapter(std::unique_ptr<Factory<Conn>> factory)
        : factory_(std::move(factory)) {}

    absl::StatusOr<void*> Create(std::chrono::nanoseconds timeout) override {
      try {
        KEEL_ASSIGN_OR_RETURN(std::unique_ptr<Conn> conn,
                              factory_->Create(timeout));
        if (conn == nullptr) {
          return absl::InternalError(
              "pool: factory returned a null connection");
        }
        return static_cast<void*>(conn.release());
      } catch (const std::exception& e) {
        return absl::InternalError(e.what());
      }
    }
    bool IsAlive(void* conn) override {
      try {
        return factory_->IsAlive(*static_cast<Conn*>(conn));
      } catch (const std::exception&) {
        return false;
      }
    }
    absl::Status Validate(void* conn) override {
      try {
        return factory_->Validate(*static_cast<Conn*>(conn));
      } catch (const std::exception& e) {
        return absl::InternalError(e.what());
      }
    }
    absl::Status Reset(void* conn) override {
      try {
        return factory_->Reset(*static_cast<Conn*>(conn));
      } catch (const std::exception& e) {
        return absl::InternalError(e.what());
      }
    }
    void Destroy(void* conn) override {
      std::unique_ptr<Conn> owned(static_cast<Conn*>(conn));
    }

   private:
    const std::unique_ptr<Factory<Conn>> factory_;
  };

  explicit Pool(std::unique_ptr<pool_internal::PoolCore> core)
      : core_(std::move(core)) {}

  const std::unique_ptr<pool_internal::PoolCore> core_;
};

}  // namespace keel::pool

#endif  // KEEL_POOL_POOL_H_
