// keel/ratelimit/window_limiter.h
//
// `WindowLimiter`: "at most `limit` permits per `window`" with window
// semantics, for users who want them rather than a token bucket. Two
// algorithms:
//
//   * kFixed    a counter per aligned window [k*W, (k+1)*W). Simple and easy
//               to explain, but allows up to 2*limit around a window edge.
//   * kSliding  Cloudflare's sliding-window counter: the previous window's
//               count weighted by the part of it still inside the sliding
//               window, plus the current count. Smooths the edge burst with
//               two counters of state.
//
// Semantics (L = limit, W = window, windows aligned to multiples of W on the
// clock's timeline, e = now - start of the current window):
//
//   | rule                 | kFixed                  | kSliding               |
//   |----------------------|-------------------------|------------------------|
//   | n permits admitted   | count + n <= L          | prev*(W-e)/W + cur + n |
//   | iff (>=: at the edge |                         |   <= L (exact integer  |
//   | exactly "= L" fits)  |                         |   arithmetic)          |
//   | at the reset instant | e == 0 belongs to the   | the current count      |
//   | k*W exactly          | new window: count is 0  | becomes prev, weight 1 |
//   | n > L                | kOversize, kNever       | kOversize, kNever      |
//   | retry_after          | until the next window   | until the estimate     |
//   |                      |                         | leaves room for n      |
//   | reset_after          | until the window ends   | until the windows      |
//   |                      | (0 if nothing counted)  | holding counts pass    |
//   | time going backwards | no-op: counted in the   | same; the elapsed part |
//   |                      | current window          | is taken as 0          |
//   | Reserve(n)           | as TryAcquire (no debt); Cancel() uncounts the   |
//   |                      | permits if their window is still tracked         |
//
// Example:
//   keel::ratelimit::WindowLimiterOptions options;
//   options.name = "login";
//   options.limit = 5;
//   options.window = std::chrono::minutes(1);
//   options.algorithm = keel::ratelimit::WindowAlgorithm::kSliding;
//   auto limiter = keel::ratelimit::WindowLimiter::Create(options).value();
//   if (!limiter->TryAcquire().allowed) { /* 429 */ }
//
// Thread safety: thread-safe. Decisions take a short internal lock (three
// integers of state); use TokenBucket where a lock-free path matters.

#ifndef KEEL_RATELIMIT_WINDOW_LIMITER_H_
#define KEEL_RATELIMIT_WINDOW_LIMITER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/base/clock.h"
#include "keel/base/mutex.h"
#include "keel/metrics/registry.h"
#include "keel/ratelimit/internal/limiter_metrics.h"
#include "keel/ratelimit/rate_limiter.h"

namespace keel {
namespace ratelimit {

// How a WindowLimiter counts (see the file comment).
enum class WindowAlgorithm : std::uint8_t { kFixed, kSliding };

// Options of a WindowLimiter. Every field is validated by Create().
struct WindowLimiterOptions {
  // Limiter name for metrics and `RateLimit-Policy`: non-empty printable
  // ASCII. Default: "default".
  std::string name = "default";
  // Permits per window. Must be >= 1. No default (0 is rejected).
  std::int64_t limit = 0;
  // Window length. Must be > 0, and limit * window must stay below 2^61 ns.
  // Default: one second.
  std::chrono::nanoseconds window = std::chrono::seconds(1);
  // Default: kSliding.
  WindowAlgorithm algorithm = WindowAlgorithm::kSliding;
  // Shadow (dry-run) mode: decide and count, but never refuse.
  bool shadow = false;
  // Time source. Must not be null and must outlive the limiter.
  Clock* clock = &Clock::System();
  // Told about every decision. Optional; must outlive the limiter.
  DecisionObserver* observer = nullptr;
  // Registry for `keel_ratelimit_decisions_total{limiter=<name>, decision}`
  // (decision: "admitted", "rate_limited", "oversize", "invalid_permits"; in
  // shadow mode would-be refusals are "shadow_<reason>"). Limiters with the
  // same name share the series. Optional; must outlive the limiter.
  metrics::Registry* metrics = nullptr;
};

// A fixed- or sliding-window counter limiter.
//
// Thread safety: thread-safe.
class WindowLimiter final : public RateLimiter {
 public:
  // Validates `options`. Fails with kInvalidArgument naming the field: empty
  // or non-printable `name`, `limit` < 1, `window` <= 0, limit * window >=
  // 2^61, or a null `clock`; with `metrics`, fails with the registry's error
  // if keel_ratelimit_decisions_total exists with another type or labels.
  static absl::StatusOr<std::unique_ptr<WindowLimiter>> Create(
      WindowLimiterOptions options);

  WindowLimiter(const WindowLimiter&) = delete;
  WindowLimiter& operator=(const WindowLimiter&) = delete;

  // RateLimiter: reads the clock once.
  Decision TryAcquire(std::int64_t permits = 1) override;
  // Decides at a caller-supplied `now`. Allocation-free.
  Decision TryAcquire(std::int64_t permits, MonoTime now);

  // RateLimiter: no debt; the reservation is ready at once when granted.
  Reservation Reserve(std::int64_t permits = 1) override;
  Reservation Reserve(std::int64_t permits, MonoTime now);

  // RateLimiter: retries at each retry_after until granted or the deadline
  // cannot be met.
  absl::Status Acquire(std::int64_t permits, MonoTime deadline) override;

  // RateLimiter: quota = limit, window = window.
  Policy policy() const override;
  std::string_view name() const override { return options_.name; }

 protected:
  void CancelReservation(std::int64_t permits, std::int64_t handle) override;

 private:
  WindowLimiter(WindowLimiterOptions options,
                ratelimit_internal::DecisionMetrics metrics);
  // Moves the counters to the window containing `now`; returns the time
  // elapsed in the current window (0 when `now` lies before it).
  std::int64_t Roll(std::int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Decides and, when admitted, counts. Sets *window to the counted window.
  Decision Decide(std::int64_t permits, std::int64_t now, std::int64_t* window)
      ABSL_LOCKS_EXCLUDED(mu_);
  Decision Finish(Decision decision);

  const WindowLimiterOptions options_;
  const std::int64_t window_ns_;
  const ratelimit_internal::DecisionMetrics metrics_;

  Mutex mu_;
  std::int64_t index_ ABSL_GUARDED_BY(mu_) = 0;     // current window number
  std::int64_t current_ ABSL_GUARDED_BY(mu_) = 0;   // permits in it
  std::int64_t previous_ ABSL_GUARDED_BY(mu_) = 0;  // permits in index_ - 1
};

}  // namespace ratelimit
}  // namespace keel

#endif  // KEEL_RATELIMIT_WINDOW_LIMITER_H_
