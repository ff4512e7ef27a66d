#include "keel/security/cookie.h"

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "keel/security/http_fields.h"
#include "text.h"

namespace keel {
namespace security {
namespace {

// RFC 6265 cookie-octet.
bool IsCookieOctet(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == 0x21 || (u >= 0x23 && u <= 0x2b) || (u >= 0x2d && u <= 0x3a) ||
         (u >= 0x3c && u <= 0x5b) || (u >= 0x5d && u <= 0x7e);
}

bool IsCookieValue(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
    v = v.substr(1, v.size() - 2);
  }
  for (char c : v) {
    if (!IsCookieOctet(c)) return false;
  }
  return true;
}

// An attribute value: no ';' and no control characters.
bool IsAttributeValue(std::string_view v) {
  return security_internal::IsFieldValue(v) &&
         v.find(';') == std::string_view::npos &&
         v.find('\t') == std::string_view::npos;
}

bool IsDomain(std::string_view d) {
  if (!d.empty() && d.front() == '.') d.remove_prefix(1);
  if (d.empty() || d.size() > 253) return false;
  for (char c : d) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok) return false;
  }
  return d.front() != '.' && d.back() != '.' &&
         d.find("..") == std::string_view::npos;
}

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("BuildSetCookie: ", std::string(what)));
}

}  // namespace

absl::StatusOr<std::string> BuildSetCookie(std::string_view name,
                                           std::string_view value,
                                           const CookieOptions& options) {
  if (!security_internal::IsToken(name)) return Bad("name is not a token");
  if (name.size() >= 7 && (EqualsIgnoreCase(name.substr(0, 7), "__Host-"))) {
    return Bad("name starts with __Host-; use CookieOptions.prefix");
  }
  if (name.size() >= 9 && EqualsIgnoreCase(name.substr(0, 9), "__Secure-")) {
    return Bad("name starts with __Secure-; use CookieOptions.prefix");
  }
  if (!IsCookieValue(value)) {
    return Bad(
        "value contains a character outside cookie-octet "
        "(space, '\"', ',', ';', '\\' or a control character)");
  }
  if (options.path.empty() || options.path.front() != '/' ||
      !IsAttributeValue(options.path)) {
    return Bad(
        "CookieOptions.path must start with '/' and contain no ';' or "
        "control characters");
  }
  if (!options.domain.empty() && !IsDomain(options.domain)) {
    return Bad("CookieOptions.domain is not a host name");
  }
  if (options.max_age && options.max_age->count() < 0) {
    return Bad("CookieOptions.max_age is negative");
  }
  if (options.prefix != CookiePrefix::kNone && !options.secure) {
    return Bad("the __Host-/__Secure- prefix needs CookieOptions.secure");
  }
  if (options.prefix == CookiePrefix::kHost &&
      (options.path != "/" || !options.domain.empty())) {
    return Bad("the __Host- prefix needs path \"/\" and no domain");
  }
  if (options.same_site == SameSite::kNone && !options.secure) {
    return Bad("SameSite=None needs CookieOptions.secure");
  }
  if (options.partitioned && !options.secure) {
    return Bad("CookieOptions.partitioned needs CookieOptions.secure");
  }

  std::string out;
  if (options.prefix == CookiePrefix::kHost) out = "__Host-";
  if (options.prefix == CookiePrefix::kSecure) out = "__Secure-";
  absl::StrAppend(&out, std::string(name), "=", std::string(value),
                  "; Path=", options.path);
  if (!options.domain.empty())
    absl::StrAppend(&out, "; Domain=", options.domain);
  if (options.max_age) {
    absl::StrAppend(&out, "; Max-Age=", options.max_age->count());
  }
  if (options.secure) out.append("; Secure");
  if (options.http_only) out.append("; HttpOnly");
  switch (options.same_site) {
    case SameSite::kStrict:
      out.append("; SameSite=Strict");
      break;
    case SameSite::kLax:
      out.append("; SameSite=Lax");
      break;
    case SameSite::kNone:
      out.append("; SameSite=None");
      break;
  }
  if (options.partitioned) out.append("; Partitioned");
  return out;
}

}  // namespace security
}  // namespace keel
