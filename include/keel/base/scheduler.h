// keel/base/scheduler.h
//
// `keel::Scheduler` runs one-shot and periodic background tasks on ONE thread
// that it owns (started by Create(), joined by Shutdown() or the destructor).
// keel components that need background work (cache refresh, pool keepalive,
// telemetry flushes) take a `Scheduler*` in their options, so a service decides
// how many such threads exist; none is started behind its back.
//
// Time comes from the injected `Clock`. With a `ManualClock` the scheduler
// wakes when the test advances the clock, and `RunUntilIdle()` waits until
// everything due has run, so tests are deterministic without sleeping:
//
//   keel::ManualClock clock;
//   keel::SchedulerOptions options;
//   options.clock = &clock;
//   auto scheduler = keel::Scheduler::Create(options).value();
//   int runs = 0;
//   scheduler->ScheduleEvery(std::chrono::seconds(1), [&] { ++runs; }).value();
//   clock.Advance(std::chrono::seconds(1));
//   scheduler->RunUntilIdle();   // runs == 1
//
// Ordering: tasks run in deadline order; tasks with the same deadline run in
// the order they were scheduled. Periodic tasks run at fixed rate without
// catch-up: if the clock jumps past several periods the task runs once and its
// next deadline is one period after the time it ran.
//
// Thread safety: every method is thread-safe. Tasks run one at a time on the
// scheduler thread and must not block for long (they delay every other task); a
// task may schedule or cancel tasks, including itself. Tasks must not throw: an
// escaping exception is caught and discarded so the scheduler keeps running.

#ifndef KEEL_BASE_SCHEDULER_H_
#define KEEL_BASE_SCHEDULER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "keel/base/clock.h"
#include "keel/base/mutex.h"

namespace keel {

struct SchedulerOptions {
  // Time source for deadlines. Default: the precise system clock. Must outlive
  // the scheduler.
  Clock* clock = &Clock::System();
  // Name of the scheduler thread as shown by `top -H` (Linux truncates to 15
  // characters). Default: "keel-scheduler".
  std::string thread_name = "keel-scheduler";
};

// Options of one periodic task.
struct PeriodicOptions {
  // Delay before the first run. Default: one period.
  std::optional<std::chrono::nanoseconds> initial_delay;
  // Each run is delayed by an extra uniform random amount in [0, jitter], so
  // that many replicas or connections do not act in lockstep. Default: none.
  // Must be
  // >= 0.
  std::chrono::nanoseconds jitter{0};
};

class Scheduler {
 public:
  // Identifies a scheduled task. Ids are never reused within one scheduler.
  using TaskId = std::uint64_t;

  // Starts the scheduler thread. Fails with kInvalidArgument if `clock` is
  // null.
  static absl::StatusOr<std::unique_ptr<Scheduler>> Create(
      SchedulerOptions options = {});

  // Shuts down (see Shutdown()).
  ~Scheduler();

  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs `task` once, `delay` from now (a delay <= 0 runs it as soon as
  // possible). Fails with kFailedPrecondition after Shutdown() and
  // kInvalidArgument for an empty function. Complexity: O(log n) in the number
  // of pending tasks.
  absl::StatusOr<TaskId> ScheduleAfter(std::chrono::nanoseconds delay,
                                       std::function<void()> task);

  // Runs `task` every `period` until cancelled. Fails with kInvalidArgument if
  // `period` <= 0, the jitter or initial delay is negative, or `task` is empty;
  // kFailedPrecondition after Shutdown().
  absl::StatusOr<TaskId> ScheduleEvery(std::chrono::nanoseconds period,
                                       std::function<void()> task,
                                       PeriodicOptions options = {});

  // Cancels a task: once Cancel() returns, the task will not start again. If
  // the task is running on the scheduler thread at that moment, Cancel() waits
  // for that run to finish, unless called from the task itself. Returns false
  // if the id is unknown (already finished one-shot, already cancelled, or
  // never issued).
  bool Cancel(TaskId id);

  // Stops the scheduler: pending tasks are dropped, a running task is allowed
  // to finish, and the thread is joined. After Shutdown() returns no task runs.
  // Idempotent. When called from a task it cannot join its own thread: it stops
  // the scheduler after the current task and the destructor joins.
  void Shutdown();

  // Blocks until every task due at the clock's current time has run and the
  // scheduler is waiting for a later deadline (or has shut down). For tests
  // with a manual clock; must not be called from a task.
  void RunUntilIdle();

  // Number of tasks scheduled and not yet finished or cancelled.
  std::size_t PendingTasks() const;

 private:
  struct Task {
    std::function<void()> fn;
    std::chrono::nanoseconds period{0};  // zero for one-shot tasks
    std::chrono::nanoseconds jitter{0};
    MonoTime deadline{0};
    bool cancelled = false;
  };

  class Waker;

  explicit Scheduler(SchedulerOptions options);
  absl::StatusOr<TaskId> Add(Task task) ABSL_LOCKS_EXCLUDED(mu_);
  void Loop() ABSL_LOCKS_EXCLUDED(mu_);
  std::chrono::nanoseconds Jitter(std::chrono::nanoseconds max)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool OnSchedulerThread() const;

  const SchedulerOptions options_;
  std::unique_ptr<Waker> waker_;

  mutable Mutex mu_;
  CondVar wake_cv_;  // the scheduler thread waits here
  CondVar idle_cv_;  // RunUntilIdle() and Cancel() wait here
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  TaskId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::unordered_map<TaskId, Task> tasks_ ABSL_GUARDED_BY(mu_);
  std::set<std::pair<MonoTime, TaskId>> queue_ ABSL_GUARDED_BY(mu_);
  TaskId running_ ABSL_GUARDED_BY(mu_) = 0;
  // The scheduler thread has run everything due up to this time.
  MonoTime idle_through_ ABSL_GUARDED_BY(mu_){
      std::numeric_limits<std::int64_t>::min()};
  bool wake_pending_ ABSL_GUARDED_BY(mu_) = false;
  std::uint64_t rng_state_ ABSL_GUARDED_BY(mu_);

  std::thread thread_;
};

}  // namespace keel

#endif  // KEEL_BASE_SCHEDULER_H_
