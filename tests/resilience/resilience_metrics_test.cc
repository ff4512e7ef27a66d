// Metrics of the resilience policies registered through their options:
// bulkhead, retry, adaptive concurrency limiter and circuit breaker.

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/base/clock.h"
#include "keel/metrics/exposition.h"
#include "keel/metrics/registry.h"
#include "keel/resilience/adaptive_concurrency_limiter.h"
#include "keel/resilience/bulkhead.h"
#include "keel/resilience/circuit_breaker.h"
#include "keel/resilience/retry.h"
#include "keel/resilience/sleeper.h"
#include "testing/prometheus_text.h"

namespace keel::resilience {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

using testing::PrometheusText;

TEST(ResilienceMetricsTest, BulkheadRejectionsAndInFlight) {
  metrics::Registry registry;
  ManualClock clock;
  BulkheadOptions options;
  options.name = "db";
  options.max_concurrent_calls = 2;
  options.clock = &clock;
  options.metrics = &registry;
  auto bulkhead = Bulkhead::Create(options).value();

  {
    auto a = bulkhead->Acquire();
    auto b = bulkhead->Acquire();
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(bulkhead->Acquire().status().code(),
              absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(bulkhead->Acquire().status().code(),
              absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(bulkhead->Acquire(clock.Now()).status().code(),
              absl::StatusCode::kDeadlineExceeded);
    const std::string text = PrometheusText(registry);
    EXPECT_THAT(text,
                HasSubstr("keel_bulkhead_in_flight{bulkhead=\"db\"} 2\n"));
    EXPECT_THAT(text, HasSubstr("keel_bulkhead_rejections_total{bulkhead="
                                "\"db\",reason=\"full\"} 2\n"));
    EXPECT_THAT(text, HasSubstr("keel_bulkhead_rejections_total{bulkhead="
                                "\"db\",reason=\"deadline\"} 1\n"));
    // Nobody waited: max_wait is 0.
    EXPECT_THAT(
        text,
        HasSubstr("keel_bulkhead_wait_seconds_count{bulkhead=\"db\"} 0\n"));
  }
  EXPECT_THAT(PrometheusText(registry),
              HasSubstr("keel_bulkhead_in_flight{bulkhead=\"db\"} 0\n"));
}

TEST(ResilienceMetricsTest, BulkheadWaitHistogram) {
  metrics::Registry registry;
  ManualClock clock;
  BulkheadOptions options;
  options.name = "api";
  options.max_concurrent_calls = 1;
  options.max_wait = seconds(5);
  options.clock = &clock;
  options.metrics = &registry;
  auto bulkhead = Bulkhead::Create(options).value();
  auto held = bulkhead->Acquire();
  ASSERT_TRUE(held.ok());

  absl::Status result;
  std::thread waiter([&] { result = bulkhead->Acquire().status(); });
  while (bulkhead->waiting() < 1) std::this_thread::yield();
  clock.Advance(seconds(5));
  waiter.join();
  EXPECT_EQ(result.code(), absl::StatusCode::kResourceExhausted);

  const std::string text = PrometheusText(registry);
  EXPECT_THAT(
      text,
      HasSubstr("keel_bulkhead_wait_seconds_count{bulkhead=\"api\"} 1\n"));
  EXPECT_THAT(
      text, HasSubstr("keel_bulkhead_wait_seconds_sum{bulkhead=\"api\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("keel_bulkhead_rejections_total{bulkhead="
                              "\"api\",reason=\"full\"} 1\n"));
}

TEST(ResilienceMetricsTest, BulkheadNameTakenWhileAlive) {
  metrics::Registry registry;
  BulkheadOptions options;
  options.name = "x";
  options.metrics = &registry;
  auto first = Bulkhead::Create(options);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(Bulkhead::Create(options).status().code(),
            absl::StatusCode::kAlreadyExists);
  first->reset();
  EXPECT_TRUE(Bulkhead::Create(options).ok());
}

class RetryMetricsTest : public ::testing::Test {
 protected:
  RetryOptions Options() {
    RetryOptions options;
    options.name = "fetch";
    options.max_attempts = 3;
    options.initial_backoff = milliseconds(10);
    options.clock = &clock_;
    options.sleeper = &sleeper_;
    options.random_seed = 7;
    options.metrics = &registry_;
    return options;
  }
  double Attempts(std::string_view outcome) {
    return registry_
        .AddCounter("keel_retry_attempts_total",
                    "Attempts run by a retry policy, by outcome.",
                    {"policy", "outcome"})
        .value()
        ->WithLabels({"fetch", outcome})
        .Value();
  }
  double GiveUps(std::string_view reason) {
    return registry_
        .AddCounter("keel_retry_give_ups_total",
                    "Calls a retry policy ended with a failure, by why it "
                    "stopped retrying.",
                    {"policy", "reason"})
        .value()
        ->WithLabels({"fetch", reason})
        .Value();
  }

  metrics::Registry registry_;
  ManualClock clock_;
  ManualClockSleeper sleeper_{&clock_};
};

TEST_F(RetryMetricsTest, CountsAttemptsAndGiveUps) {
  auto retry = Retry::Create(Options()).value();
  int calls = 0;
  // Fails once, then succeeds.
  EXPECT_TRUE(retry
                  ->Run(
                      [&] {
                        return ++calls == 1 ? absl::UnavailableError("down")
                                            : absl::OkStatus();
                      },
                      kNoDeadline)
                  .ok());
  // Three retryable failures: attempts exhausted.
  EXPECT_FALSE(
      retry->Run([] { return absl::UnavailableError("down"); }, kNoDeadline)
          .ok());
  // Not retryable.
  EXPECT_FALSE(
      retry->Run([] { return absl::NotFoundError("gone"); }, kNoDeadline).ok());
  // The backoff would reach the deadline.
  EXPECT_FALSE(
      retry->Run([] { return absl::UnavailableError("down"); }, clock_.Now())
          .ok());

  EXPECT_EQ(Attempts("success"), 1);
  EXPECT_EQ(Attempts("retryable_failure"), 1 + 3 + 1);
  EXPECT_EQ(Attempts("non_retryable_failure"), 1);
  EXPECT_EQ(GiveUps("attempts_exhausted"), 1);
  EXPECT_EQ(GiveUps("not_retryable"), 1);
  EXPECT_EQ(GiveUps("deadline"), 1);
  EXPECT_EQ(GiveUps("budget_exhausted"), 0);
}

TEST_F(RetryMetricsTest, CountsBudgetExhaustion) {
  RetryBudgetOptions budget_options;
  budget_options.max_tokens = 2;
  auto budget = RetryBudget::Create(budget_options).value();
  RetryOptions options = Options();
  options.budget = budget.get();
  auto retry = Retry::Create(options).value();
  // 2 tokens: the first failure leaves 1, which is not above max / 2.
  EXPECT_FALSE(
      retry->Run([] { return absl::UnavailableError("down"); }, kNoDeadline)
          .ok());
  EXPECT_EQ(Attempts("retryable_failure"), 1);
  EXPECT_EQ(GiveUps("budget_exhausted"), 1);
}

TEST_F(RetryMetricsTest, RejectsEmptyName) {
  RetryOptions options = Options();
  options.name = "";
  EXPECT_EQ(Retry::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ResilienceMetricsTest, AdaptiveLimiterLimitInFlightAndDrops) {
  metrics::Registry registry;
  ManualClock clock;
  AdaptiveConcurrencyOptions options;
  options.name = "search";
  options.algorithm = AdaptiveConcurrencyOptions::Algorithm::kAimd;
  options.initial_limit = 2;
  options.min_limit = 1;
  options.aimd.backoff_ratio = 0.5;
  options.clock = &clock;
  options.metrics = &registry;
  auto limiter = AdaptiveConcurrencyLimiter::Create(options).value();

  auto a = limiter->Acquire();
  auto b = limiter->Acquire();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(limiter->Acquire().status().code(),
            absl::StatusCode::kResourceExhausted);
  std::string text = PrometheusText(registry);
  EXPECT_THAT(text, HasSubstr("keel_adaptive_limit{limiter=\"search\"} 2\n"));
  EXPECT_THAT(text,
              HasSubstr("keel_adaptive_in_flight{limiter=\"search\"} 2\n"));
  EXPECT_THAT(
      text,
      HasSubstr("keel_adaptive_rejections_total{limiter=\"search\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("keel_adaptive_drops_total{limiter=\"search\"} 0\n"));

  a->OnDropped();  // AIMD halves the limit: 2 -> 1
  b->OnIgnored();
  text = PrometheusText(registry);
  EXPECT_THAT(text, HasSubstr("keel_adaptive_limit{limiter=\"search\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("keel_adaptive_in_flight{limiter=\"search\"} 0\n"));
  EXPECT_THAT(text,
              HasSubstr("keel_adaptive_drops_total{limiter=\"search\"} 1\n"));
}

TEST(ResilienceMetricsTest, AdaptiveLimiterRejectsEmptyName) {
  AdaptiveConcurrencyOptions options;
  options.name = "";
  EXPECT_EQ(AdaptiveConcurrencyLimiter::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ResilienceMetricsTest, BreakerMetricsThroughOptions) {
  metrics::Registry registry;
  ManualClock clock;
  CircuitBreakerOptions options;
  options.name = "payments";
  options.clock = &clock;
  options.minimum_calls = 2;
  options.metrics = &registry;
  auto breaker = CircuitBreaker::Create(options).value();
  EXPECT_THAT(PrometheusText(registry),
              HasSubstr("keel_breaker_state{breaker="
                        "\"payments\",state=\"closed\"} 1\n"));
  breaker->Execute([] { return absl::InternalError("x"); }).IgnoreError();
  breaker->Execute([] { return absl::InternalError("x"); }).IgnoreError();
  ASSERT_EQ(breaker->state(), CircuitState::kOpen);
  breaker->Execute([] { return absl::OkStatus(); }).IgnoreError();
  const std::string text = PrometheusText(registry);
  EXPECT_THAT(text, HasSubstr("keel_breaker_state{breaker=\"payments\",state="
                              "\"open\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("keel_breaker_calls_total{breaker=\"payments\","
                              "outcome=\"failure\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("keel_breaker_calls_total{breaker=\"payments\","
                              "outcome=\"rejected\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("outcome=\"success\"} 1")));
}

TEST(ResilienceMetricsTest, FamilyOfAnotherShapeFailsCreate) {
  metrics::Registry registry;
  for (const char* name :
       {"keel_bulkhead_in_flight", "keel_retry_attempts_total",
        "keel_adaptive_limit", "keel_breaker_state"}) {
    ASSERT_TRUE(registry.AddCounter(name, "Taken.", {"other"}).ok()) << name;
  }
  BulkheadOptions bulkhead;
  bulkhead.metrics = &registry;
  EXPECT_FALSE(Bulkhead::Create(bulkhead).ok());
  RetryOptions retry;
  retry.metrics = &registry;
  EXPECT_FALSE(Retry::Create(retry).ok());
  AdaptiveConcurrencyOptions adaptive;
  adaptive.metrics = &registry;
  EXPECT_FALSE(AdaptiveConcurrencyLimiter::Create(adaptive).ok());
  CircuitBreakerOptions breaker;
  breaker.metrics = &registry;
  EXPECT_FALSE(CircuitBreaker::Create(breaker).ok());
}

TEST(ResilienceMetricsTest, ConcurrentCallsAreAllCounted) {
  metrics::Registry registry;
  BulkheadOptions options;
  options.name = "pool";
  options.max_concurrent_calls = 2;
  options.metrics = &registry;
  auto bulkhead = Bulkhead::Create(options).value();
  AdaptiveConcurrencyOptions adaptive_options;
  adaptive_options.name = "pool";
  adaptive_options.metrics = &registry;
  auto adaptive = AdaptiveConcurrencyLimiter::Create(adaptive_options).value();

  constexpr int kThreads = 4;
  constexpr int kCalls = 1000;
  std::atomic<int> bulkhead_rejected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCalls; ++i) {
        if (!bulkhead->Acquire().ok()) bulkhead_rejected.fetch_add(1);
        if (auto permit = adaptive->Acquire(); permit.ok()) permit->OnIgnored();
      }
    });
  }
  for (int i = 0; i < 50; ++i) PrometheusText(registry);  // scrape meanwhile
  for (std::thread& thread : threads) thread.join();
  const std::string text = PrometheusText(registry);
  EXPECT_THAT(text, HasSubstr("keel_bulkhead_rejections_total{bulkhead="
                              "\"pool\",reason=\"full\"} " +
                              std::to_string(bulkhead_rejected.load()) + "\n"));
  EXPECT_THAT(text,
              HasSubstr("keel_bulkhead_in_flight{bulkhead=\"pool\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("keel_adaptive_in_flight{limiter=\"pool\"} 0\n"));
}

}  // namespace
}  // namespace keel::resilience
