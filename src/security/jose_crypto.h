// OpenSSL 3 (EVP only) key material and signature checks behind
// keel::security::JwtKey.

#ifndef KEEL_SRC_SECURITY_JOSE_CRYPTO_H_
#define KEEL_SRC_SECURITY_JOSE_CRYPTO_H_

#include <openssl/evp.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "keel/security/jwt_key.h"
#include "nlohmann/json.hpp"

namespace keel::security_internal {

// A parsed key: an EVP_PKEY for asymmetric algorithms, a keyed EVP_MAC_CTX
// for HMAC (duplicated per verification, so the key schedule is computed
// once).
//
// Thread safety: immutable; Verify() may run concurrently.
class JoseKeyMaterial {
 public:
  ~JoseKeyMaterial();
  JoseKeyMaterial(const JoseKeyMaterial&) = delete;
  JoseKeyMaterial& operator=(const JoseKeyMaterial&) = delete;

  // An HMAC key for HS256/384/512; the secret must be at least as long as
  // the hash output.
  static absl::StatusOr<std::shared_ptr<const JoseKeyMaterial>> Hmac(
      security::JwtAlgorithm alg, std::string_view secret);

  // Takes ownership of `pkey` (freed on failure too) after checking that it
  // suits `alg`: RSA >= 2048 bits, EC on the algorithm's curve, Ed25519.
  static absl::StatusOr<std::shared_ptr<const JoseKeyMaterial>> FromPkey(
      security::JwtAlgorithm alg, EVP_PKEY* pkey);

  // See JwtKey::Verify().
  bool Verify(security::JwtAlgorithm alg, std::string_view signing_input,
              std::string_view signature) const;

 private:
  JoseKeyMaterial() = default;
  EVP_PKEY* pkey_ = nullptr;
  EVP_MAC_CTX* mac_ = nullptr;
};

// Builds a key from a parsed JWK object (see JwtKey::FromJwk for the rules).
// `allow_symmetric` admits kty "oct".
absl::StatusOr<security::JwtKey> KeyFromJwk(
    const nlohmann::json& jwk,
    std::optional<security::JwtAlgorithm> default_alg, bool allow_symmetric);

}  // namespace keel::security_internal

#endif  // KEEL_SRC_SECURITY_JOSE_CRYPTO_H_
