#include "testing/redis_sentinel.h"

#include <unistd.h>

#include <fstream>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "keel/base/status_macros.h"
#include "testing/internal/server_process.h"
#include "testing/internal/temp_dir.h"

namespace keel::testing {
namespace {

constexpr std::chrono::milliseconds kProbeTimeout(500);

bool HasSpaceOrNewline(const std::string& text) {
  return text.find_first_of(" \t\r\n") != std::string::npos;
}

absl::Status ValidateOptions(const RedisSentinelOptions& options) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RedisSentinelOptions.port must be in [0, 65535], got ", options.port));
  }
  if (options.master_port < 1 || options.master_port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("RedisSentinelOptions.master_port must be in [1, 65535], "
                     "got ",
                     options.master_port));
  }
  if (options.master_name.empty() || HasSpaceOrNewline(options.master_name)) {
    return absl::InvalidArgumentError(
        "RedisSentinelOptions.master_name must be a non-empty word");
  }
  if (options.master_host.empty() || HasSpaceOrNewline(options.master_host)) {
    return absl::InvalidArgumentError(
        "RedisSentinelOptions.master_host must be a non-empty word");
  }
  if (options.quorum < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RedisSentinelOptions.quorum must be >= 1, got ", options.quorum));
  }
  if (options.down_after.count() <= 0 ||
      options.failover_timeout.count() <= 0) {
    return absl::InvalidArgumentError(
        "RedisSentinelOptions.down_after and failover_timeout must be "
        "positive");
  }
  for (const std::string& line : options.extra_config) {
    if (line.find_first_of("\r\n") != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "RedisSentinelOptions.extra_config entries are single lines, got '",
          line, "'"));
    }
  }
  if (options.start_timeout.count() <= 0 || options.stop_timeout.count() <= 0) {
    return absl::InvalidArgumentError(
        "RedisSentinelOptions.start_timeout and stop_timeout must be positive");
  }
  if (options.binary.empty() || ::access(options.binary.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "RedisSentinelOptions.binary '", options.binary,
        "' is not an executable file (Debian: apt-get install redis-server)"));
  }
  return absl::OkStatus();
}

// The sentinel rewrites this file as it learns the deployment, so it lives
// in the sentinel's own directory and is writable.
absl::Status WriteConfig(const std::string& path,
                         const RedisSentinelOptions& options) {
  std::ofstream file(path, std::ios::trunc);
  const std::string& name = options.master_name;
  file << "sentinel monitor " << name << " " << options.master_host << " "
       << options.master_port << " " << options.quorum << "\n"
       << "sentinel down-after-milliseconds " << name << " "
       << options.down_after.count() << "\n"
       << "sentinel failover-timeout " << name << " "
       << options.failover_timeout.count() << "\n"
       << "sentinel parallel-syncs " << name << " 1\n";
  for (const std::string& line : options.extra_config) file << line << "\n";
  file.close();
  if (!file) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

std::vector<std::string> CommandLine(const RedisSentinelOptions& options,
                                     const std::string& dir, int port) {
  return {options.binary,
          dir + "/sentinel.conf",
          "--sentinel",
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
          ""};
}

absl::Status ProbeSentinel(int port) {
  KEEL_ASSIGN_OR_RETURN(std::unique_ptr<RespClient> client,
                        RespClient::Connect("127.0.0.1", port, kProbeTimeout));
  return client->Command({"PING"}, kProbeTimeout).status();
}

}  // namespace

absl::StatusOr<std::unique_ptr<RedisSentinel>> RedisSentinel::Start(
    RedisSentinelOptions options) {
  KEEL_RETURN_IF_ERROR(ValidateOptions(options));
  KEEL_ASSIGN_OR_RETURN(std::unique_ptr<testing_internal::TempDir> dir,
                        testing_internal::TempDir::Create("keel-sentinel"));
  KEEL_RETURN_IF_ERROR(WriteConfig(dir->path() + "/sentinel.conf", options));
  testing_internal::ServerSpec spec;
  spec.name = "redis-sentinel";
  spec.command_for_port = [options, path = dir->path()](int port) {
    return CommandLine(options, path, port);
  };
  spec.probe = ProbeSentinel;
  spec.stop_signal = SIGTERM;
  spec.log_path = dir->path() + "/sentinel.log";
  spec.working_dir = dir->path();
  spec.start_timeout = options.start_timeout;
  spec.stop_timeout = options.stop_timeout;
  auto process =
      std::make_unique<testing_internal::ServerProcess>(std::move(spec));
  KEEL_RETURN_IF_ERROR(process->Start(options.port));
  return std::unique_ptr<RedisSentinel>(new RedisSentinel(
      std::move(options), std::move(dir), std::move(process)));
}

RedisSentinel::RedisSentinel(
    RedisSentinelOptions options,
    std::unique_ptr<testing_internal::TempDir> dir,
    std::unique_ptr<testing_internal::ServerProcess> process)
    : options_(std::move(options)),
      dir_(std::move(dir)),
      process_(std::move(process)) {}

RedisSentinel::~RedisSentinel() = default;

int RedisSentinel::port() const { return process_->port(); }

std::string RedisSentinel::address() const {
  return absl::StrCat(host_, ":", port());
}

std::string RedisSentinel::LogTail(size_t max_bytes) const {
  return process_->LogTail(max_bytes);
}

absl::StatusOr<std::unique_ptr<RespClient>> RedisSentinel::Connect(
    std::chrono::milliseconds timeout) const {
  return RespClient::Connect(host_, port(), timeout);
}

absl::StatusOr<std::string> RedisSentinel::MasterAddress() const {
  KEEL_ASSIGN_OR_RETURN(std::unique_ptr<RespClient> client, Connect());
  KEEL_ASSIGN_OR_RETURN(RespReply reply,
                        client->Command({"SENTINEL", "get-master-addr-by-name",
                                         options_.master_name}));
  if (reply.type != RespReply::Type::kArray || reply.elements.size() != 2) {
    return absl::NotFoundError(absl::StrCat("sentinel has no master for '",
                                            options_.master_name,
                                            "': ", reply.DebugString()));
  }
  return absl::StrCat(reply.elements[0].text, ":", reply.elements[1].text);
}

absl::Status RedisSentinel::Failover(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last = "no attempt";
  while (std::chrono::steady_clock::now() < deadline) {
    absl::StatusOr<std::unique_ptr<RespClient>> client = Connect();
    if (client.ok()) {
      absl::StatusOr<RespReply> reply =
          (*client)->Command({"SENTINEL", "FAILOVER", options_.master_name});
      if (reply.ok() && reply->type != RespReply::Type::kError) {
        return absl::OkStatus();
      }
      last = reply.ok() ? reply->text : reply.status().ToString();
      // Anything but "no replica to promote yet" is final.
      if (reply.ok() && !absl::StartsWith(reply->text, "NOGOODSLAVE")) {
        return absl::FailedPreconditionError(
            absl::StrCat("SENTINEL FAILOVER refused: ", last));
      }
    } else {
      last = client.status().ToString();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "no failover of '", options_.master_name, "' started within ",
      timeout.count(), " ms; last answer: ", last));
}

absl::Status RedisSentinel::Stop() { return process_->Stop(); }
absl::Status RedisSentinel::Kill() { return process_->Kill(); }

}  // namespace keel::testing
