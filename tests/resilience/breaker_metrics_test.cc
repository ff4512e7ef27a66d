#include "keel/resilience/breaker_metrics.h"

#include "gtest/gtest.h"
#include "keel/base/clock.h"
#include "keel/metrics/registry.h"

namespace keel::resilience {
namespace {

TEST(CircuitBreakerMetricsTest, ExportsDecisionsAndTransitions) {
  metrics::Registry registry;
  auto exporter = CircuitBreakerMetrics::Create(&registry, "payments");
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  ManualClock clock;
  CircuitBreakerOptions options;
  options.name = "payments";
  options.clock = &clock;
  options.minimum_calls = 2;
  options.listeners = {exporter->get()};
  auto breaker = CircuitBreaker::Create(options).value();

  auto calls =
      registry.AddCounter("keel_breaker_calls_total",
                          "Circuit breaker decisions and recorded outcomes.",
                          {"breaker", "outcome"});
  ASSERT_TRUE(calls.ok()) << calls.status();
  auto state = registry.AddGauge(
      "keel_breaker_state",
      "Circuit breaker state: 1 for the current state, 0 otherwise.",
      {"breaker", "state"});
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ((*state)->WithLabels({"payments", "closed"}).Value(), 1);

  breaker->Execute([] { return absl::OkStatus(); }).IgnoreError();
  breaker->Execute([] { return absl::CancelledError("x"); }).IgnoreError();
  breaker->Execute([] { return absl::InternalError("x"); }).IgnoreError();
  ASSERT_EQ(breaker->state(), CircuitState::kOpen);
  breaker->Execute([] { return absl::OkStatus(); }).IgnoreError();

  EXPECT_EQ((*calls)->WithLabels({"payments", "success"}).Value(), 1);
  EXPECT_EQ((*calls)->WithLabels({"payments", "ignored"}).Value(), 1);
  EXPECT_EQ((*calls)->WithLabels({"payments", "failure"}).Value(), 1);
  EXPECT_EQ((*calls)->WithLabels({"payments", "rejected"}).Value(), 1);
  EXPECT_EQ((*state)->WithLabels({"payments", "closed"}).Value(), 0);
  EXPECT_EQ((*state)->WithLabels({"payments", "open"}).Value(), 1);
  auto transitions = registry.AddCounter("keel_breaker_transitions_total",
                                         "Circuit breaker state transitions.",
                                         {"breaker", "from", "to"});
  ASSERT_TRUE(transitions.ok());
  EXPECT_EQ((*transitions)->WithLabels({"payments", "closed", "open"}).Value(),
            1);
}

TEST(CircuitBreakerMetricsTest, RejectsBadArguments) {
  metrics::Registry registry;
  EXPECT_NE(CircuitBreakerMetrics::Create(nullptr, "x")
                .status()
                .message()
                .find("registry"),
            std::string::npos);
  EXPECT_NE(CircuitBreakerMetrics::Create(&registry, "")
                .status()
                .message()
                .find("breaker_name"),
            std::string::npos);
}

}  // namespace
}  // namespace keel::resilience
