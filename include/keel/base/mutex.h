// keel/base/mutex.h
//
// `keel::Mutex`, `keel::MutexLock` and `keel::CondVar`: a thin wrapper over
// `std::mutex` / `std::condition_variable` that carries clang's thread-safety
// annotations, so `ABSL_GUARDED_BY` and friends are checked at compile time
// with
// `-Wthread-safety`.
//
// Why not `absl::Mutex`: ThreadSanitizer reports false races inside Debian's
// prebuilt Abseil (it is not built with TSan instrumentation), while
// libstdc++'s std::mutex is intercepted by TSan directly.
//
// Example:
//   class Counter {
//    public:
//     void Add(int n) { keel::MutexLock lock(mu_); total_ += n; }
//    private:
//     keel::Mutex mu_;
//     int total_ ABSL_GUARDED_BY(mu_) = 0;
//   };
//
// Thread safety: these are the synchronisation primitives themselves.

#ifndef KEEL_BASE_MUTEX_H_
#define KEEL_BASE_MUTEX_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/base/thread_annotations.h"

namespace keel {

// An exclusive, non-recursive mutex.
class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }
  // Returns true and holds the lock if it was free.
  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    return mu_.try_lock();
  }
  // Tells the analysis that the caller holds the lock (no runtime check).
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() {}

 private:
  friend class CondVar;
  std::mutex mu_;
};

// RAII lock of a `Mutex` for one scope.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_.Lock();
  }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

// A condition variable used with `keel::Mutex`. Waits are on real (steady)
// time: components driven by a manual clock wake through `Signal`/`SignalAll`
// instead.
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Atomically releases `mu`, blocks until signalled (or spuriously woken), and
  // reacquires `mu`. Callers loop on their predicate.
  void Wait(Mutex& mu) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }

  // As Wait(), but returns false if `timeout` passed without a signal.
  bool WaitFor(Mutex& mu, std::chrono::nanoseconds timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::unique_lock<std::mutex> lock(mu.mu_, std::adopt_lock);
    const bool signalled =
        cv_.wait_for(lock, timeout) == std::cv_status::no_timeout;
    lock.release();
    return signalled;
  }

  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace keel

#endif  // KEEL_BASE_MUTEX_H_
