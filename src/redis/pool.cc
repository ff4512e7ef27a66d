#include "keel/redis/pool.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "absl/strings/str_cat.h"
#include "keel/base/status_macros.h"

namespace keel::redis {
namespace {

struct Address {
  std::string host;
  int port = 0;
};

absl::StatusOr<Address> ParseAddress(const std::string& text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected host:port, got '", text, "'"));
  }
  Address address;
  address.host = text.substr(0, colon);
  if (address.host.size() > 2 && address.host.front() == '[' &&
      address.host.back() == ']') {
    address.host = address.host.substr(1, address.host.size() - 2);
  }
  const char* begin = text.data() + colon + 1;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, address.port);
  if (ec != std::errc() || ptr != end || address.port < 1 ||
      address.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("bad port in '", text, "'"));
  }
  return address;
}

// Opens connections, asking the sentinels for the master first when
// configured.
class ConnectionFactory final : public pool::Factory<Connection> {
 public:
  explicit ConnectionFactory(PoolOptions options)
      : options_(std::move(options)) {}

  absl::StatusOr<std::unique_ptr<Connection>> Create(
      std::chrono::nanoseconds timeout) override {
    ConnectionOptions connection = options_.connection;
    const auto budget = std::max(
        std::chrono::milliseconds(1),
        std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
    connection.connect_timeout = std::min(connection.connect_timeout, budget);
    if (options_.sentinels.empty()) return Connection::Connect(connection);

    KEEL_ASSIGN_OR_RETURN(Address master, DiscoverMaster(connection));
    connection.host = master.host;
    connection.port = master.port;
    connection.unix_socket.clear();
    KEEL_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                          Connection::Connect(connection));
    // The sentinels' view may lag a failover: refuse a server that is no
    // longer a master rather than send writes to a replica.
    KEEL_ASSIGN_OR_RETURN(Reply role, conn->Command({"ROLE"}));
    if (!role.is_array() || role.elements().empty() ||
        role.elements()[0].str() != "master") {
      return absl::UnavailableError(absl::StrCat(
          "redis: ", master.host, ":", master.port, " named master of '",
          options_.sentinel_master_name, "' by sentinel is not a master"));
    }
    return conn;
  }

  bool IsAlive(Connection& conn) override { return !conn.broken(); }
  absl::Status Validate(Connection& conn) override { return conn.Ping(); }
  absl::Status Reset(Connection& conn) override {
    return conn.broken() ? absl::UnavailableError("redis: connection broken")
                         : absl::OkStatus();
  }

 private:
  absl::StatusOr<Address> DiscoverMaster(const ConnectionOptions& base) {
    absl::Status last = absl::UnavailableError("redis: no sentinel answered");
    for (const std::string& sentinel : options_.sentinels) {
      absl::StatusOr<Address> address = AskSentinel(sentinel, base);
      if (address.ok()) return address;
      last = address.status();
    }
    return absl::Status(last.code(),
                        absl::StrCat("redis: sentinel discovery of '",
                                     options_.sentinel_master_name,
                                     "' failed; last error: ", last.message()));
  }

  absl::StatusOr<Address> AskSentinel(const std::string& sentinel,
                                      const ConnectionOptions& base) {
    KEEL_ASSIGN_OR_RETURN(Address address, ParseAddress(sentinel));
    ConnectionOptions options;
    options.host = address.host;
    options.port = address.port;
    options.connect_timeout = base.connect_timeout;
    options.command_timeout = base.command_timeout;
    options.password = options_.sentinel_password;
    KEEL_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                          Connection::Connect(options));
    KEEL_ASSIGN_OR_RETURN(Reply reply,
                          conn->Command({"SENTINEL", "get-master-addr-by-name",
                                         options_.sentinel_master_name}));
    if (!reply.is_array() || reply.elements().size() != 2) {
      return absl::NotFoundError(
          absl::StrCat("sentinel ", sentinel, " does not know master '",
                       options_.sentinel_master_name, "'"));
    }
    std::string address_text(reply.elements()[0].str());
    address_text.append(":").append(reply.elements()[1].str());
    return ParseAddress(address_text);
  }

  const PoolOptions options_;
};

absl::Status ValidateOptions(const PoolOptions& options) {
  KEEL_RETURN_IF_ERROR(ValidateConnectionOptions(options.connection));
  for (const std::string& sentinel : options.sentinels) {
    absl::StatusOr<Address> address = ParseAddress(sentinel);
    if (!address.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "redis pool options: sentinels: ", address.status().message()));
    }
  }
  if (!options.sentinels.empty() && options.sentinel_master_name.empty()) {
    return absl::InvalidArgumentError(
        "redis pool options: sentinel_master_name is required with "
        "sentinels");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Pool>> Pool::Create(PoolOptions options) {
  KEEL_RETURN_IF_ERROR(ValidateOptions(options));
  pool::PoolOptions pool_options = options.pool;
  KEEL_ASSIGN_OR_RETURN(
      std::unique_ptr<pool::Pool<Connection>> pool,
      pool::Pool<Connection>::Create(
          std::move(pool_options),
          std::make_unique<ConnectionFactory>(std::move(options))));
  return std::unique_ptr<Pool>(new Pool(std::move(pool)));
}

absl::StatusOr<Reply> Pool::Command(const std::vector<std::string_view>& args,
                                    pool::AcquireSite site) {
  KEEL_ASSIGN_OR_RETURN(Lease lease, pool_->Acquire(site));
  absl::StatusOr<Reply> reply = lease->Command(args);
  if (lease->broken()) lease.MarkBroken();
  return reply;
}

health::CheckResult Pool::CheckHealth(std::chrono::nanoseconds bound) {
  absl::StatusOr<Lease> lease = pool_->Acquire(bound);
  if (!lease.ok()) {
    return health::CheckResult::Fail(std::string(lease.status().message()));
  }
  absl::Status ping = (*lease)->Ping();
  if (!ping.ok()) {
    lease->MarkBroken();
    return health::CheckResult::Fail(std::string(ping.message()));
  }
  health::CheckResult result = health::CheckResult::Pass();
  result.component_type = "datastore";
  result.component_id = pool_->options().name;
  return result;
}

}  // namespace keel::redis
