// keel/pool/internal/pool_core.h
//
// The type-erased engine behind `keel::pool::Pool<Conn>`: slots, the MRU idle
// stack, the FIFO waiter queue with direct hand-off, connector threads,
// generations and counters live here once, in a .cc file, and the template in
// keel/pool/pool.h is a thin typed shell over it. Not part of keel's API.
//
// Thread safety: PoolCore is thread-safe; a Slot belongs to whoever the core
// handed it to (a lease, a connector running a keepalive) until given back.

#ifndef KEEL_POOL_INTERNAL_POOL_CORE_H_
#define KEEL_POOL_INTERNAL_POOL_CORE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/base/clock.h"
#include "keel/base/mutex.h"
#include "keel/base/scheduler.h"
#include "keel/health/check.h"
#include "keel/pool/internal/pool_metrics.h"
#include "keel/pool/options.h"
#include "keel/pool/stats.h"

namespace keel::pool_internal {

// The user's Factory<Conn> with the connection type erased to void*.
// Implementations must not throw.
class ErasedFactory {
 public:
  virtual ~ErasedFactory() = default;
  virtual absl::StatusOr<void*> Create(std::chrono::nanoseconds timeout) = 0;
  virtual bool IsAlive(void* conn) = 0;
  virtual absl::Status Validate(void* conn) = 0;
  virtual absl::Status Reset(void* conn) = 0;
  virtual void Destroy(void* conn) = 0;
};

// One open connection and its bookkeeping. Fields other than `conn` are
// guarded by the core's mutex.
struct Slot {
  enum class State { kIdle, kInUse, kChecking };

  void* conn = nullptr;
  State state = State::kIdle;
  std::uint64_t generation = 0;
  MonoTime last_used{0};       // when it was last released or checked
  MonoTime retire_at{0};       // opened + max_lifetime - jitter
  MonoTime next_keepalive{0};  // when maintenance next validates it idle
  MonoTime acquired_at{0};     // start of the current lease
  pool::AcquireSite site;      // where the current lease was acquired
  std::size_t index = 0;       // position in PoolCore::slots_
  bool leak_reported = false;
  bool reclaimed = false;  // detached from the pool by leak reclaim
};

class PoolCore final : private ClockListener {
 public:
  // Validates options, starts the connector threads, registers maintenance
  // on the scheduler and applies the startup policy.
  static absl::StatusOr<std::unique_ptr<PoolCore>> Create(
      pool::PoolOptions options, std::unique_ptr<ErasedFactory> factory);

  // Shuts down. Every lease must have been released.
  ~PoolCore() override;
  PoolCore(const PoolCore&) = delete;
  PoolCore& operator=(const PoolCore&) = delete;

  // A slot in state kInUse whose connection passed the hand-out checks.
  absl::StatusOr<Slot*> Acquire(std::chrono::nanoseconds timeout,
                                pool::AcquireSite site)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Gives a slot back; `broken` discards its connection.
  void Release(Slot* slot, bool broken) ABSL_LOCKS_EXCLUDED(mu_);

  void EvictAll() ABSL_LOCKS_EXCLUDED(mu_);
  void RunMaintenance() ABSL_LOCKS_EXCLUDED(mu_);
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);
  pool::PoolStats Stats() const ABSL_LOCKS_EXCLUDED(mu_);
  health::CheckResult CheckHealth(std::chrono::nanoseconds bound)
      ABSL_LOCKS_EXCLUDED(mu_);

  const pool::PoolOptions& options() const { return options_; }

 private:
  // A caller blocked in Acquire(), linked into the FIFO queue. Lives on the
  // caller's stack.
  struct Waiter {
    CondVar cv;
    Slot* slot = nullptr;  // set by the thread that hands a slot over
    Waiter* prev = nullptr;
    Waiter* next = nullptr;
  };

  // A connection to destroy once the mutex is released.
  using CloseList = std::vector<void*>;

  PoolCore(pool::PoolOptions options, std::unique_ptr<ErasedFactory> factory);

  absl::Status Start() ABSL_LOCKS_EXCLUDED(mu_);
  void OnClockAdvanced() override ABSL_LOCKS_EXCLUDED(mu_);
  void ConnectorLoop() ABSL_LOCKS_EXCLUDED(mu_);

  // Hands `slot` to the longest-waiting caller, or pushes it on the idle
  // stack.
  void HandOffLocked(Slot* slot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes back a leased slot: closes it for `reason` (or because it expired
  // or the pool shut down), else hands it on.
  void ReturnLocked(Slot* slot, std::optional<pool::CloseReason> reason,
                    MonoTime now, CloseList* closing)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes `slot` from the pool, counts the close and queues its connection
  // for destruction.
  void RetireLocked(Slot* slot, pool::CloseReason reason, CloseList* closing)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes `slot` out of slots_ (it stays alive for its holder).
  void DetachLocked(Slot* slot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes and returns an idle slot: `preferred` if it is idle, else the
  // most recently used. Requires a non-empty idle list.
  Slot* TakeIdleLocked(const Slot* preferred)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Slot* AddSlotLocked(void* conn, MonoTime now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Why an idle or returning slot must not be reused, if it must not.
  std::optional<pool::CloseReason> ExpiredLocked(const Slot& slot,
                                                 MonoTime now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::size_t ConnectsWantedLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WakeConnectorsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Enqueue(Waiter* waiter) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Dequeue(Waiter* waiter) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Uniform in [0, max].
  std::chrono::nanoseconds RandomUpTo(std::chrono::nanoseconds max)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  MonoTime NextKeepaliveLocked(MonoTime now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string DescribeLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The gauges of the metrics, read at scrape time.
  PoolGauges Gauges() const ABSL_LOCKS_EXCLUDED(mu_);
  void Destroy(const CloseList& closing);

  const pool::PoolOptions options_;
  const std::unique_ptr<ErasedFactory> factory_;
  Clock* const clock_;

  mutable Mutex mu_;
  CondVar connector_cv_;  // connector threads wait for work here
  CondVar state_cv_;      // startup waits for connects here
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  bool listening_ ABSL_GUARDED_BY(mu_) = false;
  std::uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<Slot*> slots_ ABSL_GUARDED_BY(mu_);  // every attached slot
  std::vector<Slot*> idle_ ABSL_GUARDED_BY(mu_);   // back = most recent
  std::vector<Slot*> keepalive_queue_ ABSL_GUARDED_BY(mu_);
  Waiter* waiters_head_ ABSL_GUARDED_BY(mu_) = nullptr;
  Waiter* waiters_tail_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::size_t waiters_ ABSL_GUARDED_BY(mu_) = 0;
  std::size_t in_use_ ABSL_GUARDED_BY(mu_) = 0;
  std::size_t connecting_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint32_t consecutive_connect_failures_ ABSL_GUARDED_BY(mu_) = 0;
  MonoTime connect_not_before_ ABSL_GUARDED_BY(mu_){0};
  std::uint64_t rng_state_ ABSL_GUARDED_BY(mu_);
  pool::PoolStats counters_ ABSL_GUARDED_BY(mu_);  // counter fields only

  // Serialises Shutdown() callers; the threads and task are set in Start().
  Mutex lifecycle_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::vector<std::thread> connectors_ ABSL_GUARDED_BY(lifecycle_mu_);
  std::optional<Scheduler::TaskId> maintenance_task_
      ABSL_GUARDED_BY(lifecycle_mu_);

  // Bound in Create() before any thread starts, then only read. Declared
  // after mu_ so that its gauge callbacks (which take mu_) are removed first.
  PoolMetrics metrics_;
};

}  // namespace keel::pool_internal

#endif  // KEEL_POOL_INTERNAL_POOL_CORE_H_
