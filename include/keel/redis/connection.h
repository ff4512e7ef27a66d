// keel/redis/connection.h
//
// `keel::redis::Connection`: one synchronous connection to a Redis server over
// hiredis, built by a single function that applies every option, so a
// reconnect is always "build a fresh connection" and never hiredis's
// `redisReconnect` (which forgets timeouts and keepalive).
//
// Example:
//   keel::redis::ConnectionOptions options;
//   options.host = "127.0.0.1";
//   options.port = 6379;
//   options.command_timeout = std::chrono::milliseconds(200);
//   auto connection = keel::redis::Connection::Connect(options);
//   if (!connection.ok()) return connection.status();
//   auto reply = (*connection)->Command({"SET", "greeting", "hello"});
//
// Errors (absl::Status codes):
//   kInvalidArgument     bad option (names the field), unusable TLS file,
//                        empty command
//   kDeadlineExceeded    connect, TLS handshake or command timeout
//   kUnavailable         connection refused/reset/closed by the server (EOF),
//                        or the TLS handshake failed (OpenSSL's reason in the
//                        message, e.g. the certificate check)
//   kInternal            RESP protocol error or out of memory inside hiredis
//   kUnauthenticated     AUTH rejected
//   kUnimplemented       TLS requested but this build cannot do it (see
//                        TlsSupported()); never silently downgraded
// After any error other than kInvalidArgument the connection is broken():
// hiredis contexts are unusable after an I/O or protocol error, so the caller
// (or keel's pool) discards it and connects afresh. Error *replies* (e.g.
// WRONGTYPE) are not connection errors: they come back as a Reply of type
// kError.
//
// SIGPIPE: writing to a socket the server closed raises SIGPIPE, which by
// default kills the process. The first Connect() sets SIGPIPE to SIG_IGN if,
// and only if, its disposition is still the default (a handler the application
// installed is left alone).
//
// Thread safety: a Connection is NOT thread-safe; use one per thread at a time
// (keel's pool hands each connection to one caller). Different connections may
// be used concurrently.

#ifndef KEEL_REDIS_CONNECTION_H_
#define KEEL_REDIS_CONNECTION_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "keel/redis/reply.h"

namespace keel::redis {

// TLS settings of a connection. Only honoured by builds where TlsSupported()
// is true.
struct TlsOptions {
  // Speak TLS (1.2 or newer). Default off.
  bool enabled = false;
  // PEM file of the CA certificates that the server's certificate must chain
  // to. Default: OpenSSL's default locations (the system store).
  std::string ca_file;
  // Client certificate chain and its private key (PEM files) for servers that
  // require client certificates (`tls-auth-clients yes`). Both or neither.
  // Default: none.
  std::string cert_file;
  std::string key_file;
  // The name the server's certificate must carry, also sent as SNI when it is
  // a DNS name. Default: ConnectionOptions::host (an IP address is then
  // matched against the certificate's IP subject alternative names).
  std::string server_name;
  // Verify the server's certificate chain and name. Default on. Off leaves
  // the connection open to interception; for tests against throwaway
  // certificates only.
  bool verify_peer = true;
};

// True when this build of keel::redis can make TLS connections: it was built
// against hiredis >= 1.0 together with hiredis's TLS library (hiredis_ssl).
bool TlsSupported();

struct ConnectionOptions {
  // Server address. Default 127.0.0.1:6379. Ignored when `unix_socket` is set.
  std::string host = "127.0.0.1";
  int port = 6379;
  // Path of a Unix domain socket to use instead of TCP. Default: none.
  std::string unix_socket;
  // Bound on establishing the TCP (or Unix) connection. Default 1 s; must be >
  // 0.
  std::chrono::milliseconds connect_timeout{1000};
  // Bound on each command's round trip (setup commands included). Default 1 s;
  // must be > 0.
  std::chrono::milliseconds command_timeout{1000};
  // Enables TCP keepalive so dead peers behind firewalls are detected. Default
  // on.
  bool tcp_keepalive = true;
  // ACL user name (Redis 6+). Empty: `AUTH <password>` (the default user).
  std::string username;
  // Password for AUTH. Empty: no AUTH.
  std::string password;
  // Database selected with SELECT when != 0. Default 0; must be >= 0.
  int db = 0;
  // Name set with CLIENT SETNAME (visible in CLIENT LIST). Default: none. Must
  // not contain spaces or newlines.
  std::string client_name;
  // TLS; off by default. With `tls.enabled` in a build without TLS support
  // Connect() fails with kUnimplemented instead of connecting in plaintext.
  // Not with `unix_socket`.
  TlsOptions tls;
};

// Checks every field of `options`; kInvalidArgument naming the first bad field.
absl::Status ValidateConnectionOptions(const ConnectionOptions& options);

class Connection {
 public:
  // Connects, applies timeouts and keepalive, then AUTH, SELECT and CLIENT
  // SETNAME as configured. Fails as described in the file comment.
  static absl::StatusOr<std::unique_ptr<Connection>> Connect(
      const ConnectionOptions& options);

  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends one command given as binary-safe arguments and waits for its reply.
  // Takes a braced list or any contiguous container of string_views.
  // Complexity: one round trip; no allocation of keel's own beyond the Reply.
  // Fails with kInvalidArgument for an empty command and kFailedPrecondition
  // if broken().
  absl::StatusOr<Reply> Command(absl::Span<const std::string_view> args);

  // Sends every command before reading any reply (one round trip for the batch)
  // and returns the replies in order. On an I/O error the whole call fails and
  // the connection is broken.
  absl::StatusOr<std::vector<Reply>> Pipeline(
      const std::vector<std::vector<std::string_view>>& commands);

  // PING; OK when the server answered PONG.
  absl::Status Ping();

  // True once an I/O, timeout or protocol error made the connection unusable.
  bool broken() const { return broken_; }

  // True when commands sent so far left per-connection server state that a
  // later user of the connection would inherit: an open MULTI, WATCHed keys,
  // a database other than options().db, or a mode in which the connection
  // no longer answers commands normally (SUBSCRIBE/PSUBSCRIBE/SSUBSCRIBE,
  // MONITOR, CLIENT REPLY OFF/SKIP), or another identity (AUTH, HELLO,
  // RESET). Tracked from the commands' names and replies; costs a few
  // comparisons per command.
  bool dirty() const { return session_ != 0; }

  // Restores a clean session for the next user, in one round trip and only
  // when dirty(): DISCARD an open MULTI (which also forgets WATCHed keys),
  // UNWATCH, SELECT options().db. A connection in subscriber or MONITOR mode,
  // with replies switched off, or authenticated as someone else cannot be
  // restored: kFailedPrecondition, and the connection becomes broken() (it
  // must be closed). Fails like Pipeline() on I/O errors.
  absl::Status ResetSession();

  // True once the server answered a command with a READONLY error, i.e. it
  // is a replica now (after a failover or a manual REPLICAOF): a client that
  // wants the master must connect elsewhere.
  bool saw_readonly() const { return saw_readonly_; }

  // The options this connection was built with.
  const ConnectionOptions& options() const { return options_; }

 private:
  struct Context;  // owns the hiredis context
  Connection(ConnectionOptions options, std::unique_ptr<Context> context);
  absl::Status ContextError(std::string_view during);
  absl::StatusOr<Reply> ReadReply(std::string_view during);
  // kFailedPrecondition once broken(), kInvalidArgument for an empty command.
  absl::Status CheckSendable(absl::Span<const std::string_view> args) const;
  // Reads the reply to `args` and records the session state it leaves.
  absl::StatusOr<Reply> Receive(absl::Span<const std::string_view> args);
  // Formats one non-empty command into hiredis's output buffer; no
  // allocation of keel's own for up to 16 arguments.
  absl::Status Append(absl::Span<const std::string_view> args);

  // Updates session_ and saw_readonly_ after `args` got `reply`.
  void TrackSession(absl::Span<const std::string_view> args,
                    const Reply& reply);

  ConnectionOptions options_;
  std::unique_ptr<Context> context_;
  bool broken_ = false;
  bool saw_readonly_ = false;
  // Bits of internal session-state flags (see connection.cc); 0 when clean.
  unsigned session_ = 0;
};

}  // namespace keel::redis

#endif  // KEEL_REDIS_CONNECTION_H_
