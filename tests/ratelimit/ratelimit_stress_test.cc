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

// The token bucket tests run with one state word and with 2, 4 and 8
// stripes; the bounds are the same exact ones.
class TokenBucketStressTest : public testing::TestWithParam<int> {
 protected:
  TokenBucketOptions Options(ManualClock& clock) const {
    TokenBucketOptions options;
    options.rate = 1000;  // one permit per ms
    options.stripes = GetParam();
    options.clock = &clock;
    return options;
  }
};

TEST_P(TokenBucketStressTest, NeverOverAdmits) {
  ManualClock clock;
  TokenBucketOptions options = Options(clock);
  options.burst = 50;
  auto bucket = TokenBucket::Create(options).value();
  // Mixed sizes; with stripes, the last thread's requests are larger than a
  // stripe and are gathered across stripes (and given back when they fall
  // short).
  const std::int64_t sizes[kThreads] = {
      1, 1, 2, GetParam() > 1 ? options.burst / GetParam() + 1 : 3};
  std::atomic<std::int64_t> permits{0};
  const std::int64_t admitted = Hammer(clock, milliseconds(1), [&](int i) {
    if (!bucket->TryAcquire(sizes[i]).allowed) return false;
    permits.fetch_add(sizes[i]);
    return true;
  });
  // Over the kSteps ms the clock moved: floor(D / I) + B.
  EXPECT_LE(permits.load(), kSteps + 50);
  EXPECT_GT(admitted, 0);
}

TEST_P(TokenBucketStressTest, PermitsAddUpExactly) {
  // A bucket that can never overflow (starts empty, burst above everything
  // that accrues) must grant every accrued permit exactly once: concurrent
  // admissions plus a final drain equal rate x time, so no CAS lost or
  // duplicated a permit. (kSteps is a multiple of the stripe count, so every
  // stripe accrues whole permits.)
  ManualClock clock;
  TokenBucketOptions options = Options(clock);
  options.burst = kSteps * 2;
  options.initial_tokens = 0;
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

TEST_P(TokenBucketStressTest, ReserveAndCancelBalanceUnderContention) {
  ManualClock clock;
  TokenBucketOptions options = Options(clock);
  options.burst = 100;
  options.max_debt = 100;
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
  EXPECT_TRUE(bucket->TryAcquire(100).allowed);
  EXPECT_FALSE(bucket->TryAcquire(1).allowed);
}

TEST_P(TokenBucketStressTest, RacingRequestsTakeTheBurstExactlyOnce) {
  // At a fixed instant, threads race single permits and (with stripes)
  // requests of one more than a stripe holds for a full bucket of 4 permits
  // per stripe. A cross-stripe request that falls short gives its parts
  // back; whatever the interleaving, the grants plus a final drain are
  // exactly the burst.
  constexpr int kRounds = 500;
  const std::int64_t burst = 4 * GetParam();
  const std::int64_t sizes[kThreads] = {1, 1, 5, 6};
  for (int round = 0; round < kRounds; ++round) {
    ManualClock clock;
    TokenBucketOptions options = Options(clock);
    options.burst = burst;
    auto bucket = TokenBucket::Create(options).value();
    std::atomic<std::int64_t> permits{0};
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        // Start together, so that the requests overlap.
        ready.fetch_add(1);
        while (ready.load() < kThreads) std::this_thread::yield();
        // A request may be refused while another holds permits it will give
        // back, so each thread stops after a few refusals.
        for (int misses = 0; misses < 3;) {
          if (bucket->TryAcquire(sizes[i]).allowed) {
            permits.fetch_add(sizes[i]);
          } else {
            ++misses;
          }
        }
      });
    }
    for (std::thread& t : threads) t.join();
    std::int64_t drained = 0;
    while (bucket->TryAcquire(1).allowed) ++drained;
    ASSERT_EQ(permits.load() + drained, burst) << "round " << round;
  }
}

INSTANTIATE_TEST_SUITE_P(Stripes, TokenBucketStressTest,
                         testing::Values(1, 2, 4, 8),
                         [](const testing::TestParamInfo<int>& info) {
                           return "S" + std::to_string(info.param);
                         });

// Two threads keep reserving a stripe's worth of permits and cancelling
// while the main thread asks for the whole burst, which is gathered across
// the stripes and given back whenever a reservation got in first (more often
// with many stripes: the gathering takes longer). Each round starts from a
// full bucket at a fixed instant; as cancels and give-backs are exact, the
// burst request is granted in the end and leaves nothing behind.
class TokenBucketGatherStressTest : public testing::TestWithParam<int> {};

TEST_P(TokenBucketGatherStressTest, WholeBucketRequestsRaceReservations) {
  constexpr int kRounds = 30;
  constexpr int kAttempts = 1000000;
  constexpr int kChurners = 2;
  const int stripes = GetParam();
  const std::int64_t burst = 4 * stripes;
  ManualClock clock;
  TokenBucketOptions options;
  options.rate = 1000;
  options.burst = burst;
  options.stripes = stripes;
  options.clock = &clock;
  auto bucket = TokenBucket::Create(options).value();
  std::atomic<bool> stop{false};
  std::atomic<bool> running{false};
  std::atomic<int> busy{0};  // churners inside a reserve/cancel pair
  std::atomic<std::int64_t> churns{0};
  std::vector<std::thread> churners;
  for (int i = 0; i < kChurners; ++i) {
    churners.emplace_back([&] {
      while (!stop.load()) {
        busy.fetch_add(1);
        if (running.load()) {
          Reservation r = bucket->Reserve(4);
          r.Cancel();
          churns.fetch_add(1);
        }
        busy.fetch_sub(1);
        if (!running.load()) std::this_thread::yield();
      }
    });
  }
  int failed_round = -1;
  std::int64_t left_over = 0;
  for (int round = 0; round < kRounds && failed_round < 0; ++round) {
    clock.Advance(std::chrono::hours(1));  // full again, whatever happened
    running.store(true);
    const std::int64_t before = churns.load();
    while (churns.load() < before + 2) std::this_thread::yield();
    bool granted = false;
    for (int n = 0; n < kAttempts && !granted; ++n) {
      granted = bucket->TryAcquire(burst).allowed;
    }
    running.store(false);
    while (busy.load() != 0) std::this_thread::yield();
    while (bucket->TryAcquire(1).allowed) ++left_over;
    if (!granted || left_over != 0) failed_round = round;
  }
  stop.store(true);
  for (std::thread& t : churners) t.join();
  EXPECT_EQ(failed_round, -1);
  EXPECT_EQ(left_over, 0);
}

INSTANTIATE_TEST_SUITE_P(Stripes, TokenBucketGatherStressTest,
                         testing::Values(8, 64),
                         [](const testing::TestParamInfo<int>& info) {
                           return "S" + std::to_string(info.param);
                         });

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
