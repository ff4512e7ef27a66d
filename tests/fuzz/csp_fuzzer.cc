// Fuzzes the Content-Security-Policy parser and validator. Invariants: an
// accepted policy has a default-src and no directive twice; its serialization
// parses back to the same policy; no source contains ';', ',', whitespace or
// control bytes (so the header cannot be split or extended); a policy with a
// nonce adds exactly `'nonce-<n>'` to its nonce directives.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "keel/security/csp.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

void CheckPolicy(std::string_view text,
                 const keel::security::CspOptions& options) {
  auto policy = keel::security::ContentSecurityPolicy::Parse(text, options);
  if (!policy.ok()) return;
  std::set<std::string> names;
  bool default_src = false;
  for (const auto& d : policy->directives()) {
    Check(names.insert(d.name).second);
    default_src = default_src || d.name == "default-src";
    for (const auto& s : d.sources) {
      for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        Check(c != ';' && c != ',' && u > 0x20 && u < 0x7f);
      }
    }
  }
  Check(default_src);
  auto again =
      keel::security::ContentSecurityPolicy::Parse(policy->value(), options);
  Check(again.ok());
  Check(again->value() == policy->value());
  Check(again->directives().size() == policy->directives().size());
  if (policy->uses_nonce()) {
    const std::string with = policy->WithNonce("AAAA");
    Check(with.size() == policy->value().size() +
                             options.nonce_directives.size() *
                                 std::string_view(" 'nonce-AAAA'").size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  if (size > 4096) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  keel::security::CspOptions plain;
  CheckPolicy(input, plain);
  keel::security::CspOptions helmet;
  helmet.separator = ";";
  CheckPolicy(input, helmet);
  keel::security::CspOptions nonce;
  nonce.nonce_directives = {"script-src"};
  CheckPolicy(input, nonce);
  return 0;
}
