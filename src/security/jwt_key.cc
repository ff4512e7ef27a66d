#include "keel/security/jwt_key.h"

#include <openssl/bio.h>
#include <openssl/pem.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "jose_crypto.h"
#include "jose_json.h"
#include "keel/base/status_macros.h"

namespace keel::security {
namespace {

constexpr std::string_view kAlgorithmNames[] = {
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256",
    "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"};

}  // namespace

std::string_view JwtAlgorithmName(JwtAlgorithm alg) {
  return kAlgorithmNames[static_cast<int>(alg)];
}

std::optional<JwtAlgorithm> ParseJwtAlgorithm(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kAlgorithmNames); ++i) {
    if (kAlgorithmNames[i] == name) return static_cast<JwtAlgorithm>(i);
  }
  return std::nullopt;
}

JwtKey::JwtKey(
    JwtAlgorithm alg, std::string kid,
    std::shared_ptr<const security_internal::JoseKeyMaterial> material)
    : alg_(alg), kid_(std::move(kid)), material_(std::move(material)) {}

absl::StatusOr<JwtKey> JwtKey::FromHmacSecret(JwtAlgorithm alg,
                                              std::string_view secret,
                                              std::string kid) {
  KEEL_ASSIGN_OR_RETURN(auto material,
                        security_internal::JoseKeyMaterial::Hmac(alg, secret));
  return JwtKey(alg, std::move(kid), std::move(material));
}

absl::StatusOr<JwtKey> JwtKey::FromPublicKeyPem(JwtAlgorithm alg,
                                                std::string_view pem,
                                                std::string kid) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* pkey = bio != nullptr
                       ? PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr)
                       : nullptr;
  BIO_free(bio);
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(
        "key: PEM is not a SubjectPublicKeyInfo public key");
  }
  KEEL_ASSIGN_OR_RETURN(
      auto material, security_internal::JoseKeyMaterial::FromPkey(alg, pkey));
  return JwtKey(alg, std::move(kid), std::move(material));
}

absl::StatusOr<JwtKey> JwtKey::FromJwk(
    std::string_view jwk_json, std::optional<JwtAlgorithm> default_alg) {
  KEEL_ASSIGN_OR_RETURN(nlohmann::json jwk,
                        security_internal::ParseJsonObject(jwk_json, "JWK"));
  return security_internal::KeyFromJwk(jwk, default_alg,
                                       /*allow_symmetric=*/true);
}

bool JwtKey::Verify(std::string_view signing_input,
                    std::string_view signature) const {
  return material_ != nullptr &&
         material_->Verify(alg_, signing_input, signature);
}

}  // namespace keel::security
