#include "ratelimit/options_check.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "ratelimit/gcra.h"

namespace keel {
namespace ratelimit_internal {

absl::Status CheckName(std::string_view field, std::string_view name) {
  if (name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(AsAbsl(field), " must not be empty"));
  }
  for (char c : name) {
    if (c < 0x20 || c > 0x7e) {
      return absl::InvalidArgumentError(
          absl::StrCat(AsAbsl(field), " must be printable ASCII"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::int64_t> IntervalFor(std::string_view rate_field,
                                         std::int64_t rate,
                                         std::string_view period_field,
                                         std::chrono::nanoseconds period) {
  if (rate < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(AsAbsl(rate_field), " must be >= 1, got ", rate));
  }
  if (period.count() <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        AsAbsl(period_field), " must be > 0, got ", period.count(), "ns"));
  }
  // Rounded up so that the limiter never admits more than configured.
  return period.count() / rate + (period.count() % rate != 0 ? 1 : 0);
}

absl::Status CheckTolerance(std::string_view field, std::int64_t burst,
                            std::int64_t max_debt, std::int64_t interval_ns) {
  const std::int64_t max_permits = kMaxToleranceNs / interval_ns;
  if (burst > max_permits || max_debt > max_permits - burst) {
    return absl::InvalidArgumentError(absl::StrCat(
        AsAbsl(field), " (plus max_debt) times the interval of ", interval_ns,
        "ns exceeds 2^60 ns; at most ", max_permits, " permits"));
  }
  return absl::OkStatus();
}

absl::Status CheckClock(const Clock* clock) {
  if (clock == nullptr) {
    return absl::InvalidArgumentError("clock must not be null");
  }
  return absl::OkStatus();
}

}  // namespace ratelimit_internal
}  // namespace keel
