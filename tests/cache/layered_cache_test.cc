#include "keel/cache/layered_cache.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/base/clock.h"
#include "keel/cache/layer.h"
#include "keel/metrics/exposition.h"
#include "keel/metrics/registry.h"
#include "testing/prometheus_text.h"

namespace keel::cache {
namespace {

using std::chrono::nanoseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

using Layered = LayeredCache<std::string, std::string>;

std::unique_ptr<MemoryLayer> MakeLayer(ManualClock* clock, std::string name) {
  MemoryLayerOptions options;
  options.name = std::move(name);
  options.clock = clock;
  return MemoryLayer::Create(options).value();
}

class LayeredCacheTest : public ::testing::Test {
 protected:
  LayeredCacheTest()
      : l2_(MakeLayer(&clock_, "l2")), l3_(MakeLayer(&clock_, "l3")) {}

  Layered::Options BaseOptions(int layers) {
    Layered::Options options;
    options.l1.max_entries = 100;
    options.l1.clock = &clock_;
    options.l1.seed = 7;
    options.codec = StringCodec();
    if (layers >= 1) {
      LayerConfig config;
      config.layer = l2_.get();
      config.ttl = seconds(60);
      config.breaker.consecutive_failure_threshold = 2;
      config.breaker.wait_duration_in_open = seconds(10);
      options.layers.push_back(config);
    }
    if (layers >= 2) {
      LayerConfig config;
      config.layer = l3_.get();
      config.ttl = seconds(600);
      options.layers.push_back(config);
    }
    return options;
  }

  // A loader counting its calls.
  Layered::Loader CountingLoader(std::string value) {
    return [this, value](const std::string&) -> absl::StatusOr<std::string> {
      ++loads_;
      return value;
    };
  }

  ManualClock clock_;
  std::unique_ptr<MemoryLayer> l2_;
  std::unique_ptr<MemoryLayer> l3_;
  int loads_ = 0;
};

TEST(MemoryLayerTest, TtlRunsOnTheInjectedClock) {
  ManualClock clock;
  auto layer = MakeLayer(&clock, "m");
  ASSERT_TRUE(layer->Set("a", "1", seconds(30)).ok());
  ASSERT_TRUE(layer->Set("b", "2", std::nullopt).ok());
  clock.Advance(seconds(10));
  auto a = layer->Get("a");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ((*a)->bytes, "1");
  EXPECT_EQ((*a)->ttl, nanoseconds(seconds(20)));
  auto b = layer->Get("b");
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_FALSE((*b)->ttl.has_value());
  clock.Advance(seconds(20));
  a = layer->Get("a");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->has_value());
  EXPECT_EQ(layer->Size(), 1u);
  // A non-positive TTL deletes.
  ASSERT_TRUE(layer->Set("b", "3", seconds(0)).ok());
  EXPECT_EQ(layer->Size(), 0u);
}

TEST(MemoryLayerTest, FaultInjectionAndValidation) {
  ManualClock clock;
  auto layer = MakeLayer(&clock, "m");
  layer->FailNext(2, absl::UnavailableError("down"));
  EXPECT_EQ(layer->Set("a", "1", std::nullopt).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(layer->Get("a").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(layer->Set("a", "1", std::nullopt).ok());
  layer->SetFailing(absl::InternalError("broken"));
  EXPECT_EQ(layer->Delete("a").code(), absl::StatusCode::kInternal);
  EXPECT_EQ(layer->GetMany({"a"}).status().code(), absl::StatusCode::kInternal);
  layer->SetFailing(absl::OkStatus());
  auto many = layer->GetMany({"a", "zz"});
  ASSERT_TRUE(many.ok());
  ASSERT_EQ(many->size(), 2u);
  EXPECT_TRUE((*many)[0].has_value());
  EXPECT_FALSE((*many)[1].has_value());
  EXPECT_EQ(layer->calls().gets, 4u);

  MemoryLayerOptions bad;
  bad.max_entries = 0;
  EXPECT_THAT(MemoryLayer::Create(bad).status().message(),
              HasSubstr("max_entries"));
  MemoryLayerOptions full;
  full.max_entries = 1;
  full.clock = &clock;
  auto small = MemoryLayer::Create(full).value();
  EXPECT_TRUE(small->Set("x", "1", std::nullopt).ok());
  EXPECT_EQ(small->Set("y", "1", std::nullopt).code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_F(LayeredCacheTest, CreateNamesTheBadField) {
  Layered::Options null_layer = BaseOptions(0);
  null_layer.layers.push_back(LayerConfig());
  EXPECT_THAT(Layered::Create(null_layer).status().message(),
              HasSubstr("layers[0].layer"));
  Layered::Options duplicate = BaseOptions(1);
  duplicate.layers.push_back(duplicate.layers[0]);
  EXPECT_THAT(Layered::Create(duplicate).status().message(),
              HasSubstr("layers[1]"));
  Layered::Options no_codec = BaseOptions(1);
  no_codec.codec = Codec<std::string>();
  EXPECT_THAT(Layered::Create(no_codec).status().message(), HasSubstr("codec"));
  Layered::Options bad_l1 = BaseOptions(1);
  bad_l1.l1.max_entries = 0;
  EXPECT_THAT(Layered::Create(bad_l1).status().message(),
              HasSubstr("max_entries"));
  Layered::Options bad_breaker = BaseOptions(1);
  bad_breaker.layers[0].breaker.window_size = 0;
  EXPECT_FALSE(Layered::Create(bad_breaker).ok());
  struct Opaque {
    bool operator==(const Opaque&) const { return true; }
  };
  struct OpaqueHash {
    std::size_t operator()(const Opaque&) const { return 0; }
  };
  LayeredCacheOptions<Opaque, std::string> opaque;
  opaque.codec = StringCodec();
  EXPECT_THAT((LayeredCache<Opaque, std::string, OpaqueHash>::Create(opaque)
                   .status()
                   .message()),
              HasSubstr("key_encoder"));
}

TEST_F(LayeredCacheTest, LoaderResultIsWrittenToEveryLayerAndServedFromL1) {
  auto cache = Layered::Create(BaseOptions(2)).value();
  EXPECT_EQ(cache->GetOrLoad("k", CountingLoader("v")).value(), "v");
  EXPECT_EQ(cache->GetOrLoad("k", CountingLoader("other")).value(), "v");
  EXPECT_EQ(loads_, 1);
  EXPECT_EQ(l2_->Get("k").value()->bytes, "v");
  EXPECT_EQ(l2_->Get("k").value()->ttl, nanoseconds(seconds(60)));
  EXPECT_EQ(l3_->Get("k").value()->ttl, nanoseconds(seconds(600)));
  std::vector<LayerStats> stats = cache->LayerStatistics();
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[0].name, "l2");
  EXPECT_EQ(stats[0].misses, 1u);
  EXPECT_EQ(stats[0].writes, 1u);
  EXPECT_EQ(stats[1].misses, 1u);
  EXPECT_EQ(cache->L1Stats().hits, 1u);
  EXPECT_EQ(cache->L1Stats().misses, 1u);
}

TEST_F(LayeredCacheTest, LowerHitBackFillsUpperLayersWithCappedTtl) {
  auto cache = Layered::Create(BaseOptions(2)).value();
  ASSERT_TRUE(l3_->Set("k", "from-l3", seconds(25)).ok());
  EXPECT_EQ(cache->GetOrLoad("k", CountingLoader("loaded")).value(), "from-l3");
  EXPECT_EQ(loads_, 0);
  // L2 (own TTL 60 s) gets the 25 s the L3 copy had left.
  EXPECT_EQ(l2_->Get("k").value()->ttl, nanoseconds(seconds(25)));
  std::vector<LayerStats> stats = cache->LayerStatistics();
  EXPECT_EQ(stats[0].misses, 1u);
  EXPECT_EQ(stats[1].hits, 1u);
  // L1 serves it until the L3 copy would have expired, not longer.
  clock_.Advance(seconds(24));
  EXPECT_EQ(cache->l1().Get("k"), "from-l3");
  clock_.Advance(seconds(1));
  EXPECT_EQ(cache->l1().Get("k"), std::nullopt);
  EXPECT_EQ(cache->GetOrLoad("k", CountingLoader("loaded")).value(), "loaded");
  EXPECT_EQ(loads_, 1);
}

TEST_F(LayeredCacheTest, L1TtlCapsBackFill) {
  Layered::Options options = BaseOptions(1);
  options.l1.expire_after_write = seconds(5);
  auto cache = Layered::Create(options).value();
  ASSERT_TRUE(l2_->Set("k", "v", seconds(50)).ok());
  EXPECT_EQ(cache->Get("k"), "v");
  clock_.Advance(seconds(5));
  EXPECT_EQ(cache->l1().Get("k"), std::nullopt);
  EXPECT_EQ(cache->Get("k"), "v");  // from L2 again
  EXPECT_EQ(cache->LayerStatistics()[0].hits, 2u);
  EXPECT_EQ(cache->Get("absent"), std::nullopt);
}

TEST_F(LayeredCacheTest, DecodeFailureIsAMissAndIsRepaired) {
  Layered::Options options = BaseOptions(1);
  options.codec.decode =
      [](std::string_view bytes) -> absl::StatusOr<std::string> {
    if (bytes == "garbage") return absl::DataLossError("bad bytes");
    return std::string(bytes);
  };
  auto cache = Layered::Create(options).value();
  ASSERT_TRUE(l2_->Set("k", "garbage", std::nullopt).ok());
  EXPECT_EQ(cache->GetOrLoad("k", CountingLoader("good")).value(), "good");
  EXPECT_EQ(loads_, 1);
  EXPECT_EQ(cache->LayerStatistics()[0].decode_errors, 1u);
  EXPECT_EQ(l2_->Get("k").value()->bytes, "good");
}

TEST_F(LayeredCacheTest, WriteThroughAndInvalidatePolicies) {
  auto through = Layered::Create(BaseOptions(2)).value();
  ASSERT_TRUE(through->Put("k", "v1").ok());
  EXPECT_EQ(through->l1().Get("k"), "v1");
  EXPECT_EQ(l2_->Get("k").value()->bytes, "v1");
  EXPECT_EQ(l3_->Get("k").value()->bytes, "v1");
  ASSERT_TRUE(through->Invalidate("k").ok());
  EXPECT_FALSE(l2_->Get("k").value().has_value());
  EXPECT_FALSE(l3_->Get("k").value().has_value());
  EXPECT_EQ(through->l1().Get("k"), std::nullopt);

  Layered::Options options = BaseOptions(2);
  options.write_policy = WritePolicy::kInvalidate;
  options.l1.seed = 8;
  auto invalidating = Layered::Create(options).value();
  ASSERT_TRUE(l2_->Set("j", "old", std::nullopt).ok());
  ASSERT_TRUE(invalidating->Put("j", "new").ok());
  EXPECT_FALSE(l2_->Get("j").value().has_value());
  EXPECT_EQ(invalidating->Get("j"), "new");

  ASSERT_TRUE(l2_->Set("x", "1", std::nullopt).ok());
  ASSERT_TRUE(invalidating->InvalidateAll().ok());
  EXPECT_EQ(l2_->Size(), 0u);
  EXPECT_EQ(invalidating->l1().Size(), 0u);
}

TEST_F(LayeredCacheTest, FailingLayerIsSkippedCountedReportedAndBroken) {
  metrics::Registry registry;
  Layered::Options options = BaseOptions(2);
  options.metrics = &registry;
  options.name = "users";
  auto cache = Layered::Create(options).value();
  health::CheckFunction health = cache->HealthCheck();
  EXPECT_EQ(health().status, health::Status::kPass);

  ASSERT_TRUE(l3_->Set("a", "from-l3", std::nullopt).ok());
  l2_->SetFailing(absl::UnavailableError("connection refused"));
  // Served from L3 (then by the loader) despite the L2 failures, which open
  // its breaker after two in a row; a failed layer is not back-filled.
  EXPECT_EQ(cache->GetOrLoad("a", CountingLoader("loaded")).value(), "from-l3");
  EXPECT_EQ(cache->GetOrLoad("b", CountingLoader("loaded")).value(), "loaded");
  EXPECT_EQ(loads_, 1);
  LayerStats l2 = cache->LayerStatistics()[0];
  EXPECT_GE(l2.errors, 2u);
  EXPECT_THAT(l2.last_error, HasSubstr("connection refused"));
  EXPECT_EQ(l2.breaker_state, resilience::CircuitState::kOpen);
  health::CheckResult result = health();
  EXPECT_EQ(result.status, health::Status::kWarn);
  EXPECT_THAT(result.output, HasSubstr("layer 'l2'"));
  EXPECT_EQ(std::get<std::int64_t>(*result.observed_value), 1);

  // Open breaker: L2 is not called at all, reads still work, writes report it.
  const std::uint64_t gets_before = l2_->calls().gets;
  EXPECT_EQ(cache->GetOrLoad("c", CountingLoader("c")).value(), "c");
  EXPECT_EQ(l2_->calls().gets, gets_before);
  EXPECT_GE(cache->LayerStatistics()[0].rejected, 1u);
  EXPECT_EQ(cache->Put("d", "d").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(l3_->Get("d").value()->bytes, "d");

  // The layer recovers; after the open wait a probe closes the breaker.
  l2_->SetFailing(absl::OkStatus());
  clock_.Advance(seconds(10));
  EXPECT_EQ(cache->GetOrLoad("e", CountingLoader("e")).value(), "e");
  EXPECT_EQ(cache->LayerStatistics()[0].breaker_state,
            resilience::CircuitState::kClosed);
  EXPECT_EQ(health().status, health::Status::kPass);

  std::string text = testing::PrometheusText(registry);
  EXPECT_THAT(text, HasSubstr("keel_cache_layer_requests_total{cache=\"users\","
                              "layer=\"l3\",result=\"hit\"} 1"));
  EXPECT_THAT(text, HasSubstr("keel_cache_layer_requests_total{cache=\"users\","
                              "layer=\"l2\",result=\"error\"}"));
  EXPECT_THAT(text, HasSubstr("keel_cache_layer_writes_total{cache=\"users\","
                              "layer=\"l2\",result=\"rejected\"} 1"));
}

TEST_F(LayeredCacheTest, GetAllBatchesEachLayerAndBackFills) {
  auto cache = Layered::Create(BaseOptions(2)).value();
  ASSERT_TRUE(cache->Put("in-l1", "1").ok());
  ASSERT_TRUE(l2_->Set("in-l2", "2", seconds(30)).ok());
  ASSERT_TRUE(l3_->Set("in-l3", "3", seconds(20)).ok());
  std::vector<std::string> asked;
  auto result = cache->GetAll(
      {"in-l1", "in-l2", "in-l3", "loaded", "absent", "in-l2"},
      [&](const std::vector<std::string>& keys)
          -> absl::StatusOr<std::vector<std::pair<std::string, std::string>>> {
        asked = keys;
        return std::vector<std::pair<std::string, std::string>>{
            {"loaded", "4"}};
      });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->size(), 4u);
  EXPECT_EQ(result->at("in-l1"), "1");
  EXPECT_EQ(result->at("in-l2"), "2");
  EXPECT_EQ(result->at("in-l3"), "3");
  EXPECT_EQ(result->at("loaded"), "4");
  EXPECT_THAT(asked, ::testing::ElementsAre("loaded", "absent"));
  EXPECT_EQ(l2_->Get("in-l3").value()->ttl, nanoseconds(seconds(20)));
  EXPECT_EQ(l2_->Get("loaded").value()->ttl, nanoseconds(seconds(60)));
  EXPECT_EQ(l3_->Get("loaded").value()->bytes, "4");
  EXPECT_FALSE(l3_->Get("in-l2").value().has_value());  // L3 was not asked
  EXPECT_EQ(cache->l1().Get("in-l3"), "3");

  // A failing layer is skipped in batches too; loader errors propagate.
  l2_->SetFailing(absl::UnavailableError("down"));
  ASSERT_TRUE(l3_->Set("only-l3", "5", std::nullopt).ok());
  auto degraded = cache->GetAll(
      {"only-l3"},
      [](const std::vector<std::string>&)
          -> absl::StatusOr<std::vector<std::pair<std::string, std::string>>> {
        return absl::InternalError("loader must not run");
      });
  ASSERT_TRUE(degraded.ok()) << degraded.status();
  EXPECT_EQ(degraded->at("only-l3"), "5");
  auto failed = cache->GetAll(
      {"nowhere"},
      [](const std::vector<std::string>&)
          -> absl::StatusOr<std::vector<std::pair<std::string, std::string>>> {
        return absl::InternalError("db down");
      });
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kInternal);
}

TEST_F(LayeredCacheTest, IntegerKeysAndLoaderErrors) {
  LayeredCacheOptions<int, std::string> options;
  options.l1.clock = &clock_;
  options.codec = StringCodec();
  LayerConfig config;
  config.layer = l2_.get();
  options.layers.push_back(config);
  auto cache = LayeredCache<int, std::string>::Create(options).value();
  ASSERT_TRUE(cache->Put(42, "x").ok());
  EXPECT_EQ(l2_->Get("42").value()->bytes, "x");
  auto missing =
      cache->GetOrLoad(7, [](const int&) -> absl::StatusOr<std::string> {
        return absl::NotFoundError("no 7");
      });
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(l2_->Get("7").value().has_value());
}

}  // namespace
}  // namespace keel::cache
