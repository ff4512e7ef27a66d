#include "jose_crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "jose_base64url.h"
#include "jose_json.h"
#include "keel/base/status_macros.h"

namespace keel::security_internal {
namespace {

using security::JwtAlgorithm;
using security::JwtAlgorithmName;

enum class Family { kHmac, kRsa, kPss, kEcdsa, kEdDsa };

struct AlgInfo {
  Family family;
  const char* digest;      // OpenSSL digest name, nullptr for EdDSA
  std::size_t size;        // HMAC output or ECDSA coordinate bytes
  const char* jwk_curve;   // JWK crv of ES*/EdDSA
  const char* group_name;  // OpenSSL group name of ES*
};

const AlgInfo& Info(JwtAlgorithm alg) {
  static const AlgInfo kInfo[] = {
      {Family::kHmac, "SHA256", 32, nullptr, nullptr},
      {Family::kHmac, "SHA384", 48, nullptr, nullptr},
      {Family::kHmac, "SHA512", 64, nullptr, nullptr},
      {Family::kRsa, "SHA256", 0, nullptr, nullptr},
      {Family::kRsa, "SHA384", 0, nullptr, nullptr},
      {Family::kRsa, "SHA512", 0, nullptr, nullptr},
      {Family::kPss, "SHA256", 0, nullptr, nullptr},
      {Family::kPss, "SHA384", 0, nullptr, nullptr},
      {Family::kPss, "SHA512", 0, nullptr, nullptr},
      {Family::kEcdsa, "SHA256", 32, "P-256", "prime256v1"},
      {Family::kEcdsa, "SHA384", 48, "P-384", "secp384r1"},
      {Family::kEcdsa, "SHA512", 66, "P-521", "secp521r1"},
      {Family::kEdDsa, nullptr, 0, "Ed25519", nullptr},
  };
  return kInfo[static_cast<int>(alg)];
}

absl::Status KeyError(std::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat("key: ", absl::string_view(message.data(), message.size())));
}

absl::string_view AlgName(JwtAlgorithm alg) {
  const std::string_view name = JwtAlgorithmName(alg);
  return absl::string_view(name.data(), name.size());
}

// Appends one DER INTEGER holding the unsigned big-endian `bytes`.
void PutDerInteger(const unsigned char* bytes, std::size_t len,
                   unsigned char*& out) {
  while (len > 1 && *bytes == 0) {
    ++bytes;
    --len;
  }
  const bool pad = (*bytes & 0x80) != 0;
  *out++ = 0x02;
  *out++ = static_cast<unsigned char>(len + (pad ? 1 : 0));
  if (pad) *out++ = 0x00;
  for (std::size_t i = 0; i < len; ++i) *out++ = bytes[i];
}

// JOSE's R||S (RFC 7518 section 3.4) to the DER ECDSA-Sig-Value OpenSSL
// verifies. Returns the DER length (the buffer holds at least 2*(66+3)+3).
std::size_t RawEcdsaToDer(std::string_view raw, std::size_t half,
                          unsigned char* der) {
  unsigned char body[2 * (66 + 3)];
  unsigned char* cursor = body;
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  PutDerInteger(bytes, half, cursor);
  PutDerInteger(bytes + half, half, cursor);
  const std::size_t body_len = static_cast<std::size_t>(cursor - body);
  unsigned char* out = der;
  *out++ = 0x30;
  if (body_len >= 0x80) *out++ = 0x81;
  *out++ = static_cast<unsigned char>(body_len);
  for (std::size_t i = 0; i < body_len; ++i) *out++ = body[i];
  return static_cast<std::size_t>(out - der);
}

bool PublicCheck(EVP_PKEY* pkey) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr);
  if (ctx == nullptr) return false;
  const bool ok = EVP_PKEY_public_check(ctx) == 1;
  EVP_PKEY_CTX_free(ctx);
  return ok;
}

// Builds a public key of OpenSSL type `type` from `params`; nullptr if
// OpenSSL refuses the parameters (for EC: a point not on the curve).
EVP_PKEY* FromData(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  if (params != nullptr && ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
      EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    pkey = nullptr;
  }
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  return pkey;
}

absl::StatusOr<std::string> Base64Member(const nlohmann::json& jwk,
                                         std::string_view name) {
  KEEL_ASSIGN_OR_RETURN(std::optional<std::string> text,
                        OptionalString(jwk, name, "JWK"));
  const absl::string_view label(name.data(), name.size());
  if (!text.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWK: missing \"", label, "\""));
  }
  std::string bytes;
  if (!Base64UrlDecode(*text, bytes) || bytes.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWK: \"", label, "\" is not non-empty base64url"));
  }
  return bytes;
}

absl::StatusOr<EVP_PKEY*> RsaFromJwk(const nlohmann::json& jwk) {
  KEEL_ASSIGN_OR_RETURN(std::string n, Base64Member(jwk, "n"));
  KEEL_ASSIGN_OR_RETURN(std::string e, Base64Member(jwk, "e"));
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                           static_cast<int>(n.size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()),
                           static_cast<int>(e.size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  EVP_PKEY* pkey = nullptr;
  if (bn_n != nullptr && bn_e != nullptr && bld != nullptr &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1) {
    pkey = FromData("RSA", bld);
  }
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  if (pkey == nullptr) return absl::InvalidArgumentError("JWK: bad RSA key");
  return pkey;
}

absl::StatusOr<EVP_PKEY*> EcFromJwk(const nlohmann::json& jwk,
                                    const AlgInfo& info) {
  KEEL_ASSIGN_OR_RETURN(std::string x, Base64Member(jwk, "x"));
  KEEL_ASSIGN_OR_RETURN(std::string y, Base64Member(jwk, "y"));
  // RFC 7518 section 6.2.1.2: coordinates are the full field size.
  if (x.size() != info.size || y.size() != info.size) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWK: \"x\" and \"y\" must be ", info.size, " bytes for ",
                     info.jwk_curve));
  }
  std::string point = "\x04" + x + y;
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  EVP_PKEY* pkey = nullptr;
  if (bld != nullptr &&
      OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                      info.group_name, 0) == 1 &&
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                       point.data(), point.size()) == 1) {
    pkey = FromData("EC", bld);
  }
  OSSL_PARAM_BLD_free(bld);
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWK: point is not on ", info.jwk_curve));
  }
  return pkey;
}

absl::StatusOr<EVP_PKEY*> Ed25519FromJwk(const nlohmann::json& jwk) {
  KEEL_ASSIGN_OR_RETURN(std::string x, Base64Member(jwk, "x"));
  if (x.size() != 32) {
    return absl::InvalidArgumentError("JWK: Ed25519 \"x\" must be 32 bytes");
  }
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  EVP_PKEY* pkey = nullptr;
  if (bld != nullptr &&
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, x.data(),
                                       x.size()) == 1) {
    pkey = FromData("ED25519", bld);
  }
  OSSL_PARAM_BLD_free(bld);
  if (pkey == nullptr)
    return absl::InvalidArgumentError("JWK: bad Ed25519 key");
  return pkey;
}

// The algorithm of a JWK: its `alg`, else `default_alg`, else the one its
// curve implies.
absl::StatusOr<JwtAlgorithm> JwkAlgorithm(
    const nlohmann::json& jwk, std::optional<JwtAlgorithm> default_alg,
    std::optional<JwtAlgorithm> from_curve) {
  KEEL_ASSIGN_OR_RETURN(std::optional<std::string> alg_name,
                        OptionalString(jwk, "alg", "JWK"));
  if (alg_name.has_value()) {
    std::optional<JwtAlgorithm> alg = security::ParseJwtAlgorithm(*alg_name);
    if (!alg.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("JWK: unsupported \"alg\" \"", *alg_name, "\""));
    }
    if (default_alg.has_value() && *default_alg != *alg) {
      return absl::InvalidArgumentError(
          absl::StrCat("JWK: \"alg\" ", *alg_name,
                       " differs from the expected ", AlgName(*default_alg)));
    }
    return *alg;
  }
  if (default_alg.has_value()) return *default_alg;
  if (from_curve.has_value()) return *from_curve;
  return absl::InvalidArgumentError(
      "JWK: no \"alg\" and none configured for this key type");
}

std::optional<JwtAlgorithm> AlgorithmOfCurve(std::string_view crv) {
  if (crv == "P-256") return JwtAlgorithm::kEs256;
  if (crv == "P-384") return JwtAlgorithm::kEs384;
  if (crv == "P-521") return JwtAlgorithm::kEs512;
  if (crv == "Ed25519") return JwtAlgorithm::kEdDsa;
  return std::nullopt;
}

absl::Status CheckUse(const nlohmann::json& jwk) {
  KEEL_ASSIGN_OR_RETURN(std::optional<std::string> use,
                        OptionalString(jwk, "use", "JWK"));
  if (use.has_value() && *use != "sig") {
    return absl::InvalidArgumentError(
        absl::StrCat("JWK: \"use\" is \"", *use, "\", not \"sig\""));
  }
  auto ops = jwk.find("key_ops");
  if (ops != jwk.end()) {
    bool verify = false;
    if (!ops->is_array()) {
      return absl::InvalidArgumentError("JWK: \"key_ops\" must be an array");
    }
    for (const auto& op : *ops) {
      if (op.is_string() && op.get_ref<const std::string&>() == "verify") {
        verify = true;
      }
    }
    if (!verify) {
      return absl::InvalidArgumentError(
          "JWK: \"key_ops\" does not include \"verify\"");
    }
  }
  if (jwk.contains("d") || jwk.contains("p") || jwk.contains("q")) {
    return absl::InvalidArgumentError(
        "JWK: private key members present; publish the public key only");
  }
  return absl::OkStatus();
}

}  // namespace

JoseKeyMaterial::JoseKeyMaterial(JwtAlgorithm alg) : alg_(alg) {
  for (auto& slot : idle_macs_) slot.store(nullptr, std::memory_order_relaxed);
}

JoseKeyMaterial::~JoseKeyMaterial() {
  for (auto& slot : idle_macs_) {
    EVP_MAC_CTX_free(slot.load(std::memory_order_acquire));
  }
  EVP_MD_CTX_free(verify_template_);
  EVP_PKEY_free(pkey_);
  EVP_MAC_CTX_free(mac_);
}

absl::StatusOr<std::shared_ptr<const JoseKeyMaterial>> JoseKeyMaterial::Hmac(
    JwtAlgorithm alg, std::string_view secret) {
  const AlgInfo& info = Info(alg);
  if (info.family != Family::kHmac) {
    return KeyError(
        absl::StrCat("an HMAC secret cannot be used with ", AlgName(alg)));
  }
  if (secret.size() < info.size) {
    return KeyError(absl::StrCat(AlgName(alg), " secret must be at least ",
                                 info.size, " bytes, got ", secret.size()));
  }
  std::shared_ptr<JoseKeyMaterial> key(new JoseKeyMaterial(alg));
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac != nullptr) key->mac_ = EVP_MAC_CTX_new(mac);
  EVP_MAC_free(mac);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                       const_cast<char*>(info.digest), 0),
      OSSL_PARAM_construct_end()};
  if (key->mac_ == nullptr ||
      EVP_MAC_init(key->mac_,
                   reinterpret_cast<const unsigned char*>(secret.data()),
                   secret.size(), params) != 1) {
    return absl::InternalError("key: OpenSSL could not set up HMAC");
  }
  return std::shared_ptr<const JoseKeyMaterial>(std::move(key));
}

absl::StatusOr<std::shared_ptr<const JoseKeyMaterial>>
JoseKeyMaterial::FromPkey(JwtAlgorithm alg, EVP_PKEY* pkey) {
  std::shared_ptr<JoseKeyMaterial> key(new JoseKeyMaterial(alg));
  key->pkey_ = pkey;  // freed with `key` on every error path
  const AlgInfo& info = Info(alg);
  switch (info.family) {
    case Family::kHmac:
      return KeyError(
          absl::StrCat("a public key cannot be used with ", AlgName(alg)));
    case Family::kRsa:
    case Family::kPss:
      if (!EVP_PKEY_is_a(pkey, "RSA")) {
        return KeyError(absl::StrCat(AlgName(alg), " needs an RSA key"));
      }
      if (EVP_PKEY_get_bits(pkey) < 2048) {
        return KeyError(absl::StrCat("RSA key has ", EVP_PKEY_get_bits(pkey),
                                     " bits; at least 2048 are required"));
      }
      if (!PublicCheck(pkey)) return KeyError("RSA public key is invalid");
      break;
    case Family::kEcdsa: {
      char group[64] = {0};
      std::size_t group_len = 0;
      if (!EVP_PKEY_is_a(pkey, "EC") ||
          EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                         group, sizeof(group),
                                         &group_len) != 1 ||
          (std::string_view(group) != info.group_name &&
           std::string_view(group) != info.jwk_curve)) {
        return KeyError(
            absl::StrCat(AlgName(alg), " needs an EC key on ", info.jwk_curve));
      }
      if (!PublicCheck(pkey)) return KeyError("EC public key is invalid");
      break;
    }
    case Family::kEdDsa:
      if (!EVP_PKEY_is_a(pkey, "ED25519")) {
        return KeyError("EdDSA needs an Ed25519 key");
      }
      return std::shared_ptr<const JoseKeyMaterial>(std::move(key));
  }
  key->verify_template_ = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pkey_ctx = nullptr;
  bool ok =
      key->verify_template_ != nullptr &&
      EVP_DigestVerifyInit_ex(key->verify_template_, &pkey_ctx, info.digest,
                              nullptr, nullptr, pkey, nullptr) == 1;
  if (ok && info.family == Family::kPss) {
    // RFC 7518 section 3.5: MGF1 with the same hash, salt = hash length.
    ok =
        EVP_PKEY_CTX_set_rsa_padding(pkey_ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pkey_ctx, RSA_PSS_SALTLEN_DIGEST) == 1;
  }
  if (!ok) {
    return absl::InternalError(absl::StrCat("key: OpenSSL could not set up ",
                                            AlgName(alg), " verification"));
  }
  return std::shared_ptr<const JoseKeyMaterial>(std::move(key));
}

EVP_MAC_CTX* JoseKeyMaterial::AcquireMac() const {
  for (auto& slot : idle_macs_) {
    // Look before exchanging, so that idle threads do not bounce the line.
    if (slot.load(std::memory_order_relaxed) == nullptr) continue;
    EVP_MAC_CTX* ctx = slot.exchange(nullptr, std::memory_order_acquire);
    if (ctx != nullptr) return ctx;
  }
  return EVP_MAC_CTX_dup(mac_);
}

void JoseKeyMaterial::ReleaseMac(EVP_MAC_CTX* ctx) const {
  // With no key, EVP_MAC_init restarts HMAC with the key already set
  // (OpenSSL 3.0 onwards), ready for the next verification.
  if (EVP_MAC_init(ctx, nullptr, 0, nullptr) == 1) {
    for (auto& slot : idle_macs_) {
      EVP_MAC_CTX* expected = nullptr;
      if (slot.load(std::memory_order_relaxed) == nullptr &&
          slot.compare_exchange_strong(expected, ctx, std::memory_order_release,
                                       std::memory_order_relaxed)) {
        return;
      }
    }
  }
  EVP_MAC_CTX_free(ctx);
}

bool JoseKeyMaterial::VerifyHmac(std::string_view signing_input,
                                 std::string_view signature) const {
  if (mac_ == nullptr || signature.size() != Info(alg_).size) return false;
  EVP_MAC_CTX* ctx = AcquireMac();
  if (ctx == nullptr) return false;
  unsigned char out[EVP_MAX_MD_SIZE];
  std::size_t out_len = 0;
  const bool computed =
      EVP_MAC_update(
          ctx, reinterpret_cast<const unsigned char*>(signing_input.data()),
          signing_input.size()) == 1 &&
      EVP_MAC_final(ctx, out, &out_len, sizeof(out)) == 1;
  if (computed) {
    ReleaseMac(ctx);
  } else {
    EVP_MAC_CTX_free(ctx);  // in an unknown state: never pooled
  }
  const bool equal = computed && out_len == signature.size() &&
                     CRYPTO_memcmp(out, signature.data(), out_len) == 0;
  OPENSSL_cleanse(out, sizeof(out));
  return equal;
}

bool JoseKeyMaterial::Verify(JwtAlgorithm alg, std::string_view signing_input,
                             std::string_view signature) const {
  if (alg != alg_) return false;
  const AlgInfo& info = Info(alg);
  if (info.family == Family::kHmac) {
    return VerifyHmac(signing_input, signature);
  }
  if (pkey_ == nullptr) return false;
  const auto* input =
      reinterpret_cast<const unsigned char*>(signing_input.data());
  const auto* sig = reinterpret_cast<const unsigned char*>(signature.data());
  std::size_t sig_len = signature.size();
  EVP_MD_CTX* md_ctx = EVP_MD_CTX_new();
  if (md_ctx == nullptr) return false;
  bool ok = false;
  if (info.family == Family::kEdDsa) {
    ok = signature.size() == 64 &&
         EVP_DigestVerifyInit(md_ctx, nullptr, nullptr, nullptr, pkey_) == 1 &&
         EVP_DigestVerify(md_ctx, sig, sig_len, input, signing_input.size()) ==
             1;
  } else {
    unsigned char der[2 * (66 + 3) + 3];
    if (info.family == Family::kEcdsa) {
      // Only the fixed-size form is JOSE; anything else (notably DER) fails.
      if (signature.size() != 2 * info.size) {
        EVP_MD_CTX_free(md_ctx);
        return false;
      }
      sig_len = RawEcdsaToDer(signature, info.size, der);
      sig = der;
    }
    ok = EVP_MD_CTX_copy_ex(md_ctx, verify_template_) == 1;
    // The copy is used once: Final need not preserve it (saves a context
    // duplication inside OpenSSL).
    EVP_MD_CTX_set_flags(md_ctx, EVP_MD_CTX_FLAG_FINALISE);
    ok = ok &&
         EVP_DigestVerifyUpdate(md_ctx, input, signing_input.size()) == 1 &&
         EVP_DigestVerifyFinal(md_ctx, sig, sig_len) == 1;
  }
  EVP_MD_CTX_free(md_ctx);
  return ok;
}

absl::StatusOr<security::JwtKey> KeyFromJwk(
    const nlohmann::json& jwk, std::optional<JwtAlgorithm> default_alg,
    bool allow_symmetric) {
  KEEL_ASSIGN_OR_RETURN(std::optional<std::string> kty,
                        OptionalString(jwk, "kty", "JWK"));
  KEEL_ASSIGN_OR_RETURN(std::optional<std::string> kid,
                        OptionalString(jwk, "kid", "JWK"));
  if (!kty.has_value())
    return absl::InvalidArgumentError("JWK: missing \"kty\"");
  std::string key_id = kid.value_or("");

  if (*kty == "oct") {
    if (!allow_symmetric) {
      return absl::InvalidArgumentError(
          "JWK: symmetric (oct) keys are not accepted in a key set");
    }
    KEEL_ASSIGN_OR_RETURN(std::optional<std::string> use,
                          OptionalString(jwk, "use", "JWK"));
    if (use.has_value() && *use != "sig") {
      return absl::InvalidArgumentError("JWK: \"use\" is not \"sig\"");
    }
    KEEL_ASSIGN_OR_RETURN(JwtAlgorithm alg,
                          JwkAlgorithm(jwk, default_alg, std::nullopt));
    KEEL_ASSIGN_OR_RETURN(std::string secret, Base64Member(jwk, "k"));
    KEEL_ASSIGN_OR_RETURN(auto material, JoseKeyMaterial::Hmac(alg, secret));
    return security::JwtKey(alg, std::move(key_id), std::move(material));
  }

  KEEL_RETURN_IF_ERROR(CheckUse(jwk));
  EVP_PKEY* pkey = nullptr;
  JwtAlgorithm alg;
  if (*kty == "RSA") {
    KEEL_ASSIGN_OR_RETURN(alg, JwkAlgorithm(jwk, default_alg, std::nullopt));
    const Family family = Info(alg).family;
    if (family != Family::kRsa && family != Family::kPss) {
      return absl::InvalidArgumentError(
          absl::StrCat("JWK: an RSA key cannot be used with ", AlgName(alg)));
    }
    KEEL_ASSIGN_OR_RETURN(pkey, RsaFromJwk(jwk));
  } else if (*kty == "EC" || *kty == "OKP") {
    KEEL_ASSIGN_OR_RETURN(std::optional<std::string> crv,
                          OptionalString(jwk, "crv", "JWK"));
    std::optional<JwtAlgorithm> curve_alg =
        crv.has_value() ? AlgorithmOfCurve(*crv) : std::nullopt;
    const bool okp = *kty == "OKP";
    if (!curve_alg.has_value() ||
        (okp != (*curve_alg == JwtAlgorithm::kEdDsa))) {
      return absl::InvalidArgumentError(
          absl::StrCat("JWK: unsupported \"crv\" \"", crv.value_or(""),
                       "\" for kty ", *kty));
    }
    KEEL_ASSIGN_OR_RETURN(alg, JwkAlgorithm(jwk, default_alg, curve_alg));
    if (alg != *curve_alg) {
      return absl::InvalidArgumentError(absl::StrCat(
          "JWK: curve ", *crv, " cannot be used with ", AlgName(alg)));
    }
    if (okp) {
      KEEL_ASSIGN_OR_RETURN(pkey, Ed25519FromJwk(jwk));
    } else {
      KEEL_ASSIGN_OR_RETURN(pkey, EcFromJwk(jwk, Info(alg)));
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("JWK: unsupported \"kty\" \"", *kty, "\""));
  }
  KEEL_ASSIGN_OR_RETURN(auto material, JoseKeyMaterial::FromPkey(alg, pkey));
  return security::JwtKey(alg, std::move(key_id), std::move(material));
}

}  // namespace keel::security_internal
