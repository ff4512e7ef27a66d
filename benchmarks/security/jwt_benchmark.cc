// JWT verification: keel's full Verify() (size check, base64url, JSON with
// duplicate detection, key look-up, signature, claims) against the raw
// OpenSSL EVP operation on the same token (signature only, key and signature
// decoded in advance). Tokens and keys come from
// tests/security/testdata/jwt_vectors.json (made by the jose npm package).
// The raw RS256/ES256 baselines call EVP_DigestVerifyInit per token, as a
// plain EVP user would; keel copies a context set up once per key, which
// saves more than its parsing costs, so keel can come out ahead.

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "benchmark/benchmark.h"
#include "keel/base/clock.h"
#include "keel/security/jwks.h"
#include "keel/security/jwt.h"
#include "nlohmann/json.hpp"

namespace {

using keel::security::JwtAlgorithm;

const nlohmann::json& Vectors() {
  static const nlohmann::json* const kVectors = [] {
    std::ifstream in(std::string(KEEL_JWT_TESTDATA_DIR) + "/jwt_vectors.json");
    std::stringstream buffer;
    buffer << in.rdbuf();
    return new nlohmann::json(nlohmann::json::parse(buffer.str()));
  }();
  return *kVectors;
}

std::string Token(const std::string& name) {
  for (const auto& c : Vectors()["cases"]) {
    if (c["name"] == name) return c["token"].get<std::string>();
  }
  std::abort();
}

std::string Unb64(std::string s) {
  for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (s.size() % 4 != 0) s.push_back('=');
  std::string out(s.size(), '\0');
  const int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()),
                      static_cast<int>(s.size()));
  std::size_t pad = 0;
  for (auto it = s.rbegin(); it != s.rend() && *it == '='; ++it) ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

const nlohmann::json& Jwk(const std::string& kid) {
  for (const auto& k : Vectors()["jwks"]["keys"]) {
    if (k["kid"] == kid) return k;
  }
  std::abort();
}

std::unique_ptr<keel::security::JwtVerifier> MakeVerifier(JwtAlgorithm alg) {
  static keel::ManualClock* clock = new keel::ManualClock(
      std::chrono::seconds(1000),
      std::chrono::seconds(Vectors()["now"].get<std::int64_t>()));
  keel::security::JwtVerifierOptions options;
  keel::security::JwtIssuer issuer;
  issuer.issuer = Vectors()["issuer"].get<std::string>();
  for (const auto& oct : Vectors()["oct_keys"]["keys"]) {
    if (oct["alg"] == "HS256") {
      issuer.keys.push_back(*keel::security::JwtKey::FromJwk(oct.dump()));
    }
  }
  const keel::security::JwkSet set =
      keel::security::ParseJwks(Vectors()["jwks"].dump()).value();
  for (const auto& key : set.keys) {
    if (key.algorithm() == alg) issuer.keys.push_back(key);
  }

  options.issuers.push_back(std::move(issuer));
  options.algorithms = {alg};
  if (alg != JwtAlgorithm::kHs256)
    options.algorithms.push_back(JwtAlgorithm::kHs256);
  options.audiences = {Vectors()["audience"].get<std::string>()};
  options.clock = clock;
  return keel::security::JwtVerifier::Create(std::move(options)).value();
}

void KeelVerify(benchmark::State& state, JwtAlgorithm alg,
                const std::string& case_name) {
  auto verifier = MakeVerifier(alg);
  const std::string token = Token(case_name);
  for (auto _ : state) {
    auto jwt = verifier->Verify(token);
    if (!jwt.ok()) state.SkipWithError("verification failed");
    benchmark::DoNotOptimize(jwt);
  }
}

void BM_Keel_VerifyHs256(benchmark::State& state) {
  KeelVerify(state, JwtAlgorithm::kHs256, "valid_HS256");
}

// One-shot HMAC through EVP_MAC with the key set up in advance, then a
// constant-time compare: the least any HS256 check must do.
void BM_Baseline_VerifyHs256(benchmark::State& state) {
  const std::string token = Token("valid_HS256");
  const std::size_t dot = token.rfind('.');
  const std::string input = token.substr(0, dot);
  const std::string sig = Unb64(token.substr(dot + 1));
  std::string secret;
  for (const auto& oct : Vectors()["oct_keys"]["keys"]) {
    if (oct["alg"] == "HS256") secret = Unb64(oct["k"].get<std::string>());
  }
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* keyed = EVP_MAC_CTX_new(mac);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                       const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_end()};
  EVP_MAC_init(keyed, reinterpret_cast<const unsigned char*>(secret.data()),
               secret.size(), params);
  for (auto _ : state) {
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(keyed);
    unsigned char out[EVP_MAX_MD_SIZE];
    std::size_t len = 0;
    EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    EVP_MAC_final(ctx, out, &len, sizeof(out));
    EVP_MAC_CTX_free(ctx);
    if (len != sig.size() || CRYPTO_memcmp(out, sig.data(), len) != 0) {
      state.SkipWithError("bad MAC");
    }
  }
  EVP_MAC_CTX_free(keyed);
  EVP_MAC_free(mac);
}

// EVP_DigestVerifyInit + EVP_DigestVerify over the token's signing input.
void RawVerify(benchmark::State& state, EVP_PKEY* pkey, const EVP_MD* md,
               const std::string& token, std::string sig) {
  const std::string input = token.substr(0, token.rfind('.'));
  for (auto _ : state) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool ok =
        EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, pkey) == 1 &&
        EVP_DigestVerify(
            ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
            reinterpret_cast<const unsigned char*>(input.data()),
            input.size()) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) state.SkipWithError("bad signature");
  }
  EVP_PKEY_free(pkey);
}

void BM_Keel_VerifyRs256(benchmark::State& state) {
  KeelVerify(state, JwtAlgorithm::kRs256, "valid_RS256");
}

void BM_Baseline_VerifyRs256(benchmark::State& state) {
  const std::string pem = Vectors()["rs256_public_pem"].get<std::string>();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  const std::string token = Token("valid_RS256");
  RawVerify(state, pkey, EVP_sha256(), token,
            Unb64(token.substr(token.rfind('.') + 1)));
}

void BM_Keel_VerifyEs256(benchmark::State& state) {
  KeelVerify(state, JwtAlgorithm::kEs256, "valid_ES256");
}

void BM_Baseline_VerifyEs256(benchmark::State& state) {
  const nlohmann::json& jwk = Jwk("es256");
  const std::string point = "\x04" + Unb64(jwk["x"].get<std::string>()) +
                            Unb64(jwk["y"].get<std::string>());
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                   point.size());
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* pkey = nullptr;
  EVP_PKEY_fromdata_init(ctx);
  EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  // The DER form OpenSSL verifies, converted once outside the loop.
  const std::string token = Token("valid_ES256");
  const std::string raw = Unb64(token.substr(token.rfind('.') + 1));
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(
      sig,
      BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32,
                nullptr),
      BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32,
                nullptr));
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig, &der);
  std::string der_sig(reinterpret_cast<char*>(der),
                      static_cast<std::size_t>(der_len));
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  RawVerify(state, pkey, EVP_sha256(), token, der_sig);
}

BENCHMARK(BM_Keel_VerifyHs256);
BENCHMARK(BM_Baseline_VerifyHs256);
BENCHMARK(BM_Keel_VerifyRs256);
BENCHMARK(BM_Baseline_VerifyRs256);
BENCHMARK(BM_Keel_VerifyEs256);
BENCHMARK(BM_Baseline_VerifyEs256);

}  // namespace

BENCHMARK_MAIN();
