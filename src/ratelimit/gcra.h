// GCRA (generic cell rate algorithm) arithmetic shared by `TokenBucket` (one
// atomic word, CAS) and `KeyedRateLimiter` (plain words under a shard lock).
//
// A token bucket of `burst` permits refilled one permit per `interval` is
// represented by one number, the theoretical arrival time (TAT): the instant
// at which the bucket would be full again. With tolerance tau = burst *
// interval, a request for n permits at `now` computes
//
//   base    = max(TAT, now)          (a TAT in the past means "full")
//   new_tat = base + n * interval
//
// and is admitted iff new_tat - now <= tau (+ debt * interval when
// reserving), i.e. at the exact instant the n-th permit has accrued. Time
// going backwards only makes `now` smaller, which can refuse but never grant
// extra permits, and never changes the state.

#ifndef KEEL_SRC_RATELIMIT_GCRA_H_
#define KEEL_SRC_RATELIMIT_GCRA_H_

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "keel/ratelimit/internal/gcra_config.h"
#include "keel/ratelimit/rate_limiter.h"

namespace keel {
namespace ratelimit_internal {

// Timestamps are clamped to +-2^62 ns (146 years) so that TAT arithmetic with
// validated configurations (tolerance + debt below 2^60 ns) cannot overflow.
inline constexpr std::int64_t kMaxTimeNs = std::int64_t{1} << 62;
// Upper bound on (burst + max_debt) * interval accepted by Create(): a TAT
// then stays below 2^62 + 2^60 and a new TAT below 2^62 + 2^61.
inline constexpr std::int64_t kMaxToleranceNs = std::int64_t{1} << 60;

inline std::int64_t ClampTime(std::int64_t now) {
  return std::clamp(now, -kMaxTimeNs, kMaxTimeNs);
}

// a - b as a duration, saturated: with clamped times the difference of a TAT
// far in the future and a `now` far in the past exceeds 63 bits.
inline std::chrono::nanoseconds SaturatingSpan(std::int64_t a, std::int64_t b) {
  std::int64_t diff;
  if (__builtin_sub_overflow(a, b, &diff)) {
    diff = a > b ? INT64_MAX : INT64_MIN;
  }
  return std::chrono::nanoseconds(diff);
}

// Builds a configuration (computing the reciprocal of the interval).
inline GcraConfig MakeGcraConfig(std::int64_t interval_ns, std::int64_t burst,
                                 std::int64_t max_debt) {
  GcraConfig config;
  config.interval_ns = interval_ns;
  config.burst = burst;
  config.max_debt = max_debt;
  config.inverse = 1.0 / static_cast<double>(interval_ns);
  return config;
}

// floor(span / interval) for a span >= 0, or 0 for a negative span. The
// reciprocal multiply is checked exactly and falls back to a division when
// rounding put it off: a 64-bit division costs more than the rest of a
// decision.
inline std::int64_t PermitsIn(std::int64_t span, const GcraConfig& config) {
  if (span <= 0) return 0;
  const auto q =
      static_cast<std::int64_t>(static_cast<double>(span) * config.inverse);
  const std::int64_t r = span - q * config.interval_ns;
  if (r >= 0 && r < config.interval_ns) return q;
  return span / config.interval_ns;
}

// Decides a request for `permits` at `now` (already clamped) against `tat`.
// `debt` is the number of permits that may be borrowed (0 for TryAcquire).
// On admission stores the new TAT in *new_tat. Does not apply shadow mode.
inline ratelimit::Decision GcraDecide(const GcraConfig& config,
                                      std::int64_t tat, std::int64_t now,
                                      std::int64_t permits, std::int64_t debt,
                                      std::int64_t* new_tat) {
  using ratelimit::DecisionReason;
  ratelimit::Decision d;
  d.limit = config.burst;
  const std::int64_t tolerance = config.burst * config.interval_ns;
  const std::int64_t base = std::max(tat, now);
  if (permits < 0 || permits > config.burst) {
    d.reason = permits < 0 ? DecisionReason::kInvalidPermits
                           : DecisionReason::kOversize;
    d.retry_after = ratelimit::kNever;
    d.remaining = PermitsIn(now + tolerance - base, config);
    d.reset_after = SaturatingSpan(base, now);
    return d;
  }
  const std::int64_t next = base + permits * config.interval_ns;
  const std::int64_t allowed_until =
      now + tolerance + debt * config.interval_ns;
  if (next <= allowed_until) {
    d.allowed = true;
    d.reason = DecisionReason::kAdmitted;
    d.remaining = PermitsIn(now + tolerance - next, config);
    d.reset_after = SaturatingSpan(next, now);
    *new_tat = next;
    return d;
  }
  d.reason = DecisionReason::kRateLimited;
  d.remaining = PermitsIn(now + tolerance - base, config);
  d.retry_after = SaturatingSpan(next, allowed_until);
  d.reset_after = SaturatingSpan(base, now);
  return d;
}

// The instant the permits of an admitted request ending at `new_tat` may be
// used: when the bucket would have held them without borrowing.
inline std::int64_t GcraReadyAt(const GcraConfig& config, std::int64_t new_tat,
                                std::int64_t now) {
  return std::max(now, new_tat - config.burst * config.interval_ns);
}

// The TAT after cancelling a reservation of `permits` whose admission moved
// the TAT to `reserved_tat`: only the part of the reservation still ahead of
// `now` is returned (the rest has been refilled by time already), so the
// result never drops below `now` and never grants more than was taken.
inline std::int64_t GcraCancel(const GcraConfig& config, std::int64_t tat,
                               std::int64_t reserved_tat, std::int64_t permits,
                               std::int64_t now) {
  const std::int64_t give_back = std::clamp<std::int64_t>(
      reserved_tat - now, 0, permits * config.interval_ns);
  return std::max(tat - give_back, std::min(tat, now));
}

// Rescales `tat` from `from` to `to` so that the bucket keeps the same
// fraction of its capacity (debt included) relative to `now`.
inline std::int64_t GcraRescale(const GcraConfig& from, const GcraConfig& to,
                                std::int64_t tat, std::int64_t now) {
  if (tat <= now) return tat;
  __extension__ typedef __int128 Int128;  // GCC and clang; cannot overflow
  const Int128 used = tat - now;
  const Int128 scaled =
      used * (to.burst * to.interval_ns) / (from.burst * from.interval_ns);
  return now + static_cast<std::int64_t>(scaled);
}

}  // namespace ratelimit_internal
}  // namespace keel

#endif  // KEEL_SRC_RATELIMIT_GCRA_H_
