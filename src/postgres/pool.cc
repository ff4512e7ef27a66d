#include "keel/postgres/pool.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "keel/base/status_macros.h"
#include "keel/postgres/error.h"
#include "postgres/statement_registry.h"

namespace keel::postgres {
namespace {

class ConnectionFactory final : public pool::Factory<Connection> {
 public:
  ConnectionFactory(
      ConnectionOptions options,
      std::shared_ptr<postgres_internal::StatementRegistry> statements)
      : options_(std::move(options)), statements_(std::move(statements)) {}

  absl::StatusOr<std::unique_ptr<Connection>> Create(
      std::chrono::nanoseconds timeout) override {
    ConnectionOptions options = options_;
    // libpq counts whole seconds, at least 1.
    const auto budget =
        std::max(std::chrono::seconds(1),
                 std::chrono::duration_cast<std::chrono::seconds>(timeout));
    options.connect_timeout = std::min(options.connect_timeout, budget);
    KEEL_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                          Connection::Connect(options));
    absl::Status prepared = statements_->Sync(*conn);
    if (!prepared.ok()) {
      return absl::Status(
          prepared.code(),
          absl::StrCat("postgres: preparing statements on a new connection: ",
                       prepared.message()));
    }
    return conn;
  }

  // Catching up with newly registered statements here means every hand-out
  // path (idle stack, direct hand-off to a waiter) sees them.
  bool IsAlive(Connection& conn) override {
    return conn.IsAlive() && statements_->Sync(conn).ok();
  }
  absl::Status Validate(Connection& conn) override { return conn.Ping(); }
  // A transaction object aborts on destruction, but a BEGIN sent through a
  // nontransaction (or a transaction a caller left open some other way) is
  // still open on the server: roll it back rather than hand it to the next
  // caller; a connection that cannot be made clean is discarded. No socket
  // check here: libpq's own view (a connection it saw fail reports an unknown
  // transaction status) catches the failures it knows of, and one the server
  // dropped while it sat idle is caught by IsAlive() at hand-out, so a
  // release costs no system call.
  absl::Status Reset(Connection& conn) override { return conn.ResetSession(); }

 private:
  const ConnectionOptions options_;
  const std::shared_ptr<postgres_internal::StatementRegistry> statements_;
};

// One attempt of WithTransaction on one leased connection.
absl::Status RunOnce(Lease& lease,
                     const std::function<absl::Status(pqxx::work&)>& fn,
                     const TransactionOptions& options) {
  try {
    pqxx::work tx(lease->raw());
    if (options.read_only) tx.exec("SET TRANSACTION READ ONLY");
    absl::Status status = fn(tx);
    if (!status.ok()) {
      tx.abort();
      return status;
    }
    tx.commit();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    absl::Status status = StatusFromException(e);
    if (status.code() == absl::StatusCode::kUnavailable ||
        status.code() == absl::StatusCode::kUnknown || !lease->IsAlive()) {
      lease.MarkBroken();
    }
    return status;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Pool>> Pool::Create(PoolOptions options) {
  KEEL_RETURN_IF_ERROR(ValidateConnectionOptions(options.connection));
  auto statements = std::make_shared<postgres_internal::StatementRegistry>();
  for (std::size_t i = 0; i < options.prepared_statements.size(); ++i) {
    const PreparedStatement& statement = options.prepared_statements[i];
    bool added = false;
    absl::Status status =
        statement.name.empty()
            ? absl::InvalidArgumentError("name must not be empty")
            : statements->Add(statement.name, statement.sql, &added);
    if (!status.ok() || !added) {
      return absl::InvalidArgumentError(absl::StrCat(
          "postgres: prepared_statements[", i, "] ('", statement.name,
          "'): ", status.ok() ? "duplicate name" : status.message()));
    }
  }
  KEEL_ASSIGN_OR_RETURN(std::unique_ptr<pool::Pool<Connection>> pool,
                        pool::Pool<Connection>::Create(
                            std::move(options.pool),
                            std::make_unique<ConnectionFactory>(
                                std::move(options.connection), statements)));
  return std::unique_ptr<Pool>(
      new Pool(std::move(pool), std::move(statements)));
}

absl::Status Pool::Prepare(const std::string& name, const std::string& sql) {
  if (name.empty()) {
    return absl::InvalidArgumentError(
        "postgres: prepared statement name must not be empty");
  }
  bool known = false;
  KEEL_RETURN_IF_ERROR(statements_->Check(name, sql, &known));
  if (known) return absl::OkStatus();
  // Checked on one connection first: a statement the server rejects must not
  // enter the registry, where it would make every connection fail.
  KEEL_ASSIGN_OR_RETURN(Lease lease, pool_->Acquire());
  absl::Status status = lease->Prepare(name, sql);
  if (!status.ok()) {
    if (!lease->IsAlive()) lease.MarkBroken();
    return status;
  }
  bool added = false;
  status = statements_->Add(name, sql, &added);
  // A concurrent registration of the name with other SQL won: this
  // connection holds the losing definition, so it must not be reused.
  if (!status.ok()) lease.MarkBroken();
  return status;
}

health::CheckResult Pool::CheckHealth(std::chrono::nanoseconds bound) {
  absl::StatusOr<Lease> lease = pool_->Acquire(bound);
  if (!lease.ok()) {
    return health::CheckResult::Fail(std::string(lease.status().message()));
  }
  absl::Status ping = (*lease)->Ping();
  if (!ping.ok()) {
    if (!(*lease)->IsAlive()) lease->MarkBroken();
    return health::CheckResult::Fail(std::string(ping.message()));
  }
  health::CheckResult result = health::CheckResult::Pass();
  result.component_type = "datastore";
  result.component_id = pool_->options().name;
  return result;
}

absl::Status WithTransaction(Pool& pool,
                             const std::function<absl::Status(pqxx::work&)>& fn,
                             const TransactionOptions& options) {
  if (options.max_attempts < 1) {
    return absl::InvalidArgumentError(
        "postgres: TransactionOptions.max_attempts must be >= 1");
  }
  absl::Status status;
  for (int attempt = 1; attempt <= options.max_attempts; ++attempt) {
    KEEL_ASSIGN_OR_RETURN(Lease lease, pool.Acquire());
    status = RunOnce(lease, fn, options);
    if (status.ok() || !IsRetryableTransactionError(status)) return status;
  }
  return status;
}

}  // namespace keel::postgres
