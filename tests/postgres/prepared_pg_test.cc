// Prepared statements through keel::postgres: Connection::Prepare,
// ExecPrepared and the pool's registry, which re-prepares on connections
// opened after a reconnect. Runs against a real PostgreSQL 15.

#include <memory>
#include <optional>
#include <pqxx/nontransaction>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/postgres/error.h"
#include "keel/postgres/pool.h"
#include "postgres_pool_fixture.h"

namespace keel::postgres {
namespace {

using ::testing::HasSubstr;

class PreparedTest : public PostgresPoolFixture {
 protected:
  PoolOptions Options(const std::string& application_name) {
    return PostgresPoolFixture::Options(application_name, /*max_size=*/2);
  }

  // Server-side prepared statements of the session running the lease.
  static std::vector<std::string> ServerStatements(Lease& lease) {
    pqxx::nontransaction tx(lease->raw());
    std::vector<std::string> names;
    for (const auto& row :
         tx.exec("SELECT name FROM pg_prepared_statements ORDER BY name")) {
      names.push_back(row[0].as<std::string>());
    }
    return names;
  }
};

// Runs `name` with `params` on the lease and returns the first column of the
// first row as text ("NULL" for SQL NULL), or the error.
absl::StatusOr<std::string> RunPrepared(
    Lease& lease, const std::string& name,
    const std::vector<std::optional<std::string>>& params) {
  pqxx::nontransaction tx(lease->raw());
  absl::StatusOr<pqxx::result> result = ExecPrepared(tx, name, params);
  if (!result.ok()) return result.status();
  if (result->empty()) return absl::NotFoundError("no rows");
  const pqxx::field field = (*result)[0][0];
  return field.is_null() ? std::string("NULL") : field.as<std::string>();
}

TEST_F(PreparedTest, StatementsFromOptionsArePreparedOnEveryConnection) {
  PoolOptions options = Options("prep_options");
  options.prepared_statements = {
      {"add", "SELECT $1::int + $2::int"},
      {"echo", "SELECT $1::text"},
  };
  auto pool = MakePool(options);
  auto a = pool->Acquire();
  auto b = pool->Acquire();
  ASSERT_TRUE(a.ok() && b.ok());
  for (Lease* lease : {&*a, &*b}) {
    EXPECT_TRUE((*lease)->IsPrepared("add"));
    EXPECT_THAT(ServerStatements(*lease),
                ::testing::ElementsAre("add", "echo"));
    absl::StatusOr<std::string> sum = RunPrepared(*lease, "add", {"2", "40"});
    ASSERT_TRUE(sum.ok()) << sum.status();
    EXPECT_EQ(*sum, "42");
    absl::StatusOr<std::string> null =
        RunPrepared(*lease, "echo", {std::nullopt});
    ASSERT_TRUE(null.ok()) << null.status();
    EXPECT_EQ(*null, "NULL");
  }
}

TEST_F(PreparedTest, RegisteredStatementReachesIdleAndNewConnections) {
  auto pool = MakePool(Options("prep_runtime"));
  {
    // Two connections open and idle before the statement exists.
    auto a = pool->Acquire();
    auto b = pool->Acquire();
    ASSERT_TRUE(a.ok() && b.ok());
  }
  ASSERT_TRUE(pool->Prepare("twice", "SELECT $1::int * 2").ok());
  auto a = pool->Acquire();
  auto b = pool->Acquire();
  ASSERT_TRUE(a.ok() && b.ok());
  for (Lease* lease : {&*a, &*b}) {
    absl::StatusOr<std::string> value = RunPrepared(*lease, "twice", {"21"});
    ASSERT_TRUE(value.ok()) << value.status();
    EXPECT_EQ(*value, "42");
  }
  // Registering it again with the same SQL is a no-op.
  a->Release();
  EXPECT_TRUE(pool->Prepare("twice", "SELECT $1::int * 2").ok());
}

TEST_F(PreparedTest, StatementsAreRepreparedAfterAReconnect) {
  PoolOptions options = Options("prep_reconnect");
  options.prepared_statements = {{"add", "SELECT $1::int + $2::int"}};
  auto pool = MakePool(options);
  ASSERT_TRUE(pool->Prepare("twice", "SELECT $1::int * 2").ok());
  {
    auto lease = pool->Acquire();
    ASSERT_TRUE(lease.ok());
    ASSERT_TRUE(RunPrepared(*lease, "twice", {"1"}).ok());
  }
  ASSERT_EQ(Backends("prep_reconnect"), 1);
  ASSERT_TRUE(server()
                  .Query("SELECT pg_terminate_backend(pid) FROM "
                         "pg_stat_activity WHERE application_name = "
                         "'prep_reconnect'")
                  .ok());
  WaitFor([&] { return Backends("prep_reconnect") == 0; });
  // The dead connection is discarded at hand-out; its replacement prepares
  // both the option's and the registered statement when it is opened.
  auto lease = pool->Acquire();
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(pool->Stats().creates, 2u);
  EXPECT_THAT(ServerStatements(*lease), ::testing::ElementsAre("add", "twice"));
  absl::StatusOr<std::string> value = RunPrepared(*lease, "twice", {"21"});
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*value, "42");
  value = RunPrepared(*lease, "add", {"40", "2"});
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*value, "42");
}

TEST_F(PreparedTest, BadStatementsAreRejectedAndLeaveThePoolUsable) {
  auto pool = MakePool(Options("prep_bad"));
  absl::Status syntax = pool->Prepare("broken", "SELEC 1");
  EXPECT_EQ(syntax.code(), absl::StatusCode::kInvalidArgument) << syntax;
  EXPECT_EQ(SqlState(syntax), "42601");
  ASSERT_TRUE(pool->Prepare("one", "SELECT 1").ok());
  EXPECT_EQ(pool->Prepare("one", "SELECT 2").code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(pool->Prepare("", "SELECT 1").code(),
            absl::StatusCode::kInvalidArgument);

  auto lease = pool->Acquire();
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_FALSE((*lease)->IsPrepared("broken"));
  absl::StatusOr<std::string> unknown = RunPrepared(*lease, "nope", {});
  EXPECT_FALSE(unknown.ok());
  absl::StatusOr<std::string> one = RunPrepared(*lease, "one", {});
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(*one, "1");
}

TEST_F(PreparedTest, ConnectionPrepareReplacesARedefinedStatement) {
  auto pool = MakePool(Options("prep_redefine"));
  auto lease = pool->Acquire();
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE((*lease)->Prepare("v", "SELECT 1").ok());
  ASSERT_TRUE((*lease)->Prepare("v", "SELECT 1").ok());  // no-op
  ASSERT_TRUE((*lease)->Prepare("v", "SELECT 2").ok());
  absl::StatusOr<std::string> value = RunPrepared(*lease, "v", {});
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*value, "2");
}

TEST(PreparedOptionsTest, DuplicateAndEmptyNamesAreRejected) {
  PoolOptions options;
  options.prepared_statements = {{"a", "SELECT 1"}, {"a", "SELECT 2"}};
  auto pool = Pool::Create(options);
  EXPECT_EQ(pool.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(pool.status().message()),
              HasSubstr("prepared_statements[1]"));
  options.prepared_statements = {{"", "SELECT 1"}};
  pool = Pool::Create(options);
  EXPECT_EQ(pool.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(pool.status().message()),
              HasSubstr("prepared_statements[0]"));
}

}  // namespace
}  // namespace keel::postgres
