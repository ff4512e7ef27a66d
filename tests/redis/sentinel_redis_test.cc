// keel::redis::Pool with Sentinel discovery against a real deployment
// started by keel_testing: a master, a replica and a sentinel on loopback
// ports. The pool must follow a failover: writes succeed again on the new
// master, and no connection to the old master stays in use.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "keel/redis/pool.h"
#include "testing/redis_sentinel.h"
#include "testing/redis_server.h"

namespace keel::redis {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kClientName[] = "keel-sentinel-test";
constexpr char kCounter[] = "failover:counter";

// Threads that run `body` in a loop until Stop() or destruction.
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

class SentinelFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Either server may become the master that feeds a new replica: no
    // pause before a full sync.
    keel::testing::RedisServerOptions master_options;
    master_options.extra_args = {"--repl-diskless-sync-delay", "0"};
    master_options.extra_args.insert(master_options.extra_args.end(),
                                     master_args_.begin(), master_args_.end());
    auto master = keel::testing::RedisServer::Start(master_options);
    ASSERT_TRUE(master.ok()) << master.status();
    master_ = std::move(*master);
    keel::testing::RedisServerOptions replica_options;
    replica_options.extra_args = {"--repl-diskless-sync-delay", "0",
                                  "--replicaof", master_->host(),
                                  std::to_string(master_->port())};
    auto replica = keel::testing::RedisServer::Start(replica_options);
    ASSERT_TRUE(replica.ok()) << replica.status();
    replica_ = std::move(*replica);
    keel::testing::RedisSentinelOptions sentinel_options;
    sentinel_options.master_port = master_->port();
    auto sentinel = keel::testing::RedisSentinel::Start(sentinel_options);
    ASSERT_TRUE(sentinel.ok()) << sentinel.status();
    sentinel_ = std::move(*sentinel);
  }

  PoolOptions Options() {
    PoolOptions options;
    options.sentinels = {sentinel_->address()};
    options.sentinel_master_name = sentinel_->master_name();
    options.sentinel_check_interval = milliseconds(100);
    options.connection.connect_timeout = milliseconds(500);
    options.connection.command_timeout = milliseconds(500);
    options.connection.client_name = kClientName;
    options.pool.max_size = 4;
    options.pool.acquire_timeout = seconds(2);
    options.pool.connect_backoff_initial = milliseconds(10);
    options.pool.connect_backoff_max = milliseconds(200);
    return options;
  }

  std::unique_ptr<Pool> MakePool(PoolOptions options) {
    auto pool = Pool::Create(std::move(options));
    EXPECT_TRUE(pool.ok()) << pool.status();
    return pool.ok() ? std::move(*pool) : nullptr;
  }

  // Runs one command on a fresh connection to `server`, outside the pool.
  static absl::StatusOr<keel::testing::RespReply> Direct(
      const keel::testing::RedisServer& server,
      const std::vector<std::string>& args) {
    auto client = server.Connect(seconds(2));
    if (!client.ok()) return client.status();
    return (*client)->Command(args, seconds(2));
  }

  // The counter's value on `server` (0 when unset or unreadable).
  static long long Counter(const keel::testing::RedisServer& server) {
    auto reply = Direct(server, {"GET", kCounter});
    long long value = 0;
    if (reply.ok() &&
        reply->type == keel::testing::RespReply::Type::kBulkString)
      (void)absl::SimpleAtoi(reply->text, &value);
    return value;
  }

  // Connections named kClientName that `server` has open.
  static int PoolClientsOn(const keel::testing::RedisServer& server) {
    auto reply = Direct(server, {"CLIENT", "LIST", "TYPE", "normal"});
    if (!reply.ok()) return -1;
    int count = 0;
    const std::string needle = absl::StrCat(" name=", kClientName, " ");
    for (std::size_t at = reply->text.find(needle); at != std::string::npos;
         at = reply->text.find(needle, at + 1)) {
      ++count;
    }
    return count;
  }

  std::string ReplicaAddress() const {
    return absl::StrCat(replica_->host(), ":", replica_->port());
  }

  // Waits (bounded) until the sentinel names the replica as master.
  void WaitForPromotion() {
    const auto give_up = std::chrono::steady_clock::now() + seconds(30);
    for (;;) {
      auto named = sentinel_->MasterAddress();
      if (named.ok() && *named == ReplicaAddress()) return;
      ASSERT_LT(std::chrono::steady_clock::now(), give_up)
          << sentinel_->LogTail();
      std::this_thread::sleep_for(milliseconds(20));
    }
  }

  // Waits (bounded) until writes through the pool land on the new master.
  void WaitForWritesOnReplica(long long increments) {
    const long long start = Counter(*replica_);
    const auto give_up = std::chrono::steady_clock::now() + seconds(30);
    while (Counter(*replica_) < start + increments) {
      ASSERT_LT(std::chrono::steady_clock::now(), give_up)
          << "writes do not reach the new master; " << sentinel_->LogTail();
      std::this_thread::sleep_for(milliseconds(20));
    }
  }

  // Leases every connection the pool may open at once and checks that each
  // one talks to the new master.
  void ExpectEveryConnectionOnReplica(Pool& pool, std::size_t max_size) {
    std::vector<Lease> leases;
    for (std::size_t i = 0; i < max_size; ++i) {
      auto lease = pool.Acquire(seconds(10));
      ASSERT_TRUE(lease.ok()) << lease.status();
      EXPECT_EQ((*lease)->options().port, replica_->port());
      auto role = (*lease)->Command({"ROLE"});
      ASSERT_TRUE(role.ok()) << role.status();
      ASSERT_FALSE(role->elements().empty());
      EXPECT_EQ(role->elements()[0].str(), "master");
      leases.push_back(std::move(*lease));
    }
  }

  // Extra arguments for the first master.
  std::vector<std::string> master_args_;
  std::unique_ptr<keel::testing::RedisServer> master_;
  std::unique_ptr<keel::testing::RedisServer> replica_;
  std::unique_ptr<keel::testing::RedisSentinel> sentinel_;
};

// After a forced failover the sentinel demotes the old master (REPLICAOF,
// then CLIENT KILL of its clients) only some ten seconds later; until then it
// accepts writes that the failover has already lost. Here it never does:
// REPLICAOF is disabled on the old master, so only the pool itself can move
// its connections to the new master.
class SentinelSplitBrainTest : public SentinelFailoverTest {
 protected:
  void SetUp() override {
    master_args_ = {"--rename-command", "REPLICAOF", "",
                    "--rename-command", "SLAVEOF",   ""};
    SentinelFailoverTest::SetUp();
  }
};

TEST_F(SentinelSplitBrainTest, PoolLeavesTheOldMasterAfterAForcedFailover) {
  PoolOptions options = Options();
  auto pool = MakePool(options);
  ASSERT_NE(pool, nullptr);
  std::atomic<int> successes{0};
  std::atomic<int> failures{0};
  CallerThreads callers(4, [&] {
    auto reply = pool->Command({"INCR", kCounter});
    if (reply.ok() && reply->is_integer()) {
      successes.fetch_add(1);
    } else {
      failures.fetch_add(1);
    }
  });
  const auto give_up = std::chrono::steady_clock::now() + seconds(30);
  while (successes.load() < 100) {
    ASSERT_LT(std::chrono::steady_clock::now(), give_up);
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_GT(PoolClientsOn(*master_), 0);

  const auto failover = std::chrono::steady_clock::now();
  ASSERT_TRUE(sentinel_->Failover(seconds(20)).ok()) << sentinel_->LogTail();
  WaitForPromotion();
  WaitForWritesOnReplica(100);
  // Every pooled connection to the old master is closed, although that
  // server still runs as a master and accepts them.
  while (PoolClientsOn(*master_) != 0) {
    ASSERT_LT(std::chrono::steady_clock::now(), give_up + seconds(30));
    std::this_thread::sleep_for(milliseconds(20));
  }
  const auto followed = std::chrono::steady_clock::now();
  callers.Stop();
  auto old_role = Direct(*master_, {"ROLE"});
  ASSERT_TRUE(old_role.ok()) << old_role.status();
  ASSERT_FALSE(old_role->elements.empty());
  EXPECT_EQ(old_role->elements[0].text, "master");  // still writable

  ExpectEveryConnectionOnReplica(*pool, options.pool.max_size);
  pool::PoolStats stats = pool->Stats();
  EXPECT_GE(stats.Closes(pool::CloseReason::kEvicted), 1u);
  EXPECT_EQ(stats.in_use, 0u);
  EXPECT_EQ(stats.creates - stats.TotalCloses(), stats.size);
  RecordProperty("follow_ms",
                 std::to_string(std::chrono::duration_cast<milliseconds>(
                                    followed - failover)
                                    .count()));
  RecordProperty("failed_commands", std::to_string(failures.load()));
}

TEST_F(SentinelFailoverTest, PoolFollowsAFailoverAfterTheMasterDies) {
  PoolOptions options = Options();
  auto pool = MakePool(options);
  ASSERT_NE(pool, nullptr);
  std::atomic<int> successes{0};
  std::mutex errors_mu;
  std::vector<absl::Status> errors;
  CallerThreads callers(4, [&] {
    auto reply = pool->Command({"INCR", kCounter});
    if (reply.ok() && reply->is_integer()) {
      successes.fetch_add(1);
      return;
    }
    std::lock_guard<std::mutex> lock(errors_mu);
    errors.push_back(reply.ok() ? absl::InternalError(std::string(reply->str()))
                                : reply.status());
  });
  const auto give_up = std::chrono::steady_clock::now() + seconds(30);
  while (successes.load() < 100) {
    ASSERT_LT(std::chrono::steady_clock::now(), give_up);
    std::this_thread::sleep_for(milliseconds(5));
  }

  ASSERT_TRUE(master_->Kill().ok());
  const auto killed = std::chrono::steady_clock::now();
  WaitForPromotion();  // down-after 500 ms, then the failover
  WaitForWritesOnReplica(100);
  const auto recovered = std::chrono::steady_clock::now();
  callers.Stop();

  ExpectEveryConnectionOnReplica(*pool, options.pool.max_size);
  // While there was no master, callers got connection errors or acquire
  // timeouts that say why; never a reply from a wrong server.
  for (const absl::Status& error : errors) {
    EXPECT_TRUE(error.code() == absl::StatusCode::kUnavailable ||
                error.code() == absl::StatusCode::kDeadlineExceeded)
        << error;
  }
  pool::PoolStats stats = pool->Stats();
  EXPECT_EQ(stats.in_use, 0u);
  EXPECT_EQ(stats.creates - stats.TotalCloses(), stats.size);
  RecordProperty("recovery_ms",
                 std::to_string(std::chrono::duration_cast<milliseconds>(
                                    recovered - killed)
                                    .count()));
  RecordProperty("failed_commands", std::to_string(errors.size()));
}

TEST_F(SentinelFailoverTest, ReadonlyReplyEvictsTheOldMastersConnections) {
  PoolOptions options = Options();
  // Only the READONLY reply may move the pool here.
  options.sentinel_check_interval = milliseconds(0);
  auto pool = MakePool(options);
  ASSERT_NE(pool, nullptr);
  {
    auto a = pool->Acquire();
    auto b = pool->Acquire();
    ASSERT_TRUE(a.ok() && b.ok());
  }
  ASSERT_EQ(PoolClientsOn(*master_), 2);

  // A manual switchover that leaves the clients connected (sentinel would
  // kill them; REPLICAOF does not): the replica becomes master, the master
  // its replica, and the sentinel is pointed at the new master.
  auto sentinel = sentinel_->Connect();
  ASSERT_TRUE(sentinel.ok()) << sentinel.status();
  ASSERT_TRUE((*sentinel)
                  ->Command({"SENTINEL", "REMOVE", sentinel_->master_name()})
                  .ok());
  ASSERT_TRUE(Direct(*replica_, {"REPLICAOF", "NO", "ONE"}).ok());
  ASSERT_TRUE(Direct(*master_, {"REPLICAOF", replica_->host(),
                                std::to_string(replica_->port())})
                  .ok());
  auto monitor = (*sentinel)->Command(
      {"SENTINEL", "MONITOR", sentinel_->master_name(), replica_->host(),
       std::to_string(replica_->port()), "1"});
  ASSERT_TRUE(monitor.ok()) << monitor.status();
  ASSERT_EQ(monitor->text, "OK") << monitor->DebugString();
  // Wait until the old master finished syncing from the new one (during the
  // sync it would answer LOADING instead of READONLY).
  const auto give_up = std::chrono::steady_clock::now() + seconds(30);
  for (;;) {
    auto role = Direct(*master_, {"ROLE"});
    if (role.ok() && role->elements.size() >= 4 &&
        role->elements[0].text == "slave" &&
        role->elements[3].text == "connected") {
      break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), give_up);
    std::this_thread::sleep_for(milliseconds(20));
  }

  // The first write meets the old master, now a replica.
  auto first = pool->Command({"SET", "switchover:key", "v"});
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->is_error());
  EXPECT_EQ(first->str().substr(0, 8), "READONLY") << first->str();
  // That evicted both connections to it; the next write asks the sentinel
  // and goes to the new master.
  auto second = pool->Command({"SET", "switchover:key", "v"});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->str(), "OK");
  auto stored = Direct(*replica_, {"GET", "switchover:key"});
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->text, "v");
  EXPECT_EQ(PoolClientsOn(*master_), 0);
  pool::PoolStats stats = pool->Stats();
  EXPECT_EQ(stats.Closes(pool::CloseReason::kResetFailed), 1u);
  EXPECT_EQ(stats.Closes(pool::CloseReason::kEvicted), 1u);
}

}  // namespace
}  // namespace keel::redis
