// keel/security/https_redirect.h
//
// Redirects plain-HTTP requests to HTTPS on the same host (the first step to
// HSTS: browsers only honour Strict-Transport-Security received over HTTPS).
//
//   keel::security::HttpsRedirectOptions options;
//   options.allowed_hosts = {"example.com", "www.example.com"};
//   auto redirect = keel::security::HttpsRedirect::Create(options);
//   ...
//   if (!https) {
//     auto r = (*redirect)->For(request.Field("Host").value_or(""),
//                               request.target);
//     if (!r.ok()) return Respond(400);
//     return Respond(r->status, {{"Location", r->location}});
//   }
//
// The Host header is attacker-controlled: with `allowed_hosts` set, only
// those hosts are redirected to (others get kInvalidArgument, answer 400),
// which keeps the redirect from pointing at a foreign site through a shared
// cache. Without `allowed_hosts`, any syntactically valid host is accepted.
//
// Thread safety: immutable after Create; For is thread-safe.

#ifndef KEEL_SECURITY_HTTPS_REDIRECT_H_
#define KEEL_SECURITY_HTTPS_REDIRECT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace keel {
namespace security {

// Options of HttpsRedirect.
struct HttpsRedirectOptions {
  // Hosts (without port, compared case-insensitively) that may be redirected
  // to. Empty: any valid host.
  std::vector<std::string> allowed_hosts;
  // The HTTPS port; 443 is left out of the Location.
  std::uint16_t https_port = 443;
  // 301 or 308 (308 keeps the method and body; use it for APIs).
  int status = 301;
};

// One redirect answer.
struct RedirectResponse {
  int status = 301;
  std::string location;
};

// Builds HTTP -> HTTPS redirects.
//
// Thread safety: immutable; thread-safe.
class HttpsRedirect {
 public:
  // Fails with kInvalidArgument on a status other than 301/308, a zero port
  // or an invalid allowed host.
  static absl::StatusOr<std::unique_ptr<HttpsRedirect>> Create(
      HttpsRedirectOptions options);

  // The redirect for a request with Host `host` (port ignored) and
  // request-target `target` (origin-form: starts with '/'). Fails with
  // kInvalidArgument for a malformed or disallowed host, or a target that is
  // not origin-form or contains control characters.
  absl::StatusOr<RedirectResponse> For(std::string_view host,
                                       std::string_view target) const;

 private:
  explicit HttpsRedirect(HttpsRedirectOptions options)
      : options_(std::move(options)) {}

  HttpsRedirectOptions options_;
};

}  // namespace security
}  // namespace keel

#endif  // KEEL_SECURITY_HTTPS_REDIRECT_H_
