#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "keel/postgres/connection.h"

namespace keel::postgres {
namespace {

ConnectionOptions Minimal() {
  ConnectionOptions options;
  options.keepalives = false;
  options.application_name.clear();
  return options;
}

TEST(BuildConnectionStringTest, QuotesAndEscapesEveryValue) {
  ConnectionOptions options = Minimal();
  options.dbname = "my db";
  options.user = "o'brien";
  options.password = R"(back\slash)";
  auto conninfo = BuildConnectionString(options);
  ASSERT_TRUE(conninfo.ok()) << conninfo.status();
  EXPECT_EQ(
      *conninfo,
      R"(dbname='my db' user='o\'brien' password='back\\slash' connect_timeout='5' )"
      R"(keepalives='0')");
}

TEST(BuildConnectionStringTest, HostListPairsPortsByPosition) {
  ConnectionOptions options = Minimal();
  options.hosts = {"db1", "db2:6432", "[::1]:5433", "[fe80::1]"};
  options.target_session_attrs = "read-write";
  auto conninfo = BuildConnectionString(options);
  ASSERT_TRUE(conninfo.ok()) << conninfo.status();
  EXPECT_EQ(
      *conninfo,
      "host='db1,db2,::1,fe80::1' port='5432,6432,5433,5432' "
      "target_session_attrs='read-write' connect_timeout='5' keepalives='0'");
}

TEST(BuildConnectionStringTest, HostsWithoutPortsLeavePortToLibpq) {
  ConnectionOptions options = Minimal();
  options.hosts = {"a", "b"};
  auto conninfo = BuildConnectionString(options);
  ASSERT_TRUE(conninfo.ok());
  EXPECT_EQ(*conninfo, "host='a,b' connect_timeout='5' keepalives='0'");
}

TEST(BuildConnectionStringTest,
     DefaultsAddKeepalivesApplicationNameAndStatementTimeout) {
  ConnectionOptions options;
  options.connection_string = "host=/tmp dbname=app";
  options.statement_timeout = std::chrono::milliseconds(2500);
  options.sslmode = "require";
  auto conninfo = BuildConnectionString(options);
  ASSERT_TRUE(conninfo.ok());
  EXPECT_EQ(
      *conninfo,
      "host=/tmp dbname=app connect_timeout='5' keepalives='1' "
      "keepalives_idle='30' "
      "keepalives_interval='10' keepalives_count='3' application_name='keel' "
      "sslmode='require' options='-c statement_timeout=2500'");
}

TEST(ValidateConnectionOptionsTest, NamesTheBadField) {
  struct Case {
    void (*mutate)(ConnectionOptions&);
    std::string field;
  };
  const Case cases[] = {
      {[](ConnectionOptions& o) {
         o.connect_timeout = std::chrono::seconds(0);
       },
       "connect_timeout"},
      {[](ConnectionOptions& o) { o.keepalives_count = 0; },
       "keepalives_count"},
      {[](ConnectionOptions& o) {
         o.statement_timeout = std::chrono::milliseconds(-1);
       },
       "statement_timeout"},
      {[](ConnectionOptions& o) { o.target_session_attrs = "writable"; },
       "target_session_attrs"},
      {[](ConnectionOptions& o) { o.sslmode = "maybe"; }, "sslmode"},
      {[](ConnectionOptions& o) { o.hosts = {""}; }, "hosts"},
      {[](ConnectionOptions& o) { o.hosts = {"db:99999"}; }, "hosts"},
      {[](ConnectionOptions& o) { o.hosts = {"db:12ab"}; }, "hosts"},
      {[](ConnectionOptions& o) { o.hosts = {"[::1"}; }, "hosts"},
      {[](ConnectionOptions& o) { o.hosts = {"[::1]5432"}; }, "hosts"},
  };
  for (const Case& c : cases) {
    ConnectionOptions options;
    c.mutate(options);
    const absl::Status status = ValidateConnectionOptions(options);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_NE(status.message().find(c.field), absl::string_view::npos)
        << status;
  }
  EXPECT_TRUE(ValidateConnectionOptions(ConnectionOptions()).ok());
}

TEST(ConnectTest, UnreachableServerIsUnavailableNotAnException) {
  ConnectionOptions options;
  options.hosts = {"127.0.0.1:1"};  // nothing listens on port 1
  options.connect_timeout = std::chrono::seconds(2);
  auto connection = Connection::Connect(options);
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.status().code(), absl::StatusCode::kUnavailable)
      << connection.status();
  EXPECT_NE(connection.status().message().find("postgres: "),
            absl::string_view::npos);
}

}  // namespace
}  // namespace keel::postgres
