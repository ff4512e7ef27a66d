#include "ratelimit/blocking.h"

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "keel/base/mutex.h"
#include "ratelimit/options_check.h"

namespace keel {
namespace ratelimit_internal {
namespace {

// Wakes a sleeper when a manual clock moves.
class ClockWaiter final : public ClockListener {
 public:
  void OnClockAdvanced() override {
    MutexLock lock(mu_);
    moved_ = true;
    cv_.Signal();
  }

  // Waits for at most `timeout` of real time or until the clock moves.
  void WaitFor(std::chrono::nanoseconds timeout) {
    MutexLock lock(mu_);
    if (!moved_) cv_.WaitFor(mu_, timeout);
    moved_ = false;
  }

 private:
  Mutex mu_;
  CondVar cv_;
  bool moved_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

void SleepUntil(Clock& clock, MonoTime until) {
  ClockWaiter waiter;
  clock.AddListener(&waiter);
  for (MonoTime now = clock.Now(); now < until; now = clock.Now()) {
    waiter.WaitFor(until - now);
  }
  // Returns only after any notification in progress has finished.
  clock.RemoveListener(&waiter);
}

absl::Status AcquireByReserving(ratelimit::RateLimiter& limiter, Clock& clock,
                                std::int64_t permits, MonoTime deadline) {
  using ratelimit::DecisionReason;
  for (;;) {
    ratelimit::Reservation reservation = limiter.Reserve(permits);
    const ratelimit::Decision& decision = reservation.decision();
    if (reservation.ok()) {
      if (reservation.ready_at() > deadline) {
        reservation.Cancel();
        return absl::DeadlineExceededError(absl::StrCat(
            "rate limiter '", AsAbsl(limiter.name()), "': ", permits,
            " permits would be ready after the deadline"));
      }
      SleepUntil(clock, reservation.ready_at());
      return absl::OkStatus();
    }
    if (decision.reason != DecisionReason::kRateLimited) {
      return ratelimit::DecisionToStatus(decision, limiter.name());
    }
    const MonoTime retry_at = clock.Now() + decision.retry_after;
    if (retry_at > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("rate limiter '", AsAbsl(limiter.name()), "': ", permits,
                       " permits not available before the deadline"));
    }
    SleepUntil(clock, retry_at);
  }
}

}  // namespace ratelimit_internal
}  // namespace keel
