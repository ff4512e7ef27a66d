// keel/ratelimit/token_bucket.h
//
// `TokenBucket`: a lock-free token bucket in GCRA form. The whole state is
// one atomic 64-bit word of integer nanoseconds (the theoretical arrival
// time); admitting is one compare-and-swap, refusing is a plain read, and
// neither allocates.
//
// Semantics (I = interval = ceil(period / rate) ns, the time to accrue one
// permit; B = burst):
//
//   | rule                 | behaviour                                        |
//   |----------------------|--------------------------------------------------|
//   | capacity             | at most B permits at once; starts with           |
//   |                      | `initial_tokens` (default B)                     |
//   | refill               | one permit every I, continuously (no steps)      |
//   | boundary             | n permits are granted at the exact instant the   |
//   |                      | n-th one has accrued (>=), refused 1 ns earlier  |
//   | over any span D      | admitted <= floor(D / I) + B, exactly            |
//   | n > B                | refused, kOversize, retry_after = kNever         |
//   | refusal              | consumes nothing                                 |
//   | Reserve(n)           | may borrow up to `max_debt` permits of future    |
//   |                      | refill; ready_at() says when they may be used    |
//   | Cancel()             | returns the not-yet-refilled part exactly        |
//   | time going backwards | no-op: an earlier `now` can only see fewer       |
//   |                      | permits and never changes the state              |
//   | SetRate()            | rescales the state proportionally: a bucket 30%  |
//   |                      | full stays 30% full (debt scales the same way)   |
//   | remaining            | whole permits available after the decision       |
//   | reset_after          | time until the bucket is full again              |
//
// The rate is rounded so that I is a whole number of nanoseconds, rounded up:
// the bucket never admits more than configured.
//
// Example:
//   keel::ratelimit::TokenBucketOptions options;
//   options.name = "api";
//   options.rate = 10;                          // 10 permits ...
//   options.period = std::chrono::seconds(1);   // ... per second
//   options.burst = 20;
//   auto bucket = keel::ratelimit::TokenBucket::Create(options).value();
//   keel::ratelimit::Decision d = bucket->TryAcquire();
//   // Hot loops that already know the time pass it in:
//   d = bucket->TryAcquire(1, clock.Now());
//
// Thread safety: thread-safe and lock-free on the decision paths; SetRate()
// serialises with other SetRate() calls under a lock.

#ifndef KEEL_RATELIMIT_TOKEN_BUCKET_H_
#define KEEL_RATELIMIT_TOKEN_BUCKET_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/base/clock.h"
#include "keel/base/mutex.h"
#include "keel/metrics/registry.h"
#include "keel/ratelimit/internal/gcra_config.h"
#include "keel/ratelimit/internal/limiter_metrics.h"
#include "keel/ratelimit/rate_limiter.h"

namespace keel {
namespace ratelimit {

// Options of a TokenBucket. Every field is validated by Create().
struct TokenBucketOptions {
  // Limiter name for metrics and `RateLimit-Policy`: non-empty printable
  // ASCII. Default: "default".
  std::string name = "default";
  // Permits accrued per `period`. Must be >= 1. No default (0 is rejected).
  std::int64_t rate = 0;
  // Must be > 0. Default: one second.
  std::chrono::nanoseconds period = std::chrono::seconds(1);
  // Bucket size: the most permits granted at once. Must be >= 1. No default.
  std::int64_t burst = 0;
  // Permits available at creation, in [0, burst]. Default: burst (full).
  std::optional<std::int64_t> initial_tokens;
  // Permits Reserve() may borrow against future refill. Must be >= 0.
  // Default: 0 (Reserve behaves like TryAcquire, with a reservation).
  std::int64_t max_debt = 0;
  // Shadow (dry-run) mode: decide and count, but never refuse.
  bool shadow = false;
  // Time source. Must not be null and must outlive the bucket.
  Clock* clock = &Clock::System();
  // Told about every decision. Optional; must outlive the bucket.
  DecisionObserver* observer = nullptr;
  // Registry for `keel_ratelimit_decisions_total{limiter=<name>, decision}`
  // (decision: "admitted", "rate_limited", "oversize", "invalid_permits"; in
  // shadow mode would-be refusals are "shadow_<reason>"). Limiters with the
  // same name share the series. Optional; must outlive the limiter.
  metrics::Registry* metrics = nullptr;
};

// A GCRA token bucket (see the file comment for the semantics table).
//
// Thread safety: thread-safe; TryAcquire/Reserve/cancel are lock-free.
class TokenBucket final : public RateLimiter {
 public:
  // Validates `options` and creates a bucket. Fails with kInvalidArgument
  // naming the field: empty or non-printable `name`, `rate` < 1, `period` <=
  // 0, `burst` < 1, `initial_tokens` outside [0, burst], `max_debt` < 0,
  // (burst + max_debt) * interval above 2^60 ns (about 36 years), or a null
  // `clock`; with `metrics`, fails with the registry's error if
  // keel_ratelimit_decisions_total exists with another type or labels.
  static absl::StatusOr<std::unique_ptr<TokenBucket>> Create(
      TokenBucketOptions options);

  TokenBucket(const TokenBucket&) = delete;
  TokenBucket& operator=(const TokenBucket&) = delete;

  // RateLimiter: reads the clock once, then as TryAcquire(permits, now).
  Decision TryAcquire(std::int64_t permits = 1) override;
  // Decides at a caller-supplied `now` (the same timeline as the clock).
  // Allocation-free; one load to refuse, one CAS (retried under contention)
  // to admit.
  Decision TryAcquire(std::int64_t permits, MonoTime now);

  // RateLimiter: may borrow up to `max_debt` permits.
  Reservation Reserve(std::int64_t permits = 1) override;
  // Reserve at a caller-supplied `now`.
  Reservation Reserve(std::int64_t permits, MonoTime now);

  // RateLimiter: reserves, then waits until the reservation is ready.
  // Reservations are served in arrival order, so waiters do not stampede.
  absl::Status Acquire(std::int64_t permits, MonoTime deadline) override;

  // Changes rate, period and burst at run time, keeping the bucket's fill
  // fraction (see the file comment). `max_debt` and the shadow flag are kept.
  // Fails with kInvalidArgument (state unchanged) on the same rules as
  // Create(). A decision racing with SetRate() is made entirely under the old
  // or entirely under the new configuration.
  absl::Status SetRate(std::int64_t rate, std::chrono::nanoseconds period,
                       std::int64_t burst);

  // RateLimiter: quota = burst, window = burst * interval.
  Policy policy() const override;
  std::string_view name() const override { return name_; }

 protected:
  void CancelReservation(std::int64_t permits, std::int64_t handle) override;

 private:
  using Config = ratelimit_internal::GcraConfig;

  TokenBucket(const TokenBucketOptions& options, const Config& config,
              ratelimit_internal::DecisionMetrics metrics);
  // A consistent snapshot of the configuration (seqlock read) and the state
  // word loaded within the same snapshot.
  Config LoadConfig(std::int64_t* tat) const;
  // The admission loop shared by TryAcquire and Reserve; `debt` selects
  // whether max_debt applies.
  Decision Decide(std::int64_t permits, std::int64_t now, bool debt,
                  std::int64_t* new_tat, std::int64_t* ready_at);
  // Applies shadow mode and notifies the observer (the uncommon case).
  Decision Finish(Decision decision);

  const std::string name_;
  const bool shadow_;
  Clock* const clock_;
  DecisionObserver* const observer_;
  const ratelimit_internal::DecisionMetrics metrics_;

  // The state word: the theoretical arrival time, in clock nanoseconds. On
  // its own cache line so that CAS traffic does not evict the configuration.
  alignas(64) std::atomic<std::int64_t> tat_;

  // Configuration, read lock-free under a sequence counter (odd while
  // SetRate() is writing), written only under `config_mu_`.
  alignas(64) std::atomic<std::uint64_t> config_seq_{0};
  std::atomic<std::int64_t> interval_ns_;
  std::atomic<std::int64_t> burst_;
  std::atomic<std::int64_t> max_debt_;
  std::atomic<double> inverse_;
  Mutex config_mu_;
};

}  // namespace ratelimit
}  // namespace keel

#endif  // KEEL_RATELIMIT_TOKEN_BUCKET_H_
