#include "keel/cache/cache.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/metrics/exposition.h"
#include "testing/prometheus_text.h"

namespace keel::cache {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;
using IntCache = Cache<int, std::string>;

struct Recorded {
  int key;
  std::string value;
  RemovalCause cause;
  bool operator==(const Recorded& o) const {
    return std::tie(key, value, cause) == std::tie(o.key, o.value, o.cause);
  }
};

class CacheTest : public ::testing::Test {
 protected:
  CacheOptions<int, std::string> Options() {
    CacheOptions<int, std::string> options;
    options.clock = &clock_;
    options.seed = 42;
    options.removal_listener = [this](const int& key, const std::string& value,
                                      RemovalCause cause) {
      removed_.push_back({key, value, cause});
    };
    return options;
  }
  ManualClock clock_;
  std::vector<Recorded> removed_;
};

TEST_F(CacheTest, PutGetReplaceInvalidate) {
  auto cache = IntCache::Create(Options()).value();
  EXPECT_FALSE(cache->Get(1).has_value());
  cache->Put(1, "a");
  EXPECT_EQ(cache->Get(1), "a");
  cache->Put(1, "b");
  EXPECT_EQ(cache->Get(1), "b");
  EXPECT_TRUE(cache->Invalidate(1));
  EXPECT_FALSE(cache->Invalidate(1));
  EXPECT_FALSE(cache->Get(1).has_value());
  EXPECT_EQ(removed_,
            (std::vector<Recorded>{{1, "a", RemovalCause::kReplaced},
                                   {1, "b", RemovalCause::kExplicit}}));
  const CacheStats stats = cache->Stats();
  EXPECT_EQ(stats.hits, 2u);
  EXPECT_EQ(stats.misses, 2u);
  EXPECT_EQ(stats.replacements, 1u);
  EXPECT_EQ(stats.removals_explicit, 1u);
  EXPECT_EQ(stats.entries, 0u);
}

TEST_F(CacheTest, InvalidateAllRemovesEverything) {
  auto cache = IntCache::Create(Options()).value();
  for (int i = 0; i < 100; ++i) cache->Put(i, "v");
  cache->InvalidateAll();
  EXPECT_EQ(cache->Size(), 0u);
  EXPECT_EQ(removed_.size(), 100u);
  EXPECT_FALSE(cache->Get(5).has_value());
}

class BoundTest : public CacheTest,
                  public ::testing::WithParamInterface<EvictionPolicy> {};

TEST_P(BoundTest, NeverExceedsMaxEntries) {
  auto options = Options();
  options.max_entries = 100;
  options.policy = GetParam();
  auto cache = IntCache::Create(options).value();
  for (int i = 0; i < 10'000; ++i) {
    cache->Put(i % 997, "v");
    cache->Get((i * 7) % 301);
    ASSERT_LE(cache->Size(), 100u);
  }
  EXPECT_EQ(cache->Size(), 100u);
  EXPECT_GT(cache->Stats().evictions_size, 0u);
  for (const Recorded& r : removed_) {
    EXPECT_TRUE(r.cause == RemovalCause::kSize ||
                r.cause == RemovalCause::kReplaced);
  }
}

TEST_P(BoundTest, WeigherBoundsTotalWeight) {
  auto options = Options();
  options.weigher = [](const int&, const std::string& v) {
    return static_cast<std::uint32_t>(v.size());
  };
  options.max_weight = 1000;
  options.num_shards = 4;
  options.policy = GetParam();
  auto cache = IntCache::Create(options).value();
  for (int i = 0; i < 2000; ++i) {
    cache->Put(i, std::string(static_cast<std::size_t>(1 + i % 50), 'x'));
    ASSERT_LE(cache->Stats().weight, 1000u);
  }
  // Heavier than a shard's share (250): evicted at once.
  cache->Put(-1, std::string(300, 'x'));
  EXPECT_FALSE(cache->Get(-1).has_value());
}

INSTANTIATE_TEST_SUITE_P(Policies, BoundTest,
                         ::testing::Values(EvictionPolicy::kWTinyLfu,
                                           EvictionPolicy::kLru));

TEST_F(CacheTest, LruEvictsLeastRecentlyUsed) {
  auto options = Options();
  options.max_entries = 3;
  options.policy = EvictionPolicy::kLru;
  auto cache = IntCache::Create(options).value();
  cache->Put(1, "1");
  cache->Put(2, "2");
  cache->Put(3, "3");
  cache->Get(1);
  cache->Put(4, "4");
  EXPECT_FALSE(cache->Get(2).has_value());
  EXPECT_TRUE(cache->Get(1).has_value());
  EXPECT_EQ(removed_.back(), (Recorded{2, "2", RemovalCause::kSize}));
}

TEST_F(CacheTest, TinyLfuKeepsFrequentEntriesAgainstAScan) {
  auto options = Options();
  options.max_entries = 100;
  auto cache = IntCache::Create(options).value();
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 50; ++i) {
      if (!cache->Get(i).has_value()) cache->Put(i, "hot");
    }
  }
  for (int i = 1000; i < 11'000; ++i) cache->Put(i, "scan");
  int hot_left = 0;
  for (int i = 0; i < 50; ++i) hot_left += cache->Get(i).has_value() ? 1 : 0;
  EXPECT_GE(hot_left, 45);
}

TEST_F(CacheTest, ExpireAfterWrite) {
  auto options = Options();
  options.expire_after_write = seconds(10);
  auto cache = IntCache::Create(options).value();
  cache->Put(1, "a");
  clock_.Advance(seconds(9));
  EXPECT_EQ(cache->Get(1), "a");
  clock_.Advance(seconds(1));
  EXPECT_FALSE(cache->Get(1).has_value());
  EXPECT_EQ(removed_,
            (std::vector<Recorded>{{1, "a", RemovalCause::kExpired}}));
}

TEST_F(CacheTest, ExpireAfterAccessExtendsOnRead) {
  auto options = Options();
  options.expire_after_access = seconds(10);
  auto cache = IntCache::Create(options).value();
  cache->Put(1, "a");
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(seconds(8));
    EXPECT_EQ(cache->Get(1), "a") << i;
  }
  clock_.Advance(seconds(10));
  EXPECT_FALSE(cache->Get(1).has_value());
}

TEST_F(CacheTest, PerEntryTtlOverridesDefault) {
  auto options = Options();
  options.expire_after_write = seconds(100);
  auto cache = IntCache::Create(options).value();
  cache->Put(1, "short", seconds(5));
  cache->Put(2, "default");
  cache->Put(3, "gone", seconds(0));
  EXPECT_FALSE(cache->Get(3).has_value());
  clock_.Advance(seconds(5));
  EXPECT_FALSE(cache->Get(1).has_value());
  EXPECT_EQ(cache->Get(2), "default");
}

TEST_F(CacheTest, TimerWheelRemovesExpiredEntriesWithoutReads) {
  auto options = Options();
  options.num_shards = 1;
  auto cache = IntCache::Create(options).value();
  for (int i = 0; i < 1000; ++i) {
    cache->Put(i, "v", std::chrono::minutes(1 + i % 90));
  }
  cache->Put(-1, "forever");
  clock_.Advance(std::chrono::hours(1));
  cache->CleanUp();
  // Deadlines of 1..60 minutes passed: 60 of every 90 keys are gone.
  std::uint64_t expected = 1;
  for (int i = 0; i < 1000; ++i) expected += (1 + i % 90) > 60 ? 1 : 0;
  EXPECT_EQ(cache->Size(), expected);
  EXPECT_EQ(cache->Stats().evictions_expired, 1001 - expected);
  clock_.Advance(std::chrono::hours(2));
  cache->Put(-2, "write triggers cleanup");
  EXPECT_EQ(cache->Size(), 2u);
}

TEST_F(CacheTest, TtlJitterShortensWithinBound) {
  auto options = Options();
  options.expire_after_write = seconds(100);
  options.ttl_jitter = 0.5;
  options.num_shards = 1;
  auto cache = IntCache::Create(options).value();
  for (int i = 0; i < 200; ++i) cache->Put(i, "v");
  clock_.Advance(seconds(49));
  EXPECT_EQ(cache->Size(), 200u);
  cache->CleanUp();
  EXPECT_EQ(cache->Size(), 200u);
  clock_.Advance(seconds(26));
  int alive = 0;
  for (int i = 0; i < 200; ++i) alive += cache->Get(i).has_value() ? 1 : 0;
  EXPECT_GT(alive, 0);
  EXPECT_LT(alive, 200);
  clock_.Advance(seconds(25));
  for (int i = 0; i < 200; ++i) EXPECT_FALSE(cache->Get(i).has_value());
}

TEST_F(CacheTest, TimeGoingBackwardsIsTolerated) {
  auto options = Options();
  options.expire_after_write = seconds(10);
  auto cache = IntCache::Create(options).value();
  cache->Put(1, "a");
  clock_.Advance(-seconds(100));
  EXPECT_EQ(cache->Get(1), "a");
  cache->Put(2, "b");
  clock_.Advance(seconds(200));
  EXPECT_FALSE(cache->Get(1).has_value());
  EXPECT_FALSE(cache->Get(2).has_value());
}

TEST_F(CacheTest, ListenerMayCallBackIntoCache) {
  auto options = Options();
  options.max_entries = 1;
  options.num_shards = 1;
  IntCache* self = nullptr;
  int reentered = 0;
  options.removal_listener = [&](const int& key, const std::string&,
                                 RemovalCause) {
    if (key == 1) {
      self->Get(1);
      ++reentered;
    }
  };
  auto cache = IntCache::Create(options).value();
  self = cache.get();
  cache->Put(1, "a");
  cache->Put(2, "b");
  cache->Put(3, "c");
  EXPECT_EQ(reentered, 1);
}

TEST_F(CacheTest, RejectsBadOptions) {
  auto options = Options();
  options.max_entries = 0;
  EXPECT_THAT(IntCache::Create(options).status().message(),
              HasSubstr("max_entries"));
  options = Options();
  options.weigher = [](const int&, const std::string&) { return 1u; };
  EXPECT_THAT(IntCache::Create(options).status().message(),
              HasSubstr("max_weight"));
  options = Options();
  options.num_shards = 3;
  EXPECT_THAT(IntCache::Create(options).status().message(),
              HasSubstr("num_shards"));
  options = Options();
  options.expire_after_write = -seconds(1);
  EXPECT_THAT(IntCache::Create(options).status().message(),
              HasSubstr("expire_after_write"));
  options = Options();
  options.ttl_jitter = 1.0;
  EXPECT_THAT(IntCache::Create(options).status().message(),
              HasSubstr("ttl_jitter"));
  options = Options();
  options.refresh_after_write = seconds(1);
  EXPECT_THAT(IntCache::Create(options).status().message(),
              HasSubstr("scheduler"));
  options = Options();
  options.negative_max_fraction = 0;
  EXPECT_THAT(IntCache::Create(options).status().message(),
              HasSubstr("negative_max_fraction"));
  options = Options();
  options.load_wait_timeout = seconds(0);
  EXPECT_THAT(IntCache::Create(options).status().message(),
              HasSubstr("load_wait_timeout"));
  options = Options();
  options.clock = nullptr;
  EXPECT_THAT(IntCache::Create(options).status().message(), HasSubstr("clock"));
}

TEST_F(CacheTest, AutomaticShardCountFollowsBound) {
  auto options = Options();
  options.max_entries = 1000;
  EXPECT_EQ(IntCache::Create(options).value()->num_shards(), 1);
  options.max_entries = 100'000;
  EXPECT_EQ(IntCache::Create(options).value()->num_shards(), 64);
}

TEST_F(CacheTest, ExportsMetrics) {
  metrics::Registry registry;
  auto options = Options();
  options.metrics = &registry;
  options.name = "users";
  auto cache = IntCache::Create(options).value();
  cache->Put(1, "a");
  cache->Get(1);
  cache->Get(2);
  std::string text = testing::PrometheusText(registry);
  EXPECT_THAT(
      text,
      HasSubstr("keel_cache_requests_total{cache=\"users\",result=\"hit\"} 1"));
  EXPECT_THAT(
      text,
      HasSubstr(
          "keel_cache_requests_total{cache=\"users\",result=\"miss\"} 1"));
  EXPECT_THAT(text, HasSubstr("keel_cache_entries{cache=\"users\"} 1"));
  // A second cache with the same name is refused.
  EXPECT_FALSE(IntCache::Create(options).ok());
  cache.reset();
  text = testing::PrometheusText(registry);
  EXPECT_THAT(text, ::testing::Not(HasSubstr("cache=\"users\"")));
}

}  // namespace
}  // namespace keel::cache
