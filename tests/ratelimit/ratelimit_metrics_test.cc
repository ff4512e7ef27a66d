// The rate limiters' metrics: exact counter values per decision, shadow-mode
// labels, scrape-time gauges, and registration failures.

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
#include "keel/ratelimit/concurrency_limiter.h"
#include "keel/ratelimit/keyed_rate_limiter.h"
#include "keel/ratelimit/token_bucket.h"
#include "keel/ratelimit/window_limiter.h"
#include "testing/prometheus_text.h"

namespace keel {
namespace ratelimit {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using testing::PrometheusText;

// The exposition line of one decision series.
std::string DecisionLine(const std::string& limiter,
                         const std::string& decision, int value) {
  return "keel_ratelimit_decisions_total{limiter=\"" + limiter +
         "\",decision=\"" + decision + "\"} " + std::to_string(value) + "\n";
}

metrics::CounterFamily* Decisions(metrics::Registry& registry) {
  return registry
      .AddCounter("keel_ratelimit_decisions_total",
                  "Rate limiter decisions by outcome; shadow_* outcomes are "
                  "refusals that shadow mode let through.",
                  {"limiter", "decision"})
      .value();
}

TEST(RatelimitMetricsTest, TokenBucketCountsEveryReason) {
  metrics::Registry registry;
  ManualClock clock;
  TokenBucketOptions options;
  options.name = "api";
  options.rate = 1;
  options.burst = 2;
  options.max_debt = 1;
  options.clock = &clock;
  options.metrics = &registry;
  auto bucket = TokenBucket::Create(options).value();

  EXPECT_TRUE(bucket->TryAcquire().allowed);
  EXPECT_TRUE(bucket->TryAcquire(1, clock.Now()).allowed);
  EXPECT_FALSE(bucket->TryAcquire().allowed);
  EXPECT_TRUE(bucket->Reserve(1).ok());  // borrows the one permit of debt
  EXPECT_FALSE(bucket->Reserve(1).ok());
  EXPECT_FALSE(bucket->TryAcquire(3).allowed);
  EXPECT_FALSE(bucket->TryAcquire(-1).allowed);

  metrics::CounterFamily* family = Decisions(registry);
  EXPECT_EQ(family->WithLabels({"api", "admitted"}).Value(), 3);
  EXPECT_EQ(family->WithLabels({"api", "rate_limited"}).Value(), 2);
  EXPECT_EQ(family->WithLabels({"api", "oversize"}).Value(), 1);
  EXPECT_EQ(family->WithLabels({"api", "invalid_permits"}).Value(), 1);
  EXPECT_THAT(PrometheusText(registry),
              HasSubstr(DecisionLine("api", "admitted", 3)));
}

TEST(RatelimitMetricsTest, ShadowRefusalsHaveTheirOwnLabel) {
  metrics::Registry registry;
  ManualClock clock;
  TokenBucketOptions options;
  options.name = "dry";
  options.rate = 1;
  options.burst = 1;
  options.shadow = true;
  options.clock = &clock;
  options.metrics = &registry;
  auto bucket = TokenBucket::Create(options).value();

  EXPECT_TRUE(bucket->TryAcquire().allowed);
  EXPECT_TRUE(bucket->TryAcquire().allowed);  // let through by shadow mode
  EXPECT_TRUE(bucket->TryAcquire(2).allowed);

  const std::string text = PrometheusText(registry);
  EXPECT_THAT(text, HasSubstr(DecisionLine("dry", "admitted", 1)));
  EXPECT_THAT(text, HasSubstr(DecisionLine("dry", "shadow_rate_limited", 1)));
  EXPECT_THAT(text, HasSubstr(DecisionLine("dry", "shadow_oversize", 1)));
  EXPECT_THAT(text,
              HasSubstr(DecisionLine("dry", "shadow_invalid_permits", 0)));
  // An enforced refusal series would read as real 429s.
  EXPECT_THAT(text, Not(HasSubstr("decision=\"rate_limited\"")));
}

TEST(RatelimitMetricsTest, WindowLimiterCountsDecisions) {
  metrics::Registry registry;
  ManualClock clock;
  WindowLimiterOptions options;
  options.name = "login";
  options.limit = 2;
  options.algorithm = WindowAlgorithm::kFixed;
  options.clock = &clock;
  options.metrics = &registry;
  auto limiter = WindowLimiter::Create(options).value();

  EXPECT_TRUE(limiter->TryAcquire().allowed);
  EXPECT_TRUE(limiter->Reserve(1).ok());
  EXPECT_FALSE(limiter->TryAcquire().allowed);
  EXPECT_FALSE(limiter->TryAcquire(3).allowed);

  metrics::CounterFamily* family = Decisions(registry);
  EXPECT_EQ(family->WithLabels({"login", "admitted"}).Value(), 2);
  EXPECT_EQ(family->WithLabels({"login", "rate_limited"}).Value(), 1);
  EXPECT_EQ(family->WithLabels({"login", "oversize"}).Value(), 1);
}

TEST(RatelimitMetricsTest, ConcurrencyLimiterReportsInFlight) {
  metrics::Registry registry;
  ConcurrencyLimiterOptions options;
  options.name = "uploads";
  options.limit = 3;
  options.metrics = &registry;
  auto limiter = ConcurrencyLimiter::Create(options).value();

  {
    ConcurrencyLimiter::Permit a = limiter->TryAcquire(2);
    ConcurrencyLimiter::Permit b = limiter->TryAcquire(2);  // refused
    ASSERT_TRUE(a.ok());
    ASSERT_FALSE(b.ok());
    const std::string text = PrometheusText(registry);
    EXPECT_THAT(text,
                HasSubstr("keel_ratelimit_in_flight{limiter=\"uploads\"} 2\n"));
    EXPECT_THAT(text, HasSubstr(DecisionLine("uploads", "admitted", 1)));
    EXPECT_THAT(text, HasSubstr(DecisionLine("uploads", "rate_limited", 1)));
  }
  EXPECT_THAT(PrometheusText(registry),
              HasSubstr("keel_ratelimit_in_flight{limiter=\"uploads\"} 0\n"));
}

TEST(RatelimitMetricsTest, ConcurrencyLimiterNameTakenWhileAlive) {
  metrics::Registry registry;
  ConcurrencyLimiterOptions options;
  options.name = "jobs";
  options.limit = 1;
  options.metrics = &registry;
  auto first = ConcurrencyLimiter::Create(options);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(ConcurrencyLimiter::Create(options).status().code(),
            absl::StatusCode::kAlreadyExists);
  first->reset();
  // The gauge left with the first limiter.
  EXPECT_THAT(PrometheusText(registry),
              Not(HasSubstr("keel_ratelimit_in_flight{")));
  EXPECT_TRUE(ConcurrencyLimiter::Create(options).ok());
}

TEST(RatelimitMetricsTest, KeyedLimiterReportsKeysAndEvictions) {
  metrics::Registry registry;
  ManualClock clock;
  KeyedRateLimiterOptions options;
  options.name = "per_client";
  KeyedLimit limit;
  limit.rate = 1;
  limit.burst = 2;
  options.limits = {limit};
  options.max_keys = 2;
  options.shards = 1;
  options.clock = &clock;
  options.metrics = &registry;
  auto limiter = KeyedRateLimiter::Create(options).value();

  EXPECT_TRUE(limiter->TryAcquire("a").allowed);
  EXPECT_TRUE(limiter->TryAcquire("b").allowed);
  EXPECT_TRUE(limiter->TryAcquire("c").allowed);  // evicts "a", not idle
  EXPECT_FALSE(limiter->TryAcquire("c", 3).allowed);
  std::string text = PrometheusText(registry);
  EXPECT_THAT(text,
              HasSubstr("keel_ratelimit_keys{limiter=\"per_client\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("keel_ratelimit_key_evictions_total{limiter="
                              "\"per_client\",reason=\"lru\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("keel_ratelimit_key_evictions_total{limiter="
                              "\"per_client\",reason=\"idle\"} 0\n"));
  EXPECT_THAT(text, HasSubstr(DecisionLine("per_client", "admitted", 3)));
  EXPECT_THAT(text, HasSubstr(DecisionLine("per_client", "oversize", 1)));

  clock.Advance(std::chrono::seconds(5));  // every bucket full again
  EXPECT_EQ(limiter->EvictIdle(), 2u);
  text = PrometheusText(registry);
  EXPECT_THAT(text,
              HasSubstr("keel_ratelimit_keys{limiter=\"per_client\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("keel_ratelimit_key_evictions_total{limiter="
                              "\"per_client\",reason=\"idle\"} 2\n"));
}

TEST(RatelimitMetricsTest, FamilyOfAnotherShapeFailsCreate) {
  metrics::Registry registry;
  ASSERT_TRUE(registry
                  .AddGauge("keel_ratelimit_decisions_total", "Not a counter.",
                            {"limiter"})
                  .ok());
  TokenBucketOptions bucket;
  bucket.rate = 1;
  bucket.burst = 1;
  bucket.metrics = &registry;
  EXPECT_FALSE(TokenBucket::Create(bucket).ok());
  WindowLimiterOptions window;
  window.limit = 1;
  window.metrics = &registry;
  EXPECT_FALSE(WindowLimiter::Create(window).ok());
  ConcurrencyLimiterOptions concurrency;
  concurrency.limit = 1;
  concurrency.metrics = &registry;
  EXPECT_FALSE(ConcurrencyLimiter::Create(concurrency).ok());
  KeyedRateLimiterOptions keyed;
  KeyedLimit limit;
  limit.rate = 1;
  limit.burst = 1;
  keyed.limits = {limit};
  keyed.metrics = &registry;
  EXPECT_FALSE(KeyedRateLimiter::Create(keyed).ok());
}

TEST(RatelimitMetricsTest, ConcurrentDecisionsAreAllCounted) {
  metrics::Registry registry;
  ManualClock clock;
  TokenBucketOptions options;
  options.name = "hot";
  options.rate = 1;
  options.burst = 1000;
  options.clock = &clock;
  options.metrics = &registry;
  auto bucket = TokenBucket::Create(options).value();
  ConcurrencyLimiterOptions concurrency;
  concurrency.name = "hot";
  concurrency.limit = 2;
  concurrency.metrics = &registry;
  auto limiter = ConcurrencyLimiter::Create(concurrency).value();

  constexpr int kThreads = 4;
  constexpr int kCalls = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCalls; ++i) {
        bucket->TryAcquire();
        ConcurrencyLimiter::Permit permit = limiter->TryAcquire();
      }
    });
  }
  std::string text;
  for (int i = 0; i < 50; ++i)
    text = PrometheusText(registry);  // scrape meanwhile
  for (std::thread& thread : threads) thread.join();

  metrics::CounterFamily* family = Decisions(registry);
  // Every decision is counted once; 1000 permits, no refill on a manual
  // clock.
  EXPECT_EQ(family->WithLabels({"hot", "admitted"}).Value() +
                family->WithLabels({"hot", "rate_limited"}).Value(),
            2.0 * kThreads * kCalls);
  EXPECT_THAT(PrometheusText(registry),
              HasSubstr("keel_ratelimit_in_flight{limiter=\"hot\"} 0\n"));
}

}  // namespace
}  // namespace ratelimit
}  // namespace keel
