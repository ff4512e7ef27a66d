// keel/security/jwt.h
//
// `JwtVerifier` checks compact-serialised JSON Web Tokens (RFC 7519, JWS RFC
// 7515) following the JWT best current practices of RFC 8725.
//
// Example:
//   keel::security::JwtVerifierOptions options;
//   keel::security::JwtIssuer issuer;
//   issuer.issuer = "https://login.example.com/";
//   issuer.jwks = std::move(jwks_provider);             // keel/security/jwks.h
//   options.issuers.push_back(std::move(issuer));
//   options.algorithms = {keel::security::JwtAlgorithm::kRs256};
//   options.audiences = {"orders-api"};
//   auto verifier = keel::security::JwtVerifier::Create(std::move(options));
//   ...
//   absl::StatusOr<keel::security::VerifiedJwt> jwt =
//       (*verifier)->Verify(bearer_token);
//   if (!jwt.ok()) {
//     response.status = keel::security::JwtHttpStatus(jwt.status());
//     response.headers["WWW-Authenticate"] =
//         keel::security::BearerChallenge("orders", jwt.status());
//   }
//
// Verification rules, in the order they are applied (the first failure wins
// and names itself through GetJwtFailure()):
//   1. Size: tokens longer than `max_token_bytes` (default 8 KiB) are refused
//      before any decoding (kTooLarge).
//   2. Shape: exactly three dot-separated parts of strict base64url (RFC 7515
//      section 2: no padding, no `+` `/` or whitespace, unused trailing bits
//      zero); header and payload are JSON objects of strict RFC 8259 JSON
//      (well-formed UTF-8, paired \u surrogates, no byte order mark or
//      trailing text, numbers within the double range), without a member
//      name repeated in any object (compared after unescaping) and with at
//      most 32 levels of nesting (kMalformed). Key sets and JWKs follow the
//      same JSON rules.
//   3. Header: `alg` must be in the allow-list; `none` is always refused
//      (kAlgorithmRejected). Every name in `crit` must be listed in
//      `critical_headers` and present in the header, and `crit` must not be
//      empty or name a registered header (kUnsupportedCritical). When `typ`
//      is configured the header's `typ` must match it, case-insensitively,
//      with an optional "application/" prefix (kBadType). `kid` is an opaque
//      lookup key. `jku`, `x5u`, `jwk` and `x5c` are ignored: keys come only
//      from the configuration, never from the token.
//   4. Issuer: the payload's `iss` selects one configured issuer and only its
//      keys are tried (kMissingClaim without `iss`, kUnknownIssuer for any
//      other value).
//   5. Key: keys of that issuer whose algorithm equals the header's `alg` and,
//      when the header has a `kid`, whose kid equals it. Each key verifies one
//      algorithm only, so an RSA public key can never act as an HMAC secret.
//      An unknown kid makes the issuer's JwksProvider refetch (rate limited).
//      No candidate: kUnknownKey; no key set available: kKeysUnavailable.
//   6. Signature: HMAC compared in constant time (CRYPTO_memcmp); RSA
//      PKCS#1 v1.5 and PSS (salt length = hash length); ECDSA in JOSE's
//      fixed-size R||S form only (a DER signature is refused) on the curve of
//      the algorithm; Ed25519 (kBadSignature).
//   7. Claims, with `now` = the clock's wall time in seconds and `leeway`
//      (default 0, at most 5 minutes):
//      `exp` required unless `require_exp` is false; rejected when
//      now >= exp + leeway (kExpired; a token is dead at its `exp` second).
//      `nbf`: rejected when now + leeway < nbf (kNotYetValid).
//      `iat`: rejected when later than now + leeway (kIssuedInFuture), or
//      older than `max_token_age` when that is set (kExpired; `iat` is then
//      required). Registered time claims must be JSON numbers (kMalformed).
//      `aud` (string or array of strings): with `audiences` configured, one
//      value must match one of them; without, a token carrying `aud` is
//      refused, as RFC 7519 section 4.1.3 requires (kBadAudience).
//      `required_claims` must be present (kMissingClaim).
//   8. Custom validators run last, in order; a non-OK result is reported as
//      kClaimRejected with the validator's message.
// Every failure is kUnauthenticated except kKeysUnavailable (kUnavailable:
// the service, not the token, is at fault).
//
// Thread safety: JwtVerifier is immutable after Create() and thread-safe;
// validators may be called concurrently.

#ifndef KEEL_SECURITY_JWT_H_
#define KEEL_SECURITY_JWT_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/base/clock.h"
#include "keel/security/jwks.h"
#include "keel/security/jwt_key.h"

namespace keel::security {

// Why a token was refused.
enum class JwtFailure : std::uint8_t {
  kMalformed,            // not three strict base64url parts of JSON objects
  kTooLarge,             // longer than max_token_bytes
  kAlgorithmRejected,    // alg missing, "none" or not allowed
  kUnsupportedCritical,  // crit names a header keel was not told about
  kBadType,              // typ does not match
  kUnknownIssuer,        // iss is not a configured issuer
  kUnknownKey,           // no key of the issuer for this alg (and kid)
  kKeysUnavailable,      // the issuer's key set cannot be obtained
  kBadSignature,         // signature does not verify
  kExpired,              // exp passed, or iat older than max_token_age
  kNotYetValid,          // nbf in the future
  kIssuedInFuture,       // iat in the future
  kBadAudience,          // aud does not name this service
  kMissingClaim,         // a required claim is absent
  kClaimRejected,        // a custom validator refused the token
};

// A stable snake_case name: "malformed", "too_large", "algorithm_rejected",
// "unsupported_critical", "bad_type", "unknown_issuer", "unknown_key",
// "keys_unavailable", "bad_signature", "expired", "not_yet_valid",
// "issued_in_future", "bad_audience", "missing_claim", "claim_rejected".
std::string_view JwtFailureName(JwtFailure failure);

// The failure carried by a status returned from JwtVerifier::Verify();
// nullopt for any other status (including OK).
std::optional<JwtFailure> GetJwtFailure(const absl::Status& status);

// A verified token. Times are seconds since the Unix epoch.
struct VerifiedJwt {
  JwtAlgorithm algorithm = JwtAlgorithm::kHs256;
  std::string kid;
  std::string typ;
  std::string issuer;
  std::string subject;
  std::vector<std::string> audience;
  std::string jwt_id;
  std::optional<std::int64_t> expires_at;
  std::optional<std::int64_t> not_before;
  std::optional<std::int64_t> issued_at;
  // Every payload member as (decoded name, compact JSON text of the value),
  // sorted by name byte-wise. The compact text is the value as written in
  // the token with:
  //   - whitespace outside strings removed;
  //   - numbers, true, false and null exactly as written (no reformatting,
  //     so large integers keep every digit);
  //   - member and element order of nested objects and arrays kept;
  //   - every string, nested member names included, re-escaped canonically:
  //     `"` and `\` as \" and \\, U+0008 U+0009 U+000A U+000C U+000D as
  //     \b \t \n \f \r, other characters below U+0020 as \u00xx
  //     (lowercase hex), and everything else (`/`, U+007F and non-ASCII
  //     included) as its UTF-8 bytes; strings keep their quotes.
  // So {"a": [1, "\u00e9\/"]} yields ("a", `[1,"é/"]`).
  std::vector<std::pair<std::string, std::string>> claims;

  // The compact JSON text of claim `name`, or nullptr. O(log n).
  const std::string* ClaimJson(std::string_view name) const;
  // The value of a string claim (escapes resolved); nullopt if absent or
  // not a string.
  std::optional<std::string> StringClaim(std::string_view name) const;
  // The value of a numeric claim (the nearest double); nullopt if absent or
  // not a number.
  std::optional<double> NumberClaim(std::string_view name) const;
};

// A custom check over a verified token; return a non-OK status (its message
// is kept) to refuse it.
using JwtValidator = std::function<absl::Status(const VerifiedJwt&)>;

// One trusted token issuer and the keys that may sign its tokens.
struct JwtIssuer {
  // The exact `iss` value. Non-empty, unique among issuers.
  std::string issuer;
  // Static keys.
  std::vector<JwtKey> keys;
  // Keys fetched from the issuer's JWKS; may be combined with `keys`.
  std::shared_ptr<JwksProvider> jwks;
};

struct JwtVerifierOptions {
  // Trusted issuers; at least one, each with keys or a JWKS provider.
  std::vector<JwtIssuer> issuers;
  // Algorithm allow-list; non-empty, no duplicates. Keys of other algorithms
  // are refused by Create().
  std::vector<JwtAlgorithm> algorithms;
  // Accepted `aud` values; see rule 7.
  std::vector<std::string> audiences;
  // Header `typ` to require, e.g. "at+jwt" (RFC 9068); empty = not checked.
  std::string typ;
  // Header parameters this application understands, allowed in `crit`.
  std::vector<std::string> critical_headers;
  // Claims that must be present in addition to the checked ones.
  std::vector<std::string> required_claims;
  // Whether `exp` is mandatory (RFC 8725 recommends short-lived tokens).
  bool require_exp = true;
  // Clock skew tolerated on exp/nbf/iat; 0 to 5 minutes.
  std::chrono::seconds leeway{0};
  // When set (> 0), `iat` is required and may be at most this old.
  std::optional<std::chrono::seconds> max_token_age;
  // Tokens longer than this are refused unread; 64 bytes to 1 MiB.
  std::size_t max_token_bytes = 8192;
  // Run after every built-in check.
  std::vector<JwtValidator> validators;
  // Wall time source. Must outlive the verifier.
  Clock* clock = &Clock::System();
};

// Verifies tokens under one policy.
class JwtVerifier {
 public:
  // Fails with kInvalidArgument naming the bad field (empty issuers or
  // algorithms, duplicate issuer, a static key whose algorithm is not
  // allowed, leeway out of range, ...).
  static absl::StatusOr<std::unique_ptr<JwtVerifier>> Create(
      JwtVerifierOptions options);

  // Verifies `token` (the compact serialisation, without "Bearer "). On
  // failure the status is kUnauthenticated (or kUnavailable for
  // kKeysUnavailable) with a message naming the problem and the JwtFailure
  // attached (GetJwtFailure()).
  absl::StatusOr<VerifiedJwt> Verify(std::string_view token) const;

 private:
  explicit JwtVerifier(JwtVerifierOptions options);
  const JwtVerifierOptions options_;
  std::uint32_t allowed_mask_ = 0;
};

// The token of an `Authorization: Bearer <token>` header value (RFC 6750
// section 2.1; the scheme is case-insensitive), or nullopt.
std::optional<std::string_view> BearerToken(std::string_view authorization);

// The HTTP status for a Verify() failure: 401 for kUnauthenticated, 503 for
// kUnavailable, 500 otherwise.
int JwtHttpStatus(const absl::Status& status);

// An RFC 6750 `WWW-Authenticate` value for a request without a token:
// `Bearer realm="<realm>"`. Characters that cannot appear in a quoted string
// are dropped from `realm`.
std::string BearerChallenge(std::string_view realm);

// As above for a refused token: adds `error="invalid_token"` and an
// `error_description` naming the failure (never the token's content).
std::string BearerChallenge(std::string_view realm, const absl::Status& status);

}  // namespace keel::security

#endif  // KEEL_SECURITY_JWT_H_
