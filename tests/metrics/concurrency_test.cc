// Many threads record through shared handles while others scrape and
// (un)register; totals must come out exact.

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/metrics/exposition.h"
#include "keel/metrics/registry.h"

namespace keel {
namespace metrics {
namespace {

using ::testing::HasSubstr;

// Starts all threads together so that they really overlap.
class StartGate {
 public:
  explicit StartGate(int parties) : waiting_(parties) {}
  void ArriveAndWait() {
    waiting_.fetch_sub(1);
    while (waiting_.load() > 0) std::this_thread::yield();
  }

 private:
  std::atomic<int> waiting_;
};

TEST(ConcurrencyTest, CountersAndHistogramsAreExactUnderContention) {
  Registry registry;
  auto counters = registry.AddCounter("ops_total", "Ops.", {"kind"});
  auto histograms =
      registry.AddHistogram("op_seconds", "Latency.", {"kind"}, {1, 2, 3});
  auto gauges = registry.AddGauge("level", "Level.");
  ASSERT_TRUE(counters.ok() && histograms.ok() && gauges.ok());
  const Counter shared = (*counters)->WithLabels({"shared"});
  const Histogram latency = (*histograms)->WithLabels({"shared"});
  const Gauge level = (*gauges)->WithLabels({});

  constexpr int kThreads = 8;
  constexpr int kIterations = 20000;
  StartGate gate(kThreads + 1);
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Each thread also binds its own series, concurrently with the others.
      const Counter own = (*counters)->WithLabels({"t" + std::to_string(t)});
      gate.ArriveAndWait();
      for (int i = 0; i < kIterations; ++i) {
        shared.Inc();
        own.Inc(2);
        latency.Observe(i % 4 + 0.5);  // buckets 1, 2, 3, +Inf in turn
        level.Inc();
        level.Dec();
      }
    });
  }
  std::thread scraper([&] {
    gate.ArriveAndWait();
    std::string out;
    while (!done.load()) {
      WriteExposition(registry, ExpositionFormat::kOpenMetrics, &out);
      ASSERT_THAT(out, HasSubstr("# EOF\n"));
    }
  });
  for (auto& thread : threads) thread.join();
  done.store(true);
  scraper.join();

  EXPECT_EQ(shared.Value(), kThreads * kIterations);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ((*counters)->WithLabels({"t" + std::to_string(t)}).Value(),
              2.0 * kIterations);
  }
  EXPECT_EQ(latency.Count(),
            static_cast<std::uint64_t>(kThreads) * kIterations);
  EXPECT_EQ(latency.Sum(),
            kThreads * (kIterations / 4) * (0.5 + 1.5 + 2.5 + 3.5));
  EXPECT_EQ(level.Value(), 0);

  std::string out;
  WriteExposition(registry, ExpositionFormat::kPrometheusText, &out);
  const std::string quarter = std::to_string(kThreads * kIterations / 4);
  EXPECT_THAT(out, HasSubstr("op_seconds_bucket{kind=\"shared\",le=\"1\"} " +
                             quarter + "\n"));
  EXPECT_THAT(out, HasSubstr("op_seconds_bucket{kind=\"shared\",le=\"+Inf\"} " +
                             std::to_string(kThreads * kIterations) + "\n"));
}

TEST(ConcurrencyTest, MoreThreadsThanCellSlotsStillCountExactly) {
  Registry registry;
  auto family = registry.AddCounter("many_total", "Many.");
  ASSERT_TRUE(family.ok());
  const Counter counter = (*family)->WithLabels({});
  // More live threads than per-thread slots: the rest share one cell.
  constexpr int kThreads =
      static_cast<int>(metrics_internal::kMaxThreadCells) + 20;
  constexpr int kIterations = 200;
  StartGate gate(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      gate.ArriveAndWait();
      for (int i = 0; i < kIterations; ++i) counter.Inc();
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter.Value(), kThreads * kIterations);

  // Slots were released at thread exit: new threads continue the old cells.
  for (int round = 0; round < 3; ++round) {
    std::thread([&] { counter.Inc(); }).join();
  }
  EXPECT_EQ(counter.Value(), kThreads * kIterations + 3);
}

TEST(ConcurrencyTest, CallbacksComeAndGoDuringScrapes) {
  Registry registry;
  auto family = registry.AddGauge("pool_size", "Size.", {"pool"});
  ASSERT_TRUE(family.ok());
  std::atomic<bool> done{false};
  std::thread scraper([&] {
    std::string out;
    while (!done.load()) {
      WriteExposition(registry, ExpositionFormat::kPrometheusText, &out);
    }
  });
  std::vector<std::thread> owners;
  for (int t = 0; t < 4; ++t) {
    owners.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        auto value = std::make_unique<double>(i);
        auto registration = (*family)->AddCallback(
            {"p" + std::to_string(t)}, [v = value.get()] { return *v; });
        ASSERT_TRUE(registration.ok()) << registration.status();
        registration->Reset();  // the callback no longer runs after this
        value.reset();
      }
    });
  }
  for (auto& owner : owners) owner.join();
  done.store(true);
  scraper.join();
  EXPECT_EQ((*family)->series_count(), 0u);
}

TEST(ConcurrencyTest, ConcurrentRegistrationReturnsOneFamily) {
  Registry registry;
  constexpr int kThreads = 8;
  std::vector<CounterFamily*> seen(kThreads);
  StartGate gate(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      gate.ArriveAndWait();
      auto family = registry.AddCounter("shared_total", "Shared.", {"pool"});
      ASSERT_TRUE(family.ok());
      seen[t] = *family;
      (*family)->WithLabels({"p"}).Inc();
    });
  }
  for (auto& thread : threads) thread.join();
  for (CounterFamily* family : seen) EXPECT_EQ(family, seen[0]);
  EXPECT_EQ(seen[0]->WithLabels({"p"}).Value(), kThreads);
}

}  // namespace
}  // namespace metrics
}  // namespace keel
