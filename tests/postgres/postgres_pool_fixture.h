// The fixture of the PostgreSQL pool integration tests: a shared real
// PostgreSQL server, pool options tagged with an application name (so each
// test can count its own backends in pg_stat_activity), and a bounded poll.

#ifndef KEEL_TESTS_POSTGRES_POSTGRES_POOL_FIXTURE_H_
#define KEEL_TESTS_POSTGRES_POSTGRES_POOL_FIXTURE_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "gtest/gtest.h"
#include "keel/postgres/pool.h"
#include "testing/postgres_server.h"
#include "testing/shared_server.h"

namespace keel::postgres {

class PostgresPoolFixture : public keel::testing::PostgresServerTest {
 protected:
  // Options for a pool of at most `max_size` connections whose sessions carry
  // `application_name`; quick connect backoff so tests recover fast.
  PoolOptions Options(const std::string& application_name,
                      std::size_t max_size = 4) {
    PoolOptions options;
    options.connection.connection_string = server().ConnectionString();
    options.connection.application_name = application_name;
    options.pool.name = application_name;
    options.pool.max_size = max_size;
    options.pool.acquire_timeout = std::chrono::seconds(10);
    options.pool.connect_backoff_initial = std::chrono::milliseconds(20);
    options.pool.connect_backoff_max = std::chrono::milliseconds(200);
    return options;
  }

  std::unique_ptr<Pool> MakePool(PoolOptions options) {
    auto pool = Pool::Create(std::move(options));
    EXPECT_TRUE(pool.ok()) << pool.status();
    return pool.ok() ? std::move(*pool) : nullptr;
  }

  // Backends the server has for `application_name`; -1 if the query fails.
  int Backends(const std::string& application_name) {
    auto rows = server().Query(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" +
        application_name + "'");
    if (!rows.ok() || rows->empty() || !(*rows)[0][0].has_value()) return -1;
    return std::stoi(*(*rows)[0][0]);
  }

  // Polls the real server until `predicate` holds (bounded at 30 s).
  template <typename Predicate>
  void WaitFor(Predicate predicate) {
    const auto give_up =
        std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!predicate()) {
      ASSERT_LT(std::chrono::steady_clock::now(), give_up);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
};

}  // namespace keel::postgres

#endif  // KEEL_TESTS_POSTGRES_POSTGRES_POOL_FIXTURE_H_
