#include "keel/security/csp.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "keel/security/http_fields.h"
#include "text.h"

namespace keel {
namespace security {
namespace {

using security_internal::AsciiLowerCopy;

enum class Kind {
  kSourceList,  // fetch directives and friends: at least one source
  kNoValue,     // upgrade-insecure-requests, block-all-mixed-content
  kTokens,      // sandbox, trusted-types, ...: zero or more tokens
  kOneToken,    // report-to
  kUris,        // report-uri: one or more URIs
};

struct DirectiveSpec {
  std::string_view name;
  Kind kind;
};

constexpr DirectiveSpec kDirectives[] = {
    {"default-src", Kind::kSourceList},
    {"script-src", Kind::kSourceList},
    {"script-src-elem", Kind::kSourceList},
    {"script-src-attr", Kind::kSourceList},
    {"style-src", Kind::kSourceList},
    {"style-src-elem", Kind::kSourceList},
    {"style-src-attr", Kind::kSourceList},
    {"img-src", Kind::kSourceList},
    {"font-src", Kind::kSourceList},
    {"connect-src", Kind::kSourceList},
    {"media-src", Kind::kSourceList},
    {"object-src", Kind::kSourceList},
    {"frame-src", Kind::kSourceList},
    {"child-src", Kind::kSourceList},
    {"worker-src", Kind::kSourceList},
    {"manifest-src", Kind::kSourceList},
    {"fenced-frame-src", Kind::kSourceList},
    {"base-uri", Kind::kSourceList},
    {"form-action", Kind::kSourceList},
    {"frame-ancestors", Kind::kSourceList},
    {"sandbox", Kind::kTokens},
    {"upgrade-insecure-requests", Kind::kNoValue},
    {"block-all-mixed-content", Kind::kNoValue},
    {"require-trusted-types-for", Kind::kTokens},
    {"trusted-types", Kind::kTokens},
    {"webrtc", Kind::kOneToken},
    {"report-to", Kind::kOneToken},
    {"report-uri", Kind::kUris},
};

const DirectiveSpec* FindDirective(std::string_view name) {
  for (const auto& spec : kDirectives) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

constexpr std::string_view kKeywords[] = {
    "self",
    "none",
    "unsafe-inline",
    "unsafe-eval",
    "strict-dynamic",
    "unsafe-hashes",
    "report-sample",
    "wasm-unsafe-eval",
    "inline-speculation-rules",
    "unsafe-allow-redirects",
};

bool IsKeyword(std::string_view s) {
  for (auto k : kKeywords) {
    if (EqualsIgnoreCase(s, k)) return true;
  }
  return false;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

constexpr std::string_view kCryptoPrefixes[] = {"nonce-", "sha256-", "sha384-",
                                                "sha512-"};

bool HasCryptoPrefix(std::string_view s) {
  for (auto p : kCryptoPrefixes) {
    if (StartsWithIgnoreCase(s, p)) return true;
  }
  return false;
}

// A nonce or hash source ('nonce-...', 'sha256-...').
bool IsCryptoSource(std::string_view source) {
  return source.size() > 2 && source.front() == '\'' &&
         HasCryptoPrefix(source.substr(1));
}

absl::Status Invalid(std::string_view directive, std::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("Content-Security-Policy directive \"",
                   std::string(directive), "\": ", std::string(problem)));
}

absl::Status CheckSourceChars(std::string_view directive,
                              std::string_view source) {
  if (source.empty()) return Invalid(directive, "empty source");
  for (char c : source) {
    const auto u = static_cast<unsigned char>(c);
    if (c == ';' || c == ',') {
      return Invalid(directive, absl::StrCat("source \"", std::string(source),
                                             "\" contains ';' or ','"));
    }
    if (u <= 0x20 || u >= 0x7f) {
      return Invalid(directive,
                     absl::StrCat("source \"", std::string(source),
                                  "\" contains whitespace, a control "
                                  "character or a non-ASCII byte"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSource(std::string_view directive, std::string_view source) {
  if (absl::Status s = CheckSourceChars(directive, source); !s.ok()) return s;
  if (source.front() == '\'') {
    if (source.size() < 3 || source.back() != '\'') {
      return Invalid(directive,
                     absl::StrCat("badly quoted source ", std::string(source)));
    }
    const std::string_view inner = source.substr(1, source.size() - 2);
    if (IsKeyword(inner)) return absl::OkStatus();
    for (auto prefix : kCryptoPrefixes) {
      if (StartsWithIgnoreCase(inner, prefix)) {
        if (!security_internal::IsCspBase64(inner.substr(prefix.size()))) {
          return Invalid(directive, absl::StrCat("source ", std::string(source),
                                                 " is not base64 after ",
                                                 std::string(prefix)));
        }
        return absl::OkStatus();
      }
    }
    return Invalid(directive,
                   absl::StrCat("unknown quoted source ", std::string(source)));
  }
  if (IsKeyword(source) || HasCryptoPrefix(source)) {
    return Invalid(directive, absl::StrCat("source \"", std::string(source),
                                           "\" must be single-quoted: '",
                                           std::string(source), "'"));
  }
  return absl::OkStatus();
}

absl::Status CheckDirective(const CspDirective& d, const CspOptions& options) {
  const DirectiveSpec* spec = FindDirective(d.name);
  if (spec == nullptr) return Invalid(d.name, "unknown directive name");
  const bool nonce_directive =
      std::find(options.nonce_directives.begin(),
                options.nonce_directives.end(),
                d.name) != options.nonce_directives.end();
  switch (spec->kind) {
    case Kind::kNoValue:
      if (!d.sources.empty()) return Invalid(d.name, "takes no value");
      return absl::OkStatus();
    case Kind::kOneToken:
      if (d.sources.size() != 1) {
        return Invalid(d.name, "takes exactly one value");
      }
      if (!security_internal::IsToken(d.sources[0])) {
        return Invalid(d.name,
                       absl::StrCat("\"", d.sources[0], "\" is not a token"));
      }
      return absl::OkStatus();
    case Kind::kTokens:
      for (const auto& t : d.sources) {
        if (absl::Status s = CheckSourceChars(d.name, t); !s.ok()) return s;
      }
      return absl::OkStatus();
    case Kind::kUris:
      if (d.sources.empty()) return Invalid(d.name, "needs at least one URI");
      for (const auto& t : d.sources) {
        if (absl::Status s = CheckSourceChars(d.name, t); !s.ok()) return s;
      }
      return absl::OkStatus();
    case Kind::kSourceList:
      break;
  }
  if (d.sources.empty() && !nonce_directive) {
    return Invalid(d.name, "needs at least one source (use 'none')");
  }
  bool has_none = false;
  bool has_crypto = nonce_directive;
  bool has_strict_dynamic = false;
  for (const auto& source : d.sources) {
    if (absl::Status s = CheckSource(d.name, source); !s.ok()) return s;
    if (EqualsIgnoreCase(source, "'none'")) has_none = true;
    if (EqualsIgnoreCase(source, "'strict-dynamic'")) has_strict_dynamic = true;
    if (IsCryptoSource(source)) has_crypto = true;
  }
  if (has_none && (d.sources.size() > 1 || nonce_directive)) {
    return Invalid(d.name, "'none' must be the only source");
  }
  if (has_strict_dynamic && !has_crypto) {
    return Invalid(d.name,
                   "'strict-dynamic' needs a nonce or a hash source in the "
                   "same directive");
  }
  return absl::OkStatus();
}

std::string Serialize(const std::vector<CspDirective>& directives,
                      const CspOptions& options, std::string_view nonce) {
  std::string out;
  for (std::size_t i = 0; i < directives.size(); ++i) {
    const CspDirective& d = directives[i];
    if (i > 0) out.append(options.separator);
    out.append(d.name);
    for (const auto& source : d.sources) {
      out.push_back(' ');
      out.append(source);
    }
    if (!nonce.empty() && std::find(options.nonce_directives.begin(),
                                    options.nonce_directives.end(),
                                    d.name) != options.nonce_directives.end()) {
      out.append(" 'nonce-");
      out.append(nonce.data(), nonce.size());
      out.push_back('\'');
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<ContentSecurityPolicy> ContentSecurityPolicy::Create(
    std::vector<CspDirective> directives, CspOptions options) {
  if (options.separator != ";" && options.separator != "; ") {
    return absl::InvalidArgumentError(
        "CspOptions.separator must be \";\" or \"; \"");
  }
  bool has_default_src = false;
  for (std::size_t i = 0; i < directives.size(); ++i) {
    CspDirective& d = directives[i];
    d.name = AsciiLowerCopy(d.name);
    for (std::size_t j = 0; j < i; ++j) {
      if (directives[j].name == d.name) {
        return Invalid(d.name, "appears more than once");
      }
    }
    if (absl::Status s = CheckDirective(d, options); !s.ok()) return s;
    if (d.name == "default-src") has_default_src = true;
  }
  if (!has_default_src) {
    return absl::InvalidArgumentError(
        "Content-Security-Policy needs a default-src directive");
  }
  for (auto& name : options.nonce_directives) {
    name = AsciiLowerCopy(name);
    const DirectiveSpec* spec = FindDirective(name);
    if (spec == nullptr || spec->kind != Kind::kSourceList) {
      return absl::InvalidArgumentError(
          absl::StrCat("CspOptions.nonce_directives: \"", name,
                       "\" is not a source-list directive"));
    }
    const bool present =
        std::any_of(directives.begin(), directives.end(),
                    [&](const CspDirective& d) { return d.name == name; });
    if (!present) {
      return absl::InvalidArgumentError(absl::StrCat(
          "CspOptions.nonce_directives: \"", name, "\" is not in the policy"));
    }
  }
  ContentSecurityPolicy policy;
  policy.value_ = Serialize(directives, options, {});
  policy.directives_ = std::move(directives);
  policy.options_ = std::move(options);
  return policy;
}

absl::StatusOr<ContentSecurityPolicy> ContentSecurityPolicy::Parse(
    std::string_view text, CspOptions options) {
  std::vector<CspDirective> directives;
  while (true) {
    const std::size_t semi = text.find(';');
    std::string_view part = text.substr(0, semi);
    CspDirective directive;
    bool first = true;
    while (!part.empty()) {
      const std::size_t start = part.find_first_not_of(" \t");
      if (start == std::string_view::npos) break;
      part.remove_prefix(start);
      const std::size_t end = part.find_first_of(" \t");
      const std::string_view token = part.substr(0, end);
      if (first) {
        directive.name = std::string(token);
        first = false;
      } else {
        directive.sources.emplace_back(token);
      }
      part.remove_prefix(end == std::string_view::npos ? part.size() : end);
    }
    if (!first) directives.push_back(std::move(directive));
    if (semi == std::string_view::npos) break;
    text.remove_prefix(semi + 1);
  }
  return Create(std::move(directives), std::move(options));
}

std::string_view ContentSecurityPolicy::report_to() const {
  for (const auto& d : directives_) {
    if (d.name == "report-to") return d.sources.front();
  }
  return {};
}

std::string ContentSecurityPolicy::WithNonce(std::string_view nonce) const {
  return Serialize(directives_, options_, nonce);
}

absl::StatusOr<std::string> GenerateCspNonce() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return absl::InternalError("RAND_bytes failed to produce a CSP nonce");
  }
  return security_internal::Base64Encode(bytes, sizeof(bytes));
}

std::string CspHashSource(std::string_view content,
                          CspHashAlgorithm algorithm) {
  const EVP_MD* md = EVP_sha256();
  std::string_view prefix = "'sha256-";
  if (algorithm == CspHashAlgorithm::kSha384) {
    md = EVP_sha384();
    prefix = "'sha384-";
  } else if (algorithm == CspHashAlgorithm::kSha512) {
    md = EVP_sha512();
    prefix = "'sha512-";
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  // EVP_Digest fails only when OpenSSL cannot allocate; the hash is then
  // empty and the source is refused by any policy validation.
  EVP_Digest(content.data(), content.size(), digest, &length, md, nullptr);
  std::string out(prefix);
  out.append(security_internal::Base64Encode(digest, length));
  out.push_back('\'');
  return out;
}

}  // namespace security
}  // namespace keel
