#include "keel/security/jwks.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "jose_crypto.h"
#include "jose_json.h"
#include "keel/base/status_macros.h"

namespace keel::security {
absl::StatusOr<JwkSet> ParseJwks(std::string_view json,
                                 const JwksParseOptions& options) {
  if (json.size() > options.max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWKS: document is ", json.size(), " bytes; the limit is ",
                     options.max_bytes));
  }
  KEEL_ASSIGN_OR_RETURN(nlohmann::json doc,
                        security_internal::ParseJsonObject(json, "JWKS"));
  auto keys = doc.find("keys");
  if (keys == doc.end() || !keys->is_array()) {
    return absl::InvalidArgumentError("JWKS: \"keys\" must be an array");
  }
  if (keys->size() > options.max_keys) {
    return absl::InvalidArgumentError(absl::StrCat(
        "JWKS: ", keys->size(), " keys; the limit is ", options.max_keys));
  }
  JwkSet set;
  std::size_t index = 0;
  for (const nlohmann::json& jwk : *keys) {
    absl::StatusOr<JwtKey> key =
        jwk.is_object()
            ? security_internal::KeyFromJwk(jwk, std::nullopt,
                                            /*allow_symmetric=*/false)
            : absl::InvalidArgumentError("JWK: not a JSON object");
    // An RSA key without `alg` gets the configured default.
    if (!key.ok() && jwk.is_object() && options.rsa_default_algorithm &&
        jwk.value("kty", "") == "RSA" && !jwk.contains("alg")) {
      key = security_internal::KeyFromJwk(jwk, options.rsa_default_algorithm,
                                          /*allow_symmetric=*/false);
    }
    if (key.ok()) {
      set.keys.push_back(*std::move(key));
    } else {
      set.skipped.push_back(absl::StrCat(index, ": ", key.status().message()));
    }
    ++index;
  }
  if (set.keys.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "JWKS: no usable key",
        set.skipped.empty() ? "" : absl::StrCat(" (", set.skipped[0], ")")));
  }
  return set;
}

absl::StatusOr<std::unique_ptr<FileJwksFetcher>> FileJwksFetcher::Create(
    std::string path, std::size_t max_bytes) {
  if (path.empty()) return absl::InvalidArgumentError("path: empty");
  if (max_bytes == 0) return absl::InvalidArgumentError("max_bytes: zero");
  return std::unique_ptr<FileJwksFetcher>(
      new FileJwksFetcher(std::move(path), max_bytes));
}

absl::StatusOr<std::string> FileJwksFetcher::Fetch() {
  std::FILE* file = std::fopen(path_.c_str(), "rb");
  if (file == nullptr) {
    const int error = errno;
    std::string message =
        absl::StrCat("JWKS file ", path_, ": ", std::strerror(error));
    return error == ENOENT ? absl::NotFoundError(message)
                           : absl::UnavailableError(message);
  }
  std::string content;
  char buffer[16384];
  std::size_t n = 0;
  bool too_large = false;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) {
    if (content.size() + n > max_bytes_) {
      too_large = true;
      break;
    }
    content.append(buffer, n);
  }
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (too_large) {
    return absl::InvalidArgumentError(absl::StrCat(
        "JWKS file ", path_, ": larger than ", max_bytes_, " bytes"));
  }
  if (failed) {
    return absl::UnavailableError(
        absl::StrCat("JWKS file ", path_, ": read error"));
  }
  return content;
}

absl::StatusOr<std::unique_ptr<HttpJwksFetcher>> HttpJwksFetcher::Create(
    HttpJwksFetcherOptions options) {
  const bool https = absl::StartsWith(options.url, "https://");
  const bool http = absl::StartsWith(options.url, "http://");
  if (!https && !(http && options.allow_insecure_http)) {
    return absl::InvalidArgumentError(
        absl::StrCat("url: \"", options.url,
                     "\" must be https:// (or http:// with "
                     "allow_insecure_http)"));
  }
  if (options.transport == nullptr) {
    return absl::InvalidArgumentError("transport: required");
  }
  if (options.timeout <= std::chrono::nanoseconds::zero()) {
    return absl::InvalidArgumentError("timeout: must be > 0");
  }
  if (options.max_bytes == 0) {
    return absl::InvalidArgumentError("max_bytes: must be > 0");
  }
  return std::unique_ptr<HttpJwksFetcher>(
      new HttpJwksFetcher(std::move(options)));
}

absl::StatusOr<std::string> HttpJwksFetcher::Fetch() {
  trace::ExportRequest request;
  request.method = "GET";
  request.url = options_.url;
  request.headers = options_.headers;
  request.headers.emplace_back("Accept",
                               "application/jwk-set+json, application/json");
  request.timeout = options_.timeout;
  KEEL_ASSIGN_OR_RETURN(trace::ExportResponse response,
                        options_.transport->Post(request));
  if (response.status_code != 200) {
    return absl::UnavailableError(
        absl::StrCat("JWKS ", options_.url, ": HTTP ", response.status_code));
  }
  if (response.body.size() > options_.max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWKS ", options_.url, ": body larger than ",
                     options_.max_bytes, " bytes"));
  }
  return std::move(response.body);
}

absl::StatusOr<std::unique_ptr<JwksProvider>> JwksProvider::Create(
    JwksProviderOptions options) {
  using std::chrono::nanoseconds;
  if (options.fetcher == nullptr) {
    return absl::InvalidArgumentError("fetcher: required");
  }
  if (options.name.empty()) return absl::InvalidArgumentError("name: empty");
  if (options.clock == nullptr) {
    return absl::InvalidArgumentError("clock: required");
  }
  if (options.refresh_interval <= nanoseconds::zero()) {
    return absl::InvalidArgumentError("refresh_interval: must be > 0");
  }
  if (options.max_age < options.refresh_interval) {
    return absl::InvalidArgumentError("max_age: must be >= refresh_interval");
  }
  if (options.min_fetch_interval < nanoseconds::zero()) {
    return absl::InvalidArgumentError("min_fetch_interval: must be >= 0");
  }
  if (options.parse.max_bytes == 0 || options.parse.max_keys == 0) {
    return absl::InvalidArgumentError(
        "parse: max_bytes and max_keys must be > 0");
  }
  std::unique_ptr<JwksProvider> provider(new JwksProvider(std::move(options)));
  if (metrics::Registry* registry = provider->options_.metrics) {
    KEEL_ASSIGN_OR_RETURN(metrics::CounterFamily * fetches,
                          registry->AddCounter("keel_jwks_fetches_total",
                                               "JWKS fetches by outcome.",
                                               {"provider", "result"}));
    provider->fetch_ok_ = fetches->WithLabels({provider->options_.name, "ok"});
    provider->fetch_error_ =
        fetches->WithLabels({provider->options_.name, "error"});
  }
  return provider;
}

JwksProvider::JwksProvider(JwksProviderOptions options)
    : options_(std::move(options)),
      last_error_(absl::UnavailableError("JWKS: not fetched yet")) {}

absl::Status JwksProvider::FetchLocked() {
  {
    MutexLock lock(mu_);
    last_attempt_ = options_.clock->Now();
  }
  absl::StatusOr<std::string> document = options_.fetcher->Fetch();
  absl::StatusOr<JwkSet> parsed =
      document.ok() ? ParseJwks(*document, options_.parse)
                    : absl::StatusOr<JwkSet>(document.status());
  MutexLock lock(mu_);
  if (!parsed.ok()) {
    fetch_error_.Inc();
    last_error_ = parsed.status();
    return last_error_;
  }
  fetch_ok_.Inc();
  keys_ = std::make_shared<const JwkSet>(*std::move(parsed));
  fetched_at_ = options_.clock->Now();
  last_error_ = absl::OkStatus();
  return absl::OkStatus();
}

absl::Status JwksProvider::Refresh() {
  MutexLock fetch_lock(fetch_mu_);
  return FetchLocked();
}

void JwksProvider::Decide(std::optional<std::string_view> kid, bool& serve,
                          bool& fetch) {
  const MonoTime now = options_.clock->Now();
  const bool have = keys_ != nullptr;
  const MonoTime age = now - fetched_at_;
  serve = have && age < options_.max_age;
  bool wanted = !have || age >= options_.refresh_interval;
  if (!wanted && kid.has_value()) {
    wanted = true;
    for (const JwtKey& key : keys_->keys) {
      if (key.kid() == *kid) {
        wanted = false;
        break;
      }
    }
  }
  fetch = wanted && (!last_attempt_.has_value() ||
                     now - *last_attempt_ >= options_.min_fetch_interval);
}

absl::StatusOr<std::shared_ptr<const JwkSet>> JwksProvider::Lookup(
    std::optional<std::string_view> kid) {
  bool serve = false;
  bool fetch = false;
  {
    MutexLock lock(mu_);
    Decide(kid, serve, fetch);
    if (serve && !fetch) return keys_;
  }
  // One fetch at a time. A caller that can serve the current set does not
  // queue behind a running fetch; one with nothing to serve waits for it,
  // including a fetch another caller started (the cooldown then forbids a
  // fetch of its own, yet the running one may bring the first key set).
  if (serve) {
    if (!fetch_mu_.TryLock()) {
      MutexLock lock(mu_);
      return keys_;
    }
  } else {
    fetch_mu_.Lock();
  }
  {
    MutexLock lock(mu_);
    Decide(kid, serve, fetch);  // another thread may have just fetched
  }
  if (fetch) FetchLocked().IgnoreError();
  fetch_mu_.Unlock();
  MutexLock lock(mu_);
  Decide(kid, serve, fetch);
  if (serve) return keys_;
  return absl::UnavailableError(
      absl::StrCat("JWKS ", options_.name,
                   ": no key set available: ", last_error_.message()));
}

absl::StatusOr<std::shared_ptr<const JwkSet>> JwksProvider::Keys() {
  return Lookup(std::nullopt);
}

absl::StatusOr<std::shared_ptr<const JwkSet>> JwksProvider::KeysForKid(
    std::string_view kid) {
  return Lookup(kid);
}

health::CheckFunction JwksProvider::HealthCheck() {
  return [this] {
    MutexLock lock(mu_);
    if (keys_ == nullptr) {
      return health::CheckResult::Fail(
          absl::StrCat("no key set: ", last_error_.message()));
    }
    const MonoTime age = options_.clock->Now() - fetched_at_;
    if (age >= options_.max_age) {
      return health::CheckResult::Fail(absl::StrCat(
          "key set expired; last fetch error: ", last_error_.message()));
    }
    if (age >= options_.refresh_interval && !last_error_.ok()) {
      return health::CheckResult::Warn(
          absl::StrCat("serving a stale key set; last fetch error: ",
                       last_error_.message()));
    }
    return health::CheckResult::Pass();
  };
}

}  // namespace keel::security
