// keel/ratelimit/rate_limiter.h
//
// The `RateLimiter` interface shared by every rate limiter in keel (token
// bucket, fixed and sliding windows, and later the Redis-backed limiter), and
// the values it returns:
//
//   * Decision     the outcome of one request for permits, with everything an
//                  HTTP response needs (remaining, limit, retry/reset times).
//   * Reservation  permits taken now for use at `ready_at()`, possibly ahead
//                  of the refill (bounded debt); `Cancel()` gives them back.
//   * Policy       the advertised quota, for `RateLimit-Policy` headers.
//   * DecisionObserver  a hook called for every decision (metrics, logs).
//
// Three ways to ask for permits:
//
//   | call                       | when refused                | blocks |
//   |----------------------------|-----------------------------|--------|
//   | TryAcquire(n)              | Decision{allowed = false}   | never  |
//   | Reserve(n)                 | Reservation with !ok()      | never  |
//   | Acquire(n, deadline)       | kDeadlineExceeded if the    | until  |
//   |                            | permits come after deadline | ready  |
//
// Rules common to all limiters:
//   * A refused request never consumes permits.
//   * `permits == 0` is a query: always allowed, consumes nothing, and reports
//     the current `remaining` (useful for headers on unrelated responses).
//   * `permits < 0` is refused with kInvalidPermits; `permits` above what the
//     limiter can ever grant at once (the burst, the window limit) is refused
//     with kOversize and is never admitted, however long the caller waits.
//   * Shadow (dry-run) mode: the limiter decides and counts as usual, but a
//     request it would refuse is returned with `allowed = true` and its
//     `reason` still saying why it would have been refused. Such requests do
//     not consume permits, so the limiter tracks what enforcement would do.
//
// Example:
//   keel::ratelimit::TokenBucketOptions options;
//   options.rate = 100;                        // 100 permits per second
//   options.burst = 20;
//   auto limiter = keel::ratelimit::TokenBucket::Create(options).value();
//   keel::ratelimit::Decision d = limiter->TryAcquire();
//   if (!d.allowed) return Reply429(d.retry_after);
//
// Thread safety: every implementation of `RateLimiter` is thread-safe.
// `Reservation` is a value owned by one thread at a time.

#ifndef KEEL_RATELIMIT_RATE_LIMITER_H_
#define KEEL_RATELIMIT_RATE_LIMITER_H_

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "keel/base/clock.h"

namespace keel {
namespace ratelimit {

// Why a decision came out the way it did.
enum class DecisionReason : std::uint8_t {
  // The permits were granted.
  kAdmitted,
  // Not enough permits now; `retry_after` says when they will be.
  kRateLimited,
  // More permits than the limiter can ever grant at once; retrying is futile.
  kOversize,
  // A negative permit count.
  kInvalidPermits,
};

// Returns "admitted", "rate_limited", "oversize" or "invalid_permits" (stable
// strings, used as metric label values).
std::string_view DecisionReasonName(DecisionReason reason);

// Retry time reported when retrying can never succeed (kOversize,
// kInvalidPermits).
inline constexpr std::chrono::nanoseconds kNever =
    std::chrono::nanoseconds::max();

// The outcome of one request for permits. A plain value: copying is cheap and
// nothing in it refers back to the limiter.
struct Decision {
  // What the caller should do: true means go ahead. Always true in shadow
  // mode.
  bool allowed = false;
  // What the rule decided. In shadow mode `allowed` may be true while this is
  // not kAdmitted: the request would have been refused.
  DecisionReason reason = DecisionReason::kInvalidPermits;
  // Permits that could still be granted right after this decision (>= 0).
  std::int64_t remaining = 0;
  // The most permits the limiter grants at once (burst or window limit).
  std::int64_t limit = 0;
  // How long until a retry of the same request can succeed: zero when
  // admitted, `kNever` when retrying is futile.
  std::chrono::nanoseconds retry_after{0};
  // How long until the limiter is back to its full quota (bucket full, or the
  // counting window(s) holding this request's permits have passed).
  std::chrono::nanoseconds reset_after{0};

  // True if the rule refused the request (whether or not shadow mode let it
  // through).
  bool would_reject() const { return reason != DecisionReason::kAdmitted; }
};

// The status a caller should return for a refused decision: OK when allowed,
// kResourceExhausted when rate limited, kInvalidArgument for kOversize and
// kInvalidPermits. The message names the limiter and the retry time.
absl::Status DecisionToStatus(const Decision& decision,
                              std::string_view limiter_name);

// The quota a limiter advertises (`RateLimit-Policy`): `quota` permits per
// `window`. For a token bucket, quota is the burst and window the time to
// refill it from empty.
struct Policy {
  std::string name;
  std::int64_t quota = 0;
  std::chrono::nanoseconds window{0};
};

// Receives every decision a limiter makes, on the deciding thread. Used to
// feed metrics and logs without tying limiters to a metrics library.
//
// Thread safety: OnDecision() is called concurrently from every thread that
// uses the limiter; implementations must be thread-safe, fast and must not
// call back into the limiter.
class DecisionObserver {
 public:
  virtual ~DecisionObserver() = default;
  // Called once per TryAcquire/Reserve (Acquire calls Reserve) with the
  // limiter's name and the decision returned to the caller.
  virtual void OnDecision(std::string_view limiter,
                          const Decision& decision) = 0;
};

class RateLimiter;

// Permits taken from a limiter for use at `ready_at()`. Obtained from
// `RateLimiter::Reserve`. If the caller decides not to use them, `Cancel()`
// returns them to the limiter exactly: the part of the reservation that has
// not yet been refilled by the passage of time is given back, so a cancel
// right after a reserve restores the limiter to the state it would be in had
// the reservation never happened (other requests in between included).
// Destroying a reservation without cancelling keeps the permits consumed.
//
// Thread safety: a Reservation is not thread-safe; the limiter it refers to
// must outlive it if Cancel() is to be called.
class Reservation {
 public:
  // An empty, refused reservation.
  Reservation() = default;
  Reservation(Reservation&& other) noexcept;
  Reservation& operator=(Reservation&& other) noexcept;
  Reservation(const Reservation&) = delete;
  Reservation& operator=(const Reservation&) = delete;
  ~Reservation() = default;

  // True if the permits were reserved (or shadow mode let the request
  // through).
  bool ok() const { return decision_.allowed; }
  // The decision behind this reservation. When ok(), `retry_after` is the
  // wait until ready_at() as seen when reserving.
  const Decision& decision() const { return decision_; }
  // The instant the reserved permits may be used; only meaningful when ok().
  MonoTime ready_at() const { return ready_at_; }
  // How long to wait from `now` until ready_at() (zero if already ready).
  std::chrono::nanoseconds WaitFrom(MonoTime now) const {
    return ready_at_ > now ? ready_at_ - now : std::chrono::nanoseconds(0);
  }

  // Returns the reserved permits to the limiter. Idempotent; does nothing for
  // refused reservations and for shadow-mode ones that consumed nothing.
  void Cancel();

 private:
  friend class RateLimiter;
  Reservation(RateLimiter* limiter, std::int64_t permits, std::int64_t handle,
              MonoTime ready_at, const Decision& decision)
      : limiter_(limiter),
        permits_(permits),
        handle_(handle),
        ready_at_(ready_at),
        decision_(decision) {}

  RateLimiter* limiter_ = nullptr;  // null when there is nothing to cancel
  std::int64_t permits_ = 0;
  std::int64_t handle_ = 0;  // implementation-defined, see CancelReservation
  MonoTime ready_at_{0};
  Decision decision_;
};

// A rate limiter. Implementations: `TokenBucket` (GCRA, lock-free),
// `FixedWindowLimiter`, `SlidingWindowLimiter`; a remote (Redis) limiter
// implements the same interface, so its calls may be slower but return the
// same values.
//
// Thread safety: all methods are thread-safe.
class RateLimiter {
 public:
  virtual ~RateLimiter() = default;

  // Asks for `permits` now and returns the decision. Never blocks on other
  // callers in the in-process limiters. A refusal consumes nothing.
  virtual Decision TryAcquire(std::int64_t permits = 1) = 0;

  // Takes `permits` now for use at the returned reservation's ready_at(),
  // which may lie in the future when the limiter allows borrowing against
  // future refill (bounded debt, see each limiter's options). Refused (with
  // the same reasons as TryAcquire) when even the allowed debt cannot cover
  // the request; a refusal consumes nothing.
  virtual Reservation Reserve(std::int64_t permits = 1) = 0;

  // Blocks until `permits` are granted or `deadline` (on the limiter's clock)
  // would be missed. Returns OK once the permits are granted and their time
  // has come; kDeadlineExceeded without waiting if they cannot be ready by
  // `deadline` (nothing is consumed then); kInvalidArgument for kOversize or
  // kInvalidPermits. In shadow mode it never waits and returns OK. With a
  // `ManualClock` the wait ends when the test advances the clock.
  virtual absl::Status Acquire(std::int64_t permits, MonoTime deadline) = 0;

  // The quota this limiter advertises.
  virtual Policy policy() const = 0;

  // The limiter's name (metrics label, `RateLimit-Policy` name).
  virtual std::string_view name() const = 0;

 protected:
  // Returns the permits of a reservation this limiter made (see
  // Reservation::Cancel). `handle` is what the implementation passed to
  // MakeReservation.
  virtual void CancelReservation(std::int64_t permits, std::int64_t handle) = 0;

  // Builds a reservation. `cancellable` is false when nothing was consumed
  // (refusals, shadow-mode pass-throughs).
  Reservation MakeReservation(bool cancellable, std::int64_t permits,
                              std::int64_t handle, MonoTime ready_at,
                              const Decision& decision) {
    return Reservation(cancellable ? this : nullptr, permits, handle, ready_at,
                       decision);
  }

 private:
  friend class Reservation;
};

}  // namespace ratelimit
}  // namespace keel

#endif  // KEEL_RATELIMIT_RATE_LIMITER_H_
