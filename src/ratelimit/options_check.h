// Option checks shared by the rate limiters' Create() functions, so every
// limiter rejects the same bad values with the same messages.

#ifndef KEEL_SRC_RATELIMIT_OPTIONS_CHECK_H_
#define KEEL_SRC_RATELIMIT_OPTIONS_CHECK_H_

#include <chrono>
#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "keel/base/clock.h"

namespace keel {
namespace ratelimit_internal {

// Abseil 20220623's StrCat takes absl::string_view, which is not
// std::string_view in this release.
inline absl::string_view AsAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

// A limiter name must be non-empty printable ASCII: it becomes a metric label
// value and a structured-field string in `RateLimit-Policy`.
absl::Status CheckName(std::string_view field, std::string_view name);

// Returns the GCRA interval ceil(period / rate) in nanoseconds, or
// kInvalidArgument naming `rate_field` / `period_field`.
absl::StatusOr<std::int64_t> IntervalFor(std::string_view rate_field,
                                         std::int64_t rate,
                                         std::string_view period_field,
                                         std::chrono::nanoseconds period);

// Checks that (burst + max_debt) * interval stays within the GCRA bounds
// (kMaxToleranceNs); `field` names the burst option in the message.
absl::Status CheckTolerance(std::string_view field, std::int64_t burst,
                            std::int64_t max_debt, std::int64_t interval_ns);

// kInvalidArgument if `clock` is null.
absl::Status CheckClock(const Clock* clock);

}  // namespace ratelimit_internal
}  // namespace keel

#endif  // KEEL_SRC_RATELIMIT_OPTIONS_CHECK_H_
