#include "keel/ratelimit/window_limiter.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "keel/base/status_macros.h"
#include "ratelimit/blocking.h"
#include "ratelimit/gcra.h"
#include "ratelimit/options_check.h"

namespace keel {
namespace ratelimit {
namespace {

// Bound on limit * window: the sliding estimate plus a request stays below
// 3 * 2^61 < 2^63.
constexpr std::int64_t kMaxLimitTimesWindow = std::int64_t{1} << 61;

// Floor division (C++ rounds towards zero), for window numbers of negative
// timestamps.
std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

}  // namespace

absl::StatusOr<std::unique_ptr<WindowLimiter>> WindowLimiter::Create(
    WindowLimiterOptions options) {
  KEEL_RETURN_IF_ERROR(ratelimit_internal::CheckName("name", options.name));
  if (options.limit < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit must be >= 1, got ", options.limit));
  }
  if (options.window.count() <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("window must be > 0, got ", options.window.count(), "ns"));
  }
  if (options.limit > kMaxLimitTimesWindow / options.window.count()) {
    return absl::InvalidArgumentError(
        "limit times window must stay below 2^61 ns");
  }
  KEEL_RETURN_IF_ERROR(ratelimit_internal::CheckClock(options.clock));
  KEEL_ASSIGN_OR_RETURN(ratelimit_internal::DecisionMetrics metrics,
                        ratelimit_internal::DecisionMetrics::Bind(
                            options.metrics, options.name, options.shadow));
  return std::unique_ptr<WindowLimiter>(
      new WindowLimiter(std::move(options), std::move(metrics)));
}

WindowLimiter::WindowLimiter(WindowLimiterOptions options,
                             ratelimit_internal::DecisionMetrics metrics)
    : options_(std::move(options)),
      window_ns_(options_.window.count()),
      metrics_(std::move(metrics)) {
  MutexLock lock(mu_);
  index_ = FloorDiv(
      ratelimit_internal::ClampTime(options_.clock->Now().count()), window_ns_);
}

std::int64_t WindowLimiter::Roll(std::int64_t now) {
  const std::int64_t index = FloorDiv(now, window_ns_);
  if (index > index_) {
    previous_ = index == index_ + 1 ? current_ : 0;
    current_ = 0;
    index_ = index;
  }
  return std::max<std::int64_t>(0, now - index_ * window_ns_);
}

Decision WindowLimiter::Decide(std::int64_t permits, std::int64_t now,
                               std::int64_t* window) {
  const std::int64_t w = window_ns_;
  const std::int64_t limit = options_.limit;
  Decision d;
  d.limit = limit;
  MutexLock lock(mu_);
  const std::int64_t elapsed = Roll(now);
  const std::int64_t start = index_ * w;
  *window = index_;
  const bool sliding = options_.algorithm == WindowAlgorithm::kSliding;
  // Everything below is in permit-nanoseconds: exact, no rounding.
  const std::int64_t weighted =
      (sliding ? previous_ * (w - elapsed) : 0) + current_ * w;
  const std::int64_t capacity = limit * w;
  d.remaining = std::max<std::int64_t>(0, (capacity - weighted) / w);
  if (permits < 0 || permits > limit) {
    d.reason = permits < 0 ? DecisionReason::kInvalidPermits
                           : DecisionReason::kOversize;
    d.retry_after = kNever;
  } else if (weighted + permits * w <= capacity) {
    d.allowed = true;
    d.reason = DecisionReason::kAdmitted;
    current_ += permits;
    d.remaining = (capacity - weighted - permits * w) / w;
  } else {
    d.reason = DecisionReason::kRateLimited;
    std::int64_t retry_at;
    if (!sliding) {
      retry_at = start + w;
    } else if (current_ + permits <= limit) {
      // Room appears once the previous window's weight has decayed enough;
      // previous_ > 0 here, or the request would have fitted.
      retry_at = start + w - (limit - current_ - permits) * w / previous_;
    } else {
      // Only after the current count has become the previous one.
      retry_at = start + 2 * w - (limit - permits) * w / current_;
    }
    d.retry_after = std::chrono::nanoseconds(retry_at - now);
  }
  std::int64_t reset_at = now;
  if (current_ > 0) {
    reset_at = start + (sliding ? 2 * w : w);
  } else if (sliding && previous_ > 0) {
    reset_at = start + w;
  }
  d.reset_after = std::chrono::nanoseconds(reset_at - now);
  return d;
}

Decision WindowLimiter::Finish(Decision decision) {
  metrics_.Record(decision);
  if (options_.shadow && !decision.allowed) decision.allowed = true;
  if (options_.observer != nullptr) {
    options_.observer->OnDecision(options_.name, decision);
  }
  return decision;
}

Decision WindowLimiter::TryAcquire(std::int64_t permits) {
  return TryAcquire(permits, options_.clock->Now());
}

Decision WindowLimiter::TryAcquire(std::int64_t permits, MonoTime now) {
  std::int64_t window;
  return Finish(
      Decide(permits, ratelimit_internal::ClampTime(now.count()), &window));
}

Reservation WindowLimiter::Reserve(std::int64_t permits) {
  return Reserve(permits, options_.clock->Now());
}

Reservation WindowLimiter::Reserve(std::int64_t permits, MonoTime now) {
  const std::int64_t t = ratelimit_internal::ClampTime(now.count());
  std::int64_t window;
  Decision decision = Decide(permits, t, &window);
  const bool consumed = decision.allowed;
  decision = Finish(decision);
  return MakeReservation(consumed, permits, window, MonoTime(t), decision);
}

absl::Status WindowLimiter::Acquire(std::int64_t permits, MonoTime deadline) {
  return ratelimit_internal::AcquireByReserving(*this, *options_.clock, permits,
                                                deadline);
}

void WindowLimiter::CancelReservation(std::int64_t permits,
                                      std::int64_t handle) {
  MutexLock lock(mu_);
  Roll(ratelimit_internal::ClampTime(options_.clock->Now().count()));
  // Permits counted in a window that is no longer tracked have expired.
  if (handle == index_) {
    current_ -= std::min(permits, current_);
  } else if (handle == index_ - 1) {
    previous_ -= std::min(permits, previous_);
  }
}

Policy WindowLimiter::policy() const {
  Policy policy;
  policy.name = options_.name;
  policy.quota = options_.limit;
  policy.window = options_.window;
  return policy;
}

}  // namespace ratelimit
}  // namespace keel
