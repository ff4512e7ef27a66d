// keel/resilience/breaker_metrics.h
//
// `CircuitBreakerMetrics` exports a circuit breaker's decisions to a
// `keel::metrics::Registry`. It is a CircuitBreakerListener: create it for one
// breaker name and add it to that breaker's options.listeners.
//
//   | metric                                   | type    | labels |
//   |------------------------------------------|---------|----------------------|
//   | keel_breaker_state                       | gauge   | breaker, state | |
//   1 for the current state, 0 for the five others                          |
//   | keel_breaker_calls_total                 | counter | breaker, outcome |
//   |   outcome: success, failure, ignored (recorded), rejected, late | |
//   keel_breaker_transitions_total           | counter | breaker, from, to    |
//
// Example:
//   auto metrics = keel::resilience::CircuitBreakerMetrics::Create(
//       &registry, "payments").value();
//   options.name = "payments";
//   options.listeners.push_back(metrics.get());
//
// Thread safety: thread-safe. Recording uses pre-bound handles (no lock);
// transitions look up the transition series (a short registry lock).

#ifndef KEEL_RESILIENCE_BREAKER_METRICS_H_
#define KEEL_RESILIENCE_BREAKER_METRICS_H_

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "keel/metrics/instruments.h"
#include "keel/metrics/registry.h"
#include "keel/resilience/circuit_breaker.h"

namespace keel::resilience {

class CircuitBreakerMetrics final : public CircuitBreakerListener {
 public:
  // Registers (or joins) the three families in `registry` and binds the
  // series of `breaker_name`, with keel_breaker_state{state="closed"} = 1.
  // Fails with kInvalidArgument for a null registry or empty name, or with
  // the registry's error when a family of the same name has another shape.
  // `registry` must outlive the returned object.
  static absl::StatusOr<std::unique_ptr<CircuitBreakerMetrics>> Create(
      metrics::Registry* registry, std::string_view breaker_name);

  void OnStateChange(const CircuitBreaker& breaker, CircuitState from,
                     CircuitState to) override;
  void OnCallRejected(const CircuitBreaker& breaker,
                      CircuitState state) override;
  void OnCallRecorded(const CircuitBreaker& breaker, CallOutcome outcome,
                      bool slow) override;
  void OnLateResult(const CircuitBreaker& breaker) override;

 private:
  static constexpr int kStates = 6;
  CircuitBreakerMetrics() = default;

  std::string name_;
  metrics::CounterFamily* transitions_ = nullptr;
  std::array<metrics::Gauge, kStates> state_;
  metrics::Counter success_;
  metrics::Counter failure_;
  metrics::Counter ignored_;
  metrics::Counter rejected_;
  metrics::Counter late_;
};

}  // namespace keel::resilience

#endif  // KEEL_RESILIENCE_BREAKER_METRICS_H_
