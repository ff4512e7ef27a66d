// Fuzzes keel::security::JwtVerifier::Verify with an HS256 policy.
// Invariants: every refusal carries a JwtFailure reason; an accepted token
// has exactly three non-padded parts and verifies again to the same claims.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "keel/base/clock.h"
#include "keel/security/jwt.h"

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

}  // namespace

// Declared here because -Wmissing-declarations wants a prior declaration.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view token(reinterpret_cast<const char*>(data), size);
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
