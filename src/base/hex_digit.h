// Hex digit values and percent escapes for the text parsers of keel::core
// (percent-decoding in baggage, OTEL_RESOURCE_ATTRIBUTES, health query strings
// and request targets; JSON \u escapes; JSON Logic number literals). Private
// to keel::core. W3C trace ids, which allow lower-case hex only, keep their own
// stricter rule.

#ifndef KEEL_SRC_BASE_HEX_DIGIT_H_
#define KEEL_SRC_BASE_HEX_DIGIT_H_

#include <cstddef>
#include <string_view>

namespace keel {
namespace base_internal {

// The value of hex digit `c` (either case), or -1.
constexpr int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The byte that the percent escape "%XY" starting at `s[i]` stands for, or -1
// if `s[i]` does not start a complete one (not '%', fewer than two characters
// left, or a non-hex digit). What a decoder does with -1 (keep the text, or
// refuse it) is its own rule.
constexpr int PercentEscapeAt(std::string_view s, std::size_t i) {
  if (s[i] != '%' || i + 2 >= s.size()) return -1;
  const int hi = HexDigitValue(s[i + 1]);
  const int lo = HexDigitValue(s[i + 2]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

}  // namespace base_internal
}  // namespace keel

#endif  // KEEL_SRC_BASE_HEX_DIGIT_H_
