// Many threads hammer one breaker: the window counts must be exact and a trip
// must happen exactly once.

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "keel/base/clock.h"
#include "keel/resilience/circuit_breaker.h"

namespace keel::resilience {
namespace {

constexpr int kThreads = 4;
constexpr int kCallsPerThread = 20000;

class CountingListener : public CircuitBreakerListener {
 public:
  void OnStateChange(const CircuitBreaker&, CircuitState,
                     CircuitState) override {
    transitions.fetch_add(1);
  }
  std::atomic<int> transitions{0};
};

void Hammer(CircuitBreaker& breaker, int thread, std::atomic<int>& admitted) {
  for (int i = 0; i < kCallsPerThread; ++i) {
    auto permit = breaker.Acquire();
    if (!permit.ok()) continue;
    admitted.fetch_add(1, std::memory_order_relaxed);
    // Every third call of every thread fails: exactly a third overall.
    breaker.Record(*permit, (i + thread) % 3 == 0 ? CallOutcome::kFailure
                                                  : CallOutcome::kSuccess);
  }
}

TEST(CircuitBreakerStressTest, CountWindowCountsAreExact) {
  ManualClock clock;
  CircuitBreakerOptions options;
  options.clock = &clock;
  options.window_size = kThreads * kCallsPerThread;
  options.failure_rate_threshold = 0;  // never trip: count everything
  auto breaker = CircuitBreaker::Create(options).value();
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] { Hammer(*breaker, t, admitted); });
  }
  for (std::thread& thread : threads) thread.join();
  int expected_failures = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kCallsPerThread; ++i)
      expected_failures += (i + t) % 3 == 0;
  }
  const CircuitBreakerSnapshot snapshot = breaker->Snapshot();
  EXPECT_EQ(admitted.load(), kThreads * kCallsPerThread);
  EXPECT_EQ(snapshot.calls, kThreads * kCallsPerThread);
  EXPECT_EQ(snapshot.failures, expected_failures);
}

TEST(CircuitBreakerStressTest, FullCountWindowKeepsExactlyItsSize) {
  ManualClock clock;
  CircuitBreakerOptions options;
  options.clock = &clock;
  options.window_size = 1000;
  options.failure_rate_threshold = 0;
  auto breaker = CircuitBreaker::Create(options).value();
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] { Hammer(*breaker, t, admitted); });
  }
  for (std::thread& thread : threads) thread.join();
  const CircuitBreakerSnapshot snapshot = breaker->Snapshot();
  EXPECT_EQ(snapshot.calls, 1000);
  EXPECT_GE(snapshot.failures, 0);
  EXPECT_LE(snapshot.failures, 1000);
}

TEST(CircuitBreakerStressTest, TimeWindowCountsAreExact) {
  ManualClock clock;
  CircuitBreakerOptions options;
  options.clock = &clock;
  options.window_type = CircuitBreakerOptions::WindowType::kTimeBased;
  options.failure_rate_threshold = 0;
  auto breaker = CircuitBreaker::Create(options).value();
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] { Hammer(*breaker, t, admitted); });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(breaker->Snapshot().calls, kThreads * kCallsPerThread);
}

TEST(CircuitBreakerStressTest, ConcurrentFailuresTripExactlyOnce) {
  ManualClock clock;
  CountingListener listener;
  CircuitBreakerOptions options;
  options.clock = &clock;
  options.minimum_calls = 100;
  options.window_size = 100;
  options.listeners = {&listener};
  auto breaker = CircuitBreaker::Create(options).value();
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        auto permit = breaker->Acquire();
        if (!permit.ok()) continue;
        admitted.fetch_add(1, std::memory_order_relaxed);
        breaker->Record(*permit, CallOutcome::kFailure);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(breaker->state(), CircuitState::kOpen);
  EXPECT_EQ(listener.transitions.load(), 1);
  const CircuitBreakerSnapshot snapshot = breaker->Snapshot();
  // Every call was either admitted or rejected, none lost.
  EXPECT_EQ(admitted.load() + snapshot.rejected_calls,
            kThreads * kCallsPerThread);
  EXPECT_GE(admitted.load(), 100);
}

}  // namespace
}  // namespace keel::resilience
