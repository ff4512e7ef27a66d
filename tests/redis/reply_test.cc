#include "keel/redis/reply.h"

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "keel/redis/connection.h"

namespace keel::redis {
namespace {

TEST(ReplyTest, KindsAndAccessors) {
  EXPECT_TRUE(Reply().is_nil());
  EXPECT_EQ(Reply::String(std::string("a\0b", 3)).str(),
            std::string_view("a\0b", 3));
  EXPECT_TRUE(Reply::Status("OK").is_status());
  EXPECT_EQ(Reply::Integer(-7).integer(), -7);
  const Reply array =
      Reply::Array({Reply::String("x"), Reply::Nil(), Reply::Integer(1)});
  ASSERT_TRUE(array.is_array());
  ASSERT_EQ(array.elements().size(), 3u);
  EXPECT_EQ(array.elements()[0], Reply::String("x"));
  EXPECT_NE(array.elements()[0], Reply::Status("x"));  // same bytes, other kind
}

TEST(ReplyTest, OnlyErrorRepliesBecomeErrorStatuses) {
  EXPECT_TRUE(Reply::String("ERR").ToStatus().ok());
  const absl::Status status =
      Reply::Error("WRONGTYPE Operation against a key").ToStatus();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), "redis: WRONGTYPE Operation against a key");
}

TEST(ValidateConnectionOptionsTest, NamesTheBadField) {
  struct Case {
    void (*mutate)(ConnectionOptions&);
    const char* field;
  };
  const Case cases[] = {
      {[](ConnectionOptions& o) { o.host.clear(); }, "host"},
      {[](ConnectionOptions& o) { o.port = 0; }, "port"},
      {[](ConnectionOptions& o) { o.port = 70000; }, "port"},
      {[](ConnectionOptions& o) {
         o.connect_timeout = std::chrono::milliseconds(0);
       },
       "connect_timeout"},
      {[](ConnectionOptions& o) {
         o.command_timeout = std::chrono::milliseconds(-1);
       },
       "command_timeout"},
      {[](ConnectionOptions& o) { o.db = -1; }, "db"},
      {[](ConnectionOptions& o) { o.username = "app"; }, "username"},
      {[](ConnectionOptions& o) { o.client_name = "two words"; },
       "client_name"},
      {[](ConnectionOptions& o) {
         o.tls.enabled = true;
         o.tls.cert_file = "client.crt";
       },
       "tls.cert_file"},
      {[](ConnectionOptions& o) { o.tls.ca_file = "ca.crt"; }, "tls.enabled"},
      {[](ConnectionOptions& o) {
         o.tls.enabled = true;
         o.unix_socket = "/run/redis.sock";
       },
       "unix_socket"},
  };
  for (const Case& c : cases) {
    ConnectionOptions options;
    c.mutate(options);
    const absl::Status status = ValidateConnectionOptions(options);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_NE(status.message().find(c.field), absl::string_view::npos)
        << status;
  }
  ConnectionOptions unix_socket;
  unix_socket.unix_socket = "/run/redis.sock";
  unix_socket.host.clear();
  EXPECT_TRUE(ValidateConnectionOptions(unix_socket).ok());
}

// Builds with TLS are covered by tls_redis_test.
TEST(ConnectTest, TlsWithoutSupportIsRefusedClearlyNotDowngraded) {
  if (TlsSupported()) GTEST_SKIP() << "this build supports TLS";
  ConnectionOptions options;
  options.tls.enabled = true;
  auto connection = Connection::Connect(options);
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(connection.status().message().find("hiredis_ssl"),
            absl::string_view::npos)
      << connection.status();
}

TEST(ConnectTest, RefusedConnectionIsUnavailable) {
  ConnectionOptions options;
  options.port = 1;  // nothing listens on port 1
  auto connection = Connection::Connect(options);
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.status().code(), absl::StatusCode::kUnavailable)
      << connection.status();
}

}  // namespace
}  // namespace keel::redis
