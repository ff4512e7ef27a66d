#include "testing/internal/server_process.h"

#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "testing/internal/free_port.h"

namespace keel::testing_internal {
namespace {

constexpr int kPortAttempts = 5;
constexpr std::chrono::milliseconds kProbeInterval(20);
constexpr size_t kTailBytes = 4096;

}  // namespace

ServerProcess::ServerProcess(ServerSpec spec) : spec_(std::move(spec)) {}

ServerProcess::~ServerProcess() {
  // Best effort: Stop() already falls back to SIGKILL.
  (void)Stop();
}

absl::Status ServerProcess::Start(int requested_port) {
  if (child_ != nullptr || port_ != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(spec_.name, " was already started; use Restart()"));
  }
  absl::Status status;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    int port = requested_port;
    if (port == 0) {
      absl::StatusOr<int> picked = PickFreeLoopbackPort();
      if (!picked.ok()) return picked.status();
      port = *picked;
    }
    bool port_in_use = false;
    status = Launch(port, &port_in_use);
    if (status.ok()) {
      port_ = port;
      return status;
    }
    if (!port_in_use || requested_port != 0) return status;
  }
  return status;
}

absl::Status ServerProcess::Launch(int port, bool* port_in_use) {
  SpawnOptions options;
  options.argv = spec_.command_for_port(port);
  options.log_path = spec_.log_path;
  options.working_dir = spec_.working_dir;
  options.run_as = spec_.run_as;
  const int64_t log_offset = FileSize(spec_.log_path);
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      ChildProcess::Spawn(options);
  if (!child.ok()) return child.status();
  child_ = *std::move(child);
  paused_ = false;

  const std::string where = absl::StrCat(spec_.name, " on 127.0.0.1:", port);
  const auto deadline = std::chrono::steady_clock::now() + spec_.start_timeout;
  absl::Status probe = absl::UnavailableError("not probed yet");
  while (true) {
    if (child_->HasExited()) {
      const std::string log =
          ReadFileTail(spec_.log_path, log_offset, kTailBytes);
      *port_in_use = absl::StrContains(log, "Address already in use");
      const std::string exit = DescribeWaitStatus(*child_->wait_status());
      child_.reset();
      return absl::UnavailableError(absl::StrCat(
          where, " exited during start-up (", exit, "); log tail:\n", log));
    }
    probe = spec_.probe(port);
    // The answer may come from another process that holds the port this
    // server then fails to bind; only our own listener counts.
    if (probe.ok() && child_->ListensOnLoopbackPort(port)) return probe;
    if (probe.ok()) {
      probe = absl::UnavailableError(
          "the port answered, but not from this server's process");
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(kProbeInterval);
  }
  (void)child_->KillTree(spec_.stop_timeout);
  child_.reset();
  return absl::DeadlineExceededError(absl::StrCat(
      where, " did not become ready within ", spec_.start_timeout.count(),
      " ms (last probe: ", probe.ToString(), "); log tail:\n",
      ReadFileTail(spec_.log_path, log_offset, kTailBytes)));
}

ServerState ServerProcess::state() {
  if (child_ == nullptr || child_->HasExited()) return ServerState::kStopped;
  return paused_ ? ServerState::kPaused : ServerState::kRunning;
}

absl::Status ServerProcess::Stop() {
  if (state() == ServerState::kStopped) {
    child_.reset();
    return absl::OkStatus();
  }
  child_->Signal(spec_.stop_signal);
  // A stopped process keeps the stop signal pending until it continues.
  if (paused_) child_->SignalTree(SIGCONT);
  paused_ = false;
  const bool exited = child_->WaitForExit(spec_.stop_timeout);
  absl::Status status;
  if (!exited) {
    status = absl::DeadlineExceededError(absl::StrCat(
        spec_.name, " on port ", port_, " ignored its stop signal for ",
        spec_.stop_timeout.count(), " ms and was killed; log tail:\n",
        LogTail()));
  }
  const absl::Status killed = child_->KillTree(spec_.stop_timeout);
  child_.reset();
  return status.ok() ? killed : status;
}

absl::Status ServerProcess::Kill() {
  if (state() == ServerState::kStopped) {
    child_.reset();
    return absl::OkStatus();
  }
  const absl::Status status = child_->KillTree(spec_.stop_timeout);
  child_.reset();
  paused_ = false;
  return status;
}

absl::Status ServerProcess::Pause() {
  if (state() != ServerState::kRunning) {
    return absl::FailedPreconditionError(
        absl::StrCat(spec_.name, " is not running, cannot pause it"));
  }
  child_->SignalTree(SIGSTOP);
  paused_ = true;
  return absl::OkStatus();
}

absl::Status ServerProcess::Resume() {
  if (state() != ServerState::kPaused) {
    return absl::FailedPreconditionError(
        absl::StrCat(spec_.name, " is not paused, cannot resume it"));
  }
  child_->SignalTree(SIGCONT);
  paused_ = false;
  return absl::OkStatus();
}

absl::Status ServerProcess::Restart() {
  if (port_ == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(spec_.name, " was never started, cannot restart it"));
  }
  // A failed graceful stop already killed the server; restarting is what
  // the caller asked for either way.
  (void)Stop();
  bool port_in_use = false;
  return Launch(port_, &port_in_use);
}

absl::Status ServerProcess::EnsureRunning() {
  switch (state()) {
    case ServerState::kRunning:
      return absl::OkStatus();
    case ServerState::kPaused:
      return Resume();
    case ServerState::kStopped:
      return Restart();
  }
  return absl::InternalError("unknown server state");
}

std::string ServerProcess::LogTail(size_t max_bytes) const {
  return ReadFileTail(spec_.log_path, 0, max_bytes);
}

}  // namespace keel::testing_internal
