// keel/security/jwt_key.h
//
// `JwtKey`: one verification key bound to exactly one JWS algorithm (RFC 8725
// section 3.1: a key is never usable with an algorithm it was not made for,
// which rules out key confusion such as an RSA public key used as an HMAC
// secret). Keys come from an HMAC secret, a PEM public key or a JWK (RFC
// 7517: kty RSA, EC, OKP/Ed25519 and, for local configuration only, oct).
//
// Example:
//   auto hs = keel::security::JwtKey::FromHmacSecret(
//       keel::security::JwtAlgorithm::kHs256, secret, "2024-01");
//   auto rs = keel::security::JwtKey::FromPublicKeyPem(
//       keel::security::JwtAlgorithm::kRs256, pem, "rsa-1");
//   auto ec = keel::security::JwtKey::FromJwk(
//       R"({"kty":"EC","crv":"P-256","x":"...","y":"...","kid":"k1"})");
//
// Key strength rules enforced at construction: HMAC secrets at least as long
// as the hash output (32/48/64 bytes), RSA moduli of at least 2048 bits, EC
// points on the curve the algorithm names (P-256/P-384/P-521), EdDSA keys
// Ed25519.
//
// Cost: a key sets up its OpenSSL state once (the keyed HMAC, or an RSA /
// ECDSA verification context that each Verify() copies instead of looking up
// the algorithm implementations again). An HMAC key also keeps up to 8 idle
// keyed contexts for reuse by later verifications (a few digest states
// each); all of it is cleansed and freed with the last copy of the key.
//
// Thread safety: a JwtKey is logically immutable; copies share the parsed key
// and may be used from any thread, concurrently.

#ifndef KEEL_SECURITY_JWT_KEY_H_
#define KEEL_SECURITY_JWT_KEY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace keel::security_internal {
class JoseKeyMaterial;
}  // namespace keel::security_internal

namespace keel::security {

// The JWS algorithms keel verifies (RFC 7518 section 3.1, RFC 8037). `none`
// is deliberately absent: unsecured tokens are always refused.
enum class JwtAlgorithm : std::uint8_t {
  kHs256,
  kHs384,
  kHs512,
  kRs256,
  kRs384,
  kRs512,
  kPs256,
  kPs384,
  kPs512,
  kEs256,
  kEs384,
  kEs512,
  kEdDsa,
};

// The `alg` header value: "HS256", ..., "EdDSA".
std::string_view JwtAlgorithmName(JwtAlgorithm alg);

// Parses an `alg` value (case-sensitive, as RFC 7515 requires). nullopt for
// "none" and for anything keel does not implement.
std::optional<JwtAlgorithm> ParseJwtAlgorithm(std::string_view name);

// A verification key and the single algorithm it may verify.
class JwtKey {
 public:
  // An HMAC key. Fails with kInvalidArgument if `alg` is not HS*, or if the
  // secret is shorter than the hash output (RFC 7518 section 3.2).
  static absl::StatusOr<JwtKey> FromHmacSecret(JwtAlgorithm alg,
                                               std::string_view secret,
                                               std::string kid = {});

  // A public key in PEM SubjectPublicKeyInfo form ("BEGIN PUBLIC KEY").
  // Fails with kInvalidArgument if the PEM does not parse, if the key type
  // does not match `alg` (RSA for RS*/PS*, EC on the right curve for ES*,
  // Ed25519 for EdDSA) or if an RSA modulus is shorter than 2048 bits.
  static absl::StatusOr<JwtKey> FromPublicKeyPem(JwtAlgorithm alg,
                                                 std::string_view pem,
                                                 std::string kid = {});

  // A key from one JWK object. The algorithm is the JWK's `alg` member; when
  // it is absent, `default_alg` is used, and when that is unset it is derived
  // from the curve (EC, OKP) or the call fails (RSA and oct keys have no
  // single natural algorithm). A JWK `alg` that disagrees with `default_alg`
  // fails. Fails with kInvalidArgument naming the member on malformed JSON,
  // duplicate members, non-base64url values, unsupported kty/crv, a `use`
  // other than "sig", `key_ops` without "verify", a private key (`d`) or the
  // strength rules above.
  static absl::StatusOr<JwtKey> FromJwk(
      std::string_view jwk_json,
      std::optional<JwtAlgorithm> default_alg = std::nullopt);

  // The only algorithm this key verifies.
  JwtAlgorithm algorithm() const { return alg_; }

  // The key id ("" if none); an opaque lookup key, never interpreted.
  const std::string& kid() const { return kid_; }

  // Checks `signature` (the decoded JWS signature) over `signing_input`
  // (ASCII "header.payload"). ECDSA signatures must be JOSE's fixed-size R||S
  // (a DER signature is refused). Returns true only for a valid signature;
  // any malformed input is simply false. Constant-time for HMAC.
  bool Verify(std::string_view signing_input, std::string_view signature) const;

  // Used by FromJwk and the JWKS parser, which already hold parsed JSON.
  JwtKey(JwtAlgorithm alg, std::string kid,
         std::shared_ptr<const security_internal::JoseKeyMaterial> material);

 private:
  JwtAlgorithm alg_;
  std::string kid_;
  std::shared_ptr<const security_internal::JoseKeyMaterial> material_;
};

}  // namespace keel::security

#endif  // KEEL_SECURITY_JWT_KEY_H_
