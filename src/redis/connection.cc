#include "keel/redis/connection.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/time.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "keel/base/status_macros.h"

#if defined(KEEL_REDIS_TLS)
#include <hiredis/hiredis_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "base/openssl_error.h"
#endif

namespace keel::redis {
namespace {

timeval ToTimeval(std::chrono::milliseconds d) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

// Ignores SIGPIPE once per process unless the application installed a handler.
void SuppressSigpipe() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current;
    if (sigaction(SIGPIPE, nullptr, &current) == 0 &&
        current.sa_handler == SIG_DFL) {
      struct sigaction ignore;
      std::memset(&ignore, 0, sizeof(ignore));
      ignore.sa_handler = SIG_IGN;
      sigemptyset(&ignore.sa_mask);
      sigaction(SIGPIPE, &ignore, nullptr);
    }
  });
}

// Copies a hiredis reply tree into keel's owned Reply.
absl::StatusOr<Reply> Convert(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_NIL:
      return Reply::Nil();
    case REDIS_REPLY_STRING:
      return Reply::String(std::string(r->str, r->len));
    case REDIS_REPLY_STATUS:
      return Reply::Status(std::string(r->str, r->len));
    case REDIS_REPLY_ERROR:
      return Reply::Error(std::string(r->str, r->len));
    case REDIS_REPLY_INTEGER:
      return Reply::Integer(r->integer);
    case REDIS_REPLY_ARRAY: {
      std::vector<Reply> elements;
      elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) {
        KEEL_ASSIGN_OR_RETURN(Reply element, Convert(r->element[i]));
        elements.push_back(std::move(element));
      }
      return Reply::Array(std::move(elements));
    }
    default:
      // RESP3 types never arrive on a RESP2 connection; treat them as protocol
      // violations rather than guessing a mapping.
      return absl::InternalError(absl::StrCat(
          "redis: unexpected reply type ", r->type, " on a RESP2 connection"));
  }
}

struct ReplyDeleter {
  void operator()(void* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<void, ReplyDeleter>;

// Bits of Connection::session_: state a command left on the server side of
// the connection that outlives the command.
constexpr unsigned kInMulti = 1u << 0;       // MULTI without EXEC/DISCARD
constexpr unsigned kWatching = 1u << 1;      // WATCH without UNWATCH/EXEC/...
constexpr unsigned kOtherDb = 1u << 2;       // SELECT of another database
constexpr unsigned kUnrestorable = 1u << 3;  // subscriber/MONITOR mode,
                                             // replies off, other identity

// ASCII case-insensitive equality with a lower-case literal.
bool CommandIs(std::string_view arg, std::string_view lower) {
  if (arg.size() != lower.size()) return false;
  for (std::size_t i = 0; i < arg.size(); ++i) {
    char c = arg[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

bool ValidClientName(std::string_view name) {
  for (char c : name) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') return false;
  }
  return true;
}

// "host:port" or the socket path, for messages.
std::string Where(const ConnectionOptions& options) {
  return options.unix_socket.empty()
             ? absl::StrCat(options.host, ":", options.port)
             : options.unix_socket;
}

#if defined(KEEL_REDIS_TLS)
using base_internal::TakeOpenSslError;

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using SslPtr = std::unique_ptr<SSL, SslFree>;

bool IsIpAddress(const std::string& name) {
  unsigned char address[sizeof(in6_addr)];
  return inet_pton(AF_INET, name.c_str(), address) == 1 ||
         inet_pton(AF_INET6, name.c_str(), address) == 1;
}

// A client SSL object for `options.tls`: TLS 1.2 or newer, the server's
// chain checked against the configured CAs and its certificate against the
// expected name (hiredis's own context checks the chain only), the client
// certificate if one is configured. A context per connection keeps files
// re-read on reconnect, so rotated certificates are picked up; the SSL
// object holds its own reference to it.
absl::StatusOr<SslPtr> NewSsl(const ConnectionOptions& options) {
  const TlsOptions& tls = options.tls;
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_client_method()));
  if (ctx == nullptr ||
      SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "redis: cannot create a TLS context: ", TakeOpenSslError()));
  }
  if (tls.verify_peer) {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    const bool loaded = tls.ca_file.empty()
                            ? SSL_CTX_set_default_verify_paths(ctx.get()) == 1
                            : SSL_CTX_load_verify_locations(
                                  ctx.get(), tls.ca_file.c_str(), nullptr) == 1;
    if (!loaded) {
      return absl::InvalidArgumentError(absl::StrCat(
          "redis: cannot load CA certificates from ",
          tls.ca_file.empty()
              ? "OpenSSL's default locations"
              : "ConnectionOptions.tls.ca_file '" + tls.ca_file + "'",
          ": ", TakeOpenSslError()));
    }
  } else {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  }
  if (!tls.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), tls.cert_file.c_str()) !=
        1) {
      return absl::InvalidArgumentError(
          absl::StrCat("redis: cannot load ConnectionOptions.tls.cert_file '",
                       tls.cert_file, "': ", TakeOpenSslError()));
    }
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), tls.key_file.c_str(),
                                    SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx.get()) != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "redis: cannot use ConnectionOptions.tls.key_file '", tls.key_file,
          "' with tls.cert_file: ", TakeOpenSslError()));
    }
  }
  SslPtr ssl(SSL_new(ctx.get()));
  if (ssl == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "redis: cannot create a TLS session: ", TakeOpenSslError()));
  }
  const std::string& name =
      tls.server_name.empty() ? options.host : tls.server_name;
  const bool ip = IsIpAddress(name);
  // SNI carries DNS names only (RFC 6066, section 3).
  bool named = ip || SSL_set_tlsext_host_name(ssl.get(), name.c_str()) == 1;
  if (named && tls.verify_peer) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
    named =
        ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) == 1
           : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size()) == 1;
  }
  if (!named) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis: cannot use '", name,
                     "' as the TLS server name: ", TakeOpenSslError()));
  }
  return ssl;
}

// Runs the TLS handshake on the connected context `c`, bounded by its
// command timeout. On success hiredis owns the SSL object.
absl::Status InitiateTls(redisContext* c, const ConnectionOptions& options) {
  KEEL_ASSIGN_OR_RETURN(SslPtr ssl, NewSsl(options));
  errno = 0;
  if (redisInitiateSSL(c, ssl.get()) == REDIS_OK) {
    ssl.release();
    return absl::OkStatus();
  }
  const int saved_errno = errno;
  const std::string where = Where(options);
  ERR_clear_error();
  if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK) {
    // hiredis's own text is empty here: nothing failed, nothing came back.
    return absl::DeadlineExceededError(
        absl::StrCat("redis ", where, ": TLS handshake got no answer within ",
                     options.command_timeout.count(),
                     " ms (command_timeout); is this a TLS port?"));
  }
  std::string message =
      absl::StrCat("redis ", where, ": TLS handshake failed: ", c->errstr);
  const long verify = SSL_get_verify_result(ssl.get());
  if (verify != X509_V_OK) {
    absl::StrAppend(&message, " (", X509_verify_cert_error_string(verify), ")");
  }
  return absl::UnavailableError(message);
}
#endif  // KEEL_REDIS_TLS

}  // namespace

bool TlsSupported() {
#if defined(KEEL_REDIS_TLS)
  return true;
#else
  return false;
#endif
}

struct Connection::Context {
  explicit Context(redisContext* c) : ctx(c) {}
  ~Context() {
    if (ctx != nullptr) redisFree(ctx);
  }
  redisContext* ctx;
};

absl::Status ValidateConnectionOptions(const ConnectionOptions& options) {
  if (options.unix_socket.empty()) {
    if (options.host.empty()) {
      return absl::InvalidArgumentError(
          "ConnectionOptions.host must not be empty");
    }
    if (options.port <= 0 || options.port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ConnectionOptions.port must be in 1..65535, got ", options.port));
    }
  }
  if (options.connect_timeout.count() <= 0) {
    return absl::InvalidArgumentError(
        "ConnectionOptions.connect_timeout must be > 0");
  }
  if (options.command_timeout.count() <= 0) {
    return absl::InvalidArgumentError(
        "ConnectionOptions.command_timeout must be > 0");
  }
  if (options.db < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ConnectionOptions.db must be >= 0, got ", options.db));
  }
  if (!options.username.empty() && options.password.empty()) {
    return absl::InvalidArgumentError(
        "ConnectionOptions.username requires ConnectionOptions.password");
  }
  if (!ValidClientName(options.client_name)) {
    return absl::InvalidArgumentError(
        "ConnectionOptions.client_name must not contain spaces or newlines");
  }
  const TlsOptions& tls = options.tls;
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return absl::InvalidArgumentError(
        "ConnectionOptions.tls.cert_file and tls.key_file go together: set "
        "both or neither");
  }
  if (!tls.enabled && !(tls.ca_file.empty() && tls.cert_file.empty() &&
                        tls.server_name.empty())) {
    return absl::InvalidArgumentError(
        "ConnectionOptions.tls has files or a server name but tls.enabled is "
        "false; set tls.enabled to use TLS");
  }
  if (tls.enabled && !options.unix_socket.empty()) {
    return absl::InvalidArgumentError(
        "ConnectionOptions.tls.enabled cannot be used with unix_socket");
  }
  return absl::OkStatus();
}

Connection::Connection(ConnectionOptions options,
                       std::unique_ptr<Context> context)
    : options_(std::move(options)), context_(std::move(context)) {}

Connection::~Connection() = default;

absl::StatusOr<std::unique_ptr<Connection>> Connection::Connect(
    const ConnectionOptions& options) {
  KEEL_RETURN_IF_ERROR(ValidateConnectionOptions(options));
#if !defined(KEEL_REDIS_TLS)
  if (options.tls.enabled) {
    return absl::UnimplementedError(absl::StrCat(
        "redis: TLS needs hiredis >= 1.0 with its TLS library (hiredis_ssl); "
        "this keel::redis was built with hiredis ",
        HIREDIS_MAJOR, ".", HIREDIS_MINOR,
        " without it, so it refuses to connect in plaintext"));
  }
#endif
  SuppressSigpipe();

  const timeval connect_tv = ToTimeval(options.connect_timeout);
  redisContext* raw = options.unix_socket.empty()
                          ? redisConnectWithTimeout(options.host.c_str(),
                                                    options.port, connect_tv)
                          : redisConnectUnixWithTimeout(
                                options.unix_socket.c_str(), connect_tv);
  if (raw == nullptr)
    return absl::ResourceExhaustedError("redis: cannot allocate a context");
  auto context = std::make_unique<Context>(raw);
  std::unique_ptr<Connection> connection(
      new Connection(options, std::move(context)));
  if (raw->err != 0) return connection->ContextError("connect");

  if (redisSetTimeout(raw, ToTimeval(options.command_timeout)) != REDIS_OK) {
    return connection->ContextError("setting the command timeout");
  }
  if (options.tcp_keepalive && options.unix_socket.empty() &&
      redisEnableKeepAlive(raw) != REDIS_OK) {
    return connection->ContextError("enabling TCP keepalive");
  }
#if defined(KEEL_REDIS_TLS)
  if (options.tls.enabled) KEEL_RETURN_IF_ERROR(InitiateTls(raw, options));
#endif

  if (!options.password.empty()) {
    absl::StatusOr<Reply> auth =
        options.username.empty()
            ? connection->Command({"AUTH", options.password})
            : connection->Command({"AUTH", options.username, options.password});
    if (!auth.ok()) return auth.status();
    if (auth->is_error()) {
      return absl::UnauthenticatedError(
          absl::StrCat("redis: AUTH failed: ", std::string(auth->str())));
    }
  }
  if (options.db != 0) {
    const std::string db = std::to_string(options.db);
    KEEL_ASSIGN_OR_RETURN(Reply select, connection->Command({"SELECT", db}));
    if (select.is_error()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "redis: SELECT ", db, " failed: ", std::string(select.str())));
    }
  }
  if (!options.client_name.empty()) {
    KEEL_ASSIGN_OR_RETURN(
        Reply name,
        connection->Command({"CLIENT", "SETNAME", options.client_name}));
    KEEL_RETURN_IF_ERROR(name.ToStatus());
  }
  // The setup commands (AUTH, SELECT) define the clean session.
  connection->session_ = 0;
  return connection;
}

absl::Status Connection::ContextError(std::string_view during) {
  broken_ = true;
  const redisContext* c = context_->ctx;
  const int saved_errno = errno;
  const std::string message = absl::StrCat(
      "redis ", Where(options_), ": ", std::string(during), ": ", c->errstr);
  switch (c->err) {
#ifdef REDIS_ERR_TIMEOUT
    case REDIS_ERR_TIMEOUT:
      return absl::DeadlineExceededError(message);
#endif
    case REDIS_ERR_IO:
      // hiredis 0.14 reports a socket timeout as an I/O error with EAGAIN.
      if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK ||
          saved_errno == ETIMEDOUT || saved_errno == EINPROGRESS) {
        return absl::DeadlineExceededError(
            absl::StrCat(message, " (timed out)"));
      }
      return absl::UnavailableError(message);
    case REDIS_ERR_EOF:
      return absl::UnavailableError(message);
    case REDIS_ERR_PROTOCOL:
    case REDIS_ERR_OOM:
      return absl::InternalError(message);
    default:
      return absl::UnavailableError(message);
  }
}

absl::StatusOr<Reply> Connection::ReadReply(std::string_view during) {
  void* raw = nullptr;
  errno = 0;
  if (redisGetReply(context_->ctx, &raw) != REDIS_OK || raw == nullptr) {
    return ContextError(during);
  }
  ReplyPtr reply(raw);
  absl::StatusOr<Reply> converted =
      Convert(static_cast<const redisReply*>(reply.get()));
  if (!converted.ok()) broken_ = true;
  return converted;
}

absl::StatusOr<Reply> Connection::Command(
    absl::Span<const std::string_view> args) {
  KEEL_RETURN_IF_ERROR(CheckSendable(args));
  KEEL_RETURN_IF_ERROR(Append(args));
  return Receive(args);
}

absl::StatusOr<std::vector<Reply>> Connection::Pipeline(
    const std::vector<std::vector<std::string_view>>& commands) {
  // Validate everything before appending anything: a half-appended batch would
  // leave stray commands in hiredis's output buffer.
  if (commands.empty()) {
    return absl::InvalidArgumentError("redis: empty pipeline");
  }
  for (const auto& args : commands) {
    KEEL_RETURN_IF_ERROR(CheckSendable(args));
  }
  for (const auto& args : commands) {
    KEEL_RETURN_IF_ERROR(Append(args));
  }
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  for (const auto& args : commands) {
    KEEL_ASSIGN_OR_RETURN(Reply reply, Receive(args));
    replies.push_back(std::move(reply));
  }
  return replies;
}

absl::Status Connection::CheckSendable(
    absl::Span<const std::string_view> args) const {
  if (broken_) {
    return absl::FailedPreconditionError(
        "redis: the connection is broken by an earlier error; connect afresh");
  }
  if (args.empty()) return absl::InvalidArgumentError("redis: empty command");
  return absl::OkStatus();
}

absl::StatusOr<Reply> Connection::Receive(
    absl::Span<const std::string_view> args) {
  KEEL_ASSIGN_OR_RETURN(Reply reply, ReadReply(args.front()));
  TrackSession(args, reply);
  return reply;
}

absl::Status Connection::Append(absl::Span<const std::string_view> args) {
  absl::InlinedVector<const char*, 16> argv;
  absl::InlinedVector<std::size_t, 16> argvlen;
  argv.reserve(args.size());
  argvlen.reserve(args.size());
  for (std::string_view arg : args) {
    argv.push_back(arg.data());
    argvlen.push_back(arg.size());
  }
  if (redisAppendCommandArgv(context_->ctx, static_cast<int>(argv.size()),
                             argv.data(), argvlen.data()) != REDIS_OK) {
    return ContextError("formatting a command");
  }
  return absl::OkStatus();
}

void Connection::TrackSession(absl::Span<const std::string_view> args,
                              const Reply& reply) {
  if (reply.is_error() && reply.str().substr(0, 9) == "READONLY ") {
    saw_readonly_ = true;
  }
  const std::string_view name = args.front();
  if (name.empty()) return;
  // Dispatch on the first letter so that ordinary commands cost one compare.
  switch (name.front() | 0x20) {
    case 'm':
      if (CommandIs(name, "multi")) {
        if (!reply.is_error()) session_ |= kInMulti;
      } else if (CommandIs(name, "monitor")) {
        session_ |= kUnrestorable;
      }
      break;
    case 'e':
      if (CommandIs(name, "exec")) session_ &= ~(kInMulti | kWatching);
      break;
    case 'd':
      if (CommandIs(name, "discard")) session_ &= ~(kInMulti | kWatching);
      break;
    case 'w':
      if (CommandIs(name, "watch") && !reply.is_error()) session_ |= kWatching;
      break;
    case 'u':
      if (CommandIs(name, "unwatch")) session_ &= ~kWatching;
      break;
    case 's':
      if (CommandIs(name, "select")) {
        if (reply.is_error()) break;
        int db = -1;
        if (args.size() == 2) {
          std::from_chars(args[1].data(), args[1].data() + args[1].size(), db);
        }
        // Inside MULTI the reply is QUEUED and EXEC may apply it later.
        if (reply.is_status() && reply.str() == "OK" && db == options_.db) {
          session_ &= ~kOtherDb;
        } else {
          session_ |= kOtherDb;
        }
      } else if (CommandIs(name, "subscribe") ||
                 CommandIs(name, "ssubscribe")) {
        session_ |= kUnrestorable;
      }
      break;
    case 'p':
      if (CommandIs(name, "psubscribe")) session_ |= kUnrestorable;
      break;
    case 'c':
      if (CommandIs(name, "client") && args.size() >= 3 &&
          CommandIs(args[1], "reply") && !CommandIs(args[2], "on")) {
        session_ |= kUnrestorable;
      }
      break;
    case 'a':
      if (CommandIs(name, "auth")) session_ |= kUnrestorable;
      break;
    case 'h':
      if (CommandIs(name, "hello")) session_ |= kUnrestorable;
      break;
    case 'r':
      if (CommandIs(name, "reset")) session_ |= kUnrestorable;
      break;
    default:
      break;
  }
}

absl::Status Connection::ResetSession() {
  if (session_ == 0) return absl::OkStatus();
  if ((session_ & kUnrestorable) != 0) {
    broken_ = true;
    return absl::FailedPreconditionError(
        "redis: the connection was left in subscriber or MONITOR mode, with "
        "replies switched off, or authenticated anew; it cannot be reused");
  }
  std::vector<std::vector<std::string_view>> commands;
  if ((session_ & kInMulti) != 0) {
    commands.push_back({"DISCARD"});  // also forgets WATCHed keys
  } else if ((session_ & kWatching) != 0) {
    commands.push_back({"UNWATCH"});
  }
  const std::string db = std::to_string(options_.db);
  if ((session_ & kOtherDb) != 0) commands.push_back({"SELECT", db});
  KEEL_ASSIGN_OR_RETURN(std::vector<Reply> replies, Pipeline(commands));
  for (const Reply& reply : replies) {
    if (reply.is_error()) {
      broken_ = true;
      return absl::FailedPreconditionError(absl::StrCat(
          "redis: resetting the session failed: ", std::string(reply.str())));
    }
  }
  if (session_ != 0) {
    broken_ = true;
    return absl::InternalError("redis: the session is still not clean");
  }
  return absl::OkStatus();
}

absl::Status Connection::Ping() {
  KEEL_ASSIGN_OR_RETURN(Reply reply, Command({"PING"}));
  if (reply.is_status() && reply.str() == "PONG") return absl::OkStatus();
  if (reply.is_error()) return reply.ToStatus();
  return absl::InternalError(
      absl::StrCat("redis: PING answered '", std::string(reply.str()), "'"));
}

}  // namespace keel::redis
