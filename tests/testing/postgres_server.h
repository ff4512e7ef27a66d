// testing/postgres_server.h
//
// PostgresServer runs a real PostgreSQL 15 server for integration tests: initdb
// into a temporary directory, then `postgres` as a child process on a free
// 127.0.0.1 port with its unix socket in the same directory, a database
// created for the tests, and controls to stop, kill, pause and restart it.
//
// Settings: listen_addresses=127.0.0.1, fsync=off (fast; committed data still
// survives Kill() because only the process dies, not the machine), trust
// authentication for every user except the optional password user, who must
// authenticate with SCRAM-SHA-256 (for authentication tests).
//
// Running as root: initdb and postgres refuse to run as root, so when the
// tests run as root (as CI does) both are run as the `postgres` system user
// (PostgresServerOptions.system_user): the temporary directory is given to
// that user and the child switches to it before exec.
//
// The server dies with the test process (PR_SET_PDEATHSIG on the
// postmaster; backends exit when they see the postmaster die) and its
// directory is removed by the destructor, or by the next run after a crash.
//
// Example:
//   keel::testing::PostgresServerOptions options;
//   options.password_user = "app";
//   options.password = "s3cret";
//   auto server = keel::testing::PostgresServer::Start(options);
//   ASSERT_TRUE(server.ok()) << server.status();
//   ASSERT_TRUE((*server)->Query("CREATE TABLE t (id int)").ok());
//   pqxx::connection conn((*server)->ConnectionString());
//   ASSERT_TRUE((*server)->Kill().ok());     // Clients see a crash.
//   ASSERT_TRUE((*server)->Restart().ok());  // Same port, same data.
//
// For one server shared by all tests of a binary, see shared_server.h.
//
// Thread safety: thread-compatible. The const members (host, port,
// ConnectionString, Query, ...) may be called from any thread while no
// control call (Stop, Kill, Restart, Pause, Resume, EnsureRunning) runs.
// Control calls belong to one thread that outlives the server, because the
// child is tied to the thread that started it.

#ifndef KEEL_TESTING_POSTGRES_SERVER_H_
#define KEEL_TESTING_POSTGRES_SERVER_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace keel::testing_internal {
class ServerProcess;
class TempDir;
}  // namespace keel::testing_internal

namespace keel::testing {

// One result row; std::nullopt is SQL NULL.
using SqlRow = std::vector<std::optional<std::string>>;
// The rows of a query's last result set (empty for statements without one).
using SqlRows = std::vector<SqlRow>;

// Runs `sql` (one or more statements separated by ';') on a fresh libpq
// connection described by `conninfo`, then closes it. Returns the rows of the
// last statement, as text. Fails with kInvalidArgument for a malformed
// conninfo, kUnavailable when the connection fails (refused, authentication
// failed, server shutting down), kInvalidArgument for an SQL error (the
// message has the server's error text), and kDeadlineExceeded when the
// connection or the statements take longer than `timeout` (e.g. the server
// is paused).
absl::StatusOr<SqlRows> RunSql(
    const std::string& conninfo, std::string_view sql,
    std::chrono::milliseconds timeout = std::chrono::seconds(10));

// How to run the server. Every field has a working default.
struct PostgresServerOptions {
  // Holds initdb and postgres (Debian package postgresql-15).
  std::string bin_dir = "/usr/lib/postgresql/15/bin";
  // 0 picks a free port (retrying if another process takes it first); a
  // fixed port in [1, 65535] is used as is.
  int port = 0;
  // Created after start-up; ConnectionString() points at it. Lower-case SQL
  // identifiers only ([a-z_][a-z0-9_]*, at most 63 characters), like the user
  // names below, so that they never need quoting.
  std::string database = "keel_test";
  // The bootstrap superuser (initdb -U); trust authentication.
  std::string superuser = "postgres";
  // Optional login role that must authenticate with SCRAM-SHA-256 using
  // `password`, and owns `database`. Empty: no such role. Both or neither of
  // password_user and password must be set.
  std::string password_user;
  std::string password;
  // The system user that runs initdb and postgres when the test process runs
  // as root; ignored otherwise.
  std::string system_user = "postgres";
  // Extra server settings as "name=value", passed as `-c name=value` after
  // the defaults (so they override them), e.g. "max_connections=20".
  std::vector<std::string> extra_config;
  // Upper bound for initdb and for start-up until the server answers
  // `SELECT 1`, each; and for a graceful stop.
  std::chrono::milliseconds start_timeout = std::chrono::seconds(60);
  std::chrono::milliseconds stop_timeout = std::chrono::seconds(30);
};

// One PostgreSQL server (postmaster and its processes).
class PostgresServer {
 public:
  using Options = PostgresServerOptions;

  // Runs initdb, starts the server, waits until it answers `SELECT 1` and
  // creates the database (and password role). Fails with kInvalidArgument
  // naming a bad option; kFailedPrecondition when the binaries are missing or
  // the tests run as root and options.system_user does not exist;
  // kInternal / kDeadlineExceeded when initdb fails or hangs, kUnavailable
  // when the server exits during start-up (e.g. a bad extra_config) and
  // kDeadlineExceeded when it does not answer within start_timeout; those
  // messages include the tail of the relevant log.
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start(
      PostgresServerOptions options);

  // Stops the server (fast shutdown, then SIGKILL after stop_timeout) and
  // removes its directory.
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Always "127.0.0.1".
  const std::string& host() const { return host_; }
  // The port picked at start-up; Restart() keeps it.
  int port() const;
  // The test database (options.database).
  const std::string& database() const { return options_.database; }
  // The data directory (PGDATA).
  std::string data_dir() const;
  // The directory holding the unix socket (".s.PGSQL.<port>").
  const std::string& socket_dir() const;
  // The last `max_bytes` of the server log, for failure messages.
  std::string LogTail(size_t max_bytes = 4096) const;

  // libpq keyword/value connection string for the superuser on the test
  // database over TCP: "host=127.0.0.1 port=54321 dbname=keel_test
  // user=postgres".
  std::string ConnectionString() const;
  // The same for any `user`, with a password when `password` is not empty,
  // e.g. ConnectionStringFor(options.password_user, options.password).
  std::string ConnectionStringFor(const std::string& user,
                                  const std::string& password) const;

  // Runs `sql` as the superuser on the test database; see RunSql().
  absl::StatusOr<SqlRows> Query(
      std::string_view sql,
      std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

  // Graceful stop: SIGINT ("fast shutdown": open sessions are ended and the
  // data is checkpointed; SIGTERM would wait for every client to leave),
  // then SIGKILL and kDeadlineExceeded after stop_timeout. A paused server is
  // resumed first. OK if not running.
  absl::Status Stop();
  // SIGKILL to the postmaster and every backend, like a crash: clients see
  // their connections break; Restart() then runs crash recovery, and
  // committed data survives. OK if not running.
  absl::Status Kill();
  // Stops the server if running and starts it again on the same port with
  // the same data, waiting for `SELECT 1`. Fails like Start(), including when
  // another process took the port meanwhile.
  absl::Status Restart();
  // SIGSTOP to the postmaster and every backend: sockets stay open but
  // nothing is answered, so new connections and queries on open ones time
  // out. Fails with kFailedPrecondition unless running.
  absl::Status Pause();
  // SIGCONT after Pause(). Fails with kFailedPrecondition unless paused.
  absl::Status Resume();
  // Resumes a paused server or restarts a stopped, killed or crashed one;
  // lets a shared server recover from a previous test's fault injection.
  absl::Status EnsureRunning();

 private:
  PostgresServer(PostgresServerOptions options,
                 std::unique_ptr<testing_internal::TempDir> dir,
                 std::unique_ptr<testing_internal::ServerProcess> process);

  absl::Status CreateDatabase() const;

  std::string host_ = "127.0.0.1";
  PostgresServerOptions options_;
  // Declared before process_ so it is destroyed after the server stopped.
  std::unique_ptr<testing_internal::TempDir> dir_;
  std::unique_ptr<testing_internal::ServerProcess> process_;
};

}  // namespace keel::testing

#endif  // KEEL_TESTING_POSTGRES_SERVER_H_
