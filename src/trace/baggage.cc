#include "keel/trace/baggage.h"

#include <algorithm>
#include <string>
#include <utility>

#include "base/hex_digit.h"
#include "base/http_grammar.h"
#include "trace/header_lines.h"

namespace keel::trace {
namespace {

using base_internal::IsToken;
using base_internal::TrimOws;

// baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
bool IsBaggageOctet(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' &&
         c != '\\';
}

bool AreBaggageOctets(std::string_view s) {
  return std::all_of(s.begin(), s.end(), IsBaggageOctet);
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid.
std::size_t Utf8SequenceLength(const std::string& s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  std::size_t len;
  unsigned char lo = 0x80;
  unsigned char hi = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    len = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3;
    if (b0 == 0xe0) lo = 0xa0;  // no overlong forms
    if (b0 == 0xed) hi = 0x9f;  // no surrogates
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4;
    if (b0 == 0xf0) lo = 0x90;
    if (b0 == 0xf4) hi = 0x8f;  // <= U+10FFFF
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf)) return 0;
  }
  return len;
}

// Replaces each invalid UTF-8 sequence with U+FFFD.
std::string SanitizeUtf8(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t len = Utf8SequenceLength(s, i);
    if (len == 0) {
      out.append("\xef\xbf\xbd");
      ++i;
    } else {
      out.append(s, i, len);
      i += len;
    }
  }
  return out;
}

// Percent-decodes `s`; a `%` not followed by two hex digits stays literal.
std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const int byte = base_internal::PercentEscapeAt(s, i);
    if (byte >= 0) {
      out.push_back(static_cast<char>(byte));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return SanitizeUtf8(out);
}

void PercentEncode(std::string_view s, std::string& out) {
  constexpr char kDigits[] = "0123456789ABCDEF";
  for (char c : s) {
    if (IsBaggageOctet(c) && c != '%') {
      out.push_back(c);
    } else {
      const auto b = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kDigits[b >> 4]);
      out.push_back(kDigits[b & 0xf]);
    }
  }
}

// Validates `;`-separated properties and returns them normalised, or nullopt.
std::optional<std::string> NormalizeProperties(std::string_view properties) {
  std::string out;
  while (true) {
    const std::size_t semi = properties.find(';');
    const std::string_view property = TrimOws(properties.substr(0, semi));
    const std::size_t eq = property.find('=');
    const std::string_view key = TrimOws(property.substr(0, eq));
    if (!IsToken(key)) return std::nullopt;
    if (!out.empty()) out.push_back(';');
    out.append(key);
    if (eq != std::string_view::npos) {
      const std::string_view value = TrimOws(property.substr(eq + 1));
      if (!AreBaggageOctets(value)) return std::nullopt;
      out.push_back('=');
      out.append(value);
    }
    if (semi == std::string_view::npos) break;
    properties.remove_prefix(semi + 1);
  }
  return out;
}

}  // namespace

std::optional<Baggage> Baggage::Parse(std::string_view header) {
  if (header.size() > kMaxBytes) return std::nullopt;
  Baggage baggage;
  std::size_t members = 0;
  while (true) {
    const std::size_t comma = header.find(',');
    const std::string_view member = TrimOws(header.substr(0, comma));
    if (!member.empty()) {
      if (++members > kMaxMembers) return std::nullopt;
      const std::size_t semi = member.find(';');
      const std::string_view pair = member.substr(0, semi);
      const std::size_t eq = pair.find('=');
      if (eq == std::string_view::npos) return std::nullopt;
      const std::string_view key = TrimOws(pair.substr(0, eq));
      const std::string_view value = TrimOws(pair.substr(eq + 1));
      if (!IsToken(key) || !AreBaggageOctets(value)) return std::nullopt;
      std::string properties;
      if (semi != std::string_view::npos) {
        auto normalized = NormalizeProperties(member.substr(semi + 1));
        if (!normalized) return std::nullopt;
        properties = std::move(*normalized);
      }
      baggage.Remove(key);
      baggage.entries_.push_back(
          Entry{std::string(key), PercentDecode(value), std::move(properties)});
    }
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return baggage;
}

std::optional<Baggage> Baggage::ParseLines(
    const std::vector<std::string_view>& lines) {
  return Parse(trace_internal::JoinHeaderLines(lines));
}

std::string Baggage::ToHeader() const {
  std::string out;
  std::string member;
  std::size_t members = 0;
  for (const Entry& e : entries_) {
    member.clear();
    member.append(e.key).push_back('=');
    PercentEncode(e.value, member);
    if (!e.properties.empty()) member.append(";").append(e.properties);
    const std::size_t needed = member.size() + (out.empty() ? 0 : 1);
    if (members == kMaxMembers || out.size() + needed > kMaxBytes) break;
    if (!out.empty()) out.push_back(',');
    out.append(member);
    ++members;
  }
  return out;
}

std::optional<std::string_view> Baggage::Get(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (e.key == key) return std::string_view(e.value);
  }
  return std::nullopt;
}

absl::Status Baggage::Set(std::string_view key, std::string_view value,
                          std::string_view properties) {
  if (!IsToken(key)) {
    return absl::InvalidArgumentError("baggage key is not an HTTP token: \"" +
                                      std::string(key) + "\"");
  }
  std::string normalized;
  if (!properties.empty()) {
    auto checked = NormalizeProperties(properties);
    if (!checked) {
      return absl::InvalidArgumentError("baggage properties for key \"" +
                                        std::string(key) + "\" are invalid");
    }
    normalized = std::move(*checked);
  }
  for (Entry& e : entries_) {
    if (e.key == key) {
      e.value = std::string(value);
      e.properties = std::move(normalized);
      return absl::OkStatus();
    }
  }
  entries_.push_back(
      Entry{std::string(key), std::string(value), std::move(normalized)});
  return absl::OkStatus();
}

void Baggage::Remove(std::string_view key) {
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const Entry& e) { return e.key == key; }),
                 entries_.end());
}

}  // namespace keel::trace
