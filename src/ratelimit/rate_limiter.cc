#include "keel/ratelimit/rate_limiter.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "ratelimit/options_check.h"

namespace keel {
namespace ratelimit {

using ratelimit_internal::AsAbsl;

std::string_view DecisionReasonName(DecisionReason reason) {
  switch (reason) {
    case DecisionReason::kAdmitted:
      return "admitted";
    case DecisionReason::kRateLimited:
      return "rate_limited";
    case DecisionReason::kOversize:
      return "oversize";
    case DecisionReason::kInvalidPermits:
      return "invalid_permits";
  }
  return "invalid_permits";
}

absl::Status DecisionToStatus(const Decision& decision,
                              std::string_view limiter_name) {
  if (decision.allowed) return absl::OkStatus();
  switch (decision.reason) {
    case DecisionReason::kAdmitted:
      return absl::OkStatus();
    case DecisionReason::kRateLimited:
      return absl::ResourceExhaustedError(absl::StrCat(
          "rate limiter '", AsAbsl(limiter_name),
          "': rate limited, retry after ", decision.retry_after.count(), "ns"));
    case DecisionReason::kOversize:
      return absl::InvalidArgumentError(
          absl::StrCat("rate limiter '", AsAbsl(limiter_name),
                       "': request exceeds the most permits ever granted at "
                       "once (",
                       decision.limit, ")"));
    case DecisionReason::kInvalidPermits:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "rate limiter '", AsAbsl(limiter_name), "': permits must be >= 0"));
}

Reservation::Reservation(Reservation&& other) noexcept
    : limiter_(std::exchange(other.limiter_, nullptr)),
      permits_(other.permits_),
      handle_(other.handle_),
      ready_at_(other.ready_at_),
      decision_(other.decision_) {}

Reservation& Reservation::operator=(Reservation&& other) noexcept {
  limiter_ = std::exchange(other.limiter_, nullptr);
  permits_ = other.permits_;
  handle_ = other.handle_;
  ready_at_ = other.ready_at_;
  decision_ = other.decision_;
  return *this;
}

void Reservation::Cancel() {
  RateLimiter* limiter = std::exchange(limiter_, nullptr);
  if (limiter != nullptr && permits_ > 0) {
    limiter->CancelReservation(permits_, handle_);
  }
}

}  // namespace ratelimit
}  // namespace keel
