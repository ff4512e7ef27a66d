#include "keel/redis/pool.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "keel/base/mutex.h"
#include "keel/base/status_macros.h"

namespace keel::redis_internal {

using redis::Connection;
using redis::ConnectionOptions;
using redis::PoolOptions;
using redis::Reply;
using redis::TlsOptions;

namespace {

struct Address {
  std::string host;
  int port = 0;

  std::string ToString() const { return absl::StrCat(host, ":", port); }
  friend bool operator==(const Address& a, const Address& b) {
    return a.port == b.port && a.host == b.host;
  }
  friend bool operator!=(const Address& a, const Address& b) {
    return !(a == b);
  }
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

// Sentinels are reached with the master connections' TLS settings, each
// verified against its own address: a server name set for the master does
// not name them.
TlsOptions SentinelTls(TlsOptions tls) {
  tls.server_name.clear();
  return tls;
}

}  // namespace

// The master of a Sentinel deployment as the pool knows it: asks the
// sentinels, remembers the answer, and evicts the pool's connections when
// the master moves or a connection finds itself on a replica. Optionally
// runs a thread that asks the sentinels periodically.
//
// Thread safety: thread-safe. Evictions run under mu_, so that Stop() (which
// detaches the pool under mu_) guarantees none runs once it returns; the
// pool never calls into the tracker while holding its own lock.
class MasterTracker {
 public:
  explicit MasterTracker(const PoolOptions& options)
      : sentinels_(options.sentinels),
        master_name_(options.sentinel_master_name),
        password_(options.sentinel_password),
        tls_(SentinelTls(options.connection.tls)),
        connect_timeout_(options.connection.connect_timeout),
        command_timeout_(options.connection.command_timeout),
        check_interval_(options.sentinel_check_interval) {}

  ~MasterTracker() { Stop(); }
  MasterTracker(const MasterTracker&) = delete;
  MasterTracker& operator=(const MasterTracker&) = delete;

  const std::string& master_name() const { return master_name_; }

  // Asks the sentinels in order for the master's address; the first answer
  // wins. Each sentinel gets at most `connect_timeout` to accept.
  absl::StatusOr<Address> Discover(std::chrono::milliseconds connect_timeout) {
    absl::Status last = absl::UnavailableError("no sentinel answered");
    for (const std::string& sentinel : sentinels_) {
      absl::StatusOr<Address> address = AskSentinel(sentinel, connect_timeout);
      if (address.ok()) return address;
      last = address.status();
    }
    return absl::Status(
        last.code(),
        absl::StrCat("redis: sentinel discovery of '", master_name_,
                     "' failed; last error: ", last.message()));
  }

  // Records `master` as the sentinels' current answer; when it differs from
  // the previous one, every connection of the pool is evicted.
  void Observe(const Address& master) ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(mu_);
    const bool moved = master_.has_value() && *master_ != master;
    master_ = master;
    if (moved) EvictLocked();
  }

  // False when the sentinels named another master since `master` was
  // discovered.
  bool IsCurrent(const Address& master) ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(mu_);
    return !master_.has_value() || *master_ == master;
  }

  // A connection got READONLY: its server is a replica now. Every
  // connection is evicted and the next answer of the sentinels is taken as
  // new.
  void OnReadonly() ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(mu_);
    master_.reset();
    EvictLocked();
  }

  // Sends evictions to `pool` from now on and starts the check thread when
  // the interval is positive.
  void Attach(pool::Pool<Connection>* pool) ABSL_LOCKS_EXCLUDED(mu_) {
    {
      MutexLock lock(mu_);
      pool_ = pool;
    }
    if (check_interval_.count() > 0) {
      MutexLock lock(thread_mu_);
      thread_ = std::thread([this] { CheckLoop(); });
    }
  }

  // Stops the check thread (waiting for a check in progress, which the
  // connect and command timeouts bound) and detaches the pool. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_, thread_mu_) {
    {
      MutexLock lock(mu_);
      stopping_ = true;
      pool_ = nullptr;
      cv_.SignalAll();
    }
    MutexLock lock(thread_mu_);
    if (thread_.joinable()) thread_.join();
  }

 private:
  void EvictLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (pool_ != nullptr) pool_->EvictAll();
  }

  void CheckLoop() ABSL_LOCKS_EXCLUDED(mu_) {
    for (;;) {
      absl::StatusOr<Address> master = Discover(connect_timeout_);
      MutexLock lock(mu_);
      if (stopping_) return;
      // A failed check changes nothing: the connections themselves show
      // whether the master is reachable.
      if (master.ok()) {
        const bool moved = master_.has_value() && *master_ != *master;
        master_ = *master;
        if (moved) EvictLocked();
      }
      cv_.WaitFor(mu_, check_interval_);
      if (stopping_) return;
    }
  }

  absl::StatusOr<Address> AskSentinel(
      const std::string& sentinel, std::chrono::milliseconds connect_timeout) {
    KEEL_ASSIGN_OR_RETURN(Address address, ParseAddress(sentinel));
    ConnectionOptions options;
    options.host = address.host;
    options.port = address.port;
    options.connect_timeout = connect_timeout;
    options.command_timeout = command_timeout_;
    options.password = password_;
    options.tls = tls_;
    KEEL_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                          Connection::Connect(options));
    KEEL_ASSIGN_OR_RETURN(
        Reply reply,
        conn->Command({"SENTINEL", "get-master-addr-by-name", master_name_}));
    if (!reply.is_array() || reply.elements().size() != 2) {
      return absl::NotFoundError(absl::StrCat(
          "sentinel ", sentinel, " does not know master '", master_name_, "'"));
    }
    std::string address_text(reply.elements()[0].str());
    address_text.append(":").append(reply.elements()[1].str());
    return ParseAddress(address_text);
  }

  const std::vector<std::string> sentinels_;
  const std::string master_name_;
  const std::string password_;
  const TlsOptions tls_;
  const std::chrono::milliseconds connect_timeout_;
  const std::chrono::milliseconds command_timeout_;
  const std::chrono::milliseconds check_interval_;

  Mutex mu_;
  CondVar cv_;
  std::optional<Address> master_ ABSL_GUARDED_BY(mu_);
  pool::Pool<Connection>* pool_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  Mutex thread_mu_ ABSL_ACQUIRED_AFTER(mu_);
  std::thread thread_ ABSL_GUARDED_BY(thread_mu_);
};

}  // namespace keel::redis_internal

namespace keel::redis {
namespace {

using redis_internal::Address;
using redis_internal::MasterTracker;
using redis_internal::ParseAddress;

// Opens connections, asking the sentinels for the master first when
// configured, and cleans returned ones.
class ConnectionFactory final : public pool::Factory<Connection> {
 public:
  ConnectionFactory(PoolOptions options, std::shared_ptr<MasterTracker> tracker)
      : options_(std::move(options)), tracker_(std::move(tracker)) {}

  absl::StatusOr<std::unique_ptr<Connection>> Create(
      std::chrono::nanoseconds timeout) override {
    ConnectionOptions connection = options_.connection;
    const auto budget = std::max(
        std::chrono::milliseconds(1),
        std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
    connection.connect_timeout = std::min(connection.connect_timeout, budget);
    if (tracker_ == nullptr) return Connection::Connect(connection);

    KEEL_ASSIGN_OR_RETURN(Address master,
                          tracker_->Discover(connection.connect_timeout));
    // A moved master also retires the connections to the old one.
    tracker_->Observe(master);
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
          "redis: ", master.ToString(), " named master of '",
          tracker_->master_name(), "' by sentinel is not a master"));
    }
    if (!tracker_->IsCurrent(master)) {
      return absl::UnavailableError(absl::StrCat(
          "redis: the master of '", tracker_->master_name(),
          "' moved away from ", master.ToString(), " while connecting"));
    }
    return conn;
  }

  bool IsAlive(Connection& conn) override {
    return !conn.broken() && !(tracker_ != nullptr && conn.saw_readonly());
  }
  absl::Status Validate(Connection& conn) override { return conn.Ping(); }
  absl::Status Reset(Connection& conn) override {
    if (conn.broken()) {
      return absl::UnavailableError("redis: connection broken");
    }
    if (tracker_ != nullptr && conn.saw_readonly()) {
      tracker_->OnReadonly();
      return absl::FailedPreconditionError(
          absl::StrCat("redis: ", conn.options().host, ":", conn.options().port,
                       " answered READONLY: it is a replica now"));
    }
    return conn.ResetSession();
  }

 private:
  const PoolOptions options_;
  const std::shared_ptr<MasterTracker> tracker_;
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
  if (options.sentinel_check_interval.count() < 0) {
    return absl::InvalidArgumentError(
        "redis pool options: sentinel_check_interval must be >= 0");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Pool>> Pool::Create(PoolOptions options) {
  KEEL_RETURN_IF_ERROR(ValidateOptions(options));
  std::shared_ptr<MasterTracker> tracker;
  if (!options.sentinels.empty()) {
    tracker = std::make_shared<MasterTracker>(options);
  }
  pool::PoolOptions pool_options = options.pool;
  KEEL_ASSIGN_OR_RETURN(
      std::unique_ptr<pool::Pool<Connection>> pool,
      pool::Pool<Connection>::Create(
          std::move(pool_options),
          std::make_unique<ConnectionFactory>(std::move(options), tracker)));
  if (tracker != nullptr) tracker->Attach(pool.get());
  return std::unique_ptr<Pool>(new Pool(std::move(pool), std::move(tracker)));
}

Pool::Pool(std::unique_ptr<pool::Pool<Connection>> pool,
           std::shared_ptr<redis_internal::MasterTracker> tracker)
    : pool_(std::move(pool)), tracker_(std::move(tracker)) {}

Pool::~Pool() { Shutdown(); }

void Pool::Shutdown() {
  // First: the tracker must not evict into a pool being torn down.
  if (tracker_ != nullptr) tracker_->Stop();
  pool_->Shutdown();
}

absl::StatusOr<Reply> Pool::Command(absl::Span<const std::string_view> args,
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
