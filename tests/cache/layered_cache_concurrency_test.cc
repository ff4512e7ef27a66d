// Multi-threaded tests of LayeredCache (run under ThreadSanitizer in CI).

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "keel/base/clock.h"
#include "keel/cache/layer.h"
#include "keel/cache/layered_cache.h"

namespace keel::cache {
namespace {

using Layered = LayeredCache<std::string, std::string>;

TEST(LayeredCacheConcurrencyTest, ConcurrentMissesWalkTheLayersOnce) {
  ManualClock clock;
  MemoryLayerOptions layer_options;
  layer_options.clock = &clock;
  auto l2 = MemoryLayer::Create(layer_options).value();
  Layered::Options options;
  options.l1.clock = &clock;
  options.codec = StringCodec();
  LayerConfig config;
  config.layer = l2.get();
  options.layers.push_back(config);
  auto cache = Layered::Create(options).value();

  constexpr int kThreads = 8;
  constexpr int kKeys = 50;
  std::atomic<int> loads{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      for (int k = 0; k < kKeys; ++k) {
        const std::string key = "k" + std::to_string(k);
        absl::StatusOr<std::string> value = cache->GetOrLoad(
            key, [&](const std::string& key) -> absl::StatusOr<std::string> {
              loads.fetch_add(1);
              return "v" + key;
            });
        ASSERT_TRUE(value.ok()) << value.status();
        EXPECT_EQ(*value, "v" + key);
      }
    });
  }
  go.store(true);
  for (std::thread& thread : threads) thread.join();
  // Single-flight through L1: one load and one L2 read per key.
  EXPECT_EQ(loads.load(), kKeys);
  EXPECT_EQ(l2->calls().gets, static_cast<std::uint64_t>(kKeys));
  EXPECT_EQ(l2->Size(), static_cast<std::size_t>(kKeys));
  EXPECT_EQ(cache->LayerStatistics()[0].misses,
            static_cast<std::uint64_t>(kKeys));
}

TEST(LayeredCacheConcurrencyTest, WritersReadersAndAFlappingLayer) {
  ManualClock clock;
  MemoryLayerOptions layer_options;
  layer_options.clock = &clock;
  auto l2 = MemoryLayer::Create(layer_options).value();
  Layered::Options options;
  options.l1.clock = &clock;
  options.l1.max_entries = 64;
  options.codec = StringCodec();
  LayerConfig config;
  config.layer = l2.get();
  config.breaker.consecutive_failure_threshold = 3;
  options.layers.push_back(config);
  auto cache = Layered::Create(options).value();
  auto health = cache->HealthCheck();

  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string key = "k" + std::to_string((i * 7 + t) % 100);
        switch (i % 4) {
          case 0:
            static_cast<void>(cache->Put(key, key));
            break;
          case 1:
            static_cast<void>(cache->Invalidate(key));
            break;
          default: {
            absl::StatusOr<std::string> value = cache->GetOrLoad(
                key, [](const std::string& k) -> absl::StatusOr<std::string> {
                  return k;
                });
            ASSERT_TRUE(value.ok());
            EXPECT_EQ(*value, key);
          }
        }
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop.load()) {
      l2->SetFailing(absl::UnavailableError("flap"));
      static_cast<void>(health());
      l2->SetFailing(absl::OkStatus());
      static_cast<void>(cache->LayerStatistics());
      std::this_thread::yield();
    }
  });
  for (int t = 0; t < 4; ++t) threads[static_cast<std::size_t>(t)].join();
  stop.store(true);
  threads.back().join();
  EXPECT_LE(cache->l1().Size(), 64u);
}

}  // namespace
}  // namespace keel::cache
