#include "keel/ratelimit/token_bucket.h"

#include <utility>

#include "absl/base/attributes.h"
#include "absl/strings/str_cat.h"
#include "keel/base/status_macros.h"
#include "ratelimit/blocking.h"
#include "ratelimit/gcra.h"
#include "ratelimit/options_check.h"

namespace keel {
namespace ratelimit {

using ratelimit_internal::ClampTime;
using ratelimit_internal::GcraConfig;

absl::StatusOr<std::unique_ptr<TokenBucket>> TokenBucket::Create(
    TokenBucketOptions options) {
  KEEL_RETURN_IF_ERROR(ratelimit_internal::CheckName("name", options.name));
  KEEL_ASSIGN_OR_RETURN(const std::int64_t interval,
                        ratelimit_internal::IntervalFor(
                            "rate", options.rate, "period", options.period));
  if (options.burst < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("burst must be >= 1, got ", options.burst));
  }
  if (options.max_debt < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_debt must be >= 0, got ", options.max_debt));
  }
  KEEL_RETURN_IF_ERROR(ratelimit_internal::CheckTolerance(
      "burst", options.burst, options.max_debt, interval));
  const std::int64_t initial = options.initial_tokens.value_or(options.burst);
  if (initial < 0 || initial > options.burst) {
    return absl::InvalidArgumentError(
        absl::StrCat("initial_tokens must be in [0, burst=", options.burst,
                     "], got ", initial));
  }
  KEEL_RETURN_IF_ERROR(ratelimit_internal::CheckClock(options.clock));
  KEEL_ASSIGN_OR_RETURN(ratelimit_internal::DecisionMetrics metrics,
                        ratelimit_internal::DecisionMetrics::Bind(
                            options.metrics, options.name, options.shadow));
  const Config config = ratelimit_internal::MakeGcraConfig(
      interval, options.burst, options.max_debt);
  return std::unique_ptr<TokenBucket>(
      new TokenBucket(options, config, std::move(metrics)));
}

TokenBucket::TokenBucket(const TokenBucketOptions& options,
                         const Config& config,
                         ratelimit_internal::DecisionMetrics metrics)
    : name_(options.name),
      shadow_(options.shadow),
      clock_(options.clock),
      observer_(options.observer),
      metrics_(std::move(metrics)),
      // A bucket with k of B permits would be full again in (B - k) * I.
      tat_(ClampTime(options.clock->Now().count()) +
           (config.burst - options.initial_tokens.value_or(config.burst)) *
               config.interval_ns),
      interval_ns_(config.interval_ns),
      burst_(config.burst),
      max_debt_(config.max_debt),
      inverse_(config.inverse) {}

// Always inlined: it is most of the hot path, and GCC would otherwise keep
// it out of line because it has several callers.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline TokenBucket::Config TokenBucket::LoadConfig(
    std::int64_t* tat) const {
  for (;;) {
    const std::uint64_t seq = config_seq_.load(std::memory_order_acquire);
    if ((seq & 1) != 0) continue;  // SetRate() is writing; it is brief.
    Config config;
    config.interval_ns = interval_ns_.load(std::memory_order_relaxed);
    config.burst = burst_.load(std::memory_order_relaxed);
    config.max_debt = max_debt_.load(std::memory_order_relaxed);
    config.inverse = inverse_.load(std::memory_order_relaxed);
    *tat = tat_.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (config_seq_.load(std::memory_order_relaxed) == seq) return config;
  }
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline Decision TokenBucket::Decide(
    std::int64_t permits, std::int64_t now, bool debt, std::int64_t* new_tat,
    std::int64_t* ready_at) {
  for (;;) {
    std::int64_t tat;
    const GcraConfig gcra = LoadConfig(&tat);
    Decision decision = ratelimit_internal::GcraDecide(
        gcra, tat, now, permits, debt ? gcra.max_debt : 0, new_tat);
    if (!decision.allowed) return decision;  // refusals write nothing
    if (tat_.compare_exchange_weak(tat, *new_tat, std::memory_order_acq_rel,
                                   std::memory_order_relaxed)) {
      *ready_at = ratelimit_internal::GcraReadyAt(gcra, *new_tat, now);
      return decision;
    }
  }
}

Decision TokenBucket::Finish(Decision decision) {
  metrics_.Record(decision);
  if (shadow_ && !decision.allowed) decision.allowed = true;
  if (observer_ != nullptr) observer_->OnDecision(name_, decision);
  return decision;
}

Decision TokenBucket::TryAcquire(std::int64_t permits) {
  return TryAcquire(permits, clock_->Now());
}

Decision TokenBucket::TryAcquire(std::int64_t permits, MonoTime now) {
  std::int64_t new_tat;
  std::int64_t ready_at;
  Decision decision =
      Decide(permits, ClampTime(now.count()), false, &new_tat, &ready_at);
  if (shadow_ || observer_ != nullptr) return Finish(decision);
  // The common case skips Finish(): only the counter is left to do.
  metrics_.Record(decision);
  return decision;
}

Reservation TokenBucket::Reserve(std::int64_t permits) {
  return Reserve(permits, clock_->Now());
}

Reservation TokenBucket::Reserve(std::int64_t permits, MonoTime now) {
  const std::int64_t t = ClampTime(now.count());
  std::int64_t new_tat = 0;
  std::int64_t ready_at = t;
  Decision decision = Decide(permits, t, true, &new_tat, &ready_at);
  const bool consumed = decision.allowed;
  if (consumed) decision.retry_after = std::chrono::nanoseconds(ready_at - t);
  decision = Finish(decision);
  return MakeReservation(consumed, permits, new_tat, MonoTime(ready_at),
                         decision);
}

absl::Status TokenBucket::Acquire(std::int64_t permits, MonoTime deadline) {
  return ratelimit_internal::AcquireByReserving(*this, *clock_, permits,
                                                deadline);
}

void TokenBucket::CancelReservation(std::int64_t permits, std::int64_t handle) {
  const std::int64_t now = ClampTime(clock_->Now().count());
  for (;;) {
    std::int64_t tat;
    const GcraConfig gcra = LoadConfig(&tat);
    const std::int64_t restored =
        ratelimit_internal::GcraCancel(gcra, tat, handle, permits, now);
    if (restored == tat ||
        tat_.compare_exchange_weak(tat, restored, std::memory_order_acq_rel,
                                   std::memory_order_relaxed)) {
      return;
    }
  }
}

absl::Status TokenBucket::SetRate(std::int64_t rate,
                                  std::chrono::nanoseconds period,
                                  std::int64_t burst) {
  KEEL_ASSIGN_OR_RETURN(
      const std::int64_t interval,
      ratelimit_internal::IntervalFor("rate", rate, "period", period));
  if (burst < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("burst must be >= 1, got ", burst));
  }
  MutexLock lock(config_mu_);
  const std::int64_t max_debt = max_debt_.load(std::memory_order_relaxed);
  KEEL_RETURN_IF_ERROR(
      ratelimit_internal::CheckTolerance("burst", burst, max_debt, interval));
  const GcraConfig from = ratelimit_internal::MakeGcraConfig(
      interval_ns_.load(std::memory_order_relaxed),
      burst_.load(std::memory_order_relaxed), max_debt);
  const GcraConfig to =
      ratelimit_internal::MakeGcraConfig(interval, burst, max_debt);

  // Readers spin while the sequence is odd, so none can pair the new
  // configuration with a state word that has not been rescaled yet.
  const std::uint64_t seq = config_seq_.load(std::memory_order_relaxed);
  config_seq_.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  const std::int64_t now = ClampTime(clock_->Now().count());
  std::int64_t tat = tat_.load(std::memory_order_relaxed);
  while (!tat_.compare_exchange_weak(
      tat, ratelimit_internal::GcraRescale(from, to, tat, now),
      std::memory_order_relaxed, std::memory_order_relaxed)) {
  }
  interval_ns_.store(interval, std::memory_order_relaxed);
  burst_.store(burst, std::memory_order_relaxed);
  inverse_.store(to.inverse, std::memory_order_relaxed);
  config_seq_.store(seq + 2, std::memory_order_release);
  return absl::OkStatus();
}

Policy TokenBucket::policy() const {
  std::int64_t tat;
  const Config config = LoadConfig(&tat);
  Policy policy;
  policy.name = name_;
  policy.quota = config.burst;
  policy.window = std::chrono::nanoseconds(config.burst * config.interval_ns);
  return policy;
}

}  // namespace ratelimit
}  // namespace keel
