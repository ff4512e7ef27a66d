// Fuzzes the JWKS and JWK parsers. Invariants: a parsed set is non-empty and
// each key's algorithm name parses back to it; refusals are always
// kInvalidArgument (bad input is never an internal error or a crash).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "keel/security/jwks.h"
#include "keel/security/jwt_key.h"

// Declared here because -Wmissing-declarations wants a prior declaration.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto set = keel::security::ParseJwks(text);
  if (set.ok()) {
    if (set->keys.empty()) std::abort();
    for (const auto& key : set->keys) {
      if (keel::security::ParseJwtAlgorithm(keel::security::JwtAlgorithmName(
              key.algorithm())) != key.algorithm()) {
        std::abort();
      }
      // Garbage never verifies.
      if (key.Verify("a.b", "")) std::abort();
    }
  } else if (set.status().code() != absl::StatusCode::kInvalidArgument) {
    std::abort();
  }
  auto key = keel::security::JwtKey::FromJwk(text);
  if (!key.ok() && key.status().code() != absl::StatusCode::kInvalidArgument) {
    std::abort();
  }
  return 0;
}
