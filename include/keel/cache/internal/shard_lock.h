// keel/cache/internal/shard_lock.h
//
// `ShardLock`: the lock of one cache shard. A test-and-set lock that spins
// briefly and then yields the processor, annotated for clang's thread-safety
// analysis like keel::Mutex.
//
//   ShardLock mu;
//   int hits ABSL_GUARDED_BY(mu) = 0;
//   { ShardLockHolder lock(mu); ++hits; }
//
// Why not keel::Mutex: a shard's critical sections are a hash look-up plus
// O(1) bookkeeping (tens of nanoseconds), and the cache hit path takes the
// lock once per Get. std::mutex costs two locked read-modify-write
// instructions and about 60 instructions through pthread per lock/unlock
// pair; a locked instruction also waits for all earlier stores and stops
// later loads, so the hit's cache misses cannot overlap with the next
// operation's. Here the uncontended acquire is one exchange and the release a
// plain store. Longer holds (an eviction batch, InvalidateAll of a shard) are
// rare; a waiter spins for about a microsecond and then calls
// std::this_thread::yield() between attempts, so a preempted holder gets the
// processor back instead of being spun against.
//
// ThreadSanitizer understands the acquire/release atomics, so races on the
// guarded data are still reported.
//
// Thread safety: this is the synchronisation primitive itself. Not
// recursive; not fair. Like any yielding spin lock it assumes threads of
// equal scheduling priority: a real-time (SCHED_FIFO) waiter that preempts
// a normal-priority holder on the same processor would not let it run.

#ifndef KEEL_CACHE_INTERNAL_SHARD_LOCK_H_
#define KEEL_CACHE_INTERNAL_SHARD_LOCK_H_

#include <atomic>
#include <thread>

#include "absl/base/thread_annotations.h"

namespace keel::cache_internal {

class ABSL_LOCKABLE ShardLock {
 public:
  ShardLock() = default;
  ShardLock(const ShardLock&) = delete;
  ShardLock& operator=(const ShardLock&) = delete;

  // Blocks until the lock is held by the caller.
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    if (!locked_.exchange(true, std::memory_order_acquire)) return;
    LockSlow();
  }
  // Releases the lock; the caller must hold it.
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    locked_.store(false, std::memory_order_release);
  }

 private:
  void LockSlow() {
    // Spin on a plain load (no cache-line ping-pong while the holder works),
    // then yield so that a descheduled holder can run.
    for (int spins = 0;; ++spins) {
      if (!locked_.load(std::memory_order_relaxed) &&
          !locked_.exchange(true, std::memory_order_acquire)) {
        return;
      }
      if (spins < kSpins) {
        CpuRelax();
      } else {
        std::this_thread::yield();
      }
    }
  }

  // Tells the processor that this is a spin-wait loop.
  static void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

  // About a microsecond of pause instructions.
  static constexpr int kSpins = 128;
  std::atomic<bool> locked_{false};
};

// RAII hold of a `ShardLock` for one scope.
class ABSL_SCOPED_LOCKABLE ShardLockHolder {
 public:
  explicit ShardLockHolder(ShardLock& mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu)
      : mu_(mu) {
    mu_.Lock();
  }
  ~ShardLockHolder() ABSL_UNLOCK_FUNCTION() { mu_.Unlock(); }
  ShardLockHolder(const ShardLockHolder&) = delete;
  ShardLockHolder& operator=(const ShardLockHolder&) = delete;

 private:
  ShardLock& mu_;
};

}  // namespace keel::cache_internal

#endif  // KEEL_CACHE_INTERNAL_SHARD_LOCK_H_
