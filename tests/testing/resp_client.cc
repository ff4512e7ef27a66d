#include "testing/resp_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "testing/internal/resp_codec.h"

namespace keel::testing {
namespace {

using Deadline = std::chrono::steady_clock::time_point;

// Waits for `events` on `fd` until `deadline`. Returns false on timeout.
bool WaitFor(int fd, short events, Deadline deadline) {
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd entry{fd, events, 0};
    const int ready = ::poll(&entry, 1, static_cast<int>(left.count()));
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return true;  // Let the I/O call fail.
  }
}

std::string Errno(const char* what) {
  return absl::StrCat(what, ": ", std::strerror(errno));
}

}  // namespace

std::string RespReply::DebugString() const {
  switch (type) {
    case Type::kSimpleString:
    case Type::kBulkString:
      return absl::StrCat("\"", text, "\"");
    case Type::kError:
      return absl::StrCat("(error) ", text);
    case Type::kInteger:
      return absl::StrCat(integer);
    case Type::kNil:
      return "nil";
    case Type::kArray:
      return absl::StrCat(
          "[",
          absl::StrJoin(elements, ", ",
                        [](std::string* out, const RespReply& element) {
                          out->append(element.DebugString());
                        }),
          "]");
  }
  return "?";
}

absl::StatusOr<std::unique_ptr<RespClient>> RespClient::Connect(
    const std::string& host, int port, std::chrono::milliseconds timeout) {
  sockaddr_in addr;
  std::memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RespClient: host must be a numeric IPv4 address, got '", host, "'"));
  }
  if (port <= 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("RespClient: port out of range: ", port));
  }
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const int fd =
      ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::UnavailableError(Errno("socket()"));
  std::unique_ptr<RespClient> client(new RespClient(fd));
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

  const std::string where = absl::StrCat(host, ":", port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS) {
      return absl::UnavailableError(
          Errno(absl::StrCat("connect(", where, ")").c_str()));
    }
    if (!WaitFor(fd, POLLOUT, std::chrono::steady_clock::now() + timeout)) {
      return absl::DeadlineExceededError(absl::StrCat(
          "connect(", where, ") timed out after ", timeout.count(), " ms"));
    }
    int error = 0;
    socklen_t len = sizeof(error);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) {
      return absl::UnavailableError(
          absl::StrCat("connect(", where, "): ", std::strerror(error)));
    }
  }
  return client;
}

RespClient::~RespClient() { ::close(fd_); }

absl::StatusOr<RespReply> RespClient::Command(
    const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  if (broken_) {
    return absl::FailedPreconditionError(
        "RespClient: connection unusable after an earlier failure");
  }
  if (args.empty()) {
    return absl::InvalidArgumentError("RespClient: empty command");
  }
  // Any failure below leaves the stream mid-reply; only success clears this.
  broken_ = true;
  const Deadline deadline = std::chrono::steady_clock::now() + timeout;
  const std::string wire = testing_internal::EncodeRespCommand(args);
  size_t sent = 0;
  while (sent < wire.size()) {
    const ssize_t n =
        ::send(fd_, wire.data() + sent, wire.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return absl::UnavailableError(Errno("send()"));
    } else if (!WaitFor(fd_, POLLOUT, deadline)) {
      return absl::DeadlineExceededError(absl::StrCat("RespClient: ", args[0],
                                                      " not sent within ",
                                                      timeout.count(), " ms"));
    }
  }
  while (true) {
    size_t consumed = 0;
    absl::StatusOr<std::optional<RespReply>> reply =
        testing_internal::ParseRespReply(buffer_, &consumed);
    if (!reply.ok()) return reply.status();
    if (reply->has_value()) {
      buffer_.erase(0, consumed);
      broken_ = false;
      return **std::move(reply);
    }
    char chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
    } else if (n == 0) {
      return absl::UnavailableError("RespClient: server closed the connection");
    } else if (errno != EAGAIN && errno != EINTR) {
      return absl::UnavailableError(Errno("recv()"));
    } else if (!WaitFor(fd_, POLLIN, deadline)) {
      return absl::DeadlineExceededError(
          absl::StrCat("RespClient: no reply to ", args[0], " within ",
                       timeout.count(), " ms"));
    }
  }
}

}  // namespace keel::testing
