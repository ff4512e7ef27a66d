#include "keel/trace/trace_state.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "base/http_grammar.h"
#include "trace/header_lines.h"

namespace keel::trace {
namespace {

bool IsLcAlpha(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
// keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/"
bool IsKeyChar(char c) {
  return IsLcAlpha(c) || IsDigit(c) || c == '_' || c == '-' || c == '*' ||
         c == '/';
}
// nblk-chr = %x21-2B / %x2D-3C / %x3E-7E (printable, not ',' or '=')
bool IsValueNonBlankChar(char c) {
  return c >= 0x21 && c <= 0x7e && c != ',' && c != '=';
}
using base_internal::TrimOws;

// Checks `keychar*` of at most `max` characters after the first character.
bool AreKeyChars(std::string_view rest, std::size_t max) {
  if (rest.size() > max) return false;
  return std::all_of(rest.begin(), rest.end(), IsKeyChar);
}

const std::vector<TraceState::Entry>& EmptyEntries() {
  static const auto* const kEmpty = new std::vector<TraceState::Entry>();
  return *kEmpty;
}

}  // namespace

TraceState::TraceState(std::vector<Entry> entries)
    : entries_(entries.empty() ? nullptr
                               : std::make_shared<const std::vector<Entry>>(
                                     std::move(entries))) {}

bool TraceState::IsValidKey(std::string_view key) {
  if (key.empty()) return false;
  const std::size_t at = key.find('@');
  if (at == std::string_view::npos) {
    // simple-key = lcalpha 0*255( keychar )
    return IsLcAlpha(key[0]) && AreKeyChars(key.substr(1), 255);
  }
  // multi-tenant-key = tenant-id "@" system-id
  // tenant-id = ( lcalpha / DIGIT ) 0*240( keychar )
  // system-id = lcalpha 0*13( keychar )
  const std::string_view tenant = key.substr(0, at);
  const std::string_view system = key.substr(at + 1);
  if (tenant.empty() || system.empty()) return false;
  if (!IsLcAlpha(tenant[0]) && !IsDigit(tenant[0])) return false;
  if (!AreKeyChars(tenant.substr(1), 240)) return false;
  return IsLcAlpha(system[0]) && AreKeyChars(system.substr(1), 13);
}

bool TraceState::IsValidValue(std::string_view value) {
  // value = 0*255( chr ) nblk-chr ; chr = %x20 / nblk-chr
  if (value.empty() || value.size() > kMaxValueSize) return false;
  if (!IsValueNonBlankChar(value.back())) return false;
  return std::all_of(value.begin(), value.end(),
                     [](char c) { return c == ' ' || IsValueNonBlankChar(c); });
}

std::optional<TraceState> TraceState::Parse(std::string_view header) {
  std::vector<Entry> entries;
  while (true) {
    const std::size_t comma = header.find(',');
    const std::string_view member = TrimOws(header.substr(0, comma));
    if (!member.empty()) {  // empty list members are allowed and skipped
      const std::size_t eq = member.find('=');
      if (eq == std::string_view::npos) return std::nullopt;
      const std::string_view key = member.substr(0, eq);
      const std::string_view value = member.substr(eq + 1);
      if (!IsValidKey(key) || !IsValidValue(value)) return std::nullopt;
      if (entries.size() == kMaxMembers) return std::nullopt;
      for (const Entry& e : entries) {
        if (e.key == key) return std::nullopt;  // duplicates invalidate all
      }
      entries.push_back(Entry{std::string(key), std::string(value)});
    }
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return TraceState(std::move(entries));
}

std::optional<TraceState> TraceState::ParseLines(
    const std::vector<std::string_view>& lines) {
  return Parse(trace_internal::JoinHeaderLines(lines));
}

std::string TraceState::ToHeader(std::size_t max_size) const {
  const std::vector<Entry>& all = entries();
  // Size of `k=v` per member plus one comma between members.
  auto member_size = [](const Entry& e) {
    return e.key.size() + 1 + e.value.size();
  };
  std::vector<bool> keep(all.size(), true);
  std::size_t total = 0;
  std::size_t kept = 0;
  for (const Entry& e : all) {
    total += member_size(e);
    ++kept;
  }
  auto header_size = [&] { return kept == 0 ? 0 : total + kept - 1; };
  // First pass: drop large members from the right; second: any from the right.
  for (int pass = 0; pass < 2 && header_size() > max_size; ++pass) {
    for (std::size_t i = all.size(); i-- > 0 && header_size() > max_size;) {
      if (!keep[i]) continue;
      if (pass == 0 && member_size(all[i]) <= kLargeMemberSize) continue;
      keep[i] = false;
      total -= member_size(all[i]);
      --kept;
    }
  }
  std::string out;
  out.reserve(header_size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (!keep[i]) continue;
    if (!out.empty()) out.push_back(',');
    out.append(all[i].key).append("=").append(all[i].value);
  }
  return out;
}

std::optional<std::string_view> TraceState::Get(std::string_view key) const {
  for (const Entry& e : entries()) {
    if (e.key == key) return std::string_view(e.value);
  }
  return std::nullopt;
}

absl::StatusOr<TraceState> TraceState::Set(std::string_view key,
                                           std::string_view value) const {
  if (!IsValidKey(key)) {
    return absl::InvalidArgumentError("tracestate key is invalid: \"" +
                                      std::string(key) + "\"");
  }
  if (!IsValidValue(value)) {
    return absl::InvalidArgumentError("tracestate value for key \"" +
                                      std::string(key) + "\" is invalid");
  }
  std::vector<Entry> entries;
  entries.reserve(size() + 1);
  entries.push_back(Entry{std::string(key), std::string(value)});
  for (const Entry& e : this->entries()) {
    if (e.key == key) continue;
    if (entries.size() == kMaxMembers) break;  // drop the right-most
    entries.push_back(e);
  }
  return TraceState(std::move(entries));
}

TraceState TraceState::Delete(std::string_view key) const {
  if (!Get(key)) return *this;
  std::vector<Entry> entries;
  for (const Entry& e : this->entries()) {
    if (e.key != key) entries.push_back(e);
  }
  return TraceState(std::move(entries));
}

const std::vector<TraceState::Entry>& TraceState::entries() const {
  return entries_ ? *entries_ : EmptyEntries();
}

}  // namespace keel::trace
