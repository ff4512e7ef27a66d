#include "keel/ratelimit/keyed_rate_limiter.h"

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/base/scheduler.h"

namespace keel {
namespace ratelimit {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

KeyedLimit Limit(const char* name, std::int64_t rate,
                 std::chrono::nanoseconds period, std::int64_t burst) {
  KeyedLimit limit;
  limit.name = name;
  limit.rate = rate;
  limit.period = period;
  limit.burst = burst;
  return limit;
}

KeyedRateLimiterOptions Options(ManualClock* clock) {
  KeyedRateLimiterOptions options;
  options.name = "per_client";
  options.limits = {Limit("second", 2, seconds(1), 2),
                    Limit("minute", 5, std::chrono::minutes(1), 5)};
  options.max_keys = 4;
  options.shards = 1;
  options.clock = clock;
  return options;
}

std::unique_ptr<KeyedRateLimiter> Make(const KeyedRateLimiterOptions& options) {
  auto limiter = KeyedRateLimiter::Create(options);
  EXPECT_TRUE(limiter.ok()) << limiter.status();
  return *std::move(limiter);
}

TEST(KeyedRateLimiterTest, KeysAreIndependent) {
  ManualClock clock;
  auto limiter = Make(Options(&clock));
  EXPECT_TRUE(limiter->TryAcquire("a", 2).allowed);
  EXPECT_FALSE(limiter->TryAcquire("a").allowed);
  EXPECT_TRUE(limiter->TryAcquire("b", 2).allowed);
  EXPECT_EQ(limiter->size(), 2u);
}

TEST(KeyedRateLimiterTest, SeveralLimitsAreAllOrNothing) {
  ManualClock clock;
  auto limiter = Make(Options(&clock));
  // 2/s and 5/min: after 5 permits over 2.5 s the minute limit refuses.
  EXPECT_TRUE(limiter->TryAcquire("a", 2).allowed);
  clock.Advance(seconds(1));
  EXPECT_TRUE(limiter->TryAcquire("a", 2).allowed);
  clock.Advance(seconds(1));
  Decision d = limiter->TryAcquire("a", 2);
  EXPECT_FALSE(d.allowed);
  // Reported: the minute limit (longest wait). It holds 1 permit; the 2nd
  // accrues 10 s later.
  EXPECT_EQ(d.limit, 5);
  EXPECT_EQ(d.remaining, 1);
  EXPECT_EQ(d.retry_after, seconds(10));
  // The per-second limit admitted 2 but nothing was counted: 1 still fits in
  // both.
  Decision one = limiter->TryAcquire("a", 1);
  EXPECT_TRUE(one.allowed);
  EXPECT_EQ(one.limit, 5);  // the tighter limit: 0 left of the minute's 5
  EXPECT_EQ(one.remaining, 0);
  // The per-second bucket still holds its second permit, proving the refused
  // request did not consume from it.
  std::map<std::string, std::vector<std::int64_t>> seen;
  limiter->ForEachKey(clock.Now(), [&](const KeySnapshot& s) {
    seen[std::string(s.key)] = s.remaining;
  });
  EXPECT_EQ(seen["a"], (std::vector<std::int64_t>{1, 0}));
}

TEST(KeyedRateLimiterTest, AdmissionReportsTheTightestLimit) {
  ManualClock clock;
  auto limiter = Make(Options(&clock));
  Decision d = limiter->TryAcquire("a", 1);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.limit, 2);  // 1 of 2 left beats 4 of 5
  EXPECT_EQ(d.remaining, 1);
}

TEST(KeyedRateLimiterTest, OversizeAgainstTheSmallestBurst) {
  ManualClock clock;
  auto limiter = Make(Options(&clock));
  Decision d = limiter->TryAcquire("a", 3);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, DecisionReason::kOversize);
  EXPECT_EQ(d.limit, 2);
  EXPECT_EQ(limiter->size(), 0u);  // refused before any key was created
  EXPECT_EQ(limiter->TryAcquire("a", -1).reason,
            DecisionReason::kInvalidPermits);
}

TEST(KeyedRateLimiterTest, MemoryIsBoundedByLruEviction) {
  ManualClock clock;
  auto limiter = Make(Options(&clock));
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(limiter->TryAcquire("key" + std::to_string(i)).allowed);
    ASSERT_LE(limiter->size(), 4u);
  }
  EXPECT_EQ(limiter->size(), 4u);
  EXPECT_EQ(limiter->lru_evictions(), 96u);
}

TEST(KeyedRateLimiterTest, LruKeepsRecentlyUsedKeys) {
  ManualClock clock;
  auto limiter = Make(Options(&clock));
  for (const char* key : {"a", "b", "c", "d"}) {
    ASSERT_TRUE(limiter->TryAcquire(key, 2).allowed);
  }
  EXPECT_FALSE(limiter->TryAcquire("a").allowed);    // touches "a"
  ASSERT_TRUE(limiter->TryAcquire("e").allowed);     // evicts "b", the LRU
  EXPECT_FALSE(limiter->TryAcquire("a").allowed);    // "a" kept its state
  EXPECT_TRUE(limiter->TryAcquire("b", 2).allowed);  // "b" came back fresh
}

TEST(KeyedRateLimiterTest, IdleEvictionIsLossless) {
  ManualClock clock;
  auto limiter = Make(Options(&clock));
  ASSERT_TRUE(limiter->TryAcquire("busy", 2).allowed);
  ASSERT_TRUE(limiter->TryAcquire("quiet", 1).allowed);
  clock.Advance(seconds(1));
  // Neither is full again yet: the minute limit still holds their permits.
  EXPECT_EQ(limiter->EvictIdle(), 0u);
  clock.Advance(seconds(12));  // "quiet" (1 minute-permit, 12 s) is full
  EXPECT_EQ(limiter->EvictIdle(), 1u);
  EXPECT_EQ(limiter->size(), 1u);
  EXPECT_EQ(limiter->idle_evictions(), 1u);
  clock.Advance(seconds(12));
  EXPECT_EQ(limiter->EvictIdle(), 1u);
  EXPECT_EQ(limiter->size(), 0u);
  EXPECT_EQ(limiter->lru_evictions(), 0u);
}

TEST(KeyedRateLimiterTest, SchedulerRunsIdleEviction) {
  ManualClock clock;
  SchedulerOptions scheduler_options;
  scheduler_options.clock = &clock;
  auto scheduler = Scheduler::Create(scheduler_options);
  ASSERT_TRUE(scheduler.ok());
  KeyedRateLimiterOptions options = Options(&clock);
  options.scheduler = scheduler->get();
  options.evict_interval = seconds(30);
  auto limiter = Make(options);
  ASSERT_TRUE(limiter->TryAcquire("a").allowed);
  clock.Advance(seconds(30));
  (*scheduler)->RunUntilIdle();
  EXPECT_EQ(limiter->size(), 0u);
  limiter.reset();  // cancels the task
  EXPECT_EQ((*scheduler)->PendingTasks(), 0u);
}

TEST(KeyedRateLimiterTest, ShardedCapacityNeverExceedsMaxKeys) {
  ManualClock clock;
  KeyedRateLimiterOptions options = Options(&clock);
  options.shards = 8;
  options.max_keys = 20;  // 2 per shard
  auto limiter = Make(options);
  for (int i = 0; i < 1000; ++i) {
    limiter->TryAcquire("k" + std::to_string(i));
    ASSERT_LE(limiter->size(), 16u);
  }
}

TEST(KeyedRateLimiterTest, ShadowMode) {
  ManualClock clock;
  KeyedRateLimiterOptions options = Options(&clock);
  options.shadow = true;
  auto limiter = Make(options);
  ASSERT_TRUE(limiter->TryAcquire("a", 2).allowed);
  Decision d = limiter->TryAcquire("a");
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(d.would_reject());
}

TEST(KeyedRateLimiterTest, TimeGoingBackwardsIsANoOp) {
  ManualClock clock;
  auto limiter = Make(Options(&clock));
  const MonoTime t0 = clock.Now();
  ASSERT_TRUE(limiter->TryAcquire("a", 2, t0).allowed);
  EXPECT_FALSE(limiter->TryAcquire("a", 1, t0 - seconds(30)).allowed);
  EXPECT_FALSE(limiter->TryAcquire("a", 1, t0 + milliseconds(499)).allowed);
  EXPECT_TRUE(limiter->TryAcquire("a", 1, t0 + milliseconds(500)).allowed);
}

TEST(KeyedRateLimiterTest, Policies) {
  ManualClock clock;
  auto limiter = Make(Options(&clock));
  const std::vector<Policy> policies = limiter->policies();
  ASSERT_EQ(policies.size(), 2u);
  EXPECT_EQ(policies[0].name, "second");
  EXPECT_EQ(policies[0].quota, 2);
  EXPECT_EQ(policies[0].window, seconds(1));
  EXPECT_EQ(policies[1].window, std::chrono::minutes(1));
  EXPECT_EQ(limiter->name(), "per_client");
}

TEST(KeyedRateLimiterTest, CreateValidatesEveryField) {
  ManualClock clock;
  struct Case {
    void (*mutate)(KeyedRateLimiterOptions&);
    const char* field;
  };
  const Case cases[] = {
      {[](KeyedRateLimiterOptions& o) { o.name = ""; }, "name"},
      {[](KeyedRateLimiterOptions& o) { o.limits.clear(); }, "limits"},
      {[](KeyedRateLimiterOptions& o) { o.limits[1].rate = 0; },
       "limits[1].rate"},
      {[](KeyedRateLimiterOptions& o) { o.limits[0].burst = 0; },
       "limits[0].burst"},
      {[](KeyedRateLimiterOptions& o) { o.limits[0].name = ""; },
       "limits[0].name"},
      {[](KeyedRateLimiterOptions& o) {
         o.limits[0].period = std::chrono::nanoseconds(0);
       },
       "limits[0].period"},
      {[](KeyedRateLimiterOptions& o) { o.limits.resize(17, o.limits[0]); },
       "limits"},
      {[](KeyedRateLimiterOptions& o) { o.shards = 0; }, "shards"},
      {[](KeyedRateLimiterOptions& o) { o.max_keys = 0; }, "max_keys"},
      {[](KeyedRateLimiterOptions& o) { o.clock = nullptr; }, "clock"},
  };
  for (const Case& c : cases) {
    KeyedRateLimiterOptions options = Options(&clock);
    c.mutate(options);
    auto limiter = KeyedRateLimiter::Create(options);
    ASSERT_FALSE(limiter.ok()) << c.field;
    EXPECT_EQ(limiter.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(limiter.status().message(), testing::HasSubstr(c.field));
  }
}

}  // namespace
}  // namespace ratelimit
}  // namespace keel
