// Text helpers shared by keel's security components: HTTP token and field
// value checks, ASCII case, whitespace trimming and base64.

#ifndef KEEL_SRC_SECURITY_TEXT_H_
#define KEEL_SRC_SECURITY_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "base/http_grammar.h"

namespace keel {
namespace security_internal {

// RFC 9110 token and OWS helpers, shared with trace/.
using base_internal::IsTchar;
using base_internal::IsToken;
using base_internal::TrimOws;

// True when `s` may be sent as a field value: no control characters other
// than HTAB (so no NUL, CR or LF), no DEL.
bool IsFieldValue(std::string_view s);

inline char AsciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// `s` lower-cased (ASCII only).
std::string AsciiLowerCopy(std::string_view s);

// Standard base64 with padding (RFC 4648, section 4).
std::string Base64Encode(const unsigned char* data, std::size_t size);

// True when `s` is non-empty standard or URL-safe base64 with optional
// trailing '=' padding (the CSP base64-value grammar).
bool IsCspBase64(std::string_view s);

}  // namespace security_internal
}  // namespace keel

#endif  // KEEL_SRC_SECURITY_TEXT_H_
