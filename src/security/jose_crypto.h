// OpenSSL 3 (EVP only) key material and signature checks behind
// keel::security::JwtKey.

#ifndef KEEL_SRC_SECURITY_JOSE_CRYPTO_H_
#define KEEL_SRC_SECURITY_JOSE_CRYPTO_H_

#include <openssl/evp.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "keel/security/jwt_key.h"
#include "nlohmann/json.hpp"

namespace keel::security_internal {

// A parsed key, bound to one algorithm, with what each verification would
// otherwise set up again:
//   - HMAC: a keyed EVP_MAC_CTX (the key schedule is computed once) and a
//     small lock-free pool of idle copies. A verification takes an idle copy
//     (or duplicates the keyed one) and gives it back re-initialised, which
//     halves the cost of an HS256 check against duplicating every time.
//   - RSA, RSA-PSS, ECDSA: an EVP_MD_CTX set up once by
//     EVP_DigestVerifyInit (digest and signature implementation fetched,
//     PSS padding set). A verification copies it (EVP_MD_CTX_copy_ex reads
//     its source only, so concurrent copies are safe), which skips the
//     provider look-ups of a fresh init (about 4 us of an RS256 check).
//   - Ed25519: a fresh EVP_DigestVerifyInit per verification.
// Contexts are freed (and cleansed by OpenSSL) with the key.
//
// Thread safety: logically immutable; Verify() may run concurrently.
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

  // See JwtKey::Verify(). False when `alg` is not the key's algorithm.
  bool Verify(security::JwtAlgorithm alg, std::string_view signing_input,
              std::string_view signature) const;

 private:
  // Idle HMAC contexts kept per key: enough for the threads of a typical
  // server to find one; extra contexts are freed after use.
  static constexpr std::size_t kIdleMacs = 8;

  explicit JoseKeyMaterial(security::JwtAlgorithm alg);
  bool VerifyHmac(std::string_view signing_input,
                  std::string_view signature) const;
  EVP_MAC_CTX* AcquireMac() const;
  void ReleaseMac(EVP_MAC_CTX* ctx) const;

  const security::JwtAlgorithm alg_;
  EVP_PKEY* pkey_ = nullptr;
  EVP_MAC_CTX* mac_ = nullptr;
  EVP_MD_CTX* verify_template_ = nullptr;
  mutable std::array<std::atomic<EVP_MAC_CTX*>, kIdleMacs> idle_macs_;
};

// Builds a key from a parsed JWK object (see JwtKey::FromJwk for the rules).
// `allow_symmetric` admits kty "oct".
absl::StatusOr<security::JwtKey> KeyFromJwk(
    const nlohmann::json& jwk,
    std::optional<security::JwtAlgorithm> default_alg, bool allow_symmetric);

}  // namespace keel::security_internal

#endif  // KEEL_SRC_SECURITY_JOSE_CRYPTO_H_
