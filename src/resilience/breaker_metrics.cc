#include "keel/resilience/breaker_metrics.h"

#include <string>

namespace keel::resilience {

absl::StatusOr<std::unique_ptr<CircuitBreakerMetrics>>
CircuitBreakerMetrics::Create(metrics::Registry* registry,
                              std::string_view breaker_name) {
  if (registry == nullptr) {
    return absl::InvalidArgumentError("registry: must not be null");
  }
  if (breaker_name.empty()) {
    return absl::InvalidArgumentError("breaker_name: must not be empty");
  }
  auto state = registry->AddGauge(
      "keel_breaker_state",
      "Circuit breaker state: 1 for the current state, 0 otherwise.",
      {"breaker", "state"});
  if (!state.ok()) return state.status();
  auto calls =
      registry->AddCounter("keel_breaker_calls_total",
                           "Circuit breaker decisions and recorded outcomes.",
                           {"breaker", "outcome"});
  if (!calls.ok()) return calls.status();
  auto transitions = registry->AddCounter("keel_breaker_transitions_total",
                                          "Circuit breaker state transitions.",
                                          {"breaker", "from", "to"});
  if (!transitions.ok()) return transitions.status();

  std::unique_ptr<CircuitBreakerMetrics> self(new CircuitBreakerMetrics());
  self->name_ = std::string(breaker_name);
  self->transitions_ = *transitions;
  for (int i = 0; i < kStates; ++i) {
    self->state_[static_cast<std::size_t>(i)] = (*state)->WithLabels(
        {breaker_name, CircuitStateName(static_cast<CircuitState>(i))});
    self->state_[static_cast<std::size_t>(i)].Set(
        i == static_cast<int>(CircuitState::kClosed) ? 1 : 0);
  }
  self->success_ = (*calls)->WithLabels({breaker_name, "success"});
  self->failure_ = (*calls)->WithLabels({breaker_name, "failure"});
  self->ignored_ = (*calls)->WithLabels({breaker_name, "ignored"});
  self->rejected_ = (*calls)->WithLabels({breaker_name, "rejected"});
  self->late_ = (*calls)->WithLabels({breaker_name, "late"});
  return self;
}

void CircuitBreakerMetrics::OnStateChange(const CircuitBreaker& breaker,
                                          CircuitState from, CircuitState to) {
  (void)breaker;
  state_[static_cast<std::size_t>(from)].Set(0);
  state_[static_cast<std::size_t>(to)].Set(1);
  transitions_
      ->WithLabels({name_, CircuitStateName(from), CircuitStateName(to)})
      .Inc();
}

void CircuitBreakerMetrics::OnCallRejected(const CircuitBreaker& breaker,
                                           CircuitState state) {
  (void)breaker, (void)state;
  rejected_.Inc();
}

void CircuitBreakerMetrics::OnCallRecorded(const CircuitBreaker& breaker,
                                           CallOutcome outcome, bool slow) {
  (void)breaker, (void)slow;
  switch (outcome) {
    case CallOutcome::kSuccess:
      success_.Inc();
      break;
    case CallOutcome::kFailure:
      failure_.Inc();
      break;
    case CallOutcome::kIgnored:
      ignored_.Inc();
      break;
  }
}

void CircuitBreakerMetrics::OnLateResult(const CircuitBreaker& breaker) {
  (void)breaker;
  late_.Inc();
}

}  // namespace keel::resilience
