// testing/resp_client.h
//
// A minimal, dependency-free Redis client for tests: one blocking TCP
// connection speaking RESP2, with a deadline on every call. RedisServer uses it
// to probe readiness; integration tests use it to seed or inspect a server
// without going through the code under test (keel::redis).
//
// Example:
//   KEEL_ASSIGN_OR_RETURN(std::unique_ptr<RespClient> client,
//                         RespClient::Connect("127.0.0.1", server->port(),
//                                             std::chrono::seconds(1)));
//   KEEL_ASSIGN_OR_RETURN(RespReply reply, client->Command({"SET", "k", "v"}));
//   // reply.type == RespReply::Type::kSimpleString, reply.text == "OK"
//
// A Redis error reply ("-ERR ...", "-NOAUTH ...") is a value
// (Type::kError), not a failed status: statuses are for transport problems.
//
// Thread safety: RespReply is a value type. A RespClient is thread-compatible:
// one connection, used by one thread at a time.

#ifndef KEEL_TESTING_RESP_CLIENT_H_
#define KEEL_TESTING_RESP_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace keel::testing {

// One decoded RESP2 reply.
struct RespReply {
  enum class Type {
    kSimpleString,  // "+OK"          -> text
    kError,         // "-ERR message" -> text (without the '-')
    kInteger,       // ":42"          -> integer
    kBulkString,    // "$3\r\nabc"    -> text
    kNil,           // "$-1" or "*-1"
    kArray,         // "*2 ..."       -> elements
  };

  Type type = Type::kNil;
  std::string text;
  int64_t integer = 0;
  std::vector<RespReply> elements;

  // Renders the reply for test failure messages, e.g. `["OK", 1, nil]`.
  std::string DebugString() const;
};

// A blocking RESP2 connection to one server.
class RespClient {
 public:
  // Connects to `host` (a numeric IPv4 address) and `port`. Fails with
  // kInvalidArgument for a bad address or port, kUnavailable when the
  // connection is refused or reset, and kDeadlineExceeded when it does not
  // complete within `timeout`.
  static absl::StatusOr<std::unique_ptr<RespClient>> Connect(
      const std::string& host, int port, std::chrono::milliseconds timeout);

  ~RespClient();
  RespClient(const RespClient&) = delete;
  RespClient& operator=(const RespClient&) = delete;

  // Sends one command (each argument a bulk string) and waits for its reply.
  // Fails with kInvalidArgument for an empty command, kDeadlineExceeded when
  // the reply does not arrive within `timeout` (e.g. the server is paused),
  // kUnavailable when the server closes or resets the connection, and
  // kInvalidArgument for a malformed reply. After any failure the connection
  // is unusable and every later call fails with kFailedPrecondition: reply
  // framing is lost, so reconnect instead.
  absl::StatusOr<RespReply> Command(
      const std::vector<std::string>& args,
      std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  explicit RespClient(int fd) : fd_(fd) {}

  int fd_;
  bool broken_ = false;
  std::string buffer_;  // Received bytes not yet parsed.
};

}  // namespace keel::testing

#endif  // KEEL_TESTING_RESP_CLIENT_H_
