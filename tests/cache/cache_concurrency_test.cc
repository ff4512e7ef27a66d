// Multi-threaded stress tests (run under ThreadSanitizer in CI).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "keel/cache/cache.h"

namespace keel::cache {
namespace {

using Cache64 = Cache<std::uint64_t, std::uint64_t>;

constexpr int kThreads = 4;

// A removal listener that counts its calls and checks that every removed
// value belongs to its key (values are stored as key % 1000 + a multiple of
// 1000 in these tests).
std::function<void(const std::uint64_t&, const std::uint64_t&, RemovalCause)>
CountingListener(std::atomic<std::int64_t>& calls) {
  return [&calls](const std::uint64_t& key, const std::uint64_t& value,
                  RemovalCause) {
    EXPECT_EQ(value % 1000, key % 1000);
    calls.fetch_add(1, std::memory_order_relaxed);
  };
}

TEST(CacheConcurrencyTest, NoWriteIsLost) {
  // Every thread owns a key range and writes increasing versions; another
  // set of threads reads and loads the same keys with stale values. At the
  // end every key must hold its owner's last version.
  CacheOptions<std::uint64_t, std::uint64_t> options;
  options.max_entries = 1 << 16;
  options.num_shards = 8;
  auto cache = Cache64::Create(options).value();
  constexpr std::uint64_t kKeysPerThread = 200;
  constexpr std::uint64_t kVersions = 50;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (std::uint64_t v = 1; v <= kVersions; ++v) {
        for (std::uint64_t k = 0; k < kKeysPerThread; ++k) {
          cache->Put(static_cast<std::uint64_t>(t) * 1000 + k, v);
        }
      }
    });
  }
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      Cache64::Loader stale =
          [](const std::uint64_t&) -> absl::StatusOr<std::uint64_t> {
        return 0;  // older than any Put
      };
      std::uint64_t i = 0;
      while (!stop.load()) {
        const std::uint64_t key = (i * 7919) % (kThreads * 1000);
        if (i % 3 == 0) {
          (void)cache->GetOrLoad(key, stale);
        } else {
          (void)cache->Get(key);
        }
        ++i;
      }
    });
  }
  for (int t = 0; t < kThreads; ++t)
    threads[static_cast<std::size_t>(t)].join();
  stop = true;
  for (std::size_t t = kThreads; t < threads.size(); ++t) threads[t].join();
  for (int t = 0; t < kThreads; ++t) {
    for (std::uint64_t k = 0; k < kKeysPerThread; ++k) {
      EXPECT_EQ(cache->Get(static_cast<std::uint64_t>(t) * 1000 + k), kVersions)
          << "key " << t * 1000 + static_cast<int>(k);
    }
  }
}

TEST(CacheConcurrencyTest, MixedOperationsKeepInvariants) {
  ManualClock clock;
  CacheOptions<std::uint64_t, std::uint64_t> options;
  options.max_entries = 512;
  options.num_shards = 4;
  options.clock = &clock;
  options.expire_after_write = std::chrono::seconds(5);
  options.negative_ttl = std::chrono::seconds(1);
  std::atomic<std::int64_t> listener_calls{0};
  options.removal_listener = CountingListener(listener_calls);
  auto cache = Cache64::Create(options).value();
  std::atomic<std::uint64_t> loads{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Cache64::Loader loader =
          [&](const std::uint64_t& key) -> absl::StatusOr<std::uint64_t> {
        loads.fetch_add(1, std::memory_order_relaxed);
        if (key % 11 == 0) return absl::NotFoundError("absent");
        if (key % 13 == 0) return absl::UnavailableError("flaky");
        return key % 1000 + 1000;
      };
      std::uint64_t state = static_cast<std::uint64_t>(t) + 1;
      for (int i = 0; i < 20'000; ++i) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        const std::uint64_t key = (state >> 33) % 2000;
        switch ((state >> 20) % 8) {
          case 0:
          case 1:
            cache->Put(key, key % 1000 + 2000);
            break;
          case 2:
            cache->Invalidate(key);
            break;
          case 3: {
            auto value = cache->GetOrLoad(key, loader);
            if (value.ok()) {
              EXPECT_EQ(*value % 1000, key % 1000);
            }
            break;
          }
          case 4:
            if (t == 0 && i % 64 == 0) clock.Advance(std::chrono::seconds(1));
            break;
          default: {
            auto value = cache->Get(key);
            if (value.has_value()) {
              EXPECT_EQ(*value % 1000, key % 1000);
            }
          }
        }
        if (i % 4096 == 0) cache->CleanUp();
      }
    });
  }
  for (auto& t : threads) t.join();
  const CacheStats stats = cache->Stats();
  EXPECT_LE(stats.entries, 512u);
  EXPECT_EQ(stats.entries, cache->Size());
  EXPECT_GT(loads.load(), 0u);
  EXPECT_GT(listener_calls.load(), 0);
  cache->InvalidateAll();
  EXPECT_EQ(cache->Size(), 0u);
  EXPECT_EQ(cache->Stats().weight, 0u);
}

// Hits are buffered per shard and applied in batches (internal/policy.h).
// Here hot keys are read while other threads evict, replace and remove
// entries of the same shards, so buffered entries are removed and freed
// between a hit and the batch that applies it: under the sanitizers a
// dangling buffered entry or an unguarded access is reported, and the
// bookkeeping must still add up.
TEST(CacheConcurrencyTest, BufferedHitsSurviveConcurrentRemovals) {
  for (EvictionPolicy policy :
       {EvictionPolicy::kWTinyLfu, EvictionPolicy::kLru}) {
    CacheOptions<std::uint64_t, std::uint64_t> options;
    options.max_entries = 256;
    options.num_shards = 2;
    options.policy = policy;
    std::atomic<std::int64_t> listener_calls{0};
    options.removal_listener = CountingListener(listener_calls);
    auto cache = Cache64::Create(options).value();
    std::atomic<std::uint64_t> hits{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        std::uint64_t state = static_cast<std::uint64_t>(t) + 7;
        std::uint64_t local_hits = 0;
        for (int i = 0; i < 20'000; ++i) {
          state = state * 6364136223846793005ULL + 1442695040888963407ULL;
          const std::uint64_t pick = (state >> 33) % 100;
          const std::uint64_t hot = (state >> 20) % 64;
          if (pick < 70) {
            auto value = cache->Get(hot);
            if (value.has_value()) {
              ++local_hits;
              EXPECT_EQ(*value % 1000, hot % 1000);
            }
          } else if (pick < 85) {
            const std::uint64_t cold = 64 + (state >> 24) % 4000;
            cache->Put(cold, cold % 1000 + 1000);
          } else if (pick < 95) {
            cache->Invalidate((state >> 24) % 128);
          } else {
            cache->Put(hot, hot % 1000 + 2000);
          }
        }
        hits.fetch_add(local_hits, std::memory_order_relaxed);
      });
    }
    for (auto& t : threads) t.join();
    const CacheStats stats = cache->Stats();
    EXPECT_GT(hits.load(), 0u);
    EXPECT_EQ(stats.hits, hits.load());
    EXPECT_GT(stats.evictions_size, 0u);
    EXPECT_LE(stats.entries, 256u);
    EXPECT_EQ(stats.entries, cache->Size());
    EXPECT_EQ(stats.weight, stats.entries);
    EXPECT_GT(listener_calls.load(), 0);
    cache->InvalidateAll();
    EXPECT_EQ(cache->Size(), 0u);
    EXPECT_EQ(cache->Stats().weight, 0u);
  }
}

TEST(CacheConcurrencyTest, SingleFlightUnderContention) {
  CacheOptions<std::uint64_t, std::uint64_t> options;
  options.max_entries = 10'000;
  auto cache = Cache64::Create(options).value();
  std::vector<std::atomic<int>> calls(64);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      Cache64::Loader loader =
          [&](const std::uint64_t& key) -> absl::StatusOr<std::uint64_t> {
        calls[key].fetch_add(1);
        std::this_thread::yield();
        return key * 2;
      };
      for (int round = 0; round < 50; ++round) {
        for (std::uint64_t key = 0; key < 64; ++key) {
          EXPECT_EQ(cache->GetOrLoad(key, loader).value(), key * 2);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (std::size_t key = 0; key < calls.size(); ++key) {
    EXPECT_EQ(calls[key].load(), 1) << key;
  }
}

}  // namespace
}  // namespace keel::cache
