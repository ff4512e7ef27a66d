// keel/security/cors.h
//
// Cross-Origin Resource Sharing: an exact origin allow-list (plus anchored
// subdomain patterns), preflight answers and the headers of actual requests.
//
//   keel::security::CorsOptions options;
//   options.allowed_origins = {"https://app.example.com"};
//   options.allowed_origin_patterns = {"https://*.preview.example.com"};
//   options.allowed_methods = {"GET", "POST", "DELETE"};
//   options.allowed_headers = {"Content-Type", "Authorization"};
//   options.allow_credentials = true;
//   options.max_age = std::chrono::minutes(10);
//   auto cors = keel::security::Cors::Create(options);
//   ...
//   keel::security::CorsResult r = (*cors)->Handle(request, &sink);
//   if (r.outcome == keel::security::CorsOutcome::kPreflight ||
//       r.outcome == keel::security::CorsOutcome::kRejectedPreflight) {
//     return Respond(r.status);  // 204 / 403, headers already in the sink
//   }
//
// Refused at Create (kInvalidArgument naming the field), unlike the `cors`
// npm package which accepts them: `*` (or allow_any_origin) together with
// credentials; any pattern with credentials that could match every origin;
// the origin "null" (sandboxed documents and file: URLs share it); origins
// that are not `scheme://host[:port]` in lower case without a path;
// patterns other than `scheme://*.suffix[:port]` with at least two labels in
// the suffix; methods and header names that are not tokens.
//
// `Vary: Origin` is added to every answer whose headers depend on the
// request's Origin — that is every answer unless allow_any_origin is set
// without credentials — including answers to requests without an Origin, so
// a shared cache never serves one origin's answer to another.
//
// Thread safety: immutable after Create; Handle is thread-safe.

#ifndef KEEL_SECURITY_CORS_H_
#define KEEL_SECURITY_CORS_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "keel/security/http_fields.h"

namespace keel {
namespace security {

// Options of Cors.
struct CorsOptions {
  // Exact origins, "https://app.example.com" or "http://localhost:8080".
  std::vector<std::string> allowed_origins;
  // "https://*.example.com": `*` stands for one or more DNS labels; the
  // pattern is anchored at both ends.
  std::vector<std::string> allowed_origin_patterns;
  // Answer `Access-Control-Allow-Origin: *` to every origin (public,
  // credential-less resources only).
  bool allow_any_origin = false;
  // Methods allowed in preflights (case-sensitive, as HTTP methods are).
  std::vector<std::string> allowed_methods = {"GET", "HEAD", "POST"};
  // Request headers allowed in preflights (case-insensitive).
  std::vector<std::string> allowed_headers;
  // Response headers scripts may read (Access-Control-Expose-Headers).
  std::vector<std::string> exposed_headers;
  // Access-Control-Allow-Credentials: true.
  bool allow_credentials = false;
  // Access-Control-Max-Age for preflights; nullopt leaves it to the browser.
  std::optional<std::chrono::seconds> max_age;
};

// What Handle did.
enum class CorsOutcome {
  // No Origin header: not a CORS request; carry on.
  kNotCors,
  // Actual request from an allowed origin: CORS headers added; carry on.
  kAllowed,
  // Actual request from an origin not allowed: no CORS headers added (the
  // browser will hide the answer); carry on or refuse with 403.
  kOriginNotAllowed,
  // Valid preflight: answer `status` (204) with the headers added.
  kPreflight,
  // Preflight refused (origin, method or header not allowed): answer
  // `status` (403) without running the handler.
  kRejectedPreflight,
};

// The result of Handle.
struct CorsResult {
  CorsOutcome outcome = CorsOutcome::kNotCors;
  // The status to answer for preflights (204 or 403); 0 otherwise.
  int status = 0;
};

// Applies a CORS policy.
//
// Thread safety: immutable; Handle is thread-safe.
class Cors {
 public:
  // Validates `options` (see the file comment).
  static absl::StatusOr<std::unique_ptr<Cors>> Create(CorsOptions options);

  // Classifies `request` and adds the matching headers to `response`.
  // A preflight is an OPTIONS request carrying Origin and
  // Access-Control-Request-Method.
  CorsResult Handle(const RequestView& request, HeaderSink* response) const;

  // True when `origin` is allowed (exactly or by a pattern).
  bool IsOriginAllowed(std::string_view origin) const;

 private:
  Cors() = default;

  CorsOptions options_;
  std::string methods_value_;
  std::string exposed_value_;
  std::string max_age_value_;
};

}  // namespace security
}  // namespace keel

#endif  // KEEL_SECURITY_CORS_H_
