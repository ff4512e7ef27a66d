// keel/security/csp.h
//
// Content-Security-Policy values: a validated policy, per-request nonces and
// hash sources for inline content.
//
//   constexpr std::string_view kText =
//       "default-src 'self'; script-src 'self' 'strict-dynamic'; "
//       "object-src 'none'; base-uri 'none'; report-to csp";
//   auto policy = keel::security::ContentSecurityPolicy::Parse(kText);
//   // Fails: 'strict-dynamic' needs a nonce or hash; declare the per-request
//   // nonce instead:
//   keel::security::CspOptions options;
//   options.nonce_directives = {"script-src"};
//   policy = keel::security::ContentSecurityPolicy::Parse(kText, options);
//
//   std::string nonce = keel::security::GenerateCspNonce().value();
//   response.Set("Content-Security-Policy", policy->WithNonce(nonce));
//   // <script nonce="...">
//
//   std::string src = keel::security::CspHashSource(
//       "alert(1)", keel::security::CspHashAlgorithm::kSha256);
//   // "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
//
// Validation (every failure is kInvalidArgument naming the directive and the
// problem), modelled on helmet 8 and stricter where helmet only warns:
//   - directive names must be CSP Level 3 directives (plus the deprecated
//     block-all-mixed-content and report-uri), compared case-insensitively;
//     a directive may appear once;
//   - keywords (self, none, unsafe-inline, unsafe-eval, strict-dynamic,
//     unsafe-hashes, report-sample, wasm-unsafe-eval,
//     inline-speculation-rules) and nonce-/sha256-/sha384-/sha512- sources
//     must be single-quoted; a quoted source must be one of those, with
//     base64 after nonce-/shaNNN-;
//   - no `;`, `,`, whitespace, control characters or non-ASCII bytes inside a
//     source; 'none' must be alone;
//   - `default-src` is required (a policy without it allows everything the
//     other directives do not name);
//   - 'strict-dynamic' only in a directive that carries a nonce, a hash or a
//     per-request nonce (CspOptions::nonce_directives);
//   - fetch directives, base-uri, form-action and frame-ancestors need at
//     least one source; upgrade-insecure-requests and
//     block-all-mixed-content take none; report-to takes exactly one
//     endpoint name.
//
// Thread safety: ContentSecurityPolicy is an immutable value; the free
// functions are thread-safe.

#ifndef KEEL_SECURITY_CSP_H_
#define KEEL_SECURITY_CSP_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace keel {
namespace security {

// One directive: a lower-case name and its sources, in order.
struct CspDirective {
  std::string name;
  std::vector<std::string> sources;
};

// Options for building a policy.
struct CspOptions {
  // Directives that receive `'nonce-<n>'` from WithNonce(). Each must be a
  // directive of the policy. Default: none (the policy has no nonce).
  std::vector<std::string> nonce_directives;
  // Separator written between directives. "; " (the common form) by default;
  // helmet writes ";".
  std::string separator = "; ";
};

// A validated Content-Security-Policy (or -Report-Only) value.
class ContentSecurityPolicy {
 public:
  // Validates `directives` (see the file comment); names are lower-cased.
  static absl::StatusOr<ContentSecurityPolicy> Create(
      std::vector<CspDirective> directives, CspOptions options = {});

  // Parses a serialized policy ("a b c; d e") and validates it like Create.
  // Empty directives (";;") are skipped, as browsers do.
  static absl::StatusOr<ContentSecurityPolicy> Parse(std::string_view text,
                                                     CspOptions options = {});

  // The directives, in order.
  const std::vector<CspDirective>& directives() const { return directives_; }
  // True when WithNonce() adds a nonce (nonce_directives is not empty).
  bool uses_nonce() const { return !options_.nonce_directives.empty(); }
  // The serialized policy without a nonce.
  const std::string& value() const { return value_; }
  // The `report-to` endpoint name, or empty.
  std::string_view report_to() const;

  // The serialized policy with `'nonce-<nonce>'` appended to each
  // nonce directive. `nonce` must come from GenerateCspNonce() (base64); it
  // is not re-validated on this per-request path.
  std::string WithNonce(std::string_view nonce) const;

 private:
  ContentSecurityPolicy() = default;

  std::vector<CspDirective> directives_;
  CspOptions options_;
  std::string value_;
};

// A fresh nonce: 128 bits from OpenSSL's CSPRNG (RAND_bytes), base64 (24
// characters). Fails with kInternal only if the CSPRNG cannot be seeded.
absl::StatusOr<std::string> GenerateCspNonce();

// Digest algorithms for hash sources.
enum class CspHashAlgorithm { kSha256, kSha384, kSha512 };

// The quoted hash source for inline content, e.g. `'sha256-<base64>'`. The
// content must be byte-identical to the script or style element's text.
std::string CspHashSource(
    std::string_view content,
    CspHashAlgorithm algorithm = CspHashAlgorithm::kSha256);

}  // namespace security
}  // namespace keel

#endif  // KEEL_SECURITY_CSP_H_
