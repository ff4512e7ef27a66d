// testing/redis_server.h
//
// RedisServer runs a real `redis-server` for integration tests: a child
// process on a free 127.0.0.1 port with its own temporary directory, that the
// test can stop, kill, pause and restart to exercise failure handling.
//
// The server runs with `--bind 127.0.0.1 --protected-mode no --daemonize no`
// and, unless `persistence` is set, `--save "" --appendonly no`, so nothing
// touches the disk. Start() returns once the server answers PING. The server
// dies with the test process (PR_SET_PDEATHSIG) and its directory is removed by
// the destructor, or by the next run if the test binary crashed.
//
// Example:
//   keel::testing::RedisServerOptions options;
//   options.extra_args = {"--requirepass", "s3cret", "--maxclients", "16"};
//   auto server = keel::testing::RedisServer::Start(options);
//   ASSERT_TRUE(server.ok()) << server.status();
//   std::string address = absl::StrCat((*server)->host(), ":",
//                                      (*server)->port());
//   ASSERT_TRUE((*server)->Pause().ok());  // Requests now time out.
//   ASSERT_TRUE((*server)->Resume().ok());
//
// For one server shared by all tests of a binary, see shared_server.h.
//
// Thread safety: thread-compatible. host(), port() and Connect() may be called
// from any thread while no control call (Stop, Kill, Restart, Pause, Resume,
// EnsureRunning) runs. Control calls belong to one thread that outlives the
// server, because the child is tied to the thread that started it.

#ifndef KEEL_TESTING_REDIS_SERVER_H_
#define KEEL_TESTING_REDIS_SERVER_H_

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

// How to run the server. Every field has a working default.
struct RedisServerOptions {
  // The redis-server executable (Debian package redis-server).
  std::string binary = "/usr/bin/redis-server";
  // 0 picks a free port (retrying if another process takes it first); a
  // fixed port in [1, 65535] is used as is.
  int port = 0;
  // When true, the server keeps an append-only file in its directory, so data
  // survives Stop()/Kill() + Restart(). Off by default: no disk I/O.
  bool persistence = false;
  // Extra command-line arguments appended last, so they override the
  // defaults, e.g. {"--requirepass", "pw", "--timeout", "5"}.
  std::vector<std::string> extra_args;
  // Upper bound for start-up (until PING is answered) and for a graceful stop.
  std::chrono::milliseconds start_timeout = std::chrono::seconds(30);
  std::chrono::milliseconds stop_timeout = std::chrono::seconds(10);
};

// One redis-server child process.
class RedisServer {
 public:
  using Options = RedisServerOptions;

  // Starts the server and waits until it answers PING (a -NOAUTH error counts
  // as an answer when `requirepass` is set). Fails with kInvalidArgument
  // naming a bad option, kFailedPrecondition when the binary is missing,
  // kUnavailable when the server exits during start-up (e.g. a bad extra
  // argument) and kDeadlineExceeded when it does not answer within
  // start_timeout; both of the latter include the tail of the server log.
  static absl::StatusOr<std::unique_ptr<RedisServer>> Start(
      RedisServerOptions options);

  // Stops the server (SIGTERM, then SIGKILL after stop_timeout) and removes
  // its directory.
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Always "127.0.0.1".
  const std::string& host() const { return host_; }
  // The port picked at start-up; Restart() keeps it.
  int port() const;
  // The server's working directory (AOF files live here with persistence).
  const std::string& data_dir() const;
  // The last `max_bytes` of the server log, for failure messages.
  std::string LogTail(size_t max_bytes = 4096) const;

  // Opens a fresh RESP connection to the server. Fails like
  // RespClient::Connect (e.g. kUnavailable after Kill()).
  absl::StatusOr<std::unique_ptr<RespClient>> Connect(
      std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

  // Graceful stop: SIGTERM, wait up to stop_timeout; then SIGKILL and
  // kDeadlineExceeded. A paused server is resumed first. OK if not running.
  absl::Status Stop();
  // SIGKILL, like a crash: clients see their connections reset and new
  // connections refused. OK if not running.
  absl::Status Kill();
  // Stops the server if running and starts it again on the same port with
  // the same directory, waiting for PING. Fails like Start(), including when
  // another process took the port meanwhile.
  absl::Status Restart();
  // SIGSTOP: the server keeps its sockets but answers nothing, so requests
  // time out (a hung server). Fails with kFailedPrecondition unless running.
  absl::Status Pause();
  // SIGCONT after Pause(); queued requests are then answered. Fails with
  // kFailedPrecondition unless paused.
  absl::Status Resume();
  // Resumes a paused server or restarts a stopped, killed or crashed one;
  // lets a shared server recover from a previous test's fault injection.
  absl::Status EnsureRunning();

 private:
  RedisServer(std::unique_ptr<testing_internal::TempDir> dir,
              std::unique_ptr<testing_internal::ServerProcess> process);

  std::string host_ = "127.0.0.1";
  // Declared first so it is destroyed last, after the process stopped.
  std::unique_ptr<testing_internal::TempDir> dir_;
  std::unique_ptr<testing_internal::ServerProcess> process_;
};

}  // namespace keel::testing

#endif  // KEEL_TESTING_REDIS_SERVER_H_
