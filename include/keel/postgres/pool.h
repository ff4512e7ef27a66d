// keel/postgres/pool.h
//
// `keel::postgres::Pool`: a pool of `keel::postgres::Connection`s on keel's
// generic pool (keel/pool/pool.h), and `WithTransaction()`, which runs a
// function in a transaction on a pooled connection, retrying serialization
// failures and deadlocks when asked.
//
// Example:
//   keel::postgres::PoolOptions options;
//   options.connection.hosts = {"db1:5432", "db2:5432"};
//   options.connection.target_session_attrs = "read-write";
//   options.connection.dbname = "orders";
//   options.pool.max_size = 8;
//   options.pool.min_idle = 8;
//   auto pool = keel::postgres::Pool::Create(options);
//   if (!pool.ok()) return pool.status();
//
//   // Prepared on every pooled connection, including future ones.
//   absl::Status prepared = (*pool)->Prepare("stock_of", "SELECT n FROM stock"
//                                            " WHERE id = $1");
//   auto lease = (*pool)->Acquire();
//   pqxx::nontransaction tx((*lease)->raw());
//   auto rows = keel::postgres::ExecPrepared(tx, "stock_of", {"7"});
//
//   keel::postgres::TransactionOptions tx_options;
//   tx_options.max_attempts = 3;  // retry 40001 / 40P01
//   absl::Status s = keel::postgres::WithTransaction(
//       **pool, [&](pqxx::work& tx) {
//         tx.exec("UPDATE stock SET n = n - 1 WHERE id = 7");
//         return absl::OkStatus();
//       }, tx_options);
//
// Connection health: every hand-out runs Connection::IsAlive() (a zero-timeout
// poll() of the socket, which catches server restarts, pg_terminate_backend
// and idle_session_timeout kills with no round trip); connections idle for
// validation_idle_threshold also run `SELECT 1`. A connection whose
// transaction failed with a connection error is discarded, as is one that is
// no longer alive when returned.
//
// Prepared statements: statements given in PoolOptions::prepared_statements
// or registered later with Pool::Prepare() form the pool's registry. A new
// connection prepares all of them before it joins the pool, and a connection
// handed out prepares any registered since it last was (one atomic load when
// there are none), so ExecPrepared() works on every lease, also after a
// reconnect. A connection that fails to prepare is discarded.
//
// Errors: Create() fails with kInvalidArgument for bad options (naming the
// field) and as keel::pool::Pool::Create for the startup policy (e.g.
// kUnavailable, kUnauthenticated from the first connect with kFailFast).
// Acquire() fails as keel::pool::Pool::Acquire. WithTransaction() returns the
// function's status, or the mapped libpqxx error (keel/postgres/error.h).
//
// Thread safety: Pool is thread-safe; a lease is used by one thread at a time.

#ifndef KEEL_POSTGRES_POOL_H_
#define KEEL_POSTGRES_POOL_H_

#include <chrono>
#include <functional>
#include <memory>
#include <pqxx/transaction>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/health/check.h"
#include "keel/pool/pool.h"
#include "keel/postgres/connection.h"

namespace keel::postgres_internal {
class StatementRegistry;
}  // namespace keel::postgres_internal

namespace keel::postgres {

// A statement every pooled connection prepares.
struct PreparedStatement {
  std::string name;  // must not be empty
  std::string sql;   // parameters as $1, $2, ...
};

struct PoolOptions {
  // How each connection is made.
  ConnectionOptions connection;
  // The generic pool's options (size, timeouts, lifetime, keepalive, ...).
  pool::PoolOptions pool;
  // Prepared on every connection when it is opened; a statement that fails
  // to prepare fails every connect (with StartupPolicy::kFailFast, Create()).
  // Names must be unique. Default: none.
  std::vector<PreparedStatement> prepared_statements;
};

// A leased PostgreSQL connection.
using Lease = pool::Lease<Connection>;

class Pool {
 public:
  // Validates options (kInvalidArgument naming the field) and starts the
  // pool.
  static absl::StatusOr<std::unique_ptr<Pool>> Create(PoolOptions options);

  // Leases a connection, with every registered statement prepared on it; see
  // keel::pool::Pool::Acquire. Mark the lease broken after a
  // pqxx::broken_connection.
  absl::StatusOr<Lease> Acquire(
      pool::AcquireSite site = pool::AcquireSite::Current()) {
    return pool_->Acquire(site);
  }
  absl::StatusOr<Lease> Acquire(
      std::chrono::nanoseconds timeout,
      pool::AcquireSite site = pool::AcquireSite::Current()) {
    return pool_->Acquire(timeout, site);
  }

  // Registers a prepared statement for every connection of the pool: checks
  // it by preparing it on a leased connection, then records it so that each
  // connection prepares it before its next hand-out and every new connection
  // when opened. Re-registering a name with the same SQL is a no-op.
  // Errors: kInvalidArgument for an empty name, kAlreadyExists for a name
  // registered with other SQL, the acquire error, or the mapped error of
  // PREPARE (e.g. kInvalidArgument with SQLSTATE 42601 for a syntax error).
  absl::Status Prepare(const std::string& name, const std::string& sql);

  // Retires every connection (failover, credential rotation).
  void EvictAll() { pool_->EvictAll(); }
  // One maintenance pass; see keel::pool::Pool::RunMaintenance.
  void RunMaintenance() { pool_->RunMaintenance(); }
  void Shutdown() { pool_->Shutdown(); }
  pool::PoolStats Stats() const { return pool_->Stats(); }
  const pool::PoolOptions& options() const { return pool_->options(); }

  // Readiness: leases a connection within `bound` and runs `SELECT 1`.
  health::CheckResult CheckHealth(std::chrono::nanoseconds bound);
  // The same as a function for keel::health::HealthRegistry; the pool must
  // outlive the registration.
  health::CheckFunction HealthCheck(std::chrono::nanoseconds bound) {
    return [this, bound] { return CheckHealth(bound); };
  }

 private:
  Pool(std::unique_ptr<pool::Pool<Connection>> pool,
       std::shared_ptr<postgres_internal::StatementRegistry> statements)
      : pool_(std::move(pool)), statements_(std::move(statements)) {}

  std::unique_ptr<pool::Pool<Connection>> pool_;
  // Shared with the pool's connection factory.
  std::shared_ptr<postgres_internal::StatementRegistry> statements_;
};

struct TransactionOptions {
  // Runs the transaction READ ONLY. Default false.
  bool read_only = false;
  // Attempts in total when the transaction fails with a serialization
  // failure or deadlock (IsRetryableTransactionError); the function runs
  // again from the start on a freshly leased connection. Default 1 (no
  // retry); must be >= 1.
  int max_attempts = 1;
};

// Leases a connection, opens a transaction, runs `fn` and commits if `fn`
// returned OK (rolls back otherwise). A libpqxx exception from `fn` or the
// commit is caught and mapped (keel/postgres/error.h); after a connection
// error the connection is discarded. Errors: kInvalidArgument for
// max_attempts < 1; the acquire error; `fn`'s status; the mapped exception.
// A commit whose outcome is unknown (connection lost during COMMIT) is
// kUnknown and never retried.
absl::Status WithTransaction(Pool& pool,
                             const std::function<absl::Status(pqxx::work&)>& fn,
                             const TransactionOptions& options = {});

}  // namespace keel::postgres

#endif  // KEEL_POSTGRES_POOL_H_
