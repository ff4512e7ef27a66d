#include "keel/pool/pool.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/base/clock.h"
#include "keel/base/mutex.h"
#include "keel/base/scheduler.h"

namespace keel::pool {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

// Shared state of a FakeFactory, outliving the pool so tests can inspect it.
struct FakeState {
  std::atomic<int> creates{0};
  std::atomic<int> destroys{0};
  std::atomic<int> validates{0};
  std::atomic<int> resets{0};
  std::atomic<bool> fail_creates{false};
  // While closed, Create() blocks until it opens again.
  Mutex gate_mu;
  CondVar gate_cv;
  bool gate_open ABSL_GUARDED_BY(gate_mu) = true;
  int blocked ABSL_GUARDED_BY(gate_mu) = 0;

  void SetGate(bool open) {
    MutexLock lock(gate_mu);
    gate_open = open;
    gate_cv.SignalAll();
  }
  int Blocked() {
    MutexLock lock(gate_mu);
    return blocked;
  }
};

// A connection whose health the test controls.
struct FakeConn {
  int id = 0;
  std::atomic<bool> alive{true};
  std::atomic<bool> valid{true};
  std::atomic<bool> dirty{false};
  std::atomic<bool> in_use{false};  // detects two holders at once
  FakeState* state = nullptr;       // counts the destruction

  ~FakeConn() { state->destroys.fetch_add(1); }
};

class FakeFactory : public Factory<FakeConn> {
 public:
  explicit FakeFactory(FakeState* state) : state_(state) {}

  absl::StatusOr<std::unique_ptr<FakeConn>> Create(
      std::chrono::nanoseconds) override {
    {
      MutexLock lock(state_->gate_mu);
      ++state_->blocked;
      while (!state_->gate_open) state_->gate_cv.Wait(state_->gate_mu);
      --state_->blocked;
    }
    if (state_->fail_creates.load()) {
      state_->creates.fetch_add(1);
      return absl::UnavailableError("connection refused");
    }
    auto conn = std::make_unique<FakeConn>();
    conn->state = state_;
    conn->id = state_->creates.fetch_add(1) + 1;
    return conn;
  }
  bool IsAlive(FakeConn& conn) override { return conn.alive.load(); }
  absl::Status Validate(FakeConn& conn) override {
    state_->validates.fetch_add(1);
    return conn.valid.load() ? absl::OkStatus()
                             : absl::UnavailableError("no PONG");
  }
  absl::Status Reset(FakeConn& conn) override {
    state_->resets.fetch_add(1);
    return conn.dirty.load() ? absl::InternalError("transaction open")
                             : absl::OkStatus();
  }

 private:
  FakeState* state_;
};

// Waits (in real time, bounded) for a condition that another thread makes
// true; for synchronisation only, never to let time pass.
template <typename Predicate>
bool Eventually(Predicate predicate) {
  const auto give_up = std::chrono::steady_clock::now() + seconds(20);
  while (!predicate()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::yield();
  }
  return true;
}

class PoolTest : public ::testing::Test {
 protected:
  PoolTest() {
    options_.clock = &clock_;
    options_.max_size = 2;
    options_.acquire_timeout = seconds(1);
    options_.keepalive_interval = std::chrono::nanoseconds(0);
    options_.max_lifetime = std::chrono::nanoseconds(0);
    options_.idle_timeout = std::chrono::nanoseconds(0);
  }

  std::unique_ptr<Pool<FakeConn>> MakePool() {
    auto pool = Pool<FakeConn>::Create(options_,
                                       std::make_unique<FakeFactory>(&state_));
    EXPECT_TRUE(pool.ok()) << pool.status();
    return pool.ok() ? std::move(*pool) : nullptr;
  }

  // Declared first so that they outlive the pool's threads.
  ManualClock clock_;
  FakeState state_;
  PoolOptions options_;
};

TEST(PoolOptionsTest, DefaultsAreValid) {
  EXPECT_TRUE(ValidatePoolOptions(PoolOptions()).ok());
}

TEST(PoolOptionsTest, RejectsEachBadFieldByName) {
  struct Case {
    const char* field;
    void (*mutate)(PoolOptions&);
  };
  const Case cases[] = {
      {"name", [](PoolOptions& o) { o.name.clear(); }},
      {"max_size", [](PoolOptions& o) { o.max_size = 0; }},
      {"min_idle", [](PoolOptions& o) { o.min_idle = o.max_size + 1; }},
      {"acquire_timeout",
       [](PoolOptions& o) { o.acquire_timeout = -seconds(1); }},
      {"idle_timeout", [](PoolOptions& o) { o.idle_timeout = -seconds(1); }},
      {"max_lifetime_jitter",
       [](PoolOptions& o) { o.max_lifetime_jitter = o.max_lifetime; }},
      {"keepalive_jitter",
       [](PoolOptions& o) { o.keepalive_jitter = -seconds(1); }},
      {"max_concurrent_connects",
       [](PoolOptions& o) { o.max_concurrent_connects = 0; }},
      {"connect_timeout",
       [](PoolOptions& o) { o.connect_timeout = std::chrono::nanoseconds(0); }},
      {"connect_backoff_max",
       [](PoolOptions& o) { o.connect_backoff_max = milliseconds(1); }},
      {"maintenance_interval",
       [](PoolOptions& o) { o.maintenance_interval = -seconds(1); }},
      {"clock", [](PoolOptions& o) { o.clock = nullptr; }},
  };
  for (const Case& c : cases) {
    PoolOptions options;
    c.mutate(options);
    absl::Status status = ValidatePoolOptions(options);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.field));
  }
}

TEST(PoolOptionsTest, CreateRejectsNullFactory) {
  auto pool = Pool<FakeConn>::Create(PoolOptions(), nullptr);
  EXPECT_EQ(pool.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(PoolTest, ReusesTheMostRecentlyReleasedConnection) {
  auto pool = MakePool();
  auto a = pool->Acquire();
  auto b = pool->Acquire();
  ASSERT_TRUE(a.ok() && b.ok());
  const int a_id = (*a)->id;
  const int b_id = (*b)->id;
  EXPECT_NE(a_id, b_id);
  a->Release();
  b->Release();
  auto c = pool->Acquire();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->id, b_id);
  EXPECT_EQ(state_.creates.load(), 2);
  PoolStats stats = pool->Stats();
  EXPECT_EQ(stats.size, 2u);
  EXPECT_EQ(stats.in_use, 1u);
  EXPECT_EQ(stats.idle, 1u);
  EXPECT_EQ(stats.acquires, 3u);
}

TEST_F(PoolTest, ThreadGetsBackTheConnectionItReleased) {
  auto pool = MakePool();
  auto a = pool->Acquire();
  auto b = pool->Acquire();
  ASSERT_TRUE(a.ok() && b.ok());
  const int a_id = (*a)->id;
  const int b_id = (*b)->id;
  a->Release();                               // this thread's last: a
  std::thread([&] { b->Release(); }).join();  // b is the most recent idle one
  auto mine = pool->Acquire();
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ((*mine)->id, a_id);  // not the most recently used b
  int other_id = -1;
  std::thread([&] {
    auto theirs = pool->Acquire();
    ASSERT_TRUE(theirs.ok());
    other_id = (*theirs)->id;
  }).join();
  EXPECT_EQ(other_id, b_id);
  mine->Release();
  // With its own connection taken, a thread gets the most recent idle one.
  auto c = pool->Acquire();
  auto d = pool->Acquire();
  ASSERT_TRUE(c.ok() && d.ok());
  EXPECT_EQ((*c)->id, a_id);
  EXPECT_EQ((*d)->id, b_id);
  EXPECT_EQ(state_.creates.load(), 2);
}

TEST_F(PoolTest, TimesOutAtTheDeadlineOfTheManualClock) {
  options_.max_size = 1;
  auto pool = MakePool();
  auto held = pool->Acquire();
  ASSERT_TRUE(held.ok());
  absl::Status result;
  std::thread waiter(
      [&] { result = pool->Acquire(milliseconds(250)).status(); });
  ASSERT_TRUE(Eventually([&] { return pool->Stats().waiters == 1; }));
  clock_.Advance(milliseconds(249));
  // Still waiting one nanosecond-granular millisecond before the deadline.
  EXPECT_EQ(pool->Stats().waiters, 1u);
  clock_.Advance(milliseconds(1));
  waiter.join();
  EXPECT_EQ(result.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(result.message()), HasSubstr("250ms"));
  EXPECT_THAT(std::string(result.message()), HasSubstr("in use 1"));
  EXPECT_EQ(pool->Stats().acquire_timeouts, 1u);
}

TEST_F(PoolTest, ZeroTimeoutFailsAtOnceWhenNothingIsIdle) {
  options_.max_size = 1;
  auto pool = MakePool();
  auto held = pool->Acquire();
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(pool->Acquire(std::chrono::nanoseconds(0)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST_F(PoolTest, FullWaitQueueFailsFast) {
  options_.max_size = 1;
  options_.max_waiters = 1;
  auto pool = MakePool();
  auto held = pool->Acquire();
  ASSERT_TRUE(held.ok());
  absl::Status first;
  std::thread waiter([&] { first = pool->Acquire().status(); });
  ASSERT_TRUE(Eventually([&] { return pool->Stats().waiters == 1; }));
  absl::Status second = pool->Acquire().status();
  EXPECT_EQ(second.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(second.message()), HasSubstr("wait queue full"));
  held->Release();  // goes straight to the waiter
  waiter.join();
  EXPECT_TRUE(first.ok()) << first;
  EXPECT_EQ(pool->Stats().acquire_rejections, 1u);
}

TEST_F(PoolTest, WaitersAreServedInArrivalOrder) {
  options_.max_size = 1;
  auto pool = MakePool();
  auto held = pool->Acquire();
  ASSERT_TRUE(held.ok());
  Mutex mu;
  std::vector<int> order;
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&, i] {
      auto lease = pool->Acquire(seconds(100));
      ASSERT_TRUE(lease.ok()) << lease.status();
      MutexLock lock(mu);
      order.push_back(i);
    });
    ASSERT_TRUE(Eventually([&] {
      return pool->Stats().waiters == static_cast<std::size_t>(i + 1);
    }));
  }
  held->Release();
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(order, ::testing::ElementsAre(0, 1, 2));
  EXPECT_EQ(state_.creates.load(), 1);
}

TEST_F(PoolTest, CallerDoesNotWaitForSomeoneElsesSlowConnect) {
  auto pool = MakePool();  // max_size 2
  auto held = pool->Acquire();
  ASSERT_TRUE(held.ok());
  const int held_id = (*held)->id;
  state_.SetGate(false);  // the next connect hangs
  int got_id = 0;
  std::thread waiter([&] {
    auto lease = pool->Acquire(seconds(100));
    ASSERT_TRUE(lease.ok()) << lease.status();
    got_id = (*lease)->id;
  });
  ASSERT_TRUE(Eventually([&] { return state_.Blocked() == 1; }));
  held->Release();
  waiter.join();  // served by the release while the connect still hangs
  EXPECT_EQ(got_id, held_id);
  state_.SetGate(true);
  ASSERT_TRUE(Eventually([&] { return pool->Stats().idle == 2; }));
}

TEST_F(PoolTest, BrokenLeaseIsClosedAndReplaced) {
  auto pool = MakePool();
  auto lease = pool->Acquire();
  ASSERT_TRUE(lease.ok());
  const int first = (*lease)->id;
  lease->MarkBroken();
  lease->Release();
  EXPECT_EQ(state_.destroys.load(), 1);
  auto next = pool->Acquire();
  ASSERT_TRUE(next.ok());
  EXPECT_NE((*next)->id, first);
  EXPECT_EQ(pool->Stats().Closes(CloseReason::kBroken), 1u);
}

TEST_F(PoolTest, DeadIdleConnectionIsNeverHandedOut) {
  auto pool = MakePool();
  FakeConn* dead = nullptr;
  {
    auto lease = pool->Acquire();
    ASSERT_TRUE(lease.ok());
    dead = lease->get();
  }
  dead->alive = false;  // e.g. the server closed the socket while idle
  auto lease = pool->Acquire();
  ASSERT_TRUE(lease.ok());
  EXPECT_NE(lease->get(), dead);
  EXPECT_TRUE((*lease)->alive.load());
  EXPECT_EQ(pool->Stats().Closes(CloseReason::kBroken), 1u);
}

TEST_F(PoolTest, ValidatesOnlyAfterTheIdleThreshold) {
  options_.validation_idle_threshold = seconds(5);
  auto pool = MakePool();
  { ASSERT_TRUE(pool->Acquire().ok()); }
  { ASSERT_TRUE(pool->Acquire().ok()); }
  EXPECT_EQ(state_.validates.load(), 0);
  clock_.Advance(seconds(5));
  FakeConn* conn = nullptr;
  {
    auto lease = pool->Acquire();
    ASSERT_TRUE(lease.ok());
    conn = lease->get();
  }
  EXPECT_EQ(state_.validates.load(), 1);
  conn->valid = false;
  clock_.Advance(seconds(5));
  auto lease = pool->Acquire();
  ASSERT_TRUE(lease.ok());
  EXPECT_NE(lease->get(), conn);
  EXPECT_EQ(pool->Stats().Closes(CloseReason::kValidationFailed), 1u);
}

TEST_F(PoolTest, DirtyConnectionThatFailsResetIsDiscarded) {
  auto pool = MakePool();
  FakeConn* conn = nullptr;
  {
    auto lease = pool->Acquire();
    ASSERT_TRUE(lease.ok());
    conn = lease->get();
    conn->dirty = true;
  }
  EXPECT_EQ(state_.resets.load(), 1);
  EXPECT_EQ(pool->Stats().Closes(CloseReason::kResetFailed), 1u);
  EXPECT_EQ(pool->Stats().size, 0u);
}

TEST_F(PoolTest, IdleTimeoutClosesDownToMinIdle) {
  options_.max_size = 3;
  options_.min_idle = 1;
  options_.idle_timeout = seconds(60);
  auto pool = MakePool();
  {
    auto a = pool->Acquire();
    auto b = pool->Acquire();
    auto c = pool->Acquire();
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  }
  clock_.Advance(seconds(59));
  pool->RunMaintenance();
  EXPECT_EQ(pool->Stats().size, 3u);
  clock_.Advance(seconds(1));
  pool->RunMaintenance();
  PoolStats stats = pool->Stats();
  EXPECT_EQ(stats.size, 1u);
  EXPECT_EQ(stats.Closes(CloseReason::kIdleTimeout), 2u);
}

TEST_F(PoolTest, MaxLifetimeRetiresIdleAndReturningConnections) {
  options_.max_lifetime = seconds(100);
  options_.max_lifetime_jitter = seconds(10);
  auto pool = MakePool();
  auto held = pool->Acquire();
  { ASSERT_TRUE(pool->Acquire().ok()); }  // one idle
  ASSERT_TRUE(held.ok());
  clock_.Advance(seconds(89));  // jitter takes at most 10 s off
  pool->RunMaintenance();
  EXPECT_EQ(pool->Stats().size, 2u);
  clock_.Advance(seconds(11));
  pool->RunMaintenance();
  EXPECT_EQ(pool->Stats().Closes(CloseReason::kMaxLifetime), 1u);
  held->Release();
  EXPECT_EQ(pool->Stats().Closes(CloseReason::kMaxLifetime), 2u);
  EXPECT_EQ(pool->Stats().size, 0u);
}

TEST_F(PoolTest, EvictAllRetiresEveryCurrentConnection) {
  auto pool = MakePool();
  auto held = pool->Acquire();
  { ASSERT_TRUE(pool->Acquire().ok()); }
  ASSERT_TRUE(held.ok());
  const int old_id = (*held)->id;
  pool->EvictAll();
  EXPECT_EQ(pool->Stats().size, 1u);  // idle one closed at once
  held->Release();
  PoolStats stats = pool->Stats();
  EXPECT_EQ(stats.size, 0u);
  EXPECT_EQ(stats.Closes(CloseReason::kEvicted), 2u);
  EXPECT_EQ(stats.generation, 1u);
  auto fresh = pool->Acquire();
  ASSERT_TRUE(fresh.ok());
  EXPECT_GT((*fresh)->id, old_id + 1);
}

TEST_F(PoolTest, ReportsLeakWithTheAcquisitionSite) {
  options_.leak_detection_threshold = seconds(30);
  std::vector<LeakReport> reports;
  options_.on_leak = [&](const LeakReport& r) { reports.push_back(r); };
  auto pool = MakePool();
  auto leaked = pool->Acquire();
  const int line = __LINE__ - 1;
  ASSERT_TRUE(leaked.ok());
  clock_.Advance(seconds(29));
  pool->RunMaintenance();
  EXPECT_TRUE(reports.empty());
  clock_.Advance(seconds(1));
  pool->RunMaintenance();
  pool->RunMaintenance();  // reported once
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_THAT(reports[0].site.file, HasSubstr("pool_test.cc"));
  EXPECT_EQ(reports[0].site.line, line);
  EXPECT_EQ(reports[0].held, seconds(30));
  EXPECT_FALSE(reports[0].reclaimed);
  EXPECT_EQ(pool->Stats().leaks, 1u);
}

TEST_F(PoolTest, ReclaimedLeakFreesCapacityAndIsClosedOnRelease) {
  options_.max_size = 1;
  options_.leak_detection_threshold = seconds(30);
  options_.reclaim_leaked = true;
  auto pool = MakePool();
  auto leaked = pool->Acquire();
  ASSERT_TRUE(leaked.ok());
  clock_.Advance(seconds(30));
  pool->RunMaintenance();
  auto other = pool->Acquire(seconds(100));  // a new connection fits now
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_NE(other->get(), leaked->get());
  leaked->Release();
  EXPECT_EQ(state_.destroys.load(), 1);
  PoolStats stats = pool->Stats();
  EXPECT_EQ(stats.size, 1u);
  EXPECT_EQ(stats.in_use, 1u);
  EXPECT_EQ(stats.Closes(CloseReason::kLeakReclaimed), 1u);
}

TEST_F(PoolTest, FailedConnectsBackOffAndTimeoutsQuoteTheError) {
  options_.connect_backoff_initial = seconds(1);
  options_.connect_backoff_max = seconds(8);
  options_.max_concurrent_connects = 1;
  state_.fail_creates = true;
  auto pool = MakePool();
  absl::Status result;
  std::thread waiter([&] { result = pool->Acquire(seconds(10)).status(); });
  ASSERT_TRUE(Eventually([&] { return pool->Stats().create_failures == 1; }));
  // No retry before the backoff (at least 0.5 s) has passed on the clock.
  ASSERT_TRUE(Eventually([&] { return pool->Stats().waiters == 1; }));
  EXPECT_EQ(state_.creates.load(), 1);
  clock_.Advance(seconds(1));
  ASSERT_TRUE(Eventually([&] { return pool->Stats().create_failures == 2; }));
  clock_.Advance(seconds(9));
  waiter.join();
  EXPECT_EQ(result.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(result.message()),
              HasSubstr("last connect error: connection refused"));
  EXPECT_LE(state_.creates.load(), 4);
}

TEST_F(PoolTest, FailFastStartupReturnsTheConnectError) {
  options_.startup = StartupPolicy::kFailFast;
  state_.fail_creates = true;
  auto pool =
      Pool<FakeConn>::Create(options_, std::make_unique<FakeFactory>(&state_));
  EXPECT_EQ(pool.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(pool.status().message()),
              HasSubstr("connection refused"));
}

TEST_F(PoolTest, BlockingStartupOpensMinIdle) {
  options_.max_size = 4;
  options_.min_idle = 3;
  options_.startup = StartupPolicy::kBlockUntilMinIdle;
  auto pool = MakePool();
  PoolStats stats = pool->Stats();
  EXPECT_GE(stats.size, 3u);
  EXPECT_EQ(state_.creates.load(), static_cast<int>(stats.size));
}

TEST_F(PoolTest, KeepaliveValidatesIdleConnectionsAndDropsDeadOnes) {
  options_.keepalive_interval = seconds(120);
  options_.keepalive_jitter = seconds(10);
  options_.validation_idle_threshold = seconds(1000);
  auto pool = MakePool();
  FakeConn* conn = nullptr;
  {
    auto lease = pool->Acquire();
    ASSERT_TRUE(lease.ok());
    conn = lease->get();
  }
  clock_.Advance(seconds(120));
  pool->RunMaintenance();
  ASSERT_TRUE(Eventually([&] { return state_.validates.load() == 1; }));
  ASSERT_TRUE(Eventually([&] { return pool->Stats().idle == 1; }));
  conn->valid = false;
  clock_.Advance(seconds(120));
  pool->RunMaintenance();
  ASSERT_TRUE(Eventually([&] {
    return pool->Stats().Closes(CloseReason::kKeepaliveFailed) == 1;
  }));
  EXPECT_EQ(pool->Stats().size, 0u);
}

TEST_F(PoolTest, MinIdleIsRestoredInTheBackground) {
  options_.min_idle = 2;
  auto pool = MakePool();
  ASSERT_TRUE(Eventually([&] { return pool->Stats().idle == 2; }));
  {
    auto lease = pool->Acquire();
    ASSERT_TRUE(lease.ok());
    lease->MarkBroken();
  }
  ASSERT_TRUE(Eventually([&] { return pool->Stats().idle == 2; }));
  EXPECT_EQ(state_.creates.load(), 3);
}

TEST_F(PoolTest, ShutdownFailsWaitersAndLaterAcquires) {
  options_.max_size = 1;
  auto pool = MakePool();
  auto held = pool->Acquire();
  ASSERT_TRUE(held.ok());
  absl::Status waited;
  std::thread waiter([&] { waited = pool->Acquire(seconds(100)).status(); });
  ASSERT_TRUE(Eventually([&] { return pool->Stats().waiters == 1; }));
  pool->Shutdown();
  waiter.join();
  EXPECT_EQ(waited.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(pool->Acquire().status().code(),
            absl::StatusCode::kFailedPrecondition);
  held->Release();
  EXPECT_EQ(pool->Stats().Closes(CloseReason::kShutdown), 1u);
  EXPECT_EQ(state_.destroys.load(), 1);
}

TEST_F(PoolTest, HealthCheckPassesWhenALeaseIsAvailable) {
  options_.max_size = 1;
  auto pool = MakePool();
  health::CheckResult ok = pool->CheckHealth(milliseconds(10));
  EXPECT_EQ(ok.status, health::Status::kPass) << ok.output;
  auto held = pool->Acquire();
  ASSERT_TRUE(held.ok());
  health::CheckResult full = pool->CheckHealth(std::chrono::nanoseconds(0));
  EXPECT_EQ(full.status, health::Status::kFail);
  EXPECT_THAT(full.output, HasSubstr("no connection available"));
}

TEST_F(PoolTest, ManyThreadsNeverShareAConnection) {
  options_.max_size = 4;
  options_.acquire_timeout = seconds(1000);
  options_.max_waiters = 64;
  auto pool = MakePool();
  std::atomic<int> overlaps{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        auto lease = pool->Acquire();
        if (!lease.ok()) {
          failures.fetch_add(1);
          continue;
        }
        if ((*lease)->in_use.exchange(true)) overlaps.fetch_add(1);
        (*lease)->in_use.store(false);
        if ((i + t) % 97 == 0) lease->MarkBroken();
        if (t == 0 && i % 500 == 0) pool->EvictAll();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(failures.load(), 0);
  PoolStats stats = pool->Stats();
  EXPECT_EQ(stats.in_use, 0u);
  EXPECT_EQ(stats.waiters, 0u);
  EXPECT_LE(stats.size, 4u);
  EXPECT_EQ(stats.acquires, 16000u);
  EXPECT_EQ(stats.creates - stats.TotalCloses(), stats.size);
  pool.reset();
  EXPECT_EQ(state_.destroys.load(), state_.creates.load());
}

}  // namespace
}  // namespace keel::pool
