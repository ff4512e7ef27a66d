#include "keel/resilience/bulkhead.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "keel/metrics/buckets.h"

namespace keel::resilience {

absl::StatusOr<std::unique_ptr<Bulkhead>> Bulkhead::Create(
    BulkheadOptions options) {
  if (options.name.empty()) {
    return absl::InvalidArgumentError("name: must not be empty");
  }
  if (options.max_concurrent_calls < 1 ||
      options.max_concurrent_calls > 1000000) {
    return absl::InvalidArgumentError(
        "max_concurrent_calls: must be in [1, 1000000]");
  }
  if (options.max_wait.count() < 0) {
    return absl::InvalidArgumentError("max_wait: must be >= 0");
  }
  if (options.clock == nullptr) {
    return absl::InvalidArgumentError("clock: must not be null");
  }
  std::unique_ptr<Bulkhead> bulkhead(new Bulkhead(std::move(options)));
  const absl::Status bound = bulkhead->BindMetrics();
  if (!bound.ok()) return bound;
  return bulkhead;
}

absl::Status Bulkhead::BindMetrics() {
  metrics::Registry* registry = options_.metrics;
  if (registry == nullptr) return absl::OkStatus();
  const std::string_view name = options_.name;
  auto rejections = registry->AddCounter(
      "keel_bulkhead_rejections_total",
      "Calls a bulkhead refused: full (its max_wait passed) or deadline (the "
      "caller's deadline came first).",
      {"bulkhead", "reason"});
  if (!rejections.ok()) return rejections.status();
  // 100 us to about 13 s: waits are bounded by max_wait.
  auto bounds = metrics::ExponentialBuckets(0.0001, 2, 18);
  if (!bounds.ok()) return bounds.status();
  auto waits = registry->AddHistogram(
      "keel_bulkhead_wait_seconds",
      "Time calls that found a bulkhead full spent waiting for a slot.",
      {"bulkhead"}, *std::move(bounds));
  if (!waits.ok()) return waits.status();
  auto in_flight =
      registry->AddGauge("keel_bulkhead_in_flight",
                         "Calls holding a bulkhead slot.", {"bulkhead"});
  if (!in_flight.ok()) return in_flight.status();
  rejected_full_ = (*rejections)->WithLabels({name, "full"});
  rejected_deadline_ = (*rejections)->WithLabels({name, "deadline"});
  wait_seconds_ = (*waits)->WithLabels({name});
  auto registration = (*in_flight)->AddCallback({options_.name}, [this] {
    return static_cast<double>(in_flight_.load(std::memory_order_relaxed));
  });
  if (!registration.ok()) return registration.status();
  in_flight_gauge_ = *std::move(registration);
  return absl::OkStatus();
}

Bulkhead::Bulkhead(BulkheadOptions options) : options_(std::move(options)) {
  // Only waiting needs to hear about a manual clock jumping.
  if (options_.max_wait.count() > 0) options_.clock->AddListener(this);
}

Bulkhead::~Bulkhead() {
  if (options_.max_wait.count() > 0) options_.clock->RemoveListener(this);
}

bool Bulkhead::TryTake() {
  int current = in_flight_.load(std::memory_order_relaxed);
  while (current < options_.max_concurrent_calls) {
    if (in_flight_.compare_exchange_weak(current, current + 1,
                                         std::memory_order_acquire,
                                         std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

void Bulkhead::ReleaseSlot() {
  in_flight_.fetch_sub(1, std::memory_order_release);
  // seq_cst pairs with the waiter's increment of waiters_ before its last
  // TryTake(): either the waiter sees the free slot or we see the waiter.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (waiters_.load(std::memory_order_relaxed) > 0) {
    MutexLock lock(mu_);
    cv_.Signal();
  }
}

void Bulkhead::OnClockAdvanced() {
  MutexLock lock(mu_);
  cv_.SignalAll();
}

absl::Status Bulkhead::Rejection(absl::StatusCode code) {
  (code == absl::StatusCode::kDeadlineExceeded ? rejected_deadline_
                                               : rejected_full_)
      .Inc();
  if (options_.listener != nullptr)
    options_.listener->OnCallRejected(*this, code);
  if (code == absl::StatusCode::kDeadlineExceeded) {
    return absl::DeadlineExceededError(
        "deadline reached waiting for bulkhead '" + options_.name + "'");
  }
  return absl::ResourceExhaustedError("bulkhead '" + options_.name +
                                      "' is full");
}

absl::StatusOr<Bulkhead::Permit> Bulkhead::Acquire(MonoTime deadline) {
  if (TryTake()) {
    if (options_.listener != nullptr) options_.listener->OnCallPermitted(*this);
    return Permit(this);
  }
  const MonoTime now = options_.clock->Now();
  if (deadline <= now) return Rejection(absl::StatusCode::kDeadlineExceeded);
  if (options_.max_wait.count() == 0) {
    return Rejection(absl::StatusCode::kResourceExhausted);
  }
  // Which limit ends the wait decides the code.
  const bool deadline_first = deadline - now <= options_.max_wait;
  const MonoTime until = deadline_first ? deadline : now + options_.max_wait;
  MutexLock lock(mu_);
  waiters_.fetch_add(1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  bool taken = false;
  for (;;) {
    if (TryTake()) {
      taken = true;
      break;
    }
    const MonoTime current = options_.clock->Now();
    if (current >= until) break;
    cv_.WaitFor(mu_, until - current);
  }
  waiters_.fetch_sub(1, std::memory_order_relaxed);
  wait_seconds_.ObserveDuration(options_.clock->Now() - now);
  if (!taken) {
    return Rejection(deadline_first ? absl::StatusCode::kDeadlineExceeded
                                    : absl::StatusCode::kResourceExhausted);
  }
  if (options_.listener != nullptr) options_.listener->OnCallPermitted(*this);
  return Permit(this);
}

absl::Status Bulkhead::Run(absl::FunctionRef<absl::Status()> fn,
                           MonoTime deadline) {
  absl::StatusOr<Permit> permit = Acquire(deadline);
  if (!permit.ok()) return permit.status();
  return fn();
}

int Bulkhead::available() const {
  return options_.max_concurrent_calls -
         in_flight_.load(std::memory_order_relaxed);
}

int Bulkhead::waiting() const {
  return waiters_.load(std::memory_order_relaxed);
}

}  // namespace keel::resilience
