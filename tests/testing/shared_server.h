// testing/shared_server.h
//
// GoogleTest fixtures that give every test of a binary the same real server,
// started at most once per binary (on the first test that needs it) and
// stopped when the binary exits.
//
// Before each test the fixture brings the server back to a running state
// (EnsureRunning: resume if a previous test paused it, restart on the same
// port if one stopped or killed it), so fault-injection tests can share the
// server with the rest. Data left by earlier tests stays: use unique keys or
// tables per test.
//
// Example:
//   class CacheRedisTest : public keel::testing::RedisServerTest {};
//
//   TEST_F(CacheRedisTest, SurvivesRestart) {
//     keel::testing::RedisServer& redis = server();
//     ...  // connect to redis.host():redis.port()
//     ASSERT_TRUE(redis.Restart().ok());
//   }
//
// If the server cannot start, every test using the fixture fails with the
// start-up error (including the server log tail); nothing is skipped, so a
// missing server never passes CI silently.
//
// Thread safety: like GoogleTest fixtures, used from the test's main thread;
// the server's own thread-safety notes apply to calls made by the test.

#ifndef KEEL_TESTING_SHARED_SERVER_H_
#define KEEL_TESTING_SHARED_SERVER_H_

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "testing/postgres_server.h"
#include "testing/redis_server.h"

namespace keel::testing {

// Fixture base for any server type with `static StatusOr<unique_ptr<Server>>
// Start(Server::Options)`, `EnsureRunning()` and `LogTail()`. The server is
// started with default options.
template <typename Server>
class SharedServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Shared& shared = GetShared();
    ASSERT_NE(shared.server, nullptr)
        << "starting the shared server failed: " << shared.status;
    const absl::Status status = shared.server->EnsureRunning();
    ASSERT_TRUE(status.ok())
        << "the shared server could not be brought back: " << status;
  }

  // The shared server; valid inside tests once SetUp() passed.
  static Server& server() { return *GetShared().server; }

 private:
  struct Shared {
    absl::Status status;
    std::unique_ptr<Server> server;
  };

  // A function-local static: started on first use, destroyed (server stopped,
  // directory removed) at exit.
  static Shared& GetShared() {
    static Shared shared = [] {
      Shared result;
      auto started = Server::Start(typename Server::Options());
      if (started.ok()) {
        result.server = *std::move(started);
      } else {
        result.status = started.status();
      }
      return result;
    }();
    return shared;
  }
};

// A redis-server shared by the tests of one binary.
using RedisServerTest = SharedServerTest<RedisServer>;

// A PostgreSQL server shared by the tests of one binary.
using PostgresServerTest = SharedServerTest<PostgresServer>;

}  // namespace keel::testing

#endif  // KEEL_TESTING_SHARED_SERVER_H_
