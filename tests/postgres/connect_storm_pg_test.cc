// keel::postgres::Pool against a PostgreSQL server with fewer connection
// slots than the pool wants: many callers must not turn into a connect storm
// (connects back off and are made by the pool's connector threads, never per
// caller), callers get errors that say why, and the pool grows back to full
// service once the server has room again.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "keel/postgres/pool.h"
#include "testing/postgres_server.h"

namespace keel::postgres {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kUser[] = "storm_app";
constexpr char kPassword[] = "storm-pw";
// max_connections=5 with one slot reserved for superusers (the fixture's own
// queries): the application role gets at most 4 sessions.
constexpr int kAppSlots = 4;
constexpr int kBlockers = 2;  // sessions held outside the pool at first

bool NamesTheServerLimit(const std::string& message) {
  return message.find("too many clients") != std::string::npos ||
         message.find("reserved for") != std::string::npos;
}

// Threads that run `body` in a loop until Stop() or destruction (so that a
// failed ASSERT never leaves them running).
class CallerThreads {
 public:
  CallerThreads(int n, std::function<void()> body) : body_(std::move(body)) {
    for (int i = 0; i < n; ++i) {
      threads_.emplace_back([this] {
        while (!stop_.load()) body_();
      });
    }
  }
  ~CallerThreads() { Stop(); }
  void Stop() {
    stop_ = true;
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

 private:
  const std::function<void()> body_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

class ConnectStormTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keel::testing::PostgresServerOptions options;
    options.password_user = kUser;
    options.password = kPassword;
    options.extra_config = {"max_connections=5",
                            "superuser_reserved_connections=1"};
    auto server = keel::testing::PostgresServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  std::string AppConninfo() const {
    return server_->ConnectionStringFor(kUser, kPassword);
  }

  // Sessions of the application role, counted by the server.
  int AppBackends() const {
    auto rows =
        server_->Query(std::string("SELECT count(*) FROM ") +
                       "pg_stat_activity WHERE usename = '" + kUser + "'");
    if (!rows.ok() || rows->empty() || !(*rows)[0][0].has_value()) return -1;
    return std::stoi(*(*rows)[0][0]);
  }

  std::unique_ptr<keel::testing::PostgresServer> server_;
};

TEST_F(ConnectStormTest, BacksOffFailsClearlyAndRecoversWhenSlotsFree) {
  // Take part of the server's capacity away from the pool.
  std::vector<std::unique_ptr<pqxx::connection>> blockers;
  for (int i = 0; i < kBlockers; ++i) {
    blockers.push_back(std::make_unique<pqxx::connection>(AppConninfo()));
  }

  PoolOptions options;
  options.connection.connection_string = AppConninfo();
  options.connection.application_name = "storm";
  options.pool.name = "storm";
  options.pool.max_size = 8;  // more than the server will give
  options.pool.acquire_timeout = milliseconds(200);
  options.pool.max_concurrent_connects = 2;
  options.pool.connect_backoff_initial = milliseconds(50);
  options.pool.connect_backoff_max = milliseconds(400);
  const auto started = std::chrono::steady_clock::now();
  auto created = Pool::Create(options);
  ASSERT_TRUE(created.ok()) << created.status();
  std::unique_ptr<Pool> pool = std::move(*created);

  // Callers hold each connection for 40 ms, so the two connections the
  // server gives serve 50 leases a second: most of the 16 callers time out.
  constexpr int kCallers = 16;
  std::atomic<int> successes{0};
  std::mutex errors_mu;
  std::vector<absl::Status> errors;
  CallerThreads callers(kCallers, [&] {
    auto lease = pool->Acquire();
    if (!lease.ok()) {
      std::lock_guard<std::mutex> lock(errors_mu);
      errors.push_back(lease.status());
      return;
    }
    try {
      pqxx::nontransaction tx((*lease)->raw());
      tx.exec("SELECT pg_sleep(0.04)");
      successes.fetch_add(1);
    } catch (const std::exception&) {
      lease->MarkBroken();
    }
  });

  // The storm: more callers than the connections the server allows. Run it
  // until every caller has timed out a few times on average.
  const auto give_up = std::chrono::steady_clock::now() + seconds(60);
  while (pool->Stats().acquire_timeouts < 3 * kCallers) {
    ASSERT_LT(std::chrono::steady_clock::now(), give_up);
    std::this_thread::sleep_for(milliseconds(10));
  }
  const pool::PoolStats storm = pool->Stats();
  const auto storm_time = std::chrono::steady_clock::now() - started;

  // The pool holds what the server gave it and never more.
  EXPECT_EQ(storm.size, static_cast<std::size_t>(kAppSlots - kBlockers));
  EXPECT_GT(successes.load(), 0);
  // Connect attempts are paced by the backoff, not by the callers: with two
  // connector threads, at most two attempts per backoff step; the steps
  // double from 50 ms to 400 ms and then last at least 200 ms each. A pool
  // that connected per caller (or retried at once) would have made at least
  // one attempt per timed-out acquire.
  const double capped_steps =
      std::chrono::duration<double>(storm_time).count() /
      std::chrono::duration<double>(options.pool.connect_backoff_max / 2)
          .count();
  const double max_failures =
      static_cast<double>(options.pool.max_concurrent_connects) *
      (5.0 + capped_steps);
  EXPECT_GT(storm.create_failures, 0u);
  EXPECT_LE(static_cast<double>(storm.create_failures), max_failures)
      << "storm lasted "
      << std::chrono::duration_cast<milliseconds>(storm_time).count() << " ms";
  EXPECT_LT(storm.create_failures, storm.acquire_timeouts);
  RecordProperty(
      "storm_ms",
      std::to_string(
          std::chrono::duration_cast<milliseconds>(storm_time).count()));
  RecordProperty("connect_failures", std::to_string(storm.create_failures));
  RecordProperty("acquire_timeouts", std::to_string(storm.acquire_timeouts));
  // The last connect error names the server's limit.
  EXPECT_TRUE(NamesTheServerLimit(storm.last_connect_error))
      << storm.last_connect_error;

  // Capacity frees up: the pool grows to everything the server now allows
  // while the callers keep coming.
  blockers.clear();
  while (pool->Stats().size < static_cast<std::size_t>(kAppSlots)) {
    ASSERT_LT(std::chrono::steady_clock::now(), give_up)
        << "pool stuck at " << pool->Stats().size << " connections";
    std::this_thread::sleep_for(milliseconds(10));
  }
  callers.Stop();

  // Every caller error was a timeout, and those that quote a connect error
  // quote the server's reason.
  int naming_the_limit = 0;
  for (const absl::Status& error : errors) {
    ASSERT_EQ(error.code(), absl::StatusCode::kDeadlineExceeded) << error;
    if (absl::StrContains(error.message(), "last connect error")) {
      EXPECT_TRUE(NamesTheServerLimit(std::string(error.message()))) << error;
      ++naming_the_limit;
    }
  }
  EXPECT_GT(naming_the_limit, 0);

  // Full service: as many concurrent callers as the server allows sessions
  // all get through, on the pool's connections.
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < kAppSlots; ++i) {
    workers.emplace_back([&] {
      for (int q = 0; q < 20; ++q) {
        absl::Status status = WithTransaction(*pool, [](pqxx::work& tx) {
          tx.exec("SELECT 1");
          return absl::OkStatus();
        });
        if (!status.ok()) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& t : workers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(AppBackends(), kAppSlots);
  const pool::PoolStats after = pool->Stats();
  EXPECT_EQ(after.size, static_cast<std::size_t>(kAppSlots));
  EXPECT_EQ(after.in_use, 0u);
  EXPECT_EQ(after.creates - after.TotalCloses(), after.size);
}

}  // namespace
}  // namespace keel::postgres
