#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/postgres_server.h"
#include "testing/shared_server.h"

namespace keel::testing {
namespace {

using ::testing::HasSubstr;

constexpr std::chrono::milliseconds kShortTimeout(300);

bool PathExists(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0;
}

// The single value of a one-row, one-column result.
std::string Scalar(const absl::StatusOr<SqlRows>& rows) {
  if (!rows.ok()) return absl::StrCat("<", rows.status().ToString(), ">");
  if (rows->size() != 1 || (*rows)[0].size() != 1 || !(*rows)[0][0]) {
    return "<not a single non-null value>";
  }
  return *(*rows)[0][0];
}

TEST_F(PostgresServerTest, AnswersSelectOneOnTheTestDatabase) {
  EXPECT_EQ(server().host(), "127.0.0.1");
  EXPECT_EQ(server().ConnectionString(),
            absl::StrCat("host=127.0.0.1 port=", server().port(),
                         " dbname=keel_test user=postgres"));
  EXPECT_EQ(Scalar(server().Query("SELECT 1")), "1");
  EXPECT_EQ(Scalar(server().Query("SELECT current_database()")), "keel_test");
  EXPECT_EQ(Scalar(server().Query("SHOW fsync")), "off");
  EXPECT_EQ(Scalar(server().Query("SHOW listen_addresses")), "127.0.0.1");
}

TEST_F(PostgresServerTest, ReturnsRowsNullsAndTheLastStatementsResult) {
  auto rows = server().Query(
      "CREATE TEMP TABLE t (a int, b text); "
      "INSERT INTO t VALUES (1, 'x'), (2, NULL); "
      "SELECT a, b FROM t ORDER BY a");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0][0], "1");
  EXPECT_EQ((*rows)[0][1], "x");
  EXPECT_EQ((*rows)[1][1], std::nullopt);
}

TEST_F(PostgresServerTest, ReportsSqlErrorsWithTheServerMessage) {
  auto rows = server().Query("SELECT * FROM no_such_table");
  EXPECT_TRUE(absl::IsInvalidArgument(rows.status())) << rows.status();
  EXPECT_THAT(rows.status().message(), HasSubstr("no_such_table"));
  auto bad = RunSql("host='unterminated", "SELECT 1");
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status())) << bad.status();
}

TEST_F(PostgresServerTest, RestartKeepsDataAndPort) {
  ASSERT_TRUE(server()
                  .Query("CREATE TABLE IF NOT EXISTS restart_data (v text); "
                         "INSERT INTO restart_data VALUES ('kept')")
                  .ok());
  const int port = server().port();
  ASSERT_TRUE(server().Restart().ok()) << server().LogTail();
  EXPECT_EQ(server().port(), port);
  EXPECT_EQ(Scalar(server().Query(
                "SELECT v FROM restart_data WHERE v = 'kept' LIMIT 1")),
            "kept");
}

TEST_F(PostgresServerTest, KillFailsConnectionsAndRestartRecoversData) {
  ASSERT_TRUE(server()
                  .Query("CREATE TABLE IF NOT EXISTS crash_data (v int); "
                         "INSERT INTO crash_data VALUES (42)")
                  .ok());
  ASSERT_TRUE(server().Kill().ok());
  auto refused = server().Query("SELECT 1", kShortTimeout);
  EXPECT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();

  ASSERT_TRUE(server().Restart().ok()) << server().LogTail();
  EXPECT_EQ(Scalar(server().Query("SELECT max(v) FROM crash_data")), "42");
}

TEST_F(PostgresServerTest, PausedServerTimesOutAndAnswersAfterResume) {
  ASSERT_TRUE(server().Pause().ok());
  auto hung = server().Query("SELECT 1", kShortTimeout);
  EXPECT_TRUE(absl::IsDeadlineExceeded(hung.status())) << hung.status();
  ASSERT_TRUE(server().Resume().ok());
  EXPECT_EQ(Scalar(server().Query("SELECT 1")), "1");
}

TEST_F(PostgresServerTest, StopIsGracefulAndRestartable) {
  ASSERT_TRUE(server().Stop().ok());
  EXPECT_THAT(server().LogTail(), HasSubstr("database system is shut down"));
  auto refused = server().Query("SELECT 1", kShortTimeout);
  EXPECT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();
  ASSERT_TRUE(server().EnsureRunning().ok());
  EXPECT_EQ(Scalar(server().Query("SELECT 1")), "1");
}

TEST(PostgresServer, TwoServersRunSideBySideWithPasswordUser) {
  PostgresServerOptions options;
  options.password_user = "app";
  options.password = "it's s3cret";
  options.database = "app_db";
  auto first = PostgresServer::Start(options);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = PostgresServer::Start(PostgresServerOptions());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE((*first)->port(), (*second)->port());
  EXPECT_NE((*first)->data_dir(), (*second)->data_dir());

  // Each server holds its own data.
  ASSERT_TRUE((*first)->Query("CREATE TABLE only_first (v int)").ok());
  EXPECT_TRUE((*first)->Query("SELECT * FROM only_first").ok());
  EXPECT_FALSE((*second)->Query("SELECT * FROM only_first").ok());

  // The password user authenticates with SCRAM and owns its database.
  const std::string good =
      (*first)->ConnectionStringFor(options.password_user, options.password);
  EXPECT_EQ(Scalar(RunSql(good, "SELECT current_user")), "app");
  EXPECT_TRUE(RunSql(good, "CREATE TABLE owned (v int)").ok());
  EXPECT_EQ(Scalar((*first)->Query(
                "SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid "
                "WHERE rolname = 'app'")),
            "t");
  auto wrong =
      RunSql((*first)->ConnectionStringFor(options.password_user, "wrong"),
             "SELECT 1");
  EXPECT_TRUE(absl::IsUnavailable(wrong.status())) << wrong.status();
  EXPECT_THAT(wrong.status().message(), HasSubstr("password authentication"));
  // Other users keep trust authentication.
  EXPECT_EQ(Scalar((*first)->Query("SELECT current_user")), "postgres");
}

TEST(PostgresServer, BadExtraConfigFailsWithTheServerLog) {
  PostgresServerOptions options;
  options.extra_config = {"no_such_setting=1"};
  auto server = PostgresServer::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_TRUE(absl::IsUnavailable(server.status())) << server.status();
  EXPECT_THAT(server.status().message(), HasSubstr("no_such_setting"));
}

TEST(PostgresServer, RejectsBadOptionsByName) {
  PostgresServerOptions options;
  options.database = "Robert'); DROP";
  EXPECT_THAT(PostgresServer::Start(options).status().message(),
              HasSubstr("database"));
  options = PostgresServerOptions();
  options.password_user = "app";
  auto half = PostgresServer::Start(options);
  EXPECT_TRUE(absl::IsInvalidArgument(half.status()));
  EXPECT_THAT(half.status().message(), HasSubstr("password"));
  options = PostgresServerOptions();
  options.extra_config = {"fsync"};
  EXPECT_THAT(PostgresServer::Start(options).status().message(),
              HasSubstr("extra_config"));
  options = PostgresServerOptions();
  options.bin_dir = "/nonexistent";
  auto missing = PostgresServer::Start(options);
  EXPECT_TRUE(absl::IsFailedPrecondition(missing.status()));
  EXPECT_THAT(missing.status().message(), HasSubstr("bin_dir"));
}

TEST(PostgresServer, AsRootAMissingSystemUserIsAClearError) {
  if (::geteuid() != 0) GTEST_SKIP() << "only meaningful when run as root";
  PostgresServerOptions options;
  options.system_user = "keel-no-such-user";
  auto server = PostgresServer::Start(options);
  EXPECT_TRUE(absl::IsFailedPrecondition(server.status()));
  EXPECT_THAT(server.status().message(), HasSubstr("keel-no-such-user"));
  EXPECT_THAT(server.status().message(), HasSubstr("root"));
}

TEST(PostgresServer, DestructorStopsServerAndRemovesDirectory) {
  std::string dir;
  std::string conninfo;
  {
    auto server = PostgresServer::Start(PostgresServerOptions());
    ASSERT_TRUE(server.ok()) << server.status();
    dir = (*server)->data_dir();
    conninfo = (*server)->ConnectionString();
    EXPECT_TRUE(PathExists(dir));
  }
  EXPECT_FALSE(PathExists(dir));
  EXPECT_FALSE(RunSql(conninfo, "SELECT 1", kShortTimeout).ok());
}

}  // namespace
}  // namespace keel::testing
