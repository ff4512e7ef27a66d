#include "testing/redis_server.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "keel/base/status_macros.h"
#include "testing/internal/server_process.h"
#include "testing/internal/temp_dir.h"

namespace keel::testing {
namespace {

constexpr std::chrono::milliseconds kProbeTimeout(500);

absl::Status ValidateOptions(const RedisServerOptions& options) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RedisServerOptions.port must be in [0, 65535], got ", options.port));
  }
  if (options.start_timeout.count() <= 0) {
    return absl::InvalidArgumentError(
        "RedisServerOptions.start_timeout must be positive");
  }
  if (options.stop_timeout.count() <= 0) {
    return absl::InvalidArgumentError(
        "RedisServerOptions.stop_timeout must be positive");
  }
  if (options.binary.empty() || ::access(options.binary.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "RedisServerOptions.binary '", options.binary,
        "' is not an executable file (Debian: apt-get install redis-server)"));
  }
  return absl::OkStatus();
}

// Ready once PING gets any answer but -LOADING (still reading its data).
absl::Status ProbeRedis(int port) {
  KEEL_ASSIGN_OR_RETURN(std::unique_ptr<RespClient> client,
                        RespClient::Connect("127.0.0.1", port, kProbeTimeout));
  KEEL_ASSIGN_OR_RETURN(RespReply reply,
                        client->Command({"PING"}, kProbeTimeout));
  if (reply.type == RespReply::Type::kError &&
      absl::StartsWith(reply.text, "LOADING")) {
    return absl::UnavailableError(reply.text);
  }
  return absl::OkStatus();
}

std::vector<std::string> CommandLine(const RedisServerOptions& options,
                                     const std::string& dir, int port) {
  std::vector<std::string> args = {options.binary,
                                   "--port",
                                   std::to_string(port),
                                   "--bind",
                                   "127.0.0.1",
                                   "--protected-mode",
                                   "no",
                                   "--daemonize",
                                   "no",
                                   "--dir",
                                   dir,
                                   "--logfile",
                                   "",
                                   "--save",
                                   "",
                                   "--appendonly",
                                   options.persistence ? "yes" : "no"};
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  return args;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start(
    RedisServerOptions options) {
  KEEL_RETURN_IF_ERROR(ValidateOptions(options));
  KEEL_ASSIGN_OR_RETURN(std::unique_ptr<testing_internal::TempDir> dir,
                        testing_internal::TempDir::Create("keel-redis"));
  testing_internal::ServerSpec spec;
  spec.name = "redis-server";
  spec.command_for_port = [options, path = dir->path()](int port) {
    return CommandLine(options, path, port);
  };
  spec.probe = ProbeRedis;
  spec.stop_signal = SIGTERM;
  spec.log_path = dir->path() + "/redis.log";
  spec.working_dir = dir->path();
  spec.start_timeout = options.start_timeout;
  spec.stop_timeout = options.stop_timeout;
  auto process =
      std::make_unique<testing_internal::ServerProcess>(std::move(spec));
  KEEL_RETURN_IF_ERROR(process->Start(options.port));
  return std::unique_ptr<RedisServer>(
      new RedisServer(std::move(dir), std::move(process)));
}

RedisServer::RedisServer(
    std::unique_ptr<testing_internal::TempDir> dir,
    std::unique_ptr<testing_internal::ServerProcess> process)
    : dir_(std::move(dir)), process_(std::move(process)) {}

RedisServer::~RedisServer() = default;

int RedisServer::port() const { return process_->port(); }

const std::string& RedisServer::data_dir() const { return dir_->path(); }

std::string RedisServer::LogTail(size_t max_bytes) const {
  return process_->LogTail(max_bytes);
}

absl::StatusOr<std::unique_ptr<RespClient>> RedisServer::Connect(
    std::chrono::milliseconds timeout) const {
  return RespClient::Connect(host_, port(), timeout);
}

absl::Status RedisServer::Stop() { return process_->Stop(); }
absl::Status RedisServer::Kill() { return process_->Kill(); }
absl::Status RedisServer::Restart() { return process_->Restart(); }
absl::Status RedisServer::Pause() { return process_->Pause(); }
absl::Status RedisServer::Resume() { return process_->Resume(); }
absl::Status RedisServer::EnsureRunning() { return process_->EnsureRunning(); }

}  // namespace keel::testing
