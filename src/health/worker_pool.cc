#include "health/worker_pool.h"

#include <pthread.h>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "keel/base/mutex.h"

namespace keel::health_internal {

struct WorkerPool::Shared {
  Mutex mu;
  CondVar work_cv;  // workers wait here for jobs
  CondVar exit_cv;  // Shutdown() waits here for workers to exit
  std::deque<std::function<void()>> queue ABSL_GUARDED_BY(mu);
  bool stopping ABSL_GUARDED_BY(mu) = false;
  std::size_t live ABSL_GUARDED_BY(mu) = 0;
};

absl::StatusOr<std::unique_ptr<WorkerPool>> WorkerPool::Start(
    std::size_t threads, const std::string& thread_name) {
  auto shared = std::make_shared<Shared>();
  std::unique_ptr<WorkerPool> pool(new WorkerPool(shared));
  for (std::size_t i = 0; i < threads; ++i) {
    {
      MutexLock lock(shared->mu);
      ++shared->live;
    }
    try {
      std::thread thread([shared, thread_name] {
        pthread_setname_np(pthread_self(), thread_name.substr(0, 15).c_str());
        Loop(shared);
      });
      thread.detach();
    } catch (const std::system_error& e) {
      {
        MutexLock lock(shared->mu);
        --shared->live;
      }
      return absl::ResourceExhaustedError(
          absl::StrCat("health worker thread: ", e.what()));
    }
  }
  return pool;
}

WorkerPool::WorkerPool(std::shared_ptr<Shared> shared)
    : shared_(std::move(shared)) {}

WorkerPool::~WorkerPool() { Shutdown(std::chrono::nanoseconds(0)); }

void WorkerPool::Submit(std::function<void()> job) {
  MutexLock lock(shared_->mu);
  if (shared_->stopping) return;
  shared_->queue.push_back(std::move(job));
  shared_->work_cv.Signal();
}

void WorkerPool::Shutdown(std::chrono::nanoseconds grace) {
  std::deque<std::function<void()>> dropped;
  MutexLock lock(shared_->mu);
  shared_->stopping = true;
  // Destroyed after the lock is released (a job's captures may be heavy).
  dropped.swap(shared_->queue);
  shared_->work_cv.SignalAll();
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (shared_->live > 0) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::nanoseconds(0)) break;
    shared_->exit_cv.WaitFor(shared_->mu, left);
  }
}

void WorkerPool::Loop(const std::shared_ptr<Shared>& shared) {
  for (;;) {
    std::function<void()> job;
    {
      MutexLock lock(shared->mu);
      while (shared->queue.empty() && !shared->stopping) {
        shared->work_cv.Wait(shared->mu);
      }
      if (shared->stopping) break;
      job = std::move(shared->queue.front());
      shared->queue.pop_front();
    }
    job();
  }
  MutexLock lock(shared->mu);
  --shared->live;
  shared->exit_cv.SignalAll();
}

}  // namespace keel::health_internal
