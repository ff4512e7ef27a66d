// Proves the decision paths allocate nothing, by counting calls to the global
// operator new made by this thread while they run.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "keel/metrics/registry.h"
#include "keel/ratelimit/concurrency_limiter.h"
#include "keel/ratelimit/keyed_rate_limiter.h"
#include "keel/ratelimit/token_bucket.h"
#include "keel/ratelimit/window_limiter.h"
#include "testing/allocation_counter.h"

namespace keel {
namespace ratelimit {
namespace {

using std::chrono::milliseconds;

using testing::CountAllocations;

TEST(HotPathAllocationTest, CounterWorks) {
  // An explicit operator new call through a volatile pointer: unlike a
  // new-expression, the optimiser may not elide it.
  EXPECT_GE(CountAllocations([] {
              void* volatile p = ::operator new(16);
              ::operator delete(p);
            }),
            1u);
}

TEST(HotPathAllocationTest, TokenBucket) {
  ManualClock clock;
  TokenBucketOptions options;
  options.rate = 1000;
  options.burst = 10;
  options.max_debt = 10;
  options.clock = &clock;
  auto bucket = TokenBucket::Create(options).value();
  EXPECT_EQ(CountAllocations([&] {
              for (int i = 0; i < 1000; ++i) {
                bucket->TryAcquire();  // admit, then reject
                bucket->TryAcquire(1, clock.Now());
                Reservation r = bucket->Reserve(1);
                r.Cancel();
                clock.Advance(milliseconds(1));
              }
            }),
            0u);
}

TEST(HotPathAllocationTest, StripedTokenBucket) {
  ManualClock clock;
  TokenBucketOptions options;
  options.rate = 1000;
  options.burst = 16;
  options.max_debt = 8;
  options.stripes = 4;
  options.clock = &clock;
  auto bucket = TokenBucket::Create(options).value();
  // The thread's first striped decision takes its thread slot (once per
  // thread, not per decision).
  bucket->TryAcquire(0);
  EXPECT_EQ(CountAllocations([&] {
              for (int i = 0; i < 1000; ++i) {
                bucket->TryAcquire();  // one stripe: admit, then reject
                bucket->TryAcquire(6, clock.Now());  // across stripes
                bucket->TryAcquire(16);              // refused across
                Reservation r = bucket->Reserve(2);
                r.Cancel();
                clock.Advance(milliseconds(1));
              }
            }),
            0u);
}

TEST(HotPathAllocationTest, WindowLimiter) {
  ManualClock clock;
  WindowLimiterOptions options;
  options.limit = 10;
  options.clock = &clock;
  auto limiter = WindowLimiter::Create(options).value();
  EXPECT_EQ(CountAllocations([&] {
              for (int i = 0; i < 1000; ++i) {
                limiter->TryAcquire();
                clock.Advance(milliseconds(7));
              }
            }),
            0u);
}

TEST(HotPathAllocationTest, ConcurrencyLimiter) {
  ConcurrencyLimiterOptions options;
  options.limit = 2;
  auto limiter = ConcurrencyLimiter::Create(options).value();
  EXPECT_EQ(CountAllocations([&] {
              for (int i = 0; i < 1000; ++i) {
                ConcurrencyLimiter::Permit a = limiter->TryAcquire(2);
                ConcurrencyLimiter::Permit b = limiter->TryAcquire(1);
              }
            }),
            0u);
}

// Recording into a registry keeps the decision paths allocation-free once
// this thread's metric cells exist (made by the warm-up round).
TEST(HotPathAllocationTest, LimitersWithMetrics) {
  metrics::Registry registry;
  ManualClock clock;
  TokenBucketOptions bucket_options;
  bucket_options.rate = 1000;
  bucket_options.burst = 10;
  bucket_options.clock = &clock;
  bucket_options.metrics = &registry;
  auto bucket = TokenBucket::Create(bucket_options).value();
  WindowLimiterOptions window_options;
  window_options.limit = 10;
  window_options.clock = &clock;
  window_options.metrics = &registry;
  auto window = WindowLimiter::Create(window_options).value();
  ConcurrencyLimiterOptions concurrency_options;
  concurrency_options.limit = 2;
  concurrency_options.metrics = &registry;
  auto concurrency = ConcurrencyLimiter::Create(concurrency_options).value();
  KeyedRateLimiterOptions keyed_options;
  KeyedLimit limit;
  limit.rate = 10;
  limit.burst = 10;
  keyed_options.limits = {limit};
  keyed_options.clock = &clock;
  keyed_options.metrics = &registry;
  auto keyed = KeyedRateLimiter::Create(keyed_options).value();
  const auto round = [&] {
    for (int i = 0; i < 100; ++i) {
      bucket->TryAcquire();
      bucket->TryAcquire(100);  // oversize
      window->TryAcquire();
      ConcurrencyLimiter::Permit a = concurrency->TryAcquire(2);
      ConcurrencyLimiter::Permit b = concurrency->TryAcquire(1);
      keyed->TryAcquire("10.0.0.1");
      clock.Advance(milliseconds(1));
    }
  };
  round();
  EXPECT_EQ(CountAllocations(round), 0u);
}

TEST(HotPathAllocationTest, KeyedLimiterForKnownKeys) {
  ManualClock clock;
  KeyedRateLimiterOptions options;
  KeyedLimit second;
  second.rate = 10;
  second.burst = 10;
  KeyedLimit hour;
  hour.rate = 1000;
  hour.period = std::chrono::hours(1);
  hour.burst = 1000;
  options.limits = {second, hour};
  options.clock = &clock;
  auto limiter = KeyedRateLimiter::Create(options).value();
  const std::string keys[] = {"10.0.0.1", "10.0.0.2",
                              "a-rather-long-api-key-0123456789abcdef"};
  for (const std::string& key : keys) limiter->TryAcquire(key);  // insert
  EXPECT_EQ(CountAllocations([&] {
              for (int i = 0; i < 1000; ++i) {
                for (const std::string& key : keys) limiter->TryAcquire(key);
                clock.Advance(milliseconds(1));
              }
            }),
            0u);
  // A new key does allocate: the counter is not blind.
  EXPECT_GT(CountAllocations([&] { limiter->TryAcquire("new key"); }), 0u);
}

}  // namespace
}  // namespace ratelimit
}  // namespace keel
