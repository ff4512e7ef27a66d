#include "keel/base/scheduler.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "keel/base/hash.h"

namespace keel {

// Wakes the scheduler thread when a manual clock jumps.
class Scheduler::Waker final : public ClockListener {
 public:
  explicit Waker(Scheduler* scheduler) : scheduler_(scheduler) {}
  void OnClockAdvanced() override {
    MutexLock lock(scheduler_->mu_);
    scheduler_->wake_pending_ = true;
    scheduler_->wake_cv_.Signal();
  }

 private:
  Scheduler* const scheduler_;
};

absl::StatusOr<std::unique_ptr<Scheduler>> Scheduler::Create(
    SchedulerOptions options) {
  if (options.clock == nullptr) {
    return absl::InvalidArgumentError(
        "SchedulerOptions.clock must not be null");
  }
  std::unique_ptr<Scheduler> scheduler(new Scheduler(std::move(options)));
  scheduler->options_.clock->AddListener(scheduler->waker_.get());
  scheduler->thread_ = std::thread([s = scheduler.get()] { s->Loop(); });
  return scheduler;
}

Scheduler::Scheduler(SchedulerOptions options)
    : options_(std::move(options)),
      waker_(std::make_unique<Waker>(this)),
      rng_state_(Mix64(reinterpret_cast<std::uintptr_t>(this))) {}

Scheduler::~Scheduler() {
  Shutdown();
  if (thread_.joinable()) thread_.join();
  options_.clock->RemoveListener(waker_.get());
}

bool Scheduler::OnSchedulerThread() const {
  return std::this_thread::get_id() == thread_.get_id();
}

absl::StatusOr<Scheduler::TaskId> Scheduler::ScheduleAfter(
    std::chrono::nanoseconds delay, std::function<void()> task) {
  if (!task)
    return absl::InvalidArgumentError(
        "Scheduler::ScheduleAfter: task is empty");
  Task t;
  t.fn = std::move(task);
  t.deadline =
      options_.clock->Now() + std::max(delay, std::chrono::nanoseconds(0));
  return Add(std::move(t));
}

absl::StatusOr<Scheduler::TaskId> Scheduler::ScheduleEvery(
    std::chrono::nanoseconds period, std::function<void()> task,
    PeriodicOptions options) {
  if (!task)
    return absl::InvalidArgumentError(
        "Scheduler::ScheduleEvery: task is empty");
  if (period <= std::chrono::nanoseconds(0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Scheduler::ScheduleEvery: period must be > 0, got ",
                     period.count(), "ns"));
  }
  if (options.jitter < std::chrono::nanoseconds(0)) {
    return absl::InvalidArgumentError("PeriodicOptions.jitter must be >= 0");
  }
  if (options.initial_delay &&
      *options.initial_delay < std::chrono::nanoseconds(0)) {
    return absl::InvalidArgumentError(
        "PeriodicOptions.initial_delay must be >= 0");
  }
  Task t;
  t.fn = std::move(task);
  t.period = period;
  t.jitter = options.jitter;
  t.deadline = options_.clock->Now() + options.initial_delay.value_or(period);
  return Add(std::move(t));
}

absl::StatusOr<Scheduler::TaskId> Scheduler::Add(Task task) {
  MutexLock lock(mu_);
  if (stopping_) return absl::FailedPreconditionError("Scheduler is shut down");
  if (task.period.count() > 0) task.deadline += Jitter(task.jitter);
  const TaskId id = next_id_++;
  queue_.emplace(task.deadline, id);
  tasks_.emplace(id, std::move(task));
  wake_pending_ = true;
  wake_cv_.Signal();
  return id;
}

std::chrono::nanoseconds Scheduler::Jitter(std::chrono::nanoseconds max) {
  if (max.count() <= 0) return std::chrono::nanoseconds(0);
  rng_state_ += 0x9e3779b97f4a7c15ULL;  // SplitMix64 step
  const std::uint64_t r = Mix64(rng_state_);
  return std::chrono::nanoseconds(static_cast<std::int64_t>(
      r % (static_cast<std::uint64_t>(max.count()) + 1)));
}

bool Scheduler::Cancel(TaskId id) {
  MutexLock lock(mu_);
  auto it = tasks_.find(id);
  if (it == tasks_.end() || it->second.cancelled) return false;
  if (running_ == id) {
    // The scheduler thread erases it when the run ends; wait for that unless we
    // are that run.
    it->second.cancelled = true;
    if (!OnSchedulerThread()) {
      while (running_ == id) idle_cv_.Wait(mu_);
    }
    return true;
  }
  queue_.erase({it->second.deadline, id});
  tasks_.erase(it);
  return true;
}

void Scheduler::Shutdown() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
    queue_.clear();
    // The running task (if any) stays until it returns; the loop then exits.
    for (auto it = tasks_.begin(); it != tasks_.end();) {
      it = it->first == running_ ? std::next(it) : tasks_.erase(it);
    }
    wake_cv_.Signal();
    idle_cv_.SignalAll();
  }
  if (!OnSchedulerThread() && thread_.joinable()) thread_.join();
}

void Scheduler::RunUntilIdle() {
  const MonoTime target = options_.clock->Now();
  MutexLock lock(mu_);
  wake_pending_ = true;
  wake_cv_.Signal();
  // Idle means: the loop has looked at the clock at or after `target`, nothing
  // is running, and nothing queued is due by `target` (a task added after that
  // look is still waited for).
  while (!stopping_ && (idle_through_ < target || running_ != 0 ||
                        (!queue_.empty() && queue_.begin()->first <= target))) {
    idle_cv_.Wait(mu_);
  }
}

std::size_t Scheduler::PendingTasks() const {
  MutexLock lock(mu_);
  return tasks_.size();
}

void Scheduler::Loop() {
  {
    // Best effort; the name is cosmetic.
    std::string name = options_.thread_name.substr(0, 15);
    pthread_setname_np(pthread_self(), name.c_str());
  }
  // Bounds a wait so that clocks that never notify (custom Clock
  // implementations) are still polled.
  constexpr std::chrono::nanoseconds kMaxWait = std::chrono::seconds(1);

  MutexLock lock(mu_);
  while (!stopping_) {
    const MonoTime now = options_.clock->Now();
    if (queue_.empty() || queue_.begin()->first > now) {
      idle_through_ = std::max(idle_through_, now);
      idle_cv_.SignalAll();
      if (wake_pending_) {
        wake_pending_ = false;
        continue;  // re-read the clock: it may have moved while we scanned
      }
      std::chrono::nanoseconds wait = kMaxWait;
      if (!queue_.empty()) wait = std::min(wait, queue_.begin()->first - now);
      wake_cv_.WaitFor(mu_, wait);
      continue;
    }

    const TaskId id = queue_.begin()->second;
    queue_.erase(queue_.begin());
    Task& task = tasks_.at(id);  // node references survive rehashing
    running_ = id;
    mu_.Unlock();
    try {
      task.fn();
    } catch (...) {
      // Tasks must not throw (see the header); keep the scheduler alive.
    }
    mu_.Lock();
    running_ = 0;
    if (task.period.count() == 0 || task.cancelled || stopping_) {
      tasks_.erase(id);
    } else {
      // Fixed rate without catch-up: skip the periods the clock jumped over.
      const MonoTime after = options_.clock->Now();
      MonoTime next = task.deadline + task.period;
      if (next <= after) next = after + task.period;
      task.deadline = next + Jitter(task.jitter);
      queue_.emplace(task.deadline, id);
    }
    idle_cv_.SignalAll();
  }
  idle_cv_.SignalAll();
}

}  // namespace keel
