// keel/security/security_headers.h
//
// Security response headers: three presets, per-header configuration,
// configuration-time validation, a strip list, and precomputed header blocks
// that are applied to a response without building any string.
//
//   auto options = keel::security::SecurityHeadersOptions::StrictApi();
//   options.SetHeader("Permissions-Policy", "geolocation=()");
//   options.RemoveHeader("X-Frame-Options");
//   auto headers = keel::security::SecurityHeaders::Create(std::move(options));
//   if (!headers.ok()) return headers.status();   // names the bad header
//   ...
//   // Per response (https: request.tls, or ClientIpResolver::Resolve().https):
//   (*headers)->Apply(https, &sink);
//
// Presets (exact values, in the order they are sent):
//
// `Helmet()` — helmet 8's defaults; strips X-Powered-By:
//   Content-Security-Policy: default-src 'self';base-uri 'self';font-src 'self'
//     https: data:;form-action 'self';frame-ancestors 'self';img-src 'self'
//     data:;object-src 'none';script-src 'self';script-src-attr 'none';
//     style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests
//   Cross-Origin-Opener-Policy: same-origin
//   Cross-Origin-Resource-Policy: same-origin
//   Origin-Agent-Cluster: ?1
//   Referrer-Policy: no-referrer
//   Strict-Transport-Security: max-age=31536000; includeSubDomains
//   X-Content-Type-Options: nosniff
//   X-DNS-Prefetch-Control: off
//   X-Download-Options: noopen
//   X-Frame-Options: SAMEORIGIN
//   X-Permitted-Cross-Domain-Policies: none
//   X-XSS-Protection: 0
//
// `StrictApi()` — for JSON APIs that serve no documents; strips
// OwaspStripList():
//   Content-Security-Policy: default-src 'none'; frame-ancestors 'none'
//   Cache-Control: no-store
//   Cross-Origin-Opener-Policy: same-origin
//   Cross-Origin-Resource-Policy: same-origin
//   Referrer-Policy: no-referrer
//   Strict-Transport-Security: max-age=31536000; includeSubDomains
//   X-Content-Type-Options: nosniff
//   X-Frame-Options: DENY
//
// `Owasp()` — the OWASP Secure Headers Project's recommended values
// (ci/headers_add.json, 2024-07); strips OwaspStripList() (its
// headers_remove.json):
//   Content-Security-Policy: default-src 'self'; form-action 'self';
//     object-src 'none'; frame-ancestors 'none'; upgrade-insecure-requests;
//     block-all-mixed-content
//   Cache-Control: no-store, max-age=0
//   Cross-Origin-Embedder-Policy: require-corp
//   Cross-Origin-Opener-Policy: same-origin
//   Cross-Origin-Resource-Policy: same-origin
//   Permissions-Policy: accelerometer=(), autoplay=(), camera=(),
//     cross-origin-isolated=(), display-capture=(), encrypted-media=(),
//     fullscreen=(), geolocation=(), gyroscope=(), keyboard-map=(),
//     magnetometer=(), microphone=(), midi=(), payment=(),
//     picture-in-picture=(), publickey-credentials-get=(),
//     screen-wake-lock=(), sync-xhr=(self), usb=(), web-share=(),
//     xr-spatial-tracking=(), clipboard-read=(), clipboard-write=(),
//     gamepad=(), hid=(), idle-detection=(), interest-cohort=(), serial=(),
//     unload=()
//   Referrer-Policy: no-referrer
//   Strict-Transport-Security: max-age=31536000; includeSubDomains
//   X-Content-Type-Options: nosniff
//   X-Frame-Options: DENY
//   X-Permitted-Cross-Domain-Policies: none
// OWASP also lists `Clear-Site-Data: "cache","cookies","storage"`; keel
// leaves it out of the preset because on every response it would log users
// out — send it from the logout handler only.
//
// Reaching A+ on the MDN HTTP Observatory: serve over HTTPS with an HTTP→HTTPS
// redirect on the same host (HttpsRedirect in https_redirect.h) and HSTS of at
// least 180 days (every preset sends one year); a CSP without
// 'unsafe-inline'/'unsafe-eval' in script-src, with default-src 'none' or
// 'self', frame-ancestors and object-src 'none' (StrictApi as is; for HTML,
// Helmet or Owasp with a per-request nonce or hash sources); cookies from
// BuildSetCookie (Secure, HttpOnly, SameSite, `__Host-`);
// X-Content-Type-Options nosniff; Referrer-Policy no-referrer or
// strict-origin-when-cross-origin; CORS without `*` on credentialed resources
// (cors.h). The Observatory's subresource-integrity check is the page's
// business.
//
// Validation (Create fails with kInvalidArgument naming the header): names
// must be tokens and values free of CR, LF, NUL and other control
// characters; each name at most once (case-insensitively); HSTS max-age at
// least 180 days; Referrer-Policy a comma-separated list of the eight policy
// tokens; X-Frame-Options DENY or SAMEORIGIN; X-Content-Type-Options nosniff;
// Cross-Origin-*-Policy values from their specifications; CSP through
// ContentSecurityPolicy (csp.h), whose report-to endpoint must be declared in
// reporting_endpoints; a header both set and stripped is refused.
//
// Thread safety: SecurityHeaders is immutable after Create; Apply may run
// concurrently from any number of threads.

#ifndef KEEL_SECURITY_SECURITY_HEADERS_H_
#define KEEL_SECURITY_SECURITY_HEADERS_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/security/csp.h"
#include "keel/security/http_fields.h"

namespace keel {
namespace security {

// Strict-Transport-Security settings.
struct HstsOptions {
  // At least 180 days (15552000 s); one year by default.
  std::chrono::seconds max_age{31536000};
  bool include_subdomains = true;
  // Only with include_subdomains and max_age >= one year (hstspreload.org).
  bool preload = false;
};

// The OWASP Secure Headers Project's list of response headers that disclose
// implementation details (Server, X-Powered-By, X-AspNet-Version, ...).
const std::vector<std::string>& OwaspStripList();

// What SecurityHeaders sends and strips. Start from a preset and adjust.
struct SecurityHeadersOptions {
  // helmet 8's defaults (see the file comment).
  static SecurityHeadersOptions Helmet();
  // For JSON APIs (see the file comment).
  static SecurityHeadersOptions StrictApi();
  // The OWASP Secure Headers Project's recommendations.
  static SecurityHeadersOptions Owasp();

  // Sets (or replaces) a plain header; the header names are compared
  // case-insensitively. Content-Security-Policy(-Report-Only),
  // Strict-Transport-Security and Reporting-Endpoints have typed fields below
  // and are refused here by Create.
  void SetHeader(std::string_view name, std::string_view value);
  // Stops sending `name` (any of the typed headers too).
  void RemoveHeader(std::string_view name);

  // Enforced policy; nullopt sends none.
  std::optional<ContentSecurityPolicy> content_security_policy;
  // Policy sent as Content-Security-Policy-Report-Only alongside the
  // enforced one (to trial a stricter policy).
  std::optional<ContentSecurityPolicy> content_security_policy_report_only;
  // Reporting-Endpoints (name, URL) pairs; every `report-to` name used by a
  // policy must appear here.
  std::vector<std::pair<std::string, std::string>> reporting_endpoints;
  // Sent only on HTTPS responses (browsers ignore it over HTTP, and sending
  // it there teaches tools to expect it). nullopt sends none.
  std::optional<HstsOptions> hsts = HstsOptions{};
  // Other headers, in the order they are sent.
  std::vector<std::pair<std::string, std::string>> headers;
  // Headers removed from every response.
  std::vector<std::string> strip;
};

// Applies a validated header set to responses.
//
// Thread safety: immutable; Apply is thread-safe.
class SecurityHeaders {
 public:
  // Validates `options` (see the file comment) and precomputes the header
  // blocks. Fails with kInvalidArgument naming the field and the header.
  static absl::StatusOr<std::unique_ptr<SecurityHeaders>> Create(
      SecurityHeadersOptions options);

  // Removes the strip list from `response`, then sets each header (replacing
  // any value a handler set, so each appears once). HSTS only when `https`.
  // Allocates nothing itself; the sink stores the values. With a
  // per-request-nonce CSP, call ApplyWithNonce instead.
  void Apply(bool https, HeaderSink* response) const;

  // Like Apply, with the CSP (and report-only CSP) carrying `nonce`
  // (GenerateCspNonce()); this builds the CSP string per request.
  void ApplyWithNonce(bool https, std::string_view nonce,
                      HeaderSink* response) const;

  // The precomputed block, `Name: value\r\n` per header in send order, for
  // servers that write raw HTTP/1.1 (strip list not included).
  std::string_view Block(bool https) const {
    return https ? https_block_ : http_block_;
  }

  // The (name, value) pairs Apply sets, in order.
  const std::vector<std::pair<std::string, std::string>>& fields(
      bool https) const {
    return https ? https_fields_ : http_fields_;
  }

 private:
  SecurityHeaders() = default;

  SecurityHeadersOptions options_;
  std::vector<std::pair<std::string, std::string>> https_fields_;
  std::vector<std::pair<std::string, std::string>> http_fields_;
  std::string https_block_;
  std::string http_block_;
};

// The Strict-Transport-Security value for `options`
// ("max-age=31536000; includeSubDomains").
std::string HstsValue(const HstsOptions& options);

}  // namespace security
}  // namespace keel

#endif  // KEEL_SECURITY_SECURITY_HEADERS_H_
