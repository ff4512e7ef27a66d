// Metrics of the generic pool: series names and labels, and that each counter
// moves with the event it counts.

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/base/clock.h"
#include "keel/metrics/exposition.h"
#include "keel/metrics/registry.h"
#include "keel/pool/pool.h"
#include "testing/prometheus_text.h"

namespace keel::pool {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

struct Conn {
  bool alive = true;
};

class ConnFactory : public Factory<Conn> {
 public:
  explicit ConnFactory(std::atomic<bool>* fail) : fail_(fail) {}
  absl::StatusOr<std::unique_ptr<Conn>> Create(
      std::chrono::nanoseconds) override {
    if (fail_->load()) return absl::UnavailableError("connection refused");
    return std::make_unique<Conn>();
  }
  bool IsAlive(Conn& conn) override { return conn.alive; }

 private:
  std::atomic<bool>* fail_;
};

// The value of the sample whose line starts with `series` (name and labels),
// or -1 when there is none.
double Sample(const metrics::Registry& registry, const std::string& series) {
  const std::string text = testing::PrometheusText(registry);
  const std::string needle = "\n" + series + " ";
  const std::size_t at = ("\n" + text).find(needle);
  if (at == std::string::npos) return -1;
  return std::strtod(text.c_str() + at + needle.size() - 1, nullptr);
}

class PoolMetricsTest : public ::testing::Test {
 protected:
  PoolMetricsTest() {
    options_.name = "orders";
    options_.metrics = &registry_;
    options_.clock = &clock_;
    options_.max_size = 1;
    options_.acquire_timeout = milliseconds(100);
    options_.keepalive_interval = std::chrono::nanoseconds(0);
    options_.max_lifetime = std::chrono::nanoseconds(0);
    options_.idle_timeout = std::chrono::nanoseconds(0);
  }

  std::unique_ptr<Pool<Conn>> MakePool() {
    auto pool =
        Pool<Conn>::Create(options_, std::make_unique<ConnFactory>(&fail_));
    EXPECT_TRUE(pool.ok()) << pool.status();
    return pool.ok() ? std::move(*pool) : nullptr;
  }

  metrics::Registry registry_;
  ManualClock clock_;
  std::atomic<bool> fail_{false};
  PoolOptions options_;
};

TEST_F(PoolMetricsTest, GaugesFollowThePool) {
  auto pool = MakePool();
  auto lease = pool->Acquire();
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(Sample(registry_, "keel_pool_connections{pool=\"orders\"}"), 1);
  EXPECT_EQ(Sample(registry_, "keel_pool_in_use_connections{pool=\"orders\"}"),
            1);
  EXPECT_EQ(Sample(registry_, "keel_pool_idle_connections{pool=\"orders\"}"),
            0);
  EXPECT_EQ(Sample(registry_, "keel_pool_waiters{pool=\"orders\"}"), 0);
  lease->Release();
  EXPECT_EQ(Sample(registry_, "keel_pool_in_use_connections{pool=\"orders\"}"),
            0);
  EXPECT_EQ(Sample(registry_, "keel_pool_idle_connections{pool=\"orders\"}"),
            1);
}

TEST_F(PoolMetricsTest, CountsAcquiresCreatesClosesTimeoutsAndRejections) {
  auto pool = MakePool();
  auto lease = pool->Acquire();
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(
      Sample(registry_, "keel_pool_connection_creates_total{pool=\"orders\"}"),
      1);
  EXPECT_EQ(
      Sample(registry_, "keel_pool_acquire_seconds_count{pool=\"orders\"}"), 1);

  // The one connection is leased: a zero-timeout acquire times out.
  EXPECT_EQ(pool->Acquire(std::chrono::nanoseconds(0)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(
      Sample(registry_, "keel_pool_acquire_timeouts_total{pool=\"orders\"}"),
      1);
  EXPECT_EQ(
      Sample(registry_, "keel_pool_acquire_rejections_total{pool=\"orders\"}"),
      0);

  lease->MarkBroken();
  lease->Release();
  EXPECT_EQ(Sample(registry_,
                   "keel_pool_connection_closes_total{pool=\"orders\",reason="
                   "\"broken\"}"),
            1);
  EXPECT_EQ(Sample(registry_,
                   "keel_pool_connection_closes_total{pool=\"orders\",reason="
                   "\"shutdown\"}"),
            0);
}

TEST_F(PoolMetricsTest, RejectionsAreCounted) {
  options_.max_waiters = 0;
  auto pool = MakePool();
  auto held = pool->Acquire();
  ASSERT_TRUE(held.ok());
  // The pool is full and nobody may wait for it.
  EXPECT_EQ(pool->Acquire().status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(
      Sample(registry_, "keel_pool_acquire_rejections_total{pool=\"orders\"}"),
      1);
  EXPECT_EQ(
      Sample(registry_, "keel_pool_acquire_timeouts_total{pool=\"orders\"}"),
      0);
}

TEST_F(PoolMetricsTest, AcquireLatencyIsTheWaitOnThePoolClock) {
  auto pool = MakePool();
  auto held = pool->Acquire();
  ASSERT_TRUE(held.ok());
  std::thread waiter([&] {
    auto lease = pool->Acquire(seconds(100));
    EXPECT_TRUE(lease.ok()) << lease.status();
  });
  while (pool->Stats().waiters == 0) std::this_thread::yield();
  clock_.Advance(milliseconds(30));  // the waiter waits 30 ms of pool time
  held->Release();
  waiter.join();
  EXPECT_EQ(
      Sample(registry_, "keel_pool_acquire_seconds_count{pool=\"orders\"}"), 2);
  EXPECT_DOUBLE_EQ(
      Sample(registry_, "keel_pool_acquire_seconds_sum{pool=\"orders\"}"),
      0.03);
  // 30 ms lands above the 25 ms bound and within the 50 ms one.
  EXPECT_EQ(Sample(registry_,
                   "keel_pool_acquire_seconds_bucket{pool=\"orders\",le="
                   "\"0.025\"}"),
            1);
  EXPECT_EQ(Sample(registry_,
                   "keel_pool_acquire_seconds_bucket{pool=\"orders\",le="
                   "\"0.05\"}"),
            2);
}

TEST_F(PoolMetricsTest, CountsConnectFailuresAndLeaks) {
  options_.leak_detection_threshold = seconds(10);
  options_.connect_backoff_initial = seconds(1);
  options_.min_idle = 1;  // the connector threads try to open one
  fail_ = true;
  auto pool = MakePool();
  const auto give_up = std::chrono::steady_clock::now() + seconds(20);
  while (pool->Stats().create_failures == 0 &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::yield();
  }
  EXPECT_EQ(
      Sample(registry_, "keel_pool_connect_failures_total{pool=\"orders\"}"),
      static_cast<double>(pool->Stats().create_failures));
  EXPECT_GE(
      Sample(registry_, "keel_pool_connect_failures_total{pool=\"orders\"}"),
      1);
  fail_ = false;
  clock_.Advance(seconds(2));  // past the connect backoff
  auto lease = pool->Acquire(seconds(100));
  ASSERT_TRUE(lease.ok()) << lease.status();
  clock_.Advance(seconds(11));
  pool->RunMaintenance();
  EXPECT_EQ(Sample(registry_, "keel_pool_leaks_total{pool=\"orders\"}"), 1);
}

TEST_F(PoolMetricsTest, ShutdownClosesAreCounted) {
  auto pool = MakePool();
  { ASSERT_TRUE(pool->Acquire().ok()); }
  pool->Shutdown();
  EXPECT_EQ(Sample(registry_,
                   "keel_pool_connection_closes_total{pool=\"orders\",reason="
                   "\"shutdown\"}"),
            1);
}

TEST_F(PoolMetricsTest, TwoPoolsOfOneNameCannotShareARegistry) {
  auto first = MakePool();
  auto second =
      Pool<Conn>::Create(options_, std::make_unique<ConnFactory>(&fail_));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("orders"));
  options_.name = "billing";
  auto third =
      Pool<Conn>::Create(options_, std::make_unique<ConnFactory>(&fail_));
  EXPECT_TRUE(third.ok()) << third.status();
}

TEST_F(PoolMetricsTest, GaugesDisappearWithThePool) {
  MakePool().reset();
  EXPECT_EQ(Sample(registry_, "keel_pool_connections{pool=\"orders\"}"), -1);
}

}  // namespace
}  // namespace keel::pool
