// keel/security/jwks.h
//
// JSON Web Key Sets (RFC 7517 section 5): a parser, fetchers and
// `JwksProvider`, the cache a `JwtVerifier` (jwt.h) reads an issuer's keys
// from.
//
// Example:
//   keel::security::JwksProviderOptions options;
//   options.fetcher = keel::security::FileJwksFetcher::Create(
//       "/etc/service/jwks.json").value();
//   options.metrics = &registry;
//   auto jwks = keel::security::JwksProvider::Create(std::move(options));
//   if (!jwks.ok()) return jwks.status();
//   health.AddCheck("jwks", (*jwks)->HealthCheck());   // keel/health/
//
// Caching rules of JwksProvider:
//   * A key set younger than `refresh_interval` is served as is.
//   * An older one is refetched by the next lookup (on the caller's thread,
//     one fetch at a time; concurrent callers keep using the set in hand).
//   * A token whose `kid` is not in the set triggers a refetch, at most once
//     per `min_fetch_interval`, so a flood of random kids cannot turn into a
//     flood of requests to the identity provider.
//   * A failed fetch keeps the last good set, which is served until it is
//     `max_age` old; after that lookups fail with kUnavailable.
//   * Keys of a type keel does not verify (or that break its strength rules)
//     are skipped and listed in JwkSet::skipped; a document with no usable key
//     at all is a failed fetch.
//
// Thread safety: JwksProvider and the fetchers are thread-safe.

#ifndef KEEL_SECURITY_JWKS_H_
#define KEEL_SECURITY_JWKS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/base/clock.h"
#include "keel/base/mutex.h"
#include "keel/health/check.h"
#include "keel/metrics/instruments.h"
#include "keel/metrics/registry.h"
#include "keel/security/jwt_key.h"
#include "keel/trace/otlp_exporter.h"

namespace keel::security {

// How a JWKS document is read.
struct JwksParseOptions {
  // Algorithm given to RSA keys without an `alg` member (EC and OKP keys take
  // theirs from the curve). nullopt skips such keys.
  std::optional<JwtAlgorithm> rsa_default_algorithm = JwtAlgorithm::kRs256;
  // Largest accepted document, in bytes.
  std::size_t max_bytes = 1 << 20;
  // Most keys accepted in one document.
  std::size_t max_keys = 100;
};

// The usable keys of one JWKS document.
struct JwkSet {
  std::vector<JwtKey> keys;
  // One line per skipped key: "<index>: <reason>".
  std::vector<std::string> skipped;
};

// Parses a JWKS document. Symmetric (`oct`) keys are skipped: a key set
// published to verifiers must not carry shared secrets. Fails with
// kInvalidArgument for malformed JSON, duplicate members, a missing `keys`
// array, an oversized document, too many keys or no usable key.
absl::StatusOr<JwkSet> ParseJwks(std::string_view json,
                                 const JwksParseOptions& options = {});

// Supplies JWKS documents to a JwksProvider.
//
// Thread safety: implementations must be thread-safe.
class JwksFetcher {
 public:
  virtual ~JwksFetcher() = default;

  // Returns the current document, or an error (kUnavailable, kNotFound, ...)
  // that the provider records and survives.
  virtual absl::StatusOr<std::string> Fetch() = 0;
};

// Reads the document from a local file on every Fetch() (for key sets
// distributed by configuration management or mounted secrets).
class FileJwksFetcher final : public JwksFetcher {
 public:
  // Fails with kInvalidArgument for an empty path or a zero `max_bytes`.
  // The file need not exist yet.
  static absl::StatusOr<std::unique_ptr<FileJwksFetcher>> Create(
      std::string path, std::size_t max_bytes = 1 << 20);

  // kNotFound if the file is missing, kUnavailable on a read error,
  // kInvalidArgument if the file is larger than `max_bytes`.
  absl::StatusOr<std::string> Fetch() override;

 private:
  FileJwksFetcher(std::string path, std::size_t max_bytes)
      : path_(std::move(path)), max_bytes_(max_bytes) {}
  const std::string path_;
  const std::size_t max_bytes_;
};

// Options of HttpJwksFetcher.
struct HttpJwksFetcherOptions {
  // The JWKS URL, e.g. "https://issuer.example/.well-known/jwks.json".
  // Required; must start with https:// unless `allow_insecure_http`.
  std::string url;
  // Plain http is refused by default: a network attacker who can answer the
  // fetch can mint tokens.
  bool allow_insecure_http = false;
  // The transport (keel::httplib::OtlpHttpTransport or a custom one). The
  // request goes out through trace::ExportTransport::Post as a GET (method
  // "GET", no body, no content type) with `Accept: application/jwk-set+json,
  // application/json`. Required.
  std::shared_ptr<trace::ExportTransport> transport;
  // Extra request headers (e.g. an API key for a private key service).
  std::vector<std::pair<std::string, std::string>> headers;
  // Per-request timeout; must be > 0.
  std::chrono::nanoseconds timeout = std::chrono::seconds(5);
  // Largest accepted response body; must be > 0.
  std::size_t max_bytes = 1 << 20;
};

// Fetches the document over HTTP(S) through the pluggable transport that the
// trace exporter uses, so keel::core carries no HTTP client.
class HttpJwksFetcher final : public JwksFetcher {
 public:
  // Fails with kInvalidArgument naming the bad field.
  static absl::StatusOr<std::unique_ptr<HttpJwksFetcher>> Create(
      HttpJwksFetcherOptions options);

  // The body of a 200 response. kUnavailable for a transport failure or a
  // non-200 status (the message carries the status code), kInvalidArgument
  // for a body over `max_bytes`.
  absl::StatusOr<std::string> Fetch() override;

 private:
  explicit HttpJwksFetcher(HttpJwksFetcherOptions options)
      : options_(std::move(options)) {}
  const HttpJwksFetcherOptions options_;
};

// Options of JwksProvider.
struct JwksProviderOptions {
  // Where documents come from. Required.
  std::shared_ptr<JwksFetcher> fetcher;
  // Label value of the provider's metrics (`provider="<name>"`); non-empty.
  std::string name = "default";
  // Monotonic time source for ages and cooldowns. Must outlive the provider.
  Clock* clock = &Clock::System();
  // Age after which the set is refetched by the next lookup; > 0.
  std::chrono::nanoseconds refresh_interval = std::chrono::minutes(10);
  // Age after which a set that could not be refreshed is no longer served;
  // >= refresh_interval.
  std::chrono::nanoseconds max_age = std::chrono::hours(24);
  // Least time between two fetches started by lookups (stale set, unknown
  // kid, earlier failure); >= 0. Refresh() ignores it.
  std::chrono::nanoseconds min_fetch_interval = std::chrono::seconds(30);
  // How documents are parsed.
  JwksParseOptions parse;
  // Optional: registers keel_jwks_fetches_total{provider,result="ok|error"}.
  metrics::Registry* metrics = nullptr;
};

// Caches an issuer's key set (see the rules in the file comment).
class JwksProvider {
 public:
  // Validates the options (kInvalidArgument naming the field) and registers
  // metrics. Does not fetch: call Refresh() at startup to fail fast.
  static absl::StatusOr<std::unique_ptr<JwksProvider>> Create(
      JwksProviderOptions options);

  JwksProvider(const JwksProvider&) = delete;
  JwksProvider& operator=(const JwksProvider&) = delete;

  // The current key set, refetched first if stale. kUnavailable (with the
  // last fetch error) when no set younger than `max_age` is available.
  absl::StatusOr<std::shared_ptr<const JwkSet>> Keys();

  // As Keys(), but a set without a key whose kid is `kid` is refetched
  // (subject to `min_fetch_interval`) before it is returned. The caller
  // still has to look the kid up in the result.
  absl::StatusOr<std::shared_ptr<const JwkSet>> KeysForKid(
      std::string_view kid);

  // Fetches now, regardless of cooldowns. On failure the last good set
  // stays in service and the error is returned.
  absl::Status Refresh();

  // A check for keel/health: pass while the set is younger than
  // `refresh_interval`; warn when an older set is being served because
  // fetches fail; fail when there is no set to serve. The function refers to
  // this provider, which must outlive it.
  health::CheckFunction HealthCheck();

 private:
  explicit JwksProvider(JwksProviderOptions options);
  absl::StatusOr<std::shared_ptr<const JwkSet>> Lookup(
      std::optional<std::string_view> kid);
  // Sets `serve` if the set in hand may be served and `fetch` if a fetch is
  // due now (stale set, missing `kid`, cooldown elapsed).
  void Decide(std::optional<std::string_view> kid, bool& serve, bool& fetch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status FetchLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(fetch_mu_);

  const JwksProviderOptions options_;
  metrics::Counter fetch_ok_;
  metrics::Counter fetch_error_;

  // Held for the duration of a fetch so only one runs at a time.
  Mutex fetch_mu_;
  Mutex mu_;
  std::shared_ptr<const JwkSet> keys_ ABSL_GUARDED_BY(mu_);
  MonoTime fetched_at_ ABSL_GUARDED_BY(mu_){};
  std::optional<MonoTime> last_attempt_ ABSL_GUARDED_BY(mu_);
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace keel::security

#endif  // KEEL_SECURITY_JWKS_H_
