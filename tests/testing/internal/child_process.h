// testing/internal/child_process.h
//
// A child process that keel's test servers run in: fork + exec with the
// child's output appended to a log file, optionally as another system user,
// and tied to the test process so that it never outlives it.
//
// Why each step:
//   * PR_SET_PDEATHSIG(SIGKILL), set after the user switch (which clears it),
//     kills the server if the test binary crashes or is killed; the kernel
//     sends it when the *thread* that forked exits, so spawn from a thread
//     that lives as long as the server (gtest's main thread does).
//   * Dropping to a system user lets PostgreSQL run when the tests run as
//     root, which initdb and postgres refuse.
//   * Signals are sent to the whole process tree (the child and every
//     descendant found in /proc), because PostgreSQL's backends put
//     themselves in their own sessions: SIGSTOP on the postmaster alone would
//     leave open connections served.
//
// Example:
//   SpawnOptions options;
//   options.argv = {"/usr/bin/redis-server", "--port", "6390"};
//   options.log_path = dir + "/redis.log";
//   KEEL_ASSIGN_OR_RETURN(auto child, ChildProcess::Spawn(options));
//   child->SignalTree(SIGSTOP);
//
// Thread safety: thread-compatible; one owner drives a ChildProcess.

#ifndef KEEL_TESTING_INTERNAL_CHILD_PROCESS_H_
#define KEEL_TESTING_INTERNAL_CHILD_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace keel::testing_internal {

// A system user to run a child as.
struct SystemUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Looks up `name` in the password database. Fails with kNotFound when the user
// does not exist, kInternal when the lookup itself fails.
absl::StatusOr<SystemUser> LookupSystemUser(const std::string& name);

// What to run and how.
struct SpawnOptions {
  // argv[0] is an absolute path to the executable; must not be empty.
  std::vector<std::string> argv;
  // stdout and stderr are appended to this file (created 0644 if missing);
  // stdin is /dev/null. Must not be empty.
  std::string log_path;
  // Working directory of the child; empty keeps the parent's. Set it when
  // `run_as` is set: the parent's directory may not be readable by that user.
  std::string working_dir;
  // When set, the child switches to this user and its group before exec.
  std::optional<SystemUser> run_as;
};

// Renders a waitpid() status: "exit code 1", "killed by signal 9 (Killed)".
std::string DescribeWaitStatus(int wait_status);

// Returns the last `max_bytes` bytes of `path` starting no earlier than byte
// `from_offset`, or a note that the file cannot be read.
std::string ReadFileTail(const std::string& path, int64_t from_offset,
                         size_t max_bytes);

// Returns the size of `path`, 0 if it does not exist.
int64_t FileSize(const std::string& path);

// One spawned process. Destroying it SIGKILLs the process tree and reaps the
// child, so nothing outlives its owner.
class ChildProcess {
 public:
  // Forks and execs. Fails with kInvalidArgument for empty argv/log_path,
  // kInternal when the log cannot be opened or fork fails, and
  // kFailedPrecondition when exec (or the user switch) fails in the child;
  // the message names the program and the errno text.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Spawn(
      const SpawnOptions& options);

  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // Reaps the child if it has exited, without blocking. Returns true once it
  // has exited.
  bool HasExited();

  // The waitpid() status once HasExited() or WaitForExit() returned true.
  std::optional<int> wait_status() const { return wait_status_; }

  // Sends `signal` to the child only. No-op after it exited.
  void Signal(int signal);

  // Sends `signal` to the child and all its descendants. SIGSTOP stops the
  // child first (so it cannot fork meanwhile); SIGCONT resumes descendants
  // first. No-op after the child exited.
  void SignalTree(int signal);

  // True if the child itself (not a descendant or another process) holds a
  // TCP socket listening on 127.0.0.1:`port` (or 0.0.0.0:`port`). Tells a
  // server that is ready apart from another process answering on a port the
  // server failed to bind.
  bool ListensOnLoopbackPort(int port) const;

  // Polls until the child exits or `timeout` passes; returns true if it
  // exited.
  bool WaitForExit(std::chrono::milliseconds timeout);

  // SIGKILLs the tree, reaps the child and waits until every descendant is
  // gone (or a zombie, which holds no resources). Fails with
  // kDeadlineExceeded if a descendant survives `timeout`.
  absl::Status KillTree(std::chrono::milliseconds timeout);

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}

  pid_t pid_;
  std::optional<int> wait_status_;
};

// Runs a program to completion (e.g. initdb). Fails with kDeadlineExceeded
// (after killing it) if it runs longer than `timeout`, and kInternal if it
// exits unsuccessfully; both messages end with the tail of its log.
absl::Status RunToCompletion(const SpawnOptions& options,
                             std::chrono::milliseconds timeout);

}  // namespace keel::testing_internal

#endif  // KEEL_TESTING_INTERNAL_CHILD_PROCESS_H_
