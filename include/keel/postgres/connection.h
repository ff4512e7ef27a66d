// keel/postgres/connection.h
//
// `keel::postgres::Connection`: one libpqxx connection built from validated
// options, with broken-connection detection that behaves the same on
// libpqxx 6.4 (Debian) and 7.x (vcpkg, Conan):
//   * libpqxx 6.4 silently reconnects a broken connection on the next use,
//     losing session state; keel turns that off (`inhibit_reactivation`).
//   * `pqxx::connection::is_open()` stays true after the server went away until
//     the next I/O, so IsAlive() also polls the socket with a zero timeout: a
//     server restart or an idle-session kill shows up as a readable (EOF)
//     socket with no query in flight, at the cost of one poll() system call.
//
// Example:
//   keel::postgres::ConnectionOptions options;
//   options.hosts = {"db1.internal:5432", "db2.internal:5432"};
//   options.target_session_attrs = "read-write";
//   options.dbname = "orders";
//   options.user = "orders_app";
//   options.statement_timeout = std::chrono::seconds(5);
//   auto connection = keel::postgres::Connection::Connect(options);
//   if (!connection.ok()) return connection.status();
//   pqxx::work tx((*connection)->raw());
//
// A pool that hands the connection from caller to caller calls
// ResetSession() between them, so that a transaction one caller left open
// never leaks into the next (keel::postgres::Pool does).
//
// libpqxx types appear here on purpose: running queries needs a real
// `pqxx::connection`, so keel::postgres links libpqxx publicly.
//
// Errors: kInvalidArgument for bad options (names the field); connection
// failures are mapped by keel/postgres/error.h (kUnavailable, kUnauthenticated,
// ...).
//
// Thread safety: a Connection is not thread-safe (neither is pqxx::connection);
// one thread at a time, which keel's pool guarantees.

#ifndef KEEL_POSTGRES_CONNECTION_H_
#define KEEL_POSTGRES_CONNECTION_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <pqxx/connection>
#include <pqxx/result>
#include <pqxx/transaction_base>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace keel::postgres_internal {
class StatementRegistry;
}  // namespace keel::postgres_internal

namespace keel::postgres {

struct ConnectionOptions {
  // A complete libpq connection string (keyword/value or URI). When set, it is
  // used as the base and the fields below are appended, overriding it. Default:
  // empty.
  std::string connection_string;
  // Hosts as "host" or "host:port" (IPv6 literals as "[::1]:5432"); libpq tries
  // them in order, filtered by `target_session_attrs`. Default: empty (libpq's
  // default, or what `connection_string` says).
  std::vector<std::string> hosts;
  std::string dbname;
  std::string user;
  std::string password;
  // "any", "read-write" (PostgreSQL 14+ also: "read-only", "primary",
  // "standby", "prefer-standby"). Default: empty (libpq default "any").
  std::string target_session_attrs;
  // Bound on establishing the connection, per host. libpq uses whole seconds
  // and treats values below 2 s as 2 s. Default 5 s; must be >= 1 s.
  std::chrono::seconds connect_timeout{5};
  // TCP keepalive so dead servers and idle-killing firewalls are detected.
  // Default on, idle 30 s, interval 10 s, count 3.
  bool keepalives = true;
  std::chrono::seconds keepalives_idle{30};
  std::chrono::seconds keepalives_interval{10};
  int keepalives_count = 3;
  // Server-side bound on each statement (SET statement_timeout at connect).
  // Default: none (server default).
  std::optional<std::chrono::milliseconds> statement_timeout;
  // Shown in pg_stat_activity. Default "keel".
  std::string application_name = "keel";
  // libpq sslmode: disable, allow, prefer, require, verify-ca, verify-full.
  // Default: empty (libpq default "prefer").
  std::string sslmode;
};

// Checks every field; kInvalidArgument naming the first bad one.
absl::Status ValidateConnectionOptions(const ConnectionOptions& options);

// The libpq keyword/value connection string for `options`, values quoted and
// escaped as libpq requires. Fails like ValidateConnectionOptions().
absl::StatusOr<std::string> BuildConnectionString(
    const ConnectionOptions& options);

class Connection {
 public:
  // Connects and configures the session. Fails with the mapped status of the
  // connection error (e.g. kUnavailable "postgres: could not connect ...").
  static absl::StatusOr<std::unique_ptr<Connection>> Connect(
      const ConnectionOptions& options);

  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The libpqxx connection, for running queries. Exceptions thrown by libpqxx
  // while using it are the caller's to catch; StatusFromException() maps them.
  pqxx::connection& raw() { return *connection_; }

  // libpq's handle of the same connection (`PGconn*` of <libpq-fe.h>), for
  // hot statements run with libpq directly: each libpqxx transaction object
  // costs two extra non-blocking reads (it looks for notifications when it
  // begins and after each statement), a few percent of a loopback round
  // trip. Owned by this connection: never PQfinish() it. Null once the
  // connection is closed. Do not use it while a libpqxx transaction object
  // is open on the connection; a transaction block left open through it is
  // rolled back at release like any other (ResetSession()).
  pg_conn* native_handle() { return connection_->is_open() ? pq_ : nullptr; }

  // False when the connection is known to be unusable: closed, broken by an
  // earlier error, or its socket is readable/hung up with no query in flight
  // (server restart, pg_terminate_backend, idle_session_timeout). Cost: one
  // zero-timeout poll(). Never blocks.
  bool IsAlive();

  // Round trip `SELECT 1`; OK when the server answered. Marks nothing: callers
  // decide what a failure means.
  absl::Status Ping();

  // Where the session stands with respect to transactions, as libpq last saw
  // it (the status byte of the server's latest ReadyForQuery): no round trip,
  // no system call.
  enum class TransactionStatus {
    kIdle,           // outside any transaction block
    kActive,         // a command is still running (unfinished COPY, pipeline)
    kInTransaction,  // inside a transaction block (BEGIN without COMMIT)
    kInError,        // inside a failed transaction block (needs ROLLBACK)
    kUnknown,        // the connection is bad or closed
  };
  TransactionStatus transaction_status() const;

  // Makes the session safe to hand to another caller: an open or failed
  // transaction block (e.g. a BEGIN sent through a pqxx::nontransaction, or a
  // transaction that was never committed) is rolled back, so its changes are
  // gone and its locks released. Costs nothing when the session is idle, one
  // round trip otherwise. Session settings (SET, temporary tables) are kept,
  // as in any session pool. Errors, after which the connection must not be
  // reused: kFailedPrecondition when a command is still in progress or a
  // libpqxx transaction object is still open on the connection (it must be
  // destroyed before its lease is released), kUnavailable when the
  // connection is bad, or the mapped error of ROLLBACK.
  absl::Status ResetSession();

  // Server version as an integer, e.g. 150018 for 15.18.
  int server_version() const;

  // Prepares `sql` as statement `name` on this connection, on the server at
  // once on both libpqxx versions (6.4 would otherwise defer it to the first
  // use), so a bad statement fails here. Preparing a name again with the same
  // SQL is a no-op; with other SQL the old statement is dropped first.
  // Must not be called while a transaction is open on the connection.
  // Errors: the mapped libpqxx error (kInvalidArgument with the SQLSTATE for
  // bad SQL, kUnavailable when the connection is lost, ...); on error the
  // name is not prepared.
  absl::Status Prepare(const std::string& name, const std::string& sql);
  // True once Prepare(name, ...) succeeded on this connection.
  bool IsPrepared(std::string_view name) const {
    return prepared_.find(name) != prepared_.end();
  }

 private:
  friend class postgres_internal::StatementRegistry;
  Connection(std::unique_ptr<pqxx::connection> connection,
             pqxx::internal::pq::PGconn* pq);

  std::unique_ptr<pqxx::connection> connection_;
  // libpq's handle of connection_, for PQtransactionStatus (libpqxx has no
  // transaction-status accessor). Owned by connection_; read only while
  // connection_->is_open(), which is false once libpqxx closed it.
  pqxx::internal::pq::PGconn* pq_ = nullptr;
  // Statements prepared here, name -> SQL.
  std::map<std::string, std::string, std::less<>> prepared_;
  // How many statements of its pool's registry this connection prepared.
  std::size_t registry_synced_ = 0;
};

// Runs prepared statement `name` in `tx` with text parameters in order
// (std::nullopt is SQL NULL), the same on libpqxx 6.4 and 7.x. The statement
// must have been prepared on tx's connection (Connection::Prepare, or
// keel::postgres::Pool::Prepare for every pooled connection). Errors: the
// mapped libpqxx error (keel/postgres/error.h), e.g. kInvalidArgument with
// SQLSTATE 26000 for an unknown statement; the transaction is then aborted
// on the server and must be rolled back.
absl::StatusOr<pqxx::result> ExecPrepared(
    pqxx::transaction_base& tx, const std::string& name,
    const std::vector<std::optional<std::string>>& params = {});

}  // namespace keel::postgres

#endif  // KEEL_POSTGRES_CONNECTION_H_
