#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/redis_server.h"
#include "testing/resp_client.h"
#include "testing/shared_server.h"

namespace keel::testing {
namespace {

using ::testing::HasSubstr;

constexpr std::chrono::milliseconds kShortTimeout(200);

bool PathExists(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0;
}

// Runs one command on a fresh connection.
absl::StatusOr<RespReply> RunCommand(const RedisServer& server,
                                     const std::vector<std::string>& args) {
  auto client = server.Connect();
  if (!client.ok()) return client.status();
  return (*client)->Command(args);
}

void ExpectBulk(const absl::StatusOr<RespReply>& reply,
                const std::string& text) {
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->type, RespReply::Type::kBulkString) << reply->DebugString();
  EXPECT_EQ(reply->text, text);
}

TEST_F(RedisServerTest, AnswersSetAndGetOnLoopback) {
  EXPECT_EQ(server().host(), "127.0.0.1");
  EXPECT_GT(server().port(), 0);
  auto client = server().Connect();
  ASSERT_TRUE(client.ok()) << client.status();
  auto set = (*client)->Command({"SET", "answers-set-get", "v1"});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->type, RespReply::Type::kSimpleString);
  EXPECT_EQ(set->text, "OK");
  ExpectBulk((*client)->Command({"GET", "answers-set-get"}), "v1");
}

TEST_F(RedisServerTest, RunsWithoutPersistenceByDefault) {
  auto reply = RunCommand(server(), {"CONFIG", "GET", "appendonly"});
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_EQ(reply->elements.size(), 2u) << reply->DebugString();
  EXPECT_EQ(reply->elements[1].text, "no");
  reply = RunCommand(server(), {"CONFIG", "GET", "save"});
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_EQ(reply->elements.size(), 2u) << reply->DebugString();
  EXPECT_EQ(reply->elements[1].text, "");
}

TEST_F(RedisServerTest, RestartServesAgainOnTheSamePort) {
  const int port = server().port();
  auto client = server().Connect();
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(server().Restart().ok());
  EXPECT_EQ(server().port(), port);
  // The old connection went away with the old process.
  EXPECT_FALSE((*client)->Command({"PING"}).ok());
  auto pong = RunCommand(server(), {"PING"});
  ASSERT_TRUE(pong.ok()) << pong.status();
  EXPECT_EQ(pong->text, "PONG");
}

TEST_F(RedisServerTest, KillRefusesConnectionsUntilRestart) {
  auto client = server().Connect();
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(server().Kill().ok());
  auto on_open = (*client)->Command({"PING"}, kShortTimeout);
  EXPECT_TRUE(absl::IsUnavailable(on_open.status())) << on_open.status();
  auto fresh = server().Connect(kShortTimeout);
  EXPECT_TRUE(absl::IsUnavailable(fresh.status())) << fresh.status();

  ASSERT_TRUE(server().Restart().ok()) << server().LogTail();
  auto pong = RunCommand(server(), {"PING"});
  ASSERT_TRUE(pong.ok()) << pong.status();
  EXPECT_EQ(pong->text, "PONG");
}

TEST_F(RedisServerTest, PausedServerTimesOutAndAnswersAfterResume) {
  auto client = server().Connect();
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(server().Pause().ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(server().Pause()));
  auto hung = (*client)->Command({"PING"}, kShortTimeout);
  EXPECT_TRUE(absl::IsDeadlineExceeded(hung.status())) << hung.status();

  ASSERT_TRUE(server().Resume().ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(server().Resume()));
  auto pong = RunCommand(server(), {"PING"});
  ASSERT_TRUE(pong.ok()) << pong.status();
  EXPECT_EQ(pong->text, "PONG");
}

TEST_F(RedisServerTest, StopIsGracefulAndRestartable) {
  ASSERT_TRUE(server().Stop().ok());
  EXPECT_TRUE(server().Stop().ok());  // Idempotent.
  EXPECT_THAT(server().LogTail(), HasSubstr("ready to exit"));
  auto refused = server().Connect(kShortTimeout);
  EXPECT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();
  EXPECT_TRUE(absl::IsFailedPrecondition(server().Pause()));
  // The fixture's EnsureRunning() restarts it for the next test; check it
  // here too.
  ASSERT_TRUE(server().EnsureRunning().ok());
  EXPECT_TRUE(RunCommand(server(), {"PING"}).ok());
}

TEST(RedisServer, TwoServersRunSideBySide) {
  auto first = RedisServer::Start(RedisServerOptions());
  auto second = RedisServer::Start(RedisServerOptions());
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE((*first)->port(), (*second)->port());
  EXPECT_NE((*first)->data_dir(), (*second)->data_dir());
  ASSERT_TRUE(RunCommand(**first, {"SET", "k", "first"}).ok());
  ASSERT_TRUE(RunCommand(**second, {"SET", "k", "second"}).ok());
  ExpectBulk(RunCommand(**first, {"GET", "k"}), "first");
  ExpectBulk(RunCommand(**second, {"GET", "k"}), "second");
}

TEST(RedisServer, PersistenceKeepsDataAcrossKillAndRestart) {
  RedisServerOptions options;
  options.persistence = true;
  auto server = RedisServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE(RunCommand(**server, {"SET", "durable", "yes"}).ok());
  ASSERT_TRUE((*server)->Kill().ok());
  ASSERT_TRUE((*server)->Restart().ok()) << (*server)->LogTail();
  ExpectBulk(RunCommand(**server, {"GET", "durable"}), "yes");
}

TEST(RedisServer, WithoutPersistenceRestartStartsEmpty) {
  auto server = RedisServer::Start(RedisServerOptions());
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE(RunCommand(**server, {"SET", "volatile", "x"}).ok());
  ASSERT_TRUE((*server)->Restart().ok());
  auto reply = RunCommand(**server, {"GET", "volatile"});
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->type, RespReply::Type::kNil) << reply->DebugString();
}

TEST(RedisServer, ExtraArgsConfigureTheServer) {
  RedisServerOptions options;
  options.extra_args = {"--requirepass", "s3cret", "--maxclients", "7"};
  auto server = RedisServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = (*server)->Connect();
  ASSERT_TRUE(client.ok()) << client.status();
  auto denied = (*client)->Command({"GET", "k"});
  ASSERT_TRUE(denied.ok()) << denied.status();
  EXPECT_EQ(denied->type, RespReply::Type::kError);
  EXPECT_THAT(denied->text, HasSubstr("NOAUTH"));
  auto auth = (*client)->Command({"AUTH", "s3cret"});
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_EQ(auth->text, "OK");
  auto maxclients = (*client)->Command({"CONFIG", "GET", "maxclients"});
  ASSERT_TRUE(maxclients.ok()) << maxclients.status();
  ASSERT_EQ(maxclients->elements.size(), 2u) << maxclients->DebugString();
  EXPECT_EQ(maxclients->elements[1].text, "7");
}

TEST(RedisServer, BadExtraArgFailsWithTheServerLog) {
  RedisServerOptions options;
  options.extra_args = {"--no-such-directive", "1"};
  auto server = RedisServer::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_TRUE(absl::IsUnavailable(server.status())) << server.status();
  EXPECT_THAT(server.status().message(), HasSubstr("exited during start-up"));
  EXPECT_THAT(server.status().message(), HasSubstr("no-such-directive"));
}

TEST(RedisServer, TakenFixedPortFailsWithAddressInUse) {
  auto first = RedisServer::Start(RedisServerOptions());
  ASSERT_TRUE(first.ok()) << first.status();
  RedisServerOptions options;
  options.port = (*first)->port();
  auto second = RedisServer::Start(options);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(), HasSubstr("Address already in use"));
}

TEST(RedisServer, RejectsBadOptionsByName) {
  RedisServerOptions options;
  options.port = 70000;
  auto bad_port = RedisServer::Start(options);
  EXPECT_TRUE(absl::IsInvalidArgument(bad_port.status()));
  EXPECT_THAT(bad_port.status().message(), HasSubstr("port"));

  options = RedisServerOptions();
  options.start_timeout = std::chrono::milliseconds(0);
  EXPECT_THAT(RedisServer::Start(options).status().message(),
              HasSubstr("start_timeout"));

  options = RedisServerOptions();
  options.binary = "/nonexistent/redis-server";
  auto missing = RedisServer::Start(options);
  EXPECT_TRUE(absl::IsFailedPrecondition(missing.status()));
  EXPECT_THAT(missing.status().message(), HasSubstr("binary"));
}

TEST(RedisServer, DestructorStopsServerAndRemovesDirectory) {
  std::string dir;
  int port = 0;
  {
    auto server = RedisServer::Start(RedisServerOptions());
    ASSERT_TRUE(server.ok()) << server.status();
    dir = (*server)->data_dir();
    port = (*server)->port();
    EXPECT_TRUE(PathExists(dir));
  }
  EXPECT_FALSE(PathExists(dir));
  auto refused = RespClient::Connect("127.0.0.1", port, kShortTimeout);
  EXPECT_FALSE(refused.ok());
}

TEST(RedisServer, CrashOfTheTestProcessTakesTheServerDown) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t test_process = ::fork();
  ASSERT_GE(test_process, 0);
  if (test_process == 0) {
    // Stands in for a test binary that crashes mid-test: no destructor runs.
    auto server = RedisServer::Start(RedisServerOptions());
    char report[512] = {};
    if (server.ok()) {
      const std::string line =
          absl::StrCat((*server)->port(), " ", (*server)->data_dir());
      std::strncpy(report, line.c_str(), sizeof(report) - 1);
    }
    ssize_t ignored = ::write(pipe_fds[1], report, sizeof(report));
    (void)ignored;
    ::kill(::getpid(), SIGKILL);
  }
  ::close(pipe_fds[1]);
  char report[512] = {};
  const ssize_t got = ::read(pipe_fds[0], report, sizeof(report));
  ::close(pipe_fds[0]);
  ::waitpid(test_process, nullptr, 0);
  ASSERT_EQ(got, static_cast<ssize_t>(sizeof(report)));
  int port = 0;
  char dir[512] = {};
  ASSERT_EQ(std::sscanf(report, "%d %511s", &port, dir), 2) << report;

  // The server got SIGKILL with its parent; poll until the kernel is done.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (RespClient::Connect("127.0.0.1", port, kShortTimeout).ok() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(RespClient::Connect("127.0.0.1", port, kShortTimeout).ok());
  // The crashed run's directory survives until the next server is created.
  EXPECT_TRUE(PathExists(dir));
  auto next = RedisServer::Start(RedisServerOptions());
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_FALSE(PathExists(dir));
}

}  // namespace
}  // namespace keel::testing
