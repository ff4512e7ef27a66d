// keel/ratelimit/headers.h
//
// HTTP header fields built from a limiter's `Policy` and a `Decision`:
//
//   | field                  | value                          | source |
//   |------------------------|--------------------------------|----------------|
//   | RateLimit-Policy       | "name";q=<quota>;w=<window s>  | Policy | |
//   RateLimit              | "name";r=<remaining>;t=<reset> | Decision       |
//   | X-RateLimit-Limit      | <limit>                        | Decision | |
//   X-RateLimit-Remaining  | <remaining>                    | Decision       |
//   | X-RateLimit-Reset      | <seconds until reset>          | Decision | |
//   Retry-After            | <seconds> (refusals only)      | Decision       |
//
// `RateLimit-Policy` and `RateLimit` follow the IETF httpapi draft
// (draft-ietf-httpapi-ratelimit-headers, structured-field lists: the policy
// name is an sf-string, `q`/`w`/`r`/`t` are integers). Several policies (a
// KeyedRateLimiter's limits) are joined with ", ". The legacy `X-RateLimit-*`
// trio is the de-facto convention; keel sends X-RateLimit-Reset as
// delta-seconds (not an epoch timestamp), like `t` and `Retry-After`
// (RFC 9110 delta-seconds).
//
// Durations are rounded UP to whole seconds, so a client that waits the
// advertised time is never early. A window shorter than a second advertises
// w=1.
//
// Example:
//   keel::ratelimit::Decision d = limiter->TryAcquire();
//   for (const auto& field : keel::ratelimit::RateLimitHeaders(
//            limiter->policy(), d, keel::ratelimit::HeaderStyle::kIetf)) {
//     response.SetHeader(field.name, field.value);
//   }
//   // Refused by "api" (10 per 10 s), 3 s to go:
//   //   RateLimit-Policy: "api";q=10;w=10
//   //   RateLimit: "api";r=0;t=3
//   //   Retry-After: 1
//
// Thread safety: pure functions.

#ifndef KEEL_RATELIMIT_HEADERS_H_
#define KEEL_RATELIMIT_HEADERS_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keel/ratelimit/rate_limiter.h"

namespace keel {
namespace ratelimit {

// One header field.
struct HeaderField {
  std::string name;
  std::string value;
};

// Which fields RateLimitHeaders() produces.
enum class HeaderStyle : std::uint8_t {
  kIetf,    // RateLimit-Policy, RateLimit
  kLegacy,  // X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset
  kBoth,
};

// Whole seconds in `d`, rounded up; negative durations give 0 and durations
// too large for a header (kNever) saturate at 2^31 - 1 seconds.
std::int64_t CeilSeconds(std::chrono::nanoseconds d);

// `"name";q=<quota>;w=<window>` for one policy (w >= 1). The name is an
// sf-string: '"' and '\' are escaped, and bytes outside printable ASCII
// (which limiter names cannot hold, but a hand-built Policy may) become '?',
// so that no value produced here can contain CR or LF.
std::string RateLimitPolicyValue(const Policy& policy);
// The values of several policies joined with ", ".
std::string RateLimitPolicyValue(const std::vector<Policy>& policies);

// `"name";r=<remaining>;t=<reset_after>` for a decision under policy `name`.
std::string RateLimitValue(std::string_view policy_name,
                           const Decision& decision);

// The Retry-After value (delta-seconds) for a refused decision; nullopt when
// the decision lets the request through (including shadow mode) or when
// retrying can never succeed (kOversize, kInvalidPermits).
std::optional<std::string> RetryAfterValue(const Decision& decision);

// The fields of `style` for `decision` under `policy`, followed by
// Retry-After when RetryAfterValue() gives one.
std::vector<HeaderField> RateLimitHeaders(
    const Policy& policy, const Decision& decision,
    HeaderStyle style = HeaderStyle::kIetf);

}  // namespace ratelimit
}  // namespace keel

#endif  // KEEL_RATELIMIT_HEADERS_H_
