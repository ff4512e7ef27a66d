#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/redis_sentinel.h"
#include "testing/redis_server.h"

namespace keel::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

TEST(RedisSentinelTest, RejectsBadOptions) {
  RedisSentinelOptions options;  // master_port missing
  auto started = RedisSentinel::Start(options);
  EXPECT_EQ(started.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(started.status().message()),
              HasSubstr("master_port"));
  options.master_port = 6379;
  options.quorum = 0;
  EXPECT_THAT(std::string(RedisSentinel::Start(options).status().message()),
              HasSubstr("quorum"));
  options.quorum = 1;
  options.master_name = "two words";
  EXPECT_THAT(std::string(RedisSentinel::Start(options).status().message()),
              HasSubstr("master_name"));
}

TEST(RedisSentinelTest, NamesTheMasterAndPromotesTheReplicaOnFailover) {
  auto master = RedisServer::Start({});
  ASSERT_TRUE(master.ok()) << master.status();
  RedisServerOptions replica_options;
  replica_options.extra_args = {"--replicaof", "127.0.0.1",
                                std::to_string((*master)->port())};
  auto replica = RedisServer::Start(replica_options);
  ASSERT_TRUE(replica.ok()) << replica.status();
  RedisSentinelOptions options;
  options.master_port = (*master)->port();
  auto sentinel = RedisSentinel::Start(options);
  ASSERT_TRUE(sentinel.ok()) << sentinel.status();

  const std::string master_address =
      absl::StrCat("127.0.0.1:", (*master)->port());
  const std::string replica_address =
      absl::StrCat("127.0.0.1:", (*replica)->port());
  auto named = (*sentinel)->MasterAddress();
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_EQ(*named, master_address);

  ASSERT_TRUE((*sentinel)->Failover(seconds(20)).ok())
      << (*sentinel)->LogTail();
  const auto give_up = std::chrono::steady_clock::now() + seconds(30);
  for (;;) {
    named = (*sentinel)->MasterAddress();
    if (named.ok() && *named == replica_address) break;
    ASSERT_LT(std::chrono::steady_clock::now(), give_up)
        << (*sentinel)->LogTail();
    std::this_thread::sleep_for(milliseconds(50));
  }
  auto client = (*replica)->Connect();
  ASSERT_TRUE(client.ok()) << client.status();
  auto role = (*client)->Command({"ROLE"});
  ASSERT_TRUE(role.ok()) << role.status();
  ASSERT_FALSE(role->elements.empty()) << role->DebugString();
  EXPECT_EQ(role->elements[0].text, "master");
}

}  // namespace
}  // namespace keel::testing
