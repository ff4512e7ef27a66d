#include "metrics/text_format.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <system_error>

namespace keel {
namespace metrics_internal {
namespace {

bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Length of the well-formed UTF-8 sequence at the start of `s`, or 0.
std::size_t Utf8SequenceLength(std::string_view s) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return 1;
  std::size_t len;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < len) return 0;
  const auto b1 = static_cast<unsigned char>(s[1]);
  if (b1 < lo || b1 > hi) return 0;
  for (std::size_t i = 2; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80 || b > 0xBF) return 0;
  }
  return len;
}

}  // namespace

bool IsValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (!(IsAlpha(c) || c == '_' || c == ':' || (i > 0 && IsDigit(c)))) {
      return false;
    }
  }
  return true;
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (!(IsAlpha(c) || c == '_' || (i > 0 && IsDigit(c)))) return false;
  }
  return true;
}

bool IsValidUtf8(std::string_view text) {
  while (!text.empty()) {
    const std::size_t len = Utf8SequenceLength(text);
    if (len == 0) return false;
    text.remove_prefix(len);
  }
  return true;
}

std::string SanitizeUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const std::size_t len = Utf8SequenceLength(text);
    if (len == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      text.remove_prefix(1);
    } else {
      out.append(text.data(), len);
      text.remove_prefix(len);
    }
  }
  return out;
}

void AppendEscaped(std::string_view text, bool escape_quote, std::string* out) {
  for (const char c : text) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '"':
        if (escape_quote) {
          out->append("\\\"");
        } else {
          out->push_back(c);
        }
        break;
      default:
        out->push_back(c);
    }
  }
}

void AppendDouble(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  char buf[64];
  // The shortest round-trip digits, in exponent form to learn the exponent.
  auto sci =
      std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  // to_chars does not terminate the buffer: parse the exponent within bounds.
  const char* e = sci.ptr;
  while (e > buf && e[-1] != 'e') --e;
  int exponent = 0;
  std::from_chars(e + (*e == '+' ? 1 : 0), sci.ptr, exponent);
  if (exponent < -4 || exponent >= 6) {
    // Go writes at least two exponent digits, as to_chars does.
    out->append(buf, static_cast<std::size_t>(sci.ptr - buf));
    return;
  }
  auto fixed =
      std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  out->append(buf, static_cast<std::size_t>(fixed.ptr - buf));
}

void AppendUint(std::uint64_t v, std::string* out) {
  char buf[24];
  auto result = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, static_cast<std::size_t>(result.ptr - buf));
}

}  // namespace metrics_internal
}  // namespace keel
