// Fuzzes keel::security::JwtVerifier::Verify with an HS256 policy.
// Invariants: every refusal carries a JwtFailure reason; an accepted token
// has exactly three non-padded parts and verifies again to the same claims.
// The JOSE JSON scanner is also compared with nlohmann_json (see
// tests/security/jose_json_differential.h for what must agree) on the input
// itself and on every dot-separated part that is strict base64url, so that
// the fuzzer explores both raw JSON and JSON inside tokens.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "../security/jose_json_differential.h"
#include "keel/base/clock.h"
#include "keel/security/jwt.h"
#include "security/jose_base64url.h"

namespace {

keel::security::JwtVerifier& Verifier() {
  static keel::ManualClock* clock = new keel::ManualClock(
      std::chrono::seconds(1000), std::chrono::seconds(1700000000));
  static keel::security::JwtVerifier* verifier = [] {
    keel::security::JwtVerifierOptions options;
    keel::security::JwtIssuer issuer;
    issuer.issuer = "https://issuer.example";
    issuer.keys.push_back(*keel::security::JwtKey::FromHmacSecret(
        keel::security::JwtAlgorithm::kHs256,
        "0123456789abcdef0123456789abcdef", "k1"));
    options.issuers.push_back(std::move(issuer));
    options.algorithms = {keel::security::JwtAlgorithm::kHs256};
    options.audiences = {"api"};
    options.critical_headers = {"tenant"};
    options.clock = clock;
    return keel::security::JwtVerifier::Create(std::move(options))
        .value()
        .release();
  }();
  return *verifier;
}

void CompareParsers(std::string_view json) {
  const std::string diff = keel::security_test::CompareWithNlohmann(json);
  if (!diff.empty()) {
    std::fprintf(stderr, "JSON parsers disagree: %s\n", diff.c_str());
    std::abort();
  }
}

}  // namespace

// Declared here because -Wmissing-declarations wants a prior declaration.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view token(reinterpret_cast<const char*>(data), size);
  CompareParsers(token);
  std::string decoded;
  for (std::size_t start = 0; start <= token.size();) {
    std::size_t dot = token.find('.', start);
    if (dot == std::string_view::npos) dot = token.size();
    if (keel::security_internal::Base64UrlDecode(
            token.substr(start, dot - start), decoded)) {
      CompareParsers(decoded);
    }
    start = dot + 1;
  }
  auto jwt = Verifier().Verify(token);
  if (!jwt.ok()) {
    if (!keel::security::GetJwtFailure(jwt.status()).has_value()) std::abort();
    return 0;
  }
  std::size_t dots = 0;
  for (char c : token) {
    if (c == '.') ++dots;
    if (c == '=') std::abort();
  }
  if (dots != 2) std::abort();
  auto again = Verifier().Verify(token);
  if (!again.ok() || again->claims != jwt->claims) std::abort();
  return 0;
}
