// HTTP field grammar (RFC 9110) shared by the areas that parse header values:
// trace context and baggage (trace/), security headers, CORS and forwarding
// headers (security/). Private to keel::core.

#ifndef KEEL_SRC_BASE_HTTP_GRAMMAR_H_
#define KEEL_SRC_BASE_HTTP_GRAMMAR_H_

#include <string_view>

namespace keel {
namespace base_internal {

// OWS = *( SP / HTAB )
inline bool IsOws(char c) { return c == ' ' || c == '\t'; }

// `s` without leading and trailing optional whitespace.
inline std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

// RFC 9110 tchar.
inline bool IsTchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
      (c >= '0' && c <= '9')) {
    return true;
  }
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

// True when `s` is a non-empty token (field names, methods, baggage keys).
inline bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTchar(c)) return false;
  }
  return true;
}

}  // namespace base_internal
}  // namespace keel

#endif  // KEEL_SRC_BASE_HTTP_GRAMMAR_H_
