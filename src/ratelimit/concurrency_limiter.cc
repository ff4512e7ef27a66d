#include "keel/ratelimit/concurrency_limiter.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "keel/base/status_macros.h"
#include "ratelimit/options_check.h"

namespace keel {
namespace ratelimit {

ConcurrencyLimiter::Permit::Permit(Permit&& other) noexcept
    : limiter_(std::exchange(other.limiter_, nullptr)),
      held_(std::exchange(other.held_, 0)),
      decision_(other.decision_) {}

ConcurrencyLimiter::Permit& ConcurrencyLimiter::Permit::operator=(
    Permit&& other) noexcept {
  if (this != &other) {
    Release();
    limiter_ = std::exchange(other.limiter_, nullptr);
    held_ = std::exchange(other.held_, 0);
    decision_ = other.decision_;
  }
  return *this;
}

void ConcurrencyLimiter::Permit::Release() {
  ConcurrencyLimiter* limiter = std::exchange(limiter_, nullptr);
  if (limiter != nullptr && held_ > 0) {
    limiter->in_flight_.fetch_sub(held_, std::memory_order_acq_rel);
  }
  held_ = 0;
}

absl::StatusOr<std::unique_ptr<ConcurrencyLimiter>> ConcurrencyLimiter::Create(
    ConcurrencyLimiterOptions options) {
  KEEL_RETURN_IF_ERROR(ratelimit_internal::CheckName("name", options.name));
  if (options.limit < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit must be >= 1, got ", options.limit));
  }
  KEEL_ASSIGN_OR_RETURN(ratelimit_internal::DecisionMetrics metrics,
                        ratelimit_internal::DecisionMetrics::Bind(
                            options.metrics, options.name, options.shadow));
  std::unique_ptr<ConcurrencyLimiter> limiter(
      new ConcurrencyLimiter(options, std::move(metrics)));
  const ConcurrencyLimiter* self = limiter.get();
  KEEL_ASSIGN_OR_RETURN(
      limiter->in_flight_gauge_,
      ratelimit_internal::AddLimiterGauge(
          options.metrics, "keel_ratelimit_in_flight",
          "Permits held from a concurrency limiter.", options.name,
          [self] { return static_cast<double>(self->in_flight()); }));
  return limiter;
}

ConcurrencyLimiter::ConcurrencyLimiter(
    const ConcurrencyLimiterOptions& options,
    ratelimit_internal::DecisionMetrics metrics)
    : name_(options.name),
      shadow_(options.shadow),
      observer_(options.observer),
      limit_(options.limit),
      metrics_(std::move(metrics)) {}

ConcurrencyLimiter::Permit ConcurrencyLimiter::TryAcquire(
    std::int64_t permits) {
  const std::int64_t limit = limit_.load(std::memory_order_relaxed);
  Decision d;
  d.limit = limit;
  std::int64_t held = 0;
  if (permits < 0 || permits > limit) {
    d.reason = permits < 0 ? DecisionReason::kInvalidPermits
                           : DecisionReason::kOversize;
    d.retry_after = kNever;
    d.remaining = std::max<std::int64_t>(
        0, limit - in_flight_.load(std::memory_order_relaxed));
  } else {
    // Compare after the add: the sum every caller sees includes every
    // earlier caller's permits, so the limit can never be exceeded.
    const std::int64_t after =
        in_flight_.fetch_add(permits, std::memory_order_acq_rel) + permits;
    if (after <= limit) {
      d.allowed = true;
      d.reason = DecisionReason::kAdmitted;
      d.remaining = limit - after;
      held = permits;
    } else {
      in_flight_.fetch_sub(permits, std::memory_order_acq_rel);
      d.reason = DecisionReason::kRateLimited;
      d.remaining = std::max<std::int64_t>(0, limit - (after - permits));
    }
  }
  metrics_.Record(d);
  if (shadow_ && !d.allowed) d.allowed = true;
  if (observer_ != nullptr) observer_->OnDecision(name_, d);
  return Permit(held > 0 ? this : nullptr, held, d);
}

absl::Status ConcurrencyLimiter::SetLimit(std::int64_t limit) {
  if (limit < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit must be >= 1, got ", limit));
  }
  limit_.store(limit, std::memory_order_relaxed);
  return absl::OkStatus();
}

}  // namespace ratelimit
}  // namespace keel
