// keel::postgres::Pool and WithTransaction against a real PostgreSQL 15
// started by keel_testing.

#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/base/clock.h"
#include "keel/postgres/error.h"
#include "keel/postgres/pool.h"
#include "postgres_pool_fixture.h"

namespace keel::postgres {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

using PostgresPoolTest = PostgresPoolFixture;

absl::Status SelectOne(pqxx::work& tx) {
  return tx.exec("SELECT 1")[0][0].as<int>() == 1
             ? absl::OkStatus()
             : absl::InternalError("SELECT 1 returned something else");
}

TEST_F(PostgresPoolTest, RunsTransactionsOnPooledConnections) {
  auto pool = MakePool(Options("basic"));
  ASSERT_TRUE(WithTransaction(*pool, [](pqxx::work& tx) {
                tx.exec("CREATE TABLE IF NOT EXISTS pool_basic (v int)");
                tx.exec("INSERT INTO pool_basic VALUES (42)");
                return absl::OkStatus();
              }).ok());
  absl::Status rolled_back = WithTransaction(*pool, [](pqxx::work& tx) {
    tx.exec("INSERT INTO pool_basic VALUES (7)");
    return absl::CancelledError("changed my mind");
  });
  EXPECT_EQ(rolled_back.code(), absl::StatusCode::kCancelled);
  int count = 0;
  ASSERT_TRUE(WithTransaction(*pool, [&](pqxx::work& tx) {
                count =
                    tx.exec("SELECT count(*) FROM pool_basic")[0][0].as<int>();
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(count, 1);
  EXPECT_EQ(pool->Stats().size, 1u);
  EXPECT_EQ(pool->CheckHealth(seconds(5)).status, health::Status::kPass);
}

TEST_F(PostgresPoolTest, ReadOnlyTransactionsRejectWrites) {
  auto pool = MakePool(Options("readonly"));
  TransactionOptions read_only;
  read_only.read_only = true;
  absl::Status status = WithTransaction(
      *pool,
      [](pqxx::work& tx) {
        tx.exec("CREATE TABLE pool_ro (v int)");
        return absl::OkStatus();
      },
      read_only);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("read-only"));
  EXPECT_TRUE(WithTransaction(*pool, SelectOne, read_only).ok());
}

TEST_F(PostgresPoolTest, RetriesSerializationFailuresWhenAsked) {
  auto pool = MakePool(Options("retry"));
  int attempts = 0;
  auto flaky = [&](pqxx::work& tx) {
    if (++attempts == 1) {
      tx.exec(
          "DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = "
          "'serialization_failure'; END $$");
    }
    return SelectOne(tx);
  };
  absl::Status once = WithTransaction(*pool, flaky);
  EXPECT_EQ(once.code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(IsRetryableTransactionError(once));
  attempts = 0;
  TransactionOptions retry;
  retry.max_attempts = 3;
  EXPECT_TRUE(WithTransaction(*pool, flaky, retry).ok());
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(pool->Stats().TotalCloses(), 0u);  // SQL errors keep connections
}

TEST_F(PostgresPoolTest, FullPoolWithoutQueueFailsFast) {
  PoolOptions options = Options("exhaustion");
  options.pool.max_size = 2;
  options.pool.max_waiters = 0;
  options.pool.acquire_timeout = milliseconds(200);
  auto pool = MakePool(options);
  auto a = pool->Acquire();
  auto b = pool->Acquire();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(pool->Acquire().status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(WithTransaction(*pool, SelectOne).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(pool->Stats().acquire_rejections, 2u);
}

TEST_F(PostgresPoolTest, TerminatedBackendsAreNeverHandedOut) {
  auto pool = MakePool(Options("terminate"));
  {
    auto a = pool->Acquire();
    auto b = pool->Acquire();
    auto c = pool->Acquire();
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  }
  ASSERT_EQ(Backends("terminate"), 3);
  ASSERT_TRUE(server()
                  .Query("SELECT pg_terminate_backend(pid) FROM "
                         "pg_stat_activity WHERE application_name = "
                         "'terminate'")
                  .ok());
  WaitFor([&] { return Backends("terminate") == 0; });
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(WithTransaction(*pool, SelectOne).ok());
  }
  EXPECT_EQ(pool->Stats().Closes(pool::CloseReason::kBroken), 3u);
}

TEST_F(PostgresPoolTest, ServerIdleSessionTimeoutKillsAreReplaced) {
  PoolOptions options = Options("idlekill");
  options.connection.connection_string +=
      " options='-c idle_session_timeout=300'";
  auto pool = MakePool(options);
  ASSERT_TRUE(WithTransaction(*pool, SelectOne).ok());
  WaitFor([&] { return Backends("idlekill") == 0; });
  // The backend leaves pg_stat_activity a moment before its socket is closed,
  // so the hand-out check may still see the connection alive once: that caller
  // gets kUnavailable and the connection is discarded, never handed out again.
  absl::Status first = WithTransaction(*pool, SelectOne);
  if (!first.ok()) {
    EXPECT_EQ(first.code(), absl::StatusCode::kUnavailable) << first;
  }
  EXPECT_TRUE(WithTransaction(*pool, SelectOne).ok());
  pool::PoolStats stats = pool->Stats();
  EXPECT_EQ(stats.Closes(pool::CloseReason::kBroken) +
                stats.Closes(pool::CloseReason::kValidationFailed),
            1u);
}

TEST_F(PostgresPoolTest, RecoversFromAServerCrashUnderLoad) {
  PoolOptions options = Options("restart");
  auto pool = MakePool(options);
  std::atomic<bool> stop{false};
  std::atomic<int> successes{0};
  std::atomic<int> query_errors{0};
  std::atomic<int> acquire_errors{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      while (!stop.load()) {
        auto lease = pool->Acquire();
        if (!lease.ok()) {
          acquire_errors.fetch_add(1);
          continue;
        }
        try {
          pqxx::nontransaction tx((*lease)->raw());
          tx.exec("SELECT 1");
          successes.fetch_add(1);
        } catch (const std::exception&) {
          query_errors.fetch_add(1);
          lease->MarkBroken();
        }
      }
    });
  }
  while (successes.load() < 100) std::this_thread::yield();
  ASSERT_TRUE(server().Kill().ok());
  const auto killed = std::chrono::steady_clock::now();
  ASSERT_TRUE(server().Restart().ok());
  const int before = successes.load();
  while (successes.load() < before + 100) std::this_thread::yield();
  const auto recovered = std::chrono::steady_clock::now();
  stop = true;
  for (std::thread& t : clients) t.join();
  RecordProperty("recovery_ms",
                 std::to_string(std::chrono::duration_cast<milliseconds>(
                                    recovered - killed)
                                    .count()));
  pool::PoolStats stats = pool->Stats();
  // Each connection open at the crash fails at most once, then is replaced.
  EXPECT_LE(query_errors.load(), static_cast<int>(options.pool.max_size));
  EXPECT_EQ(acquire_errors.load(), 0);
  EXPECT_EQ(stats.in_use, 0u);
  EXPECT_EQ(stats.creates - stats.TotalCloses(), stats.size);
}

TEST_F(PostgresPoolTest, MaxLifetimeAndLeakDetection) {
  ManualClock clock;
  PoolOptions options = Options("lifetime");
  options.pool.clock = &clock;
  options.pool.max_lifetime = seconds(60);
  options.pool.max_lifetime_jitter = seconds(5);
  options.pool.leak_detection_threshold = seconds(30);
  auto pool = MakePool(options);
  ASSERT_TRUE(WithTransaction(*pool, SelectOne).ok());
  auto leaked = pool->Acquire();
  ASSERT_TRUE(leaked.ok());
  clock.Advance(seconds(30));
  pool->RunMaintenance();
  EXPECT_EQ(pool->Stats().leaks, 1u);
  clock.Advance(seconds(30));
  leaked->Release();
  EXPECT_EQ(pool->Stats().Closes(pool::CloseReason::kMaxLifetime), 1u);
  ASSERT_TRUE(WithTransaction(*pool, SelectOne).ok());
  EXPECT_EQ(pool->Stats().creates, 2u);
}

// Rows of `table` seen by a connection outside the pool.
int RowsOutsideThePool(keel::testing::PostgresServer& server,
                       const std::string& table) {
  auto rows = server.Query("SELECT count(*) FROM " + table);
  if (!rows.ok() || rows->empty() || !(*rows)[0][0].has_value()) return -1;
  return std::stoi(*(*rows)[0][0]);
}

TEST_F(PostgresPoolTest, OpenTransactionLeftByACallerIsRolledBackOnRelease) {
  PoolOptions options = Options("dirty_begin");
  options.pool.max_size = 1;  // the next lease gets the same connection
  auto pool = MakePool(options);
  ASSERT_TRUE(server().Query("CREATE TABLE pool_dirty_begin (v int)").ok());
  {
    auto lease = pool->Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status();
    pqxx::nontransaction tx((*lease)->raw());
    tx.exec("BEGIN");
    tx.exec("INSERT INTO pool_dirty_begin VALUES (1)");
    ASSERT_EQ((*lease)->transaction_status(),
              Connection::TransactionStatus::kInTransaction);
  }  // released with the transaction still open on the server
  auto next = pool->Acquire();
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ((*next)->transaction_status(),
            Connection::TransactionStatus::kIdle);
  pqxx::nontransaction tx((*next)->raw());
  EXPECT_EQ(tx.exec("SELECT count(*) FROM pool_dirty_begin")[0][0].as<int>(),
            0);
  // A transaction opened now is the caller's own, not a continuation.
  EXPECT_EQ(tx.exec("SELECT now() = statement_timestamp()")[0][0].as<bool>(),
            true);
  EXPECT_EQ(RowsOutsideThePool(server(), "pool_dirty_begin"), 0);
  pool::PoolStats stats = pool->Stats();
  EXPECT_EQ(stats.creates, 1u);  // cleaned, not replaced
  EXPECT_EQ(stats.TotalCloses(), 0u);
}

TEST_F(PostgresPoolTest, NativeHandleRunsLibpqOnThePooledConnection) {
  PoolOptions options = Options("native_handle");
  options.pool.max_size = 1;  // the next lease gets the same connection
  auto pool = MakePool(options);
  ASSERT_TRUE(server().Query("CREATE TABLE pool_native (v int)").ok());
  {
    auto lease = pool->Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status();
    PGconn* conn = (*lease)->native_handle();
    ASSERT_NE(conn, nullptr);
    PGresult* one = PQexec(conn, "SELECT 1");
    ASSERT_EQ(PQresultStatus(one), PGRES_TUPLES_OK);
    EXPECT_STREQ(PQgetvalue(one, 0, 0), "1");
    PQclear(one);
    PQclear(PQexec(conn, "BEGIN"));
    PGresult* insert = PQexec(conn, "INSERT INTO pool_native VALUES (1)");
    EXPECT_EQ(PQresultStatus(insert), PGRES_COMMAND_OK);
    PQclear(insert);
    // libpqxx and keel see the state libpq left.
    EXPECT_EQ((*lease)->transaction_status(),
              Connection::TransactionStatus::kInTransaction);
  }  // released inside the transaction block opened through libpq
  auto next = pool->Acquire();
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ((*next)->transaction_status(),
            Connection::TransactionStatus::kIdle);
  pqxx::nontransaction tx((*next)->raw());
  EXPECT_EQ(tx.exec("SELECT count(*) FROM pool_native")[0][0].as<int>(), 0);
  pool::PoolStats stats = pool->Stats();
  EXPECT_EQ(stats.creates, 1u);
  EXPECT_EQ(stats.TotalCloses(), 0u);
}

TEST_F(PostgresPoolTest, FailedTransactionLeftByACallerIsRolledBackOnRelease) {
  PoolOptions options = Options("dirty_failed");
  options.pool.max_size = 1;
  auto pool = MakePool(options);
  ASSERT_TRUE(server().Query("CREATE TABLE pool_dirty_failed (v int)").ok());
  {
    auto lease = pool->Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status();
    pqxx::nontransaction tx((*lease)->raw());
    tx.exec("BEGIN");
    tx.exec("INSERT INTO pool_dirty_failed VALUES (1)");
    EXPECT_THROW(tx.exec("SELECT * FROM no_such_table"), pqxx::sql_error);
    ASSERT_EQ((*lease)->transaction_status(),
              Connection::TransactionStatus::kInError);
  }
  // Without the rollback every statement would fail with "current
  // transaction is aborted" (SQLSTATE 25P02).
  EXPECT_TRUE(WithTransaction(*pool, SelectOne).ok());
  EXPECT_EQ(RowsOutsideThePool(server(), "pool_dirty_failed"), 0);
  EXPECT_EQ(pool->Stats().TotalCloses(), 0u);
}

TEST_F(PostgresPoolTest, IdleInTransactionBackendsDoNotOutliveTheLease) {
  PoolOptions options = Options("dirty_locks");
  options.pool.max_size = 1;
  auto pool = MakePool(options);
  ASSERT_TRUE(server()
                  .Query("CREATE TABLE pool_dirty_locks (id int primary key)")
                  .ok());
  ASSERT_TRUE(server().Query("INSERT INTO pool_dirty_locks VALUES (1)").ok());
  {
    auto lease = pool->Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status();
    pqxx::nontransaction tx((*lease)->raw());
    tx.exec("BEGIN");
    tx.exec("SELECT * FROM pool_dirty_locks WHERE id = 1 FOR UPDATE");
  }
  // The row lock went with the rollback: another session can take it at
  // once (NOWAIT fails instead of blocking if it is still held).
  EXPECT_TRUE(server()
                  .Query("BEGIN; SELECT * FROM pool_dirty_locks WHERE id = 1 "
                         "FOR UPDATE NOWAIT; COMMIT")
                  .ok());
  auto states = server().Query(
      "SELECT state FROM pg_stat_activity WHERE application_name = "
      "'dirty_locks'");
  ASSERT_TRUE(states.ok()) << states.status();
  ASSERT_EQ(states->size(), 1u);
  EXPECT_EQ((*states)[0][0], std::optional<std::string>("idle"));
}

TEST_F(PostgresPoolTest, FailFastStartupReportsBadCredentials) {
  PoolOptions options = Options("badauth");
  options.connection.user = "no_such_user";
  options.pool.startup = pool::StartupPolicy::kFailFast;
  auto pool = Pool::Create(options);
  EXPECT_FALSE(pool.ok());
  EXPECT_THAT(std::string(pool.status().message()),
              HasSubstr("initial connect failed"));
}

}  // namespace
}  // namespace keel::postgres
