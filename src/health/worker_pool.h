// A fixed set of detached threads that run health-check executions. Detached,
// because a check may never return: the pool's shared state is reference
// counted so a stranded thread stays safe after the pool is gone.
//
// Thread safety: Submit() and Shutdown() are thread-safe.

#ifndef KEEL_SRC_HEALTH_WORKER_POOL_H_
#define KEEL_SRC_HEALTH_WORKER_POOL_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace keel::health_internal {

class WorkerPool {
 public:
  // Starts `threads` threads named `thread_name`. Fails with
  // kResourceExhausted if the system refuses a thread.
  static absl::StatusOr<std::unique_ptr<WorkerPool>> Start(
      std::size_t threads, const std::string& thread_name);

  // Shutdown(0) if Shutdown() was not called.
  ~WorkerPool();

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `job`; dropped silently after Shutdown(). Jobs must not throw.
  void Submit(std::function<void()> job);

  // Drops queued jobs and waits up to `grace` (real time) for running jobs to
  // finish; threads still busy after that exit on their own when their job
  // returns. Idempotent.
  void Shutdown(std::chrono::nanoseconds grace);

 private:
  struct Shared;

  explicit WorkerPool(std::shared_ptr<Shared> shared);
  // The body of every worker thread.
  static void Loop(const std::shared_ptr<Shared>& shared);

  std::shared_ptr<Shared> shared_;
};

}  // namespace keel::health_internal

#endif  // KEEL_SRC_HEALTH_WORKER_POOL_H_
