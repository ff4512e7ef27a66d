// testing/redis_sentinel.h
//
// RedisSentinel runs a real Redis Sentinel (`redis-server --sentinel`) for
// integration tests: a child process on a free 127.0.0.1 port, with its own
// temporary directory and configuration file, monitoring one master group.
// Together with RedisServer (a master, and replicas started with
// `--replicaof`) it lets a test force or provoke a failover and watch a
// client follow it.
//
// The configuration sets down-after-milliseconds and failover-timeout from
// the options (short by default, so that a killed master is failed over
// within a few seconds), and parallel-syncs 1. Start() returns once the
// sentinel answers PING; it then needs a moment to learn the master's
// replicas (from the master's INFO), which Failover() waits for.
//
// Example:
//   auto master = keel::testing::RedisServer::Start({});
//   keel::testing::RedisServerOptions replica_options;
//   replica_options.extra_args = {"--replicaof", "127.0.0.1",
//                                 std::to_string((*master)->port())};
//   auto replica = keel::testing::RedisServer::Start(replica_options);
//   keel::testing::RedisSentinelOptions options;
//   options.master_port = (*master)->port();
//   auto sentinel = keel::testing::RedisSentinel::Start(options);
//   ASSERT_TRUE((*sentinel)->Failover(std::chrono::seconds(10)).ok());
//   // (*sentinel)->MasterAddress() now names the replica's port.
//
// The sentinel dies with the test process (PR_SET_PDEATHSIG) and its
// directory is removed by the destructor, or by the next run after a crash.
//
// Thread safety: thread-compatible, like RedisServer: the const members may
// be called from any thread while no control call (Stop, Kill, Restart) runs;
// control calls belong to the thread that started the sentinel.

#ifndef KEEL_TESTING_REDIS_SENTINEL_H_
#define KEEL_TESTING_REDIS_SENTINEL_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "testing/resp_client.h"

namespace keel::testing_internal {
class ServerProcess;
class TempDir;
}  // namespace keel::testing_internal

namespace keel::testing {

// How to run the sentinel. Every field but master_port has a working default.
struct RedisSentinelOptions {
  // redis-server runs as a sentinel with --sentinel (Debian ships no
  // separate redis-sentinel binary with the redis-server package).
  std::string binary = "/usr/bin/redis-server";
  // 0 picks a free port; a fixed port in [1, 65535] is used as is.
  int port = 0;
  // The master group: its name and the address of its current master.
  // master_port is required.
  std::string master_name = "mymaster";
  std::string master_host = "127.0.0.1";
  int master_port = 0;
  // Sentinels that must agree the master is down before a failover.
  // Default 1 (a single sentinel decides); must be >= 1.
  int quorum = 1;
  // How long the master must be unreachable before it is considered down.
  // Default 500 ms; must be > 0.
  std::chrono::milliseconds down_after{500};
  // Sentinel's failover-timeout (also the pause before it retries a failed
  // failover). Default 5 s; must be > 0.
  std::chrono::milliseconds failover_timeout{5000};
  // Extra configuration lines appended to the generated file, e.g.
  // "sentinel auth-pass mymaster secret".
  std::vector<std::string> extra_config;
  // Upper bound for start-up (until PING is answered) and a graceful stop.
  std::chrono::milliseconds start_timeout = std::chrono::seconds(30);
  std::chrono::milliseconds stop_timeout = std::chrono::seconds(10);
};

// One Redis Sentinel process.
class RedisSentinel {
 public:
  using Options = RedisSentinelOptions;

  // Writes the configuration, starts the sentinel and waits until it answers
  // PING. Fails with kInvalidArgument naming a bad option,
  // kFailedPrecondition when the binary is missing, kUnavailable when the
  // sentinel exits during start-up and kDeadlineExceeded when it does not
  // answer within start_timeout (both with the tail of its log).
  static absl::StatusOr<std::unique_ptr<RedisSentinel>> Start(
      RedisSentinelOptions options);

  // Stops the sentinel and removes its directory.
  ~RedisSentinel();
  RedisSentinel(const RedisSentinel&) = delete;
  RedisSentinel& operator=(const RedisSentinel&) = delete;

  // Always "127.0.0.1".
  const std::string& host() const { return host_; }
  int port() const;
  // "127.0.0.1:<port>", as clients list sentinels.
  std::string address() const;
  const std::string& master_name() const { return options_.master_name; }
  // The last `max_bytes` of the sentinel log (+switch-master etc.).
  std::string LogTail(size_t max_bytes = 4096) const;

  // A fresh RESP connection to the sentinel.
  absl::StatusOr<std::unique_ptr<RespClient>> Connect(
      std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

  // The master's address as the sentinel names it now ("host:port"), from
  // SENTINEL get-master-addr-by-name. Fails with kUnavailable when the
  // sentinel cannot be reached and kNotFound when it has no answer.
  absl::StatusOr<std::string> MasterAddress() const;

  // Asks for a failover (SENTINEL FAILOVER), retrying while the sentinel
  // knows no replica it could promote yet (-NOGOODSLAVE), e.g. right after
  // start-up. Returns once the failover has started, not when it finished:
  // poll MasterAddress() for that. Fails with kDeadlineExceeded (quoting the
  // last refusal) when no failover started within `timeout`.
  absl::Status Failover(std::chrono::milliseconds timeout) const;

  // Graceful stop (SIGTERM, then SIGKILL after stop_timeout); OK if not
  // running.
  absl::Status Stop();
  // SIGKILL. OK if not running.
  absl::Status Kill();

 private:
  RedisSentinel(RedisSentinelOptions options,
                std::unique_ptr<testing_internal::TempDir> dir,
                std::unique_ptr<testing_internal::ServerProcess> process);

  std::string host_ = "127.0.0.1";
  RedisSentinelOptions options_;
  // Declared before process_ so it is destroyed after the process stopped.
  std::unique_ptr<testing_internal::TempDir> dir_;
  std::unique_ptr<testing_internal::ServerProcess> process_;
};

}  // namespace keel::testing

#endif  // KEEL_TESTING_REDIS_SENTINEL_H_
