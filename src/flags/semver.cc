#include "flags/semver.h"

#include <algorithm>
#include <string>

#include "flags/logic.h"

namespace keel::flags_internal {
namespace {

// node-semver rejects components above Number.MAX_SAFE_INTEGER.
constexpr std::uint64_t kMaxSafeInteger = 9007199254740991ULL;
// node-semver rejects longer version strings.
constexpr std::size_t kMaxLength = 256;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentChar(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         c == '-';
}

// A numeric identifier: 0 or no leading zero.
bool ParseNumber(std::string_view s, std::uint64_t* out) {
  if (s.empty() || s.size() > 16) return false;
  if (s.size() > 1 && s[0] == '0') return false;
  std::uint64_t value = 0;
  for (char c : s) {
    if (!IsDigit(c)) return false;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value > kMaxSafeInteger) return false;
  *out = value;
  return true;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsDigit);
}

std::vector<std::string_view> Split(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t pos = s.find(separator, start);
    parts.push_back(s.substr(start, pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return parts;
}

std::optional<SemVer> ParseStrict(std::string_view s) {
  // Trim as node-semver does, and allow its own optional 'v'.
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' ||
                        s.front() == '\n' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' ||
                        s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  if (s.size() > kMaxLength) return std::nullopt;
  if (!s.empty() && s.front() == 'v') s.remove_prefix(1);
  std::string_view build;
  if (const auto plus = s.find('+'); plus != std::string_view::npos) {
    build = s.substr(plus + 1);
    s = s.substr(0, plus);
    for (std::string_view part : Split(build, '.')) {
      if (part.empty() || !std::all_of(part.begin(), part.end(), IsIdentChar)) {
        return std::nullopt;
      }
    }
  }
  std::string_view pre;
  bool has_pre = false;
  if (const auto dash = s.find('-'); dash != std::string_view::npos) {
    pre = s.substr(dash + 1);
    s = s.substr(0, dash);
    has_pre = true;
  }
  const auto core = Split(s, '.');
  if (core.size() != 3) return std::nullopt;
  SemVer v;
  if (!ParseNumber(core[0], &v.major) || !ParseNumber(core[1], &v.minor) ||
      !ParseNumber(core[2], &v.patch)) {
    return std::nullopt;
  }
  if (has_pre) {
    for (std::string_view part : Split(pre, '.')) {
      if (part.empty() || !std::all_of(part.begin(), part.end(), IsIdentChar)) {
        return std::nullopt;
      }
      if (AllDigits(part)) {
        std::uint64_t ignored;
        if (!ParseNumber(part, &ignored)) return std::nullopt;
      }
      v.prerelease.emplace_back(part);
    }
  }
  return v;
}

// node-semver's coerce() for "1" and "1.2".
std::optional<SemVer> ParsePartial(std::string_view s) {
  const auto parts = Split(s, '.');
  if (parts.size() > 2) return std::nullopt;
  SemVer v;
  std::uint64_t* fields[] = {&v.major, &v.minor};
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (!AllDigits(parts[i]) || parts[i].size() > 16) return std::nullopt;
    std::uint64_t value = 0;
    for (char c : parts[i])
      value = value * 10 + static_cast<std::uint64_t>(c - '0');
    *fields[i] = value;
  }
  return v;
}

int CompareIdentifiers(std::string_view a, std::string_view b) {
  const bool a_num = AllDigits(a);
  const bool b_num = AllDigits(b);
  if (a_num && b_num) {
    if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
    return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
  }
  if (a_num) return -1;
  if (b_num) return 1;
  const int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

}  // namespace

std::optional<SemVer> ParseSemVer(std::string_view text) {
  if (!text.empty() && (text.front() == 'v' || text.front() == 'V')) {
    text.remove_prefix(1);
  }
  if (auto strict = ParseStrict(text)) return strict;
  return ParsePartial(text);
}

int CompareVersions(const SemVer& a, const SemVer& b) {
  if (a.major != b.major) return a.major < b.major ? -1 : 1;
  if (a.minor != b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch != b.patch) return a.patch < b.patch ? -1 : 1;
  const auto& x = a.prerelease;
  const auto& y = b.prerelease;
  if (x.empty() || y.empty()) {
    if (x.empty() && y.empty()) return 0;
    return x.empty() ? 1 : -1;  // a release ranks above its pre-releases
  }
  for (std::size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
    const int c = CompareIdentifiers(x[i], y[i]);
    if (c != 0) return c;
  }
  if (x.size() == y.size()) return 0;
  return x.size() < y.size() ? -1 : 1;
}

std::optional<bool> CompareSemVer(const flags::Value& left, std::string_view op,
                                  const flags::Value& right) {
  std::string left_text;
  std::string right_text;
  AppendJsString(left, &left_text);
  AppendJsString(right, &right_text);
  const auto a = ParseSemVer(left_text);
  const auto b = ParseSemVer(right_text);
  if (!a.has_value() || !b.has_value()) return std::nullopt;
  const int c = CompareVersions(*a, *b);
  if (op == "=") return c == 0;
  if (op == "!=") return c != 0;
  if (op == "<") return c < 0;
  if (op == "<=") return c <= 0;
  if (op == ">") return c > 0;
  if (op == ">=") return c >= 0;
  if (op == "^") return a->major == b->major;
  if (op == "~") return a->major == b->major && a->minor == b->minor;
  return std::nullopt;
}

}  // namespace keel::flags_internal
