// testing/internal/server_process.h
//
// The life cycle that RedisServer and PostgresServer share: start a server on
// a free loopback port (picking another port when it loses the race for one),
// wait until it answers, and stop, kill, pause, resume or restart it on the
// same port.
//
// The server kind plugs in through ServerSpec: how to build its command line
// for a port, how to probe it, and which signal shuts it down gracefully.
//
// Example:
//   ServerSpec spec;
//   spec.name = "redis-server";
//   spec.command_for_port = [](int port) { return std::vector<std::string>{
//       "/usr/bin/redis-server", "--port", std::to_string(port)}; };
//   spec.probe = [](int port) { return PingRedis(port); };
//   spec.log_path = dir + "/redis.log";
//   ServerProcess server(std::move(spec));
//   KEEL_RETURN_IF_ERROR(server.Start(/*requested_port=*/0));
//
// Thread safety: thread-compatible; one thread drives a ServerProcess, and it
// should be a thread that lives as long as the server (see child_process.h).

#ifndef KEEL_TESTING_INTERNAL_SERVER_PROCESS_H_
#define KEEL_TESTING_INTERNAL_SERVER_PROCESS_H_

#include <chrono>
#include <csignal>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "testing/internal/child_process.h"

namespace keel::testing_internal {

// How to run one kind of server.
struct ServerSpec {
  // Shown in error messages ("redis-server", "postgres").
  std::string name;
  // The full command line (argv[0] absolute) for a server on `port`.
  std::function<std::vector<std::string>(int port)> command_for_port;
  // Returns OK once the server on `port` serves requests; any error means
  // "not yet" and is quoted if start-up times out.
  std::function<absl::Status(int port)> probe;
  // Graceful shutdown signal (SIGTERM for Redis, SIGINT = "fast shutdown"
  // for PostgreSQL).
  int stop_signal = SIGTERM;
  std::string log_path;
  std::string working_dir;
  std::optional<SystemUser> run_as;
  std::chrono::milliseconds start_timeout{30000};
  std::chrono::milliseconds stop_timeout{10000};
};

// Where a server is in its life cycle.
enum class ServerState {
  kRunning,  // Process alive and (at last check) serving.
  kPaused,   // Process tree stopped with SIGSTOP.
  kStopped,  // Not running: never started, stopped, killed or crashed.
};

// One server process, restartable on the port it first got.
class ServerProcess {
 public:
  explicit ServerProcess(ServerSpec spec);
  // Stops the server (graceful, then SIGKILL).
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts on `requested_port`, or on a free port when it is 0 (then up to 5
  // ports are tried when the server loses a port to another process). Fails
  // with kFailedPrecondition if already started, kDeadlineExceeded if the
  // probe does not pass within start_timeout, kUnavailable if the server
  // exits during start-up; messages include the tail of the server log.
  absl::Status Start(int requested_port);

  // Graceful stop: resumes a paused server, sends stop_signal and waits up to
  // stop_timeout. If it does not exit in time the tree is SIGKILLed and
  // kDeadlineExceeded returned. No-op when already stopped.
  absl::Status Stop();

  // SIGKILLs the server and all its processes, like a crash. No-op when
  // already stopped.
  absl::Status Kill();

  // SIGSTOPs the whole process tree: connections stay open but nothing is
  // answered. Fails with kFailedPrecondition unless running.
  absl::Status Pause();

  // SIGCONTs a paused tree. Fails with kFailedPrecondition unless paused.
  absl::Status Resume();

  // Stops the server if it runs, then starts it on the same port. Fails like
  // Start(), e.g. when another process took the port meanwhile.
  absl::Status Restart();

  // Brings the server back to kRunning from any state (resume or restart).
  absl::Status EnsureRunning();

  // The current state; notices a server that died on its own.
  ServerState state();

  // The port chosen by the first successful Start(), 0 before.
  int port() const { return port_; }

  // The last `max_bytes` of the server log.
  std::string LogTail(size_t max_bytes = 4096) const;

 private:
  // One attempt on `port`. Sets *port_in_use when the server exited because
  // the port was taken.
  absl::Status Launch(int port, bool* port_in_use);

  ServerSpec spec_;
  int port_ = 0;
  bool paused_ = false;
  std::unique_ptr<ChildProcess> child_;
};

}  // namespace keel::testing_internal

#endif  // KEEL_TESTING_INTERNAL_SERVER_PROCESS_H_
