// Multi-threaded stress tests: many threads hammer one limiter while a manual
// clock moves through a fixed span of simulated time; the totals must match
// the algorithm's bounds exactly.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "keel/ratelimit/concurrency_limiter.h"
#include "keel/ratelimit/keyed_rate_limiter.h"
#include "keel/ratelimit/token_bucket.h"
#include "keel/ratelimit/window_limiter.h"

namespace keel {
namespace ratelimit {
namespace {

using std::chrono::milliseconds;

constexpr int kThreads = 4;
constexpr int kSteps = 20000;  // 20000 x 1 ms of simulated time
constexpr int kIterations = 20000;

// Runs `attempt` on kThreads threads while the clock advances kSteps times by
// `step`; returns the number of successful attempts. Thread 0 moves the clock
// between its own attempts, so time progresses however the threads are
// scheduled, and the others hammer until it is done.
template <typename Attempt>
std::int64_t Hammer(ManualClock& clock, std::chrono::nanoseconds step,
                    Attempt attempt) {
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> admitted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      std::int64_t mine = 0;
      if (i == 0) {
        for (int s = 0; s < kSteps; ++s) {
          clock.Advance(step);
          if (attempt(i)) ++mine;
        }
        stop.store(true, std::memory_order_release);
      } else {
        while (!stop.load(std::memory_order_acquire)) {
          if (attempt(i)) ++mine;
        }
      }
      admitted.fetch_add(mine);
    });
  }
  for (std::thread& t : threads) t.join();
  return admitted.load();
}

TEST(RateLimitStressTest, TokenBucketNeverOverAdmits) {
  ManualClock clock;
  TokenBucketOptions options;
  options.rate = 1000;  // one permit per ms
  options.burst = 50;
  options.clock = &clock;
  auto bucket = TokenBucket::Create(options).value();
  const std::int64_t admitted = Hammer(clock, milliseconds(1), [&](int) {
    return bucket->TryAcquire().allowed;
  });
  EXPECT_LE(admitted, kSteps + 50);
  EXPECT_GT(admitted, 0);
}

TEST(RateLimitStressTest, TokenBucketPermitsAddUpExactly) {
  // A bucket that can never overflow (starts empty, burst above everything
  // that accrues) must grant every accrued permit exactly once: concurrent
  // admissions plus a final drain equal rate x time, so no CAS lost or
  // duplicated a permit.
  ManualClock clock;
  TokenBucketOptions options;
  options.rate = 1000;
  options.burst = kSteps * 2;
  options.initial_tokens = 0;
  options.clock = &clock;
  auto bucket = TokenBucket::Create(options).value();
  std::atomic<std::int64_t> permits{0};
  Hammer(clock, milliseconds(1), [&](int i) {
    const std::int64_t n = 1 + i % 3;
    if (!bucket->TryAcquire(n).allowed) return false;
    permits.fetch_add(n);
    return true;
  });
  // Drain what is left at the final instant, one permit at a time.
  std::int64_t drained = 0;
  while (bucket->TryAcquire(1).allowed) ++drained;
  EXPECT_EQ(permits.load() + drained, kSteps);
}

TEST(RateLimitStressTest, ReserveAndCancelBalanceUnderContention) {
  ManualClock clock;
  TokenBucketOptions options;
  options.rate = 1000;
  options.burst = 100;
  options.max_debt = 100;
  options.clock = &clock;
  auto bucket = TokenBucket::Create(options).value();
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      for (int n = 0; n < kIterations; ++n) {
        Reservation r = bucket->Reserve(3);
        r.Cancel();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  // Time never moved, so every cancel returned its permits in full.
  EXPECT_EQ(bucket->TryAcquire(0).remaining, 100);
}

TEST(RateLimitStressTest, SlidingWindowNeverOverAdmits) {
  ManualClock clock;
  WindowLimiterOptions options;
  options.limit = 100;
  options.window = milliseconds(100);
  options.clock = &clock;
  auto limiter = WindowLimiter::Create(options).value();
  const std::int64_t admitted = Hammer(clock, milliseconds(1), [&](int) {
    return limiter->TryAcquire().allowed;
  });
  // kSteps ms = kSteps / 100 aligned windows plus the one the clock ends in,
  // <= 100 each.
  EXPECT_LE(admitted, (kSteps / 100 + 1) * 100);
}

TEST(RateLimitStressTest, KeyedLimiterUnderEvictionPressure) {
  ManualClock clock;
  KeyedRateLimiterOptions options;
  KeyedLimit limit;
  limit.rate = 1000;
  limit.burst = 10;
  options.limits = {limit};
  options.max_keys = 8;
  options.shards = 4;
  options.clock = &clock;
  auto limiter = KeyedRateLimiter::Create(options).value();
  std::atomic<std::int64_t> step{0};
  Hammer(clock, milliseconds(1), [&](int i) {
    const std::string key = "k" + std::to_string((step.fetch_add(1) + i) % 32);
    return limiter->TryAcquire(key).allowed;
  });
  EXPECT_LE(limiter->size(), 8u);
  EXPECT_GT(limiter->lru_evictions() + limiter->idle_evictions(), 0u);
}

TEST(RateLimitStressTest, KeyedLimiterNeverOverAdmitsOneKey) {
  ManualClock clock;
  KeyedRateLimiterOptions options;
  KeyedLimit limit;
  limit.rate = 1000;
  limit.burst = 50;
  options.limits = {limit};
  options.clock = &clock;
  auto limiter = KeyedRateLimiter::Create(options).value();
  const std::int64_t admitted = Hammer(clock, milliseconds(1), [&](int) {
    return limiter->TryAcquire("one").allowed;
  });
  EXPECT_LE(admitted, kSteps + 50);
}

TEST(RateLimitStressTest, ConcurrencyLimiterNeverExceedsItsLimit) {
  ConcurrencyLimiterOptions options;
  options.limit = 3;
  auto limiter = ConcurrencyLimiter::Create(options).value();
  std::atomic<int> holders{0};
  std::atomic<int> max_holders{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      for (int n = 0; n < kIterations; ++n) {
        ConcurrencyLimiter::Permit p = limiter->TryAcquire();
        if (!p.ok()) continue;
        const int now = holders.fetch_add(1) + 1;
        int seen = max_holders.load();
        while (now > seen && !max_holders.compare_exchange_weak(seen, now)) {
        }
        holders.fetch_sub(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_LE(max_holders.load(), 3);
  EXPECT_EQ(limiter->in_flight(), 0);
}

}  // namespace
}  // namespace ratelimit
}  // namespace keel
