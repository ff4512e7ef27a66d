#include "keel/postgres/connection.h"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <exception>
#include <pqxx/nontransaction>
#include <pqxx/prepared_statement>
#include <pqxx/version>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "keel/base/status_macros.h"
#include "keel/postgres/error.h"

namespace keel::postgres {
namespace {

// Appends ` key=value`, quoting the value as libpq's conninfo parser expects.
void AppendParam(std::string* out, std::string_view key,
                 std::string_view value) {
  absl::StrAppend(out, out->empty() ? "" : " ", std::string(key), "='");
  for (char c : value) {
    if (c == '\'' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('\'');
}

struct HostPort {
  std::string host;
  std::string port;
};

absl::StatusOr<HostPort> ParseHost(std::string_view entry) {
  HostPort hp;
  if (entry.empty())
    return absl::InvalidArgumentError(
        "ConnectionOptions.hosts has an empty entry");
  if (entry.front() == '[') {  // [v6]:port
    const std::size_t close = entry.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("ConnectionOptions.hosts: unterminated '[' in '",
                       std::string(entry), "'"));
    }
    hp.host = std::string(entry.substr(1, close - 1));
    std::string_view rest = entry.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return absl::InvalidArgumentError(absl::StrCat(
            "ConnectionOptions.hosts: expected ':port' after ']' in '",
            std::string(entry), "'"));
      }
      hp.port = std::string(rest.substr(1));
    }
  } else {
    const std::size_t colon = entry.rfind(':');
    if (colon != std::string_view::npos && entry.find(':') == colon) {
      hp.host = std::string(entry.substr(0, colon));
      hp.port = std::string(entry.substr(colon + 1));
    } else {
      hp.host = std::string(entry);
    }
  }
  if (hp.host.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ConnectionOptions.hosts: no host in '", std::string(entry), "'"));
  }
  if (!hp.port.empty()) {
    int port = 0;
    for (char c : hp.port) {
      if (c < '0' || c > '9' || port > 65535) {
        port = -1;
        break;
      }
      port = port * 10 + (c - '0');
    }
    if (port <= 0 || port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ConnectionOptions.hosts: bad port in '", std::string(entry), "'"));
    }
  }
  return hp;
}

#if PQXX_VERSION_MAJOR < 7
// libpqxx 6.4 keeps its PGconn* in the private member
// pqxx::connection_base::m_conn and has no accessor for it (7.x has
// release_raw_connection(), used below). Naming a private member in an
// explicit template instantiation is allowed ([temp.explicit]), which is the
// one standard way to read it; a libpqxx without that member or with another
// type for it fails to compile here rather than misbehave.
using PqMember = pqxx::internal::pq::PGconn* pqxx::connection_base::*;
PqMember PqMemberPointer();
template <PqMember kMember>
struct PqMemberAccess {
  friend PqMember PqMemberPointer() { return kMember; }
};
template struct PqMemberAccess<&pqxx::connection_base::m_conn>;
#endif

// Opens the libpqxx connection and returns it with its libpq handle.
std::unique_ptr<pqxx::connection> OpenConnection(
    const std::string& conninfo, pqxx::internal::pq::PGconn** pq) {
#if PQXX_VERSION_MAJOR < 7
  auto connection = std::make_unique<pqxx::connection>(conninfo);
  *pq = (*connection).*PqMemberPointer();
  return connection;
#else
  // 7.x: take the handle out and give it to a new connection object, which
  // owns it from then on and never replaces it (7.x does not reconnect).
  pqxx::connection opened(conninfo);
  *pq = std::move(opened).release_raw_connection();
  return std::unique_ptr<pqxx::connection>(
      new pqxx::connection(pqxx::connection::seize_raw_connection(*pq)));
#endif
}

bool OneOf(std::string_view value,
           std::initializer_list<std::string_view> allowed) {
  for (std::string_view a : allowed) {
    if (value == a) return true;
  }
  return false;
}

}  // namespace

absl::Status ValidateConnectionOptions(const ConnectionOptions& options) {
  return BuildConnectionString(options).status();
}

absl::StatusOr<std::string> BuildConnectionString(
    const ConnectionOptions& options) {
  if (options.connect_timeout < std::chrono::seconds(1)) {
    return absl::InvalidArgumentError(
        "ConnectionOptions.connect_timeout must be >= 1s");
  }
  if (options.keepalives && (options.keepalives_idle.count() <= 0 ||
                             options.keepalives_interval.count() <= 0 ||
                             options.keepalives_count <= 0)) {
    return absl::InvalidArgumentError(
        "ConnectionOptions.keepalives_idle, keepalives_interval and "
        "keepalives_count must be > 0");
  }
  if (options.statement_timeout && options.statement_timeout->count() < 0) {
    return absl::InvalidArgumentError(
        "ConnectionOptions.statement_timeout must be >= 0");
  }
  if (!options.target_session_attrs.empty() &&
      !OneOf(options.target_session_attrs,
             {"any", "read-write", "read-only", "primary", "standby",
              "prefer-standby"})) {
    return absl::InvalidArgumentError(
        absl::StrCat("ConnectionOptions.target_session_attrs: unknown value '",
                     options.target_session_attrs, "'"));
  }
  if (!options.sslmode.empty() &&
      !OneOf(options.sslmode, {"disable", "allow", "prefer", "require",
                               "verify-ca", "verify-full"})) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ConnectionOptions.sslmode: unknown value '", options.sslmode, "'"));
  }

  std::string out = options.connection_string;
  if (!options.hosts.empty()) {
    // libpq pairs host and port lists by position, so a host without a port
    // gets the default port explicitly.
    std::string hosts;
    std::string ports;
    bool any_port = false;
    for (std::size_t i = 0; i < options.hosts.size(); ++i) {
      KEEL_ASSIGN_OR_RETURN(HostPort hp, ParseHost(options.hosts[i]));
      const char* sep = i == 0 ? "" : ",";
      absl::StrAppend(&hosts, sep, hp.host);
      absl::StrAppend(&ports, sep, hp.port.empty() ? "5432" : hp.port);
      any_port = any_port || !hp.port.empty();
    }
    AppendParam(&out, "host", hosts);
    if (any_port) AppendParam(&out, "port", ports);
  }
  if (!options.dbname.empty()) AppendParam(&out, "dbname", options.dbname);
  if (!options.user.empty()) AppendParam(&out, "user", options.user);
  if (!options.password.empty())
    AppendParam(&out, "password", options.password);
  if (!options.target_session_attrs.empty()) {
    AppendParam(&out, "target_session_attrs", options.target_session_attrs);
  }
  AppendParam(&out, "connect_timeout",
              std::to_string(options.connect_timeout.count()));
  AppendParam(&out, "keepalives", options.keepalives ? "1" : "0");
  if (options.keepalives) {
    AppendParam(&out, "keepalives_idle",
                std::to_string(options.keepalives_idle.count()));
    AppendParam(&out, "keepalives_interval",
                std::to_string(options.keepalives_interval.count()));
    AppendParam(&out, "keepalives_count",
                std::to_string(options.keepalives_count));
  }
  if (!options.application_name.empty()) {
    AppendParam(&out, "application_name", options.application_name);
  }
  if (!options.sslmode.empty()) AppendParam(&out, "sslmode", options.sslmode);
  if (options.statement_timeout) {
    // Sent in the startup packet: no extra round trip after connecting.
    AppendParam(&out, "options",
                absl::StrCat("-c statement_timeout=",
                             options.statement_timeout->count()));
  }
  return out;
}

Connection::Connection(std::unique_ptr<pqxx::connection> connection,
                       pqxx::internal::pq::PGconn* pq)
    : connection_(std::move(connection)), pq_(pq) {}

Connection::~Connection() = default;

absl::StatusOr<std::unique_ptr<Connection>> Connection::Connect(
    const ConnectionOptions& options) {
  KEEL_ASSIGN_OR_RETURN(std::string conninfo, BuildConnectionString(options));
  try {
    pqxx::internal::pq::PGconn* pq = nullptr;
    std::unique_ptr<pqxx::connection> connection =
        OpenConnection(conninfo, &pq);
#if PQXX_VERSION_MAJOR < 7
    // libpqxx 6.4 would otherwise reconnect silently on the next use after a
    // failure, dropping session state mid-transaction. Deprecated there, absent
    // in 7.x where reactivation no longer exists.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    connection->inhibit_reactivation(true);
#pragma GCC diagnostic pop
#endif
    return std::unique_ptr<Connection>(
        new Connection(std::move(connection), pq));
  } catch (const std::exception& e) {
    return StatusFromException(e);
  }
}

bool Connection::IsAlive() {
  if (!connection_->is_open()) return false;
  const int fd = connection_->sock();
  if (fd < 0) return false;
  pollfd pfd;
  pfd.fd = fd;
  pfd.events = POLLIN | POLLRDHUP;
  pfd.revents = 0;
  if (poll(&pfd, 1, 0) < 0) return false;
  if ((pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0) {
    return false;
  }
  if ((pfd.revents & POLLIN) == 0) return true;
  // An idle session receives unsolicited data only as NOTIFY ('A'), NOTICE
  // ('N') or ParameterStatus ('S'); an ErrorResponse ('E') is the FATAL the
  // server sends just before it closes the session (pg_terminate_backend,
  // idle_session_timeout, shutdown), which arrives before the hang-up does.
  // Over TLS the peeked byte is a record header, never 'E', so that case
  // falls back to the hang-up check above.
  char first = 0;
  const ssize_t n = recv(fd, &first, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) return first != 'E';
  if (n == 0) return false;
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

absl::Status Connection::Ping() {
  try {
    pqxx::nontransaction tx(*connection_);
    tx.exec("SELECT 1");
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return StatusFromException(e);
  }
}

Connection::TransactionStatus Connection::transaction_status() const {
  // A closed libpqxx connection may have freed the handle.
  if (pq_ == nullptr || !connection_->is_open()) {
    return TransactionStatus::kUnknown;
  }
  switch (PQtransactionStatus(pq_)) {
    case PQTRANS_IDLE:
      return TransactionStatus::kIdle;
    case PQTRANS_ACTIVE:
      return TransactionStatus::kActive;
    case PQTRANS_INTRANS:
      return TransactionStatus::kInTransaction;
    case PQTRANS_INERROR:
      return TransactionStatus::kInError;
    case PQTRANS_UNKNOWN:
      break;
  }
  return TransactionStatus::kUnknown;
}

absl::Status Connection::ResetSession() {
  switch (transaction_status()) {
    case TransactionStatus::kIdle:
      return absl::OkStatus();
    case TransactionStatus::kActive:
      return absl::FailedPreconditionError(
          "postgres: a command is still in progress on the connection "
          "(unfinished COPY or pipeline)");
    case TransactionStatus::kUnknown:
      return absl::UnavailableError("postgres: the connection is bad");
    case TransactionStatus::kInTransaction:
    case TransactionStatus::kInError:
      break;
  }
  try {
    // libpqxx refuses this while one of its transaction objects is still
    // open on the connection (usage_error -> kFailedPrecondition): rolling
    // back under that object would leave it to run its own ROLLBACK later,
    // on whatever the connection is doing by then.
    pqxx::nontransaction tx(*connection_);
    tx.exec("ROLLBACK");
  } catch (const std::exception& e) {
    return StatusFromException(e);
  }
  if (transaction_status() != TransactionStatus::kIdle) {
    return absl::InternalError(
        "postgres: the session is still in a transaction after ROLLBACK");
  }
  return absl::OkStatus();
}

int Connection::server_version() const { return connection_->server_version(); }

absl::Status Connection::Prepare(const std::string& name,
                                 const std::string& sql) {
  auto it = prepared_.find(name);
  if (it != prepared_.end() && it->second == sql) return absl::OkStatus();
  try {
    if (it != prepared_.end()) {
      prepared_.erase(it);
      connection_->unprepare(name);
    }
    connection_->prepare(name, sql);
#if PQXX_VERSION_MAJOR < 7
    // 6.4 only records the definition; PREPARE now so that bad SQL fails here
    // and the first execution costs no extra round trip.
    try {
      connection_->prepare_now(name);
    } catch (...) {
      connection_->unprepare(name);
      throw;
    }
#endif
    prepared_.emplace(name, sql);
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return StatusFromException(e);
  }
}

absl::StatusOr<pqxx::result> ExecPrepared(
    pqxx::transaction_base& tx, const std::string& name,
    const std::vector<std::optional<std::string>>& params) {
  // A null pointer is SQL NULL for both libpqxx versions' dynamic parameters.
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::optional<std::string>& p : params) {
    values.push_back(p.has_value() ? p->c_str() : nullptr);
  }
  try {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    return tx.exec_prepared(name, pqxx::prepare::make_dynamic_params(values));
#pragma GCC diagnostic pop
  } catch (const std::exception& e) {
    return StatusFromException(e);
  }
}

}  // namespace keel::postgres
