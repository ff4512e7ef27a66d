#include "keel/ratelimit/headers.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace keel {
namespace ratelimit {
namespace {

constexpr std::int64_t kMaxHeaderSeconds = 2147483647;

// An RFC 8941 sf-string: quoted, with '"' and '\' escaped. Limiters validate
// their names as printable ASCII; a hand-built Policy may hold any bytes, and
// those outside %x20-7E (CR and LF among them) become '?' so that a name can
// never break the header field.
std::string SfString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) c = '?';
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

std::int64_t CeilSeconds(std::chrono::nanoseconds d) {
  constexpr std::int64_t kNanos = 1'000'000'000;
  if (d.count() <= 0) return 0;
  if (d.count() / kNanos >= kMaxHeaderSeconds) return kMaxHeaderSeconds;
  return d.count() / kNanos + (d.count() % kNanos != 0 ? 1 : 0);
}

std::string RateLimitPolicyValue(const Policy& policy) {
  return absl::StrCat(SfString(policy.name), ";q=", policy.quota, ";w=",
                      std::max<std::int64_t>(1, CeilSeconds(policy.window)));
}

std::string RateLimitPolicyValue(const std::vector<Policy>& policies) {
  std::string out;
  for (const Policy& policy : policies) {
    if (!out.empty()) out += ", ";
    out += RateLimitPolicyValue(policy);
  }
  return out;
}

std::string RateLimitValue(std::string_view policy_name,
                           const Decision& decision) {
  return absl::StrCat(SfString(policy_name), ";r=", decision.remaining,
                      ";t=", CeilSeconds(decision.reset_after));
}

std::optional<std::string> RetryAfterValue(const Decision& decision) {
  if (decision.allowed || decision.reason != DecisionReason::kRateLimited) {
    return std::nullopt;
  }
  return absl::StrCat(CeilSeconds(decision.retry_after));
}

std::vector<HeaderField> RateLimitHeaders(const Policy& policy,
                                          const Decision& decision,
                                          HeaderStyle style) {
  std::vector<HeaderField> fields;
  if (style != HeaderStyle::kLegacy) {
    fields.push_back({"RateLimit-Policy", RateLimitPolicyValue(policy)});
    fields.push_back({"RateLimit", RateLimitValue(policy.name, decision)});
  }
  if (style != HeaderStyle::kIetf) {
    fields.push_back({"X-RateLimit-Limit", absl::StrCat(decision.limit)});
    fields.push_back(
        {"X-RateLimit-Remaining", absl::StrCat(decision.remaining)});
    fields.push_back(
        {"X-RateLimit-Reset", absl::StrCat(CeilSeconds(decision.reset_after))});
  }
  if (std::optional<std::string> retry = RetryAfterValue(decision)) {
    fields.push_back({"Retry-After", *std::move(retry)});
  }
  return fields;
}

}  // namespace ratelimit
}  // namespace keel
