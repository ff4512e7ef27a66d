// keel::redis::Pool against a real redis-server started by keel_testing.

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/base/clock.h"
#include "keel/redis/pool.h"
#include "testing/redis_server.h"

namespace keel::redis {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

class RedisPoolTest : public ::testing::Test {
 protected:
  void StartServer(std::vector<std::string> extra_args = {}) {
    keel::testing::RedisServerOptions options;
    options.extra_args = std::move(extra_args);
    auto server = keel::testing::RedisServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  PoolOptions Options() {
    PoolOptions options;
    options.connection.host = server_->host();
    options.connection.port = server_->port();
    options.connection.connect_timeout = milliseconds(500);
    options.connection.command_timeout = milliseconds(500);
    options.pool.max_size = 4;
    options.pool.acquire_timeout = seconds(5);
    options.pool.connect_backoff_initial = milliseconds(10);
    options.pool.connect_backoff_max = milliseconds(100);
    return options;
  }

  std::unique_ptr<Pool> MakePool(PoolOptions options) {
    auto pool = Pool::Create(std::move(options));
    EXPECT_TRUE(pool.ok()) << pool.status();
    return pool.ok() ? std::move(*pool) : nullptr;
  }

  // Connected clients as the server counts them (our probe included).
  int ConnectedClients() {
    ConnectionOptions options;
    options.host = server_->host();
    options.port = server_->port();
    auto conn = Connection::Connect(options);
    if (!conn.ok()) return -1;
    auto reply = (*conn)->Command({"INFO", "clients"});
    if (!reply.ok()) return -1;
    const std::string info(reply->str());
    const std::string key = "connected_clients:";
    const std::size_t at = info.find(key);
    return at == std::string::npos ? -1
                                   : std::atoi(info.c_str() + at + key.size());
  }

  std::unique_ptr<keel::testing::RedisServer> server_;
};

TEST_F(RedisPoolTest, RunsCommandsThroughPooledConnections) {
  StartServer();
  auto pool = MakePool(Options());
  auto set = pool->Command({"SET", "greeting", "hello"});
  ASSERT_TRUE(set.ok()) << set.status();
  auto get = pool->Command({"GET", "greeting"});
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->str(), "hello");
  auto wrong = pool->Command({"LPUSH", "greeting", "x"});
  ASSERT_TRUE(wrong.ok());  // an error reply is not a connection error
  EXPECT_TRUE(wrong->is_error());
  pool::PoolStats stats = pool->Stats();
  EXPECT_EQ(stats.size, 1u);  // one connection reused
  EXPECT_EQ(stats.TotalCloses(), 0u);
  EXPECT_EQ(pool->CheckHealth(seconds(1)).status, health::Status::kPass);
}

TEST_F(RedisPoolTest, ExhaustionTimesOutAtTheDeadlineAndCapsTheQueue) {
  StartServer();
  PoolOptions options = Options();
  options.pool.max_size = 2;
  options.pool.max_waiters = 1;
  options.pool.acquire_timeout = milliseconds(200);
  auto pool = MakePool(options);
  auto a = pool->Acquire();
  auto b = pool->Acquire();
  ASSERT_TRUE(a.ok() && b.ok());
  // The deadline is never early; how late it may be is not asserted.
  const auto start = std::chrono::steady_clock::now();
  absl::Status timed_out = pool->Command({"PING"}).status();
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(timed_out.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(waited, options.pool.acquire_timeout);
  RecordProperty(
      "acquire_timeout_overshoot_us",
      std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(
                         waited - options.pool.acquire_timeout)
                         .count()));
  std::thread waiter([&] { EXPECT_TRUE(pool->Acquire(seconds(30)).ok()); });
  while (pool->Stats().waiters != 1) std::this_thread::yield();
  EXPECT_EQ(pool->Command({"PING"}).status().code(),
            absl::StatusCode::kResourceExhausted);
  a->Release();
  waiter.join();
}

TEST_F(RedisPoolTest, RecoversFromAServerRestartUnderLoad) {
  StartServer();
  PoolOptions options = Options();
  auto pool = MakePool(options);
  std::atomic<bool> stop{false};
  std::atomic<int> command_errors{0};
  std::atomic<int> acquire_errors{0};
  std::atomic<std::int64_t> last_error_ns{0};
  std::atomic<int> successes{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      while (!stop.load()) {
        auto lease = pool->Acquire();
        if (!lease.ok()) {
          acquire_errors.fetch_add(1);
          continue;
        }
        auto reply = (*lease)->Command({"INCR", "counter"});
        if (!reply.ok()) {
          // Each dead connection may fail once; it must never come back.
          command_errors.fetch_add(1);
          lease->MarkBroken();
          last_error_ns =
              std::chrono::steady_clock::now().time_since_epoch().count();
        } else {
          successes.fetch_add(1);
        }
      }
    });
  }
  while (successes.load() < 200) std::this_thread::yield();
  ASSERT_TRUE(server_->Kill().ok());
  const auto killed = std::chrono::steady_clock::now();
  ASSERT_TRUE(server_->Restart().ok());
  // A connection opened while the server was dying (the kernel may complete the
  // handshake just before the process goes) is dead too: count those as well.
  const std::uint64_t opened_before_restart = pool->Stats().creates;
  const int before = successes.load();
  while (successes.load() < before + 200) std::this_thread::yield();
  const auto recovered = std::chrono::steady_clock::now();
  stop = true;
  for (std::thread& t : clients) t.join();

  RecordProperty("recovery_ms",
                 std::to_string(std::chrono::duration_cast<milliseconds>(
                                    recovered - killed)
                                    .count()));
  pool::PoolStats stats = pool->Stats();
  // Every connection that could have been dead failed at most once: a dead
  // connection is never handed out again.
  EXPECT_LE(static_cast<std::uint64_t>(command_errors.load()),
            opened_before_restart);
  EXPECT_EQ(stats.in_use, 0u);
  EXPECT_EQ(stats.creates - stats.TotalCloses(), stats.size);
  EXPECT_LE(stats.size, options.pool.max_size);
}

TEST_F(RedisPoolTest, ConnectionsKilledByServerIdleTimeoutAreReplaced) {
  StartServer({"--timeout", "1"});
  PoolOptions options = Options();
  options.pool.validation_idle_threshold = milliseconds(500);
  auto pool = MakePool(options);
  ASSERT_TRUE(pool->Command({"SET", "k", "v"}).ok());
  // Wait until the server closed our idle connection (only the probe left).
  const auto give_up = std::chrono::steady_clock::now() + seconds(30);
  while (ConnectedClients() != 1) {
    ASSERT_LT(std::chrono::steady_clock::now(), give_up);
    std::this_thread::sleep_for(milliseconds(100));
  }
  auto reply = pool->Command({"GET", "k"});
  ASSERT_TRUE(reply.ok()) << reply.status();  // never saw the dead one
  EXPECT_EQ(reply->str(), "v");
  EXPECT_EQ(pool->Stats().Closes(pool::CloseReason::kValidationFailed), 1u);
}

TEST_F(RedisPoolTest, MaxLifetimeRecyclesConnections) {
  StartServer();
  ManualClock clock;
  PoolOptions options = Options();
  options.pool.clock = &clock;
  options.pool.max_lifetime = seconds(60);
  options.pool.max_lifetime_jitter = seconds(5);
  auto pool = MakePool(options);
  ASSERT_TRUE(pool->Command({"PING"}).ok());
  clock.Advance(seconds(60));
  pool->RunMaintenance();
  EXPECT_EQ(pool->Stats().Closes(pool::CloseReason::kMaxLifetime), 1u);
  ASSERT_TRUE(pool->Command({"PING"}).ok());
  EXPECT_EQ(pool->Stats().creates, 2u);
}

TEST_F(RedisPoolTest, ReportsLeakedLeases) {
  StartServer();
  ManualClock clock;
  PoolOptions options = Options();
  options.pool.clock = &clock;
  options.pool.leak_detection_threshold = seconds(10);
  std::vector<pool::LeakReport> leaks;
  options.pool.on_leak = [&](const pool::LeakReport& r) { leaks.push_back(r); };
  auto pool = MakePool(options);
  auto leaked = pool->Acquire();
  ASSERT_TRUE(leaked.ok());
  clock.Advance(seconds(11));
  pool->RunMaintenance();
  ASSERT_EQ(leaks.size(), 1u);
  EXPECT_THAT(leaks[0].site.file, HasSubstr("pool_redis_test.cc"));
  EXPECT_EQ(pool->Stats().leaks, 1u);
}

TEST_F(RedisPoolTest, ConnectFailuresSurfaceInTimeoutsAndHealth) {
  StartServer({"--requirepass", "right"});
  PoolOptions options = Options();
  options.connection.password = "wrong";
  options.pool.acquire_timeout = milliseconds(200);
  auto pool = MakePool(options);
  absl::Status status = pool->Command({"PING"}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(status.message()), HasSubstr("last connect error"));
  health::CheckResult health = pool->CheckHealth(milliseconds(50));
  EXPECT_EQ(health.status, health::Status::kFail);
  PoolOptions fail_fast = options;
  fail_fast.pool.startup = pool::StartupPolicy::kFailFast;
  EXPECT_EQ(Pool::Create(fail_fast).status().code(),
            absl::StatusCode::kUnauthenticated);
}

// Dirty releases. Each test uses a one-connection pool, so the lease after a
// dirty one gets the same connection unless it was discarded.
class RedisDirtyReleaseTest : public RedisPoolTest {
 protected:
  void SetUp() override {
    StartServer();
    PoolOptions options = Options();
    options.pool.max_size = 1;
    pool_ = MakePool(options);
    ASSERT_NE(pool_, nullptr);
  }

  // A command on a connection outside the pool.
  Reply Outside(std::initializer_list<std::string_view> args) {
    ConnectionOptions options;
    options.host = server_->host();
    options.port = server_->port();
    auto conn = Connection::Connect(options);
    EXPECT_TRUE(conn.ok()) << conn.status();
    if (!conn.ok()) return Reply::Error("no connection");
    auto reply = (*conn)->Command(args);
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? *reply
                      : Reply::Error(std::string(reply.status().message()));
  }

  std::unique_ptr<Pool> pool_;
};

TEST_F(RedisDirtyReleaseTest, OpenMultiIsDiscardedBeforeReuse) {
  {
    auto lease = pool_->Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status();
    ASSERT_TRUE((*lease)->Command({"MULTI"}).ok());
    auto queued = (*lease)->Command({"SET", "multi:key", "queued"});
    ASSERT_TRUE(queued.ok()) << queued.status();
    EXPECT_EQ(queued->str(), "QUEUED");
    EXPECT_TRUE((*lease)->dirty());
  }  // released inside MULTI
  // The next caller's commands run at once instead of being queued behind
  // the abandoned transaction, and that transaction never executes.
  auto get = pool_->Command({"GET", "multi:key"});
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_TRUE(get->is_nil()) << get->str();
  auto exec = pool_->Command({"EXEC"});
  ASSERT_TRUE(exec.ok()) << exec.status();
  EXPECT_TRUE(exec->is_error());  // "EXEC without MULTI"
  EXPECT_TRUE(Outside({"GET", "multi:key"}).is_nil());
  pool::PoolStats stats = pool_->Stats();
  EXPECT_EQ(stats.creates, 1u);  // cleaned, not replaced
  EXPECT_EQ(stats.TotalCloses(), 0u);
}

TEST_F(RedisDirtyReleaseTest, WatchedKeysAreForgottenBeforeReuse) {
  ASSERT_TRUE(pool_->Command({"SET", "watch:key", "1"}).ok());
  {
    auto lease = pool_->Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status();
    ASSERT_TRUE((*lease)->Command({"WATCH", "watch:key"}).ok());
  }
  // Someone else changes the key the previous caller watched ...
  Outside({"SET", "watch:key", "2"});
  // ... which must not abort this caller's unrelated transaction.
  auto lease = pool_->Acquire();
  ASSERT_TRUE(lease.ok()) << lease.status();
  auto replies =
      (*lease)->Pipeline({{"MULTI"}, {"SET", "watch:other", "x"}, {"EXEC"}});
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_TRUE((*replies)[2].is_array()) << "EXEC aborted by a stale WATCH";
  EXPECT_FALSE((*lease)->dirty());
}

TEST_F(RedisDirtyReleaseTest, SelectedDatabaseIsRestoredBeforeReuse) {
  {
    auto lease = pool_->Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status();
    ASSERT_TRUE((*lease)->Command({"SELECT", "3"}).ok());
    ASSERT_TRUE((*lease)->Command({"SET", "db:key", "in-db-3"}).ok());
  }
  auto get = pool_->Command({"GET", "db:key"});
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_TRUE(get->is_nil()) << "read from database 3: " << get->str();
  auto set = pool_->Command({"SET", "db:key", "in-db-0"});
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(Outside({"GET", "db:key"}).str(), "in-db-0");
  EXPECT_EQ(pool_->Stats().TotalCloses(), 0u);
}

TEST_F(RedisDirtyReleaseTest, SubscribedConnectionIsClosedNotReused) {
  {
    auto lease = pool_->Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status();
    // Two channels: the second confirmation is still unread on release.
    auto subscribed = (*lease)->Command({"SUBSCRIBE", "chan:a", "chan:b"});
    ASSERT_TRUE(subscribed.ok()) << subscribed.status();
  }
  EXPECT_EQ(pool_->Stats().Closes(pool::CloseReason::kResetFailed), 1u);
  Outside({"PUBLISH", "chan:a", "hello"});
  // A fresh connection: a plain reply, not a subscribe confirmation or a
  // published message meant for the previous caller.
  auto set = pool_->Command({"SET", "sub:key", "v"});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_TRUE(set->is_status()) << set->str();
  EXPECT_EQ(set->str(), "OK");
  EXPECT_EQ(pool_->Stats().creates, 2u);
}

TEST_F(RedisDirtyReleaseTest, PipelineCutShortByATimeoutIsClosedNotReused) {
  {
    auto lease = pool_->Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status();
    // BLPOP outlasts the 500 ms command timeout: its reply stays pending.
    auto replies = (*lease)->Pipeline(
        {{"SET", "pipe:key", "1"}, {"BLPOP", "pipe:empty-list", "2"}});
    EXPECT_EQ(replies.status().code(), absl::StatusCode::kDeadlineExceeded);
    EXPECT_TRUE((*lease)->broken());
  }  // released without MarkBroken(): Reset sees broken()
  EXPECT_EQ(pool_->Stats().Closes(pool::CloseReason::kResetFailed), 1u);
  auto get = pool_->Command({"GET", "pipe:key"});
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->str(), "1");  // not the late BLPOP reply
}

TEST_F(RedisDirtyReleaseTest, CleanConnectionsCostNoExtraRoundTrip) {
  ASSERT_TRUE(pool_->Command({"SET", "clean:key", "v"}).ok());
  auto before = Outside({"INFO", "commandstats"});
  ASSERT_TRUE(pool_->Command({"GET", "clean:key"}).ok());
  auto after = Outside({"INFO", "commandstats"});
  // No DISCARD, UNWATCH or SELECT was sent for a clean release.
  for (const char* command :
       {"cmdstat_discard", "cmdstat_unwatch", "cmdstat_select"}) {
    EXPECT_EQ(std::string(after.str()).find(command), std::string::npos)
        << command;
  }
}

TEST_F(RedisDirtyReleaseTest, UnknownAndEmptyCommandNamesLeaveTheSessionClean) {
  for (std::string_view name : {"", "m", "MULTIPLE", "selectx"}) {
    auto reply = pool_->Command({name});
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_TRUE(reply->is_error()) << name;
  }
  auto lease = pool_->Acquire();
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_FALSE((*lease)->dirty());
  EXPECT_EQ(pool_->Stats().TotalCloses(), 0u);
}

TEST(RedisPoolOptionsTest, RejectsBadSentinelSettings) {
  PoolOptions options;
  options.sentinels = {"localhost"};
  options.sentinel_master_name = "mymaster";
  EXPECT_THAT(std::string(Pool::Create(options).status().message()),
              HasSubstr("sentinels"));
  options.sentinels = {"localhost:26379"};
  options.sentinel_master_name.clear();
  EXPECT_THAT(std::string(Pool::Create(options).status().message()),
              HasSubstr("sentinel_master_name"));
  options.sentinel_master_name = "mymaster";
  options.sentinel_check_interval = std::chrono::milliseconds(-1);
  EXPECT_THAT(std::string(Pool::Create(options).status().message()),
              HasSubstr("sentinel_check_interval"));
}

}  // namespace
}  // namespace keel::redis
