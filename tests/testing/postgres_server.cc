#include "testing/postgres_server.h"

#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "keel/base/status_macros.h"
#include "testing/internal/child_process.h"
#include "testing/internal/server_process.h"
#include "testing/internal/temp_dir.h"

namespace keel::testing {
namespace {

using Deadline = std::chrono::steady_clock::time_point;

constexpr std::chrono::milliseconds kProbeTimeout(1000);
// sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
constexpr size_t kMaxSocketPath = 107;

// Owns a PGconn for the length of one RunSql call.
struct ConnCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnCloser>;

struct ResultCloser {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultCloser>;

std::string ConnError(const PGconn* conn) {
  return std::string(absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn)));
}

// Waits until the connection's socket has `events` or `deadline` passes.
bool WaitSocket(const PGconn* conn, short events, Deadline deadline) {
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd entry{PQsocket(conn), events, 0};
    const int ready = ::poll(&entry, 1, static_cast<int>(left.count()));
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return true;  // libpq reports it next.
  }
}

absl::Status Connect(PGconn* conn, Deadline deadline,
                     std::chrono::milliseconds timeout) {
  // libpq's asynchronous connect protocol: wait for writability first, then
  // for whatever the last PQconnectPoll() asked for.
  PostgresPollingStatusType poll_status = PGRES_POLLING_WRITING;
  while (poll_status != PGRES_POLLING_OK) {
    if (poll_status == PGRES_POLLING_FAILED) {
      return absl::UnavailableError(ConnError(conn));
    }
    const short events =
        poll_status == PGRES_POLLING_READING ? POLLIN : POLLOUT;
    if (!WaitSocket(conn, events, deadline)) {
      return absl::DeadlineExceededError(absl::StrCat(
          "connecting to PostgreSQL timed out after ", timeout.count(), " ms"));
    }
    poll_status = PQconnectPoll(conn);
  }
  return absl::OkStatus();
}

// Checks the syntax of a conninfo string without connecting.
absl::Status ValidateConninfo(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &error);
  if (parsed != nullptr) {
    PQconninfoFree(parsed);
    return absl::OkStatus();
  }
  std::string message =
      error != nullptr ? std::string(absl::StripTrailingAsciiWhitespace(error))
                       : "out of memory";
  PQfreemem(error);
  return absl::InvalidArgumentError(absl::StrCat("bad conninfo: ", message));
}

// Lower-case identifiers never need quoting in SQL or in pg_hba.conf.
bool IsPlainIdentifier(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  if (!(absl::ascii_islower(name[0]) || name[0] == '_')) return false;
  for (char c : name) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_')) {
      return false;
    }
  }
  return true;
}

// A value in a libpq keyword/value string: quoted when it could be misread.
std::string ConninfoValue(const std::string& value) {
  if (!value.empty() && value.find_first_of(" \t\n'\\=") == std::string::npos) {
    return value;
  }
  return absl::StrCat(
      "'", absl::StrReplaceAll(value, {{"\\", "\\\\"}, {"'", "\\'"}}), "'");
}

std::string SqlLiteral(const std::string& value) {
  return absl::StrCat("'", absl::StrReplaceAll(value, {{"'", "''"}}), "'");
}

std::string TcpConninfo(int port, const std::string& dbname,
                        const std::string& user, const std::string& password) {
  std::string conninfo = absl::StrCat("host=127.0.0.1 port=", port,
                                      " dbname=", ConninfoValue(dbname),
                                      " user=", ConninfoValue(user));
  if (!password.empty()) {
    absl::StrAppend(&conninfo, " password=", ConninfoValue(password));
  }
  return conninfo;
}

absl::Status ValidateOptions(const PostgresServerOptions& options) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("PostgresServerOptions.port must be in [0, 65535], got ",
                     options.port));
  }
  const std::pair<const char*, const std::string*> names[] = {
      {"database", &options.database},
      {"superuser", &options.superuser},
  };
  for (const auto& [field, value] : names) {
    if (!IsPlainIdentifier(*value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("PostgresServerOptions.", field,
                       " must match [a-z_][a-z0-9_]{0,62}, "
                       "got '",
                       *value, "'"));
    }
  }
  if (options.database == "postgres" || options.database == "template0" ||
      options.database == "template1") {
    return absl::InvalidArgumentError(absl::StrCat(
        "PostgresServerOptions.database must not be a database initdb "
        "creates, got '",
        options.database, "'"));
  }
  if (options.password_user.empty() != options.password.empty()) {
    return absl::InvalidArgumentError(
        "PostgresServerOptions.password_user and .password must be set "
        "together");
  }
  if (!options.password_user.empty() &&
      (!IsPlainIdentifier(options.password_user) ||
       options.password_user == options.superuser)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PostgresServerOptions.password_user must match [a-z_][a-z0-9_]{0,62} "
        "and differ from superuser, got '",
        options.password_user, "'"));
  }
  for (const std::string& setting : options.extra_config) {
    const size_t eq = setting.find('=');
    if (eq == 0 || eq == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "PostgresServerOptions.extra_config entries must be name=value, "
          "got '",
          setting, "'"));
    }
  }
  if (options.start_timeout.count() <= 0) {
    return absl::InvalidArgumentError(
        "PostgresServerOptions.start_timeout must be positive");
  }
  if (options.stop_timeout.count() <= 0) {
    return absl::InvalidArgumentError(
        "PostgresServerOptions.stop_timeout must be positive");
  }
  for (const char* program : {"initdb", "postgres"}) {
    const std::string path = absl::StrCat(options.bin_dir, "/", program);
    if (::access(path.c_str(), X_OK) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("PostgresServerOptions.bin_dir: ", path,
                       " is not executable "
                       "(Debian: apt-get install postgresql-15)"));
    }
  }
  return absl::OkStatus();
}

// Root cannot run PostgreSQL; find the user to run it as.
absl::StatusOr<std::optional<testing_internal::SystemUser>> ServerUser(
    const PostgresServerOptions& options) {
  if (::geteuid() != 0) return std::nullopt;
  absl::StatusOr<testing_internal::SystemUser> user =
      testing_internal::LookupSystemUser(options.system_user);
  if (user.ok()) return *user;
  if (absl::IsNotFound(user.status())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "PostgresServer: the tests run as root, which initdb and postgres "
        "refuse, and the system user '",
        options.system_user,
        "' (PostgresServerOptions.system_user) to run them as does not "
        "exist; install the postgresql package or run the tests as a "
        "non-root user"));
  }
  return user.status();
}

// Password user first: pg_hba.conf uses the first matching line.
absl::Status WriteHbaConf(const std::string& data_dir,
                          const PostgresServerOptions& options) {
  const std::string path = data_dir + "/pg_hba.conf";
  std::ofstream file(path, std::ios::trunc);
  if (options.password_user.empty()) {
    file << "local all all trust\n";
  } else {
    file << "local all " << options.password_user << " scram-sha-256\n"
         << "local all all trust\n"
         << "host all " << options.password_user
         << " 127.0.0.1/32 scram-sha-256\n";
  }
  file << "host all all 127.0.0.1/32 trust\n";
  file.close();
  if (!file) {
    return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

std::vector<std::string> CommandLine(const PostgresServerOptions& options,
                                     const std::string& dir, int port) {
  std::vector<std::string> args = {
      options.bin_dir + "/postgres",
      "-D",
      dir + "/data",
      "-p",
      std::to_string(port),
      "-k",
      dir,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "fsync=off",
      "-c",
      "password_encryption=scram-sha-256",
      "-c",
      "logging_collector=off",
  };
  for (const std::string& setting : options.extra_config) {
    args.push_back("-c");
    args.push_back(setting);
  }
  return args;
}

}  // namespace

absl::StatusOr<SqlRows> RunSql(const std::string& conninfo,
                               std::string_view sql,
                               std::chrono::milliseconds timeout) {
  KEEL_RETURN_IF_ERROR(ValidateConninfo(conninfo));
  const Deadline deadline = std::chrono::steady_clock::now() + timeout;
  ConnPtr conn(PQconnectStart(conninfo.c_str()));
  if (conn == nullptr) {
    return absl::ResourceExhaustedError("libpq could not allocate a PGconn");
  }
  // A refused loopback connection can fail inside PQconnectStart already.
  if (PQstatus(conn.get()) == CONNECTION_BAD) {
    return absl::UnavailableError(ConnError(conn.get()));
  }
  KEEL_RETURN_IF_ERROR(Connect(conn.get(), deadline, timeout));
  if (PQsetnonblocking(conn.get(), 1) != 0 ||
      PQsendQuery(conn.get(), std::string(sql).c_str()) != 1) {
    return absl::UnavailableError(ConnError(conn.get()));
  }
  const auto timed_out = [&] {
    return absl::DeadlineExceededError(absl::StrCat(
        "PostgreSQL did not answer within ", timeout.count(), " ms"));
  };
  int flushed;
  while ((flushed = PQflush(conn.get())) == 1) {
    if (!WaitSocket(conn.get(), POLLOUT | POLLIN, deadline)) return timed_out();
    if (PQconsumeInput(conn.get()) != 1) {
      return absl::UnavailableError(ConnError(conn.get()));
    }
  }
  if (flushed < 0) return absl::UnavailableError(ConnError(conn.get()));

  SqlRows rows;
  std::string error;
  while (true) {
    while (PQisBusy(conn.get())) {
      if (!WaitSocket(conn.get(), POLLIN, deadline)) return timed_out();
      if (PQconsumeInput(conn.get()) != 1) {
        return absl::UnavailableError(ConnError(conn.get()));
      }
    }
    ResultPtr result(PQgetResult(conn.get()));
    if (result == nullptr) break;
    switch (PQresultStatus(result.get())) {
      case PGRES_TUPLES_OK: {
        rows.clear();
        const int columns = PQnfields(result.get());
        for (int r = 0; r < PQntuples(result.get()); ++r) {
          SqlRow row;
          row.reserve(static_cast<size_t>(columns));
          for (int c = 0; c < columns; ++c) {
            if (PQgetisnull(result.get(), r, c)) {
              row.emplace_back(std::nullopt);
            } else {
              row.emplace_back(std::string(PQgetvalue(result.get(), r, c),
                                           PQgetlength(result.get(), r, c)));
            }
          }
          rows.push_back(std::move(row));
        }
        break;
      }
      case PGRES_COMMAND_OK:
      case PGRES_EMPTY_QUERY:
        rows.clear();
        break;
      default:
        // Keep the first error: later statements of the string are skipped.
        if (error.empty()) {
          error = std::string(absl::StripTrailingAsciiWhitespace(
              PQresultErrorMessage(result.get())));
          if (error.empty()) error = ConnError(conn.get());
        }
        break;
    }
  }
  if (!error.empty()) {
    if (PQstatus(conn.get()) == CONNECTION_BAD) {
      return absl::UnavailableError(error);
    }
    return absl::InvalidArgumentError(absl::StrCat("SQL error: ", error));
  }
  return rows;
}

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Start(
    PostgresServerOptions options) {
  KEEL_RETURN_IF_ERROR(ValidateOptions(options));
  KEEL_ASSIGN_OR_RETURN(std::optional<testing_internal::SystemUser> run_as,
                        ServerUser(options));
  KEEL_ASSIGN_OR_RETURN(std::unique_ptr<testing_internal::TempDir> dir,
                        testing_internal::TempDir::Create("keel-pg"));
  if (dir->path().size() + sizeof("/.s.PGSQL.65535") > kMaxSocketPath) {
    return absl::FailedPreconditionError(absl::StrCat(
        "PostgresServer: the socket path under ", dir->path(), " would exceed ",
        kMaxSocketPath, " bytes; set TMPDIR shorter"));
  }
  if (run_as.has_value()) {
    KEEL_RETURN_IF_ERROR(dir->ChownTo(run_as->uid, run_as->gid));
  }

  testing_internal::SpawnOptions initdb;
  initdb.argv = {options.bin_dir + "/initdb",
                 "-D",
                 dir->path() + "/data",
                 "-U",
                 options.superuser,
                 "-A",
                 "trust",
                 "-E",
                 "UTF8",
                 "--no-locale",
                 "--no-sync",
                 "--no-instructions"};
  initdb.log_path = dir->path() + "/initdb.log";
  initdb.working_dir = dir->path();
  initdb.run_as = run_as;
  KEEL_RETURN_IF_ERROR(
      testing_internal::RunToCompletion(initdb, options.start_timeout));
  KEEL_RETURN_IF_ERROR(WriteHbaConf(dir->path() + "/data", options));

  testing_internal::ServerSpec spec;
  spec.name = "postgres";
  spec.command_for_port = [options, path = dir->path()](int port) {
    return CommandLine(options, path, port);
  };
  spec.probe = [superuser = options.superuser](int port) {
    return RunSql(TcpConninfo(port, "postgres", superuser, ""), "SELECT 1",
                  kProbeTimeout)
        .status();
  };
  spec.stop_signal = SIGINT;
  spec.log_path = dir->path() + "/postgres.log";
  spec.working_dir = dir->path();
  spec.run_as = run_as;
  spec.start_timeout = options.start_timeout;
  spec.stop_timeout = options.stop_timeout;
  auto process =
      std::make_unique<testing_internal::ServerProcess>(std::move(spec));
  KEEL_RETURN_IF_ERROR(process->Start(options.port));

  std::unique_ptr<PostgresServer> server(new PostgresServer(
      std::move(options), std::move(dir), std::move(process)));
  KEEL_RETURN_IF_ERROR(server->CreateDatabase());
  return server;
}

absl::Status PostgresServer::CreateDatabase() const {
  const std::string admin =
      TcpConninfo(port(), "postgres", options_.superuser, "");
  std::string create = absl::StrCat("CREATE DATABASE ", options_.database);
  if (!options_.password_user.empty()) {
    KEEL_RETURN_IF_ERROR(
        RunSql(admin,
               absl::StrCat("CREATE ROLE ", options_.password_user,
                            " LOGIN PASSWORD ", SqlLiteral(options_.password)))
            .status());
    // The owner may create tables in the database's public schema.
    absl::StrAppend(&create, " OWNER ", options_.password_user);
  }
  // CREATE DATABASE cannot share a (multi-statement) transaction.
  return RunSql(admin, create).status();
}

PostgresServer::PostgresServer(
    PostgresServerOptions options,
    std::unique_ptr<testing_internal::TempDir> dir,
    std::unique_ptr<testing_internal::ServerProcess> process)
    : options_(std::move(options)),
      dir_(std::move(dir)),
      process_(std::move(process)) {}

PostgresServer::~PostgresServer() = default;

int PostgresServer::port() const { return process_->port(); }

std::string PostgresServer::data_dir() const { return dir_->path() + "/data"; }

const std::string& PostgresServer::socket_dir() const { return dir_->path(); }

std::string PostgresServer::LogTail(size_t max_bytes) const {
  return process_->LogTail(max_bytes);
}

std::string PostgresServer::ConnectionString() const {
  return TcpConninfo(port(), options_.database, options_.superuser, "");
}

std::string PostgresServer::ConnectionStringFor(
    const std::string& user, const std::string& password) const {
  return TcpConninfo(port(), options_.database, user, password);
}

absl::StatusOr<SqlRows> PostgresServer::Query(
    std::string_view sql, std::chrono::milliseconds timeout) const {
  return RunSql(ConnectionString(), sql, timeout);
}

absl::Status PostgresServer::Stop() { return process_->Stop(); }
absl::Status PostgresServer::Kill() { return process_->Kill(); }
absl::Status PostgresServer::Restart() { return process_->Restart(); }
absl::Status PostgresServer::Pause() { return process_->Pause(); }
absl::Status PostgresServer::Resume() { return process_->Resume(); }
absl::Status PostgresServer::EnsureRunning() {
  return process_->EnsureRunning();
}

}  // namespace keel::testing
