// keel/ratelimit/token_bucket.h
//
// `TokenBucket`: a lock-free token bucket in GCRA form. The whole state is
// one atomic 64-bit word of integer nanoseconds (the theoretical arrival
// time); admitting is one compare-and-swap, refusing is a plain read, and
// neither allocates. With `stripes` > 1 the state is split over several such
// words so that threads on different cores do not contend (see "Striped
// mode" below).
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
// Striped mode (`stripes` = S > 1). One word updated by every core moves its
// cache line on each admission, so at two or more busy cores a single word is
// slower than a mutex. Striping makes the bucket S independent GCRA buckets
// ("stripes"), one cache line each; a thread admits from its own home stripe,
// so threads on different cores rarely touch the same line. Use it for a
// bucket shared by many threads on many cores; keep S = 1 (the default) for
// everything else: the fields of a decision become bounds, refusals read
// every stripe, and requests above B / S take a slower path. What changes:
//
//   | rule (S > 1)         | behaviour                                        |
//   |----------------------|--------------------------------------------------|
//   | stripe k             | refills one permit every S * I and holds         |
//   |                      | b_k = floor(B / S) permits, plus one for the     |
//   |                      | first B mod S stripes (the b_k sum to B);        |
//   |                      | `initial_tokens` and `max_debt` split the same   |
//   |                      | way                                              |
//   | over any span D      | admitted <= floor(D / I) + B, still exactly      |
//   |                      | (see below)                                      |
//   | which stripe         | the calling thread's home stripe first, then the |
//   |                      | others in order; the first that can grant does.  |
//   |                      | The home stripe follows the thread's metrics     |
//   |                      | slot (dense among live threads) and moves after  |
//   |                      | a lost CAS or when another stripe served it      |
//   | n <= floor(B / S)    | granted by one stripe                            |
//   | floor(B / S) < n <= B| TryAcquire gathers n across the stripes, all or  |
//   |                      | nothing, whenever they hold n together; such     |
//   |                      | requests take a lock shared with SetRate(), and  |
//   |                      | while one is in flight other callers may see     |
//   |                      | fewer permits for a moment (never more)          |
//   | refill pattern       | stripes emptied at the same instant refill in    |
//   |                      | step: S permits every S * I rather than one      |
//   |                      | every I (the bound above still holds)            |
//   | refusal              | consumes nothing; reads every stripe             |
//   | remaining            | a lower bound: the permits left in the stripe(s) |
//   |                      | that granted, or in the home stripe on refusal   |
//   | retry_after          | the soonest any one stripe could grant n; for    |
//   |                      | n > floor(B / S), the soonest the stripes hold n |
//   |                      | together (as read when refusing)                 |
//   | reset_after          | until the granting stripe is full; on refusal,   |
//   |                      | until every stripe is                            |
//   | Reserve(n)           | from one stripe, borrowing at most that stripe's |
//   |                      | share of `max_debt`; n > ceil(B / S) is refused  |
//   |                      | as kOversize with limit = ceil(B / S): a         |
//   |                      | reservation records one stripe, so that Cancel() |
//   |                      | can return it exactly                            |
//   | Cancel()             | returns the permits to the stripe they came from |
//   | SetRate()            | rescales every stripe proportionally; the new    |
//   |                      | burst must be >= S                               |
//   | time going backwards | a no-op on every stripe                          |
//
// The bound: stripe k is a GCRA bucket of interval S * I and burst b_k, so it
// admits at most floor(D / (S*I)) + b_k over D; summed over the stripes,
// S * floor(D / (S*I)) + B <= floor(D / I) + B (a whole number <= D / I).
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
//   // A bucket that every worker thread of a busy server admits through:
//   options.stripes = 0;  // one stripe per CPU
//   auto shared = keel::ratelimit::TokenBucket::Create(options).value();
//
// Thread safety: thread-safe and lock-free on the decision paths, except that
// with S > 1 a TryAcquire of more than floor(B / S) permits serialises with
// other such requests and with SetRate() under a lock; SetRate() serialises
// with other SetRate() calls under that lock.

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
  // Number of stripes S (see the file comment): a power of two in [1, 64], or
  // 0 for one per CPU (std::thread::hardware_concurrency() rounded up to a
  // power of two, at most 64, and lowered to the largest power of two <=
  // `burst`). An explicit S needs `burst` >= S. Default: 1 (one word, exact
  // decision fields).
  int stripes = 1;
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
// Thread safety: thread-safe; TryAcquire/Reserve/cancel are lock-free, except
// a striped TryAcquire of more than floor(burst / stripes) permits.
class TokenBucket final : public RateLimiter {
 public:
  // Validates `options` and creates a bucket. Fails with kInvalidArgument
  // naming the field: empty or non-printable `name`, `rate` < 1, `period` <=
  // 0, `burst` < 1, `stripes` not 0 and not a power of two in [1, 64],
  // `burst` < `stripes`, `initial_tokens` outside [0, burst], `max_debt` < 0,
  // (burst + max_debt) * interval above 2^60 ns (about 36 years; with S > 1
  // also a stripe's shares times S * interval), or a null `clock`; with
  // `metrics`, fails with the registry's error if
  // keel_ratelimit_decisions_total exists with another type or labels. The
  // stripes (S > 1) are allocated here, once.
  static absl::StatusOr<std::unique_ptr<TokenBucket>> Create(
      TokenBucketOptions options);

  TokenBucket(const TokenBucket&) = delete;
  TokenBucket& operator=(const TokenBucket&) = delete;

  // RateLimiter: reads the clock once, then as TryAcquire(permits, now).
  Decision TryAcquire(std::int64_t permits = 1) override;
  // Decides at a caller-supplied `now` (the same timeline as the clock).
  // Allocation-free; one load to refuse, one CAS (retried under contention)
  // to admit. With S > 1: one load and one CAS on the home stripe when it
  // can grant; otherwise one load per stripe (O(S)), and for n > floor(B / S)
  // a lock, a CAS per stripe drawn from and, on refusal, O(S * 64) arithmetic
  // for retry_after. The first striped call on a thread takes a thread slot
  // (see keel/metrics/internal/cells.h), which locks once (and the first in
  // the process allocates the slot table).
  Decision TryAcquire(std::int64_t permits, MonoTime now);

  // RateLimiter: may borrow up to `max_debt` permits (with S > 1, a stripe's
  // share of it; see the file comment for the size limit).
  Reservation Reserve(std::int64_t permits = 1) override;
  // Reserve at a caller-supplied `now`.
  Reservation Reserve(std::int64_t permits, MonoTime now);

  // RateLimiter: reserves, then waits until the reservation is ready.
  // Reservations are served in arrival order, so waiters do not stampede.
  absl::Status Acquire(std::int64_t permits, MonoTime deadline) override;

  // Changes rate, period and burst at run time, keeping the bucket's fill
  // fraction (see the file comment; every stripe keeps its own). `max_debt`,
  // the stripe count and the shadow flag are kept. Fails with
  // kInvalidArgument (state unchanged) on the same rules as Create(),
  // `burst` >= stripes() included. A decision racing with SetRate() is made
  // entirely under the old or entirely under the new configuration.
  absl::Status SetRate(std::int64_t rate, std::chrono::nanoseconds period,
                       std::int64_t burst);

  // RateLimiter: quota = burst, window = burst * interval.
  Policy policy() const override;
  std::string_view name() const override { return name_; }

  // The number of stripes S (`stripes` resolved when it was 0). Fixed at
  // creation.
  int stripes() const { return stripes_; }

 protected:
  // `handle` is the state word the reservation moved to. With S > 1,
  // `permits` carries the stripe as well: permits * S + stripe (a reservation
  // has two words, and the reserved TAT needs all of `handle`).
  void CancelReservation(std::int64_t permits, std::int64_t handle) override;

 private:
  using Config = ratelimit_internal::GcraConfig;

  // One stripe's state word (S > 1), alone on its cache line.
  struct alignas(64) Stripe {
    std::atomic<std::int64_t> tat{0};
  };

  TokenBucket(const TokenBucketOptions& options, const Config& config,
              int stripes, std::int64_t now,
              ratelimit_internal::DecisionMetrics metrics);
  // The configuration fields, each loaded once (callers provide consistency:
  // a seqlock read, or holding config_mu_).
  Config ReadConfig() const;
  // A consistent snapshot of the configuration (seqlock read) and `word`
  // (tat_ or a stripe's) loaded within the same snapshot.
  Config LoadConfig(const std::atomic<std::int64_t>& word,
                    std::int64_t* tat) const;
  // The same with every stripe's word, into tats[0..S).
  Config LoadAllStripes(std::int64_t* tats) const;
  // Stripe k's share of a bucket configuration (identity when S = 1).
  Config StripeConfig(const Config& bucket, int stripe) const;
  // The admission loop shared by TryAcquire and Reserve (S = 1); `debt`
  // selects whether max_debt applies.
  Decision Decide(std::int64_t permits, std::int64_t now, bool debt,
                  std::int64_t* new_tat, std::int64_t* ready_at);
  // The same for S > 1 (`reserve`: Reserve's rules, debt included): the
  // home stripe, then DecideAcross(). Stores the granting stripe in *stripe.
  Decision DecideStriped(std::int64_t permits, std::int64_t now, bool reserve,
                         int* stripe, std::int64_t* new_tat,
                         std::int64_t* ready_at);
  // TryAcquire(permits, now) when S = 1 and when S > 1.
  Decision TryAcquireOneWord(std::int64_t permits, MonoTime now);
  Decision TryAcquireStriped(std::int64_t permits, MonoTime now);
  // Reserve(permits, now) when S > 1 (`now` clamped).
  Reservation ReserveStriped(std::int64_t permits, std::int64_t now);
  // Applies shadow mode and the observer to a reservation's decision and
  // builds the reservation; `recorded` is the permit count to cancel.
  Reservation FinishReservation(Decision decision, std::int64_t recorded,
                                std::int64_t new_tat, std::int64_t ready_at,
                                std::int64_t now);
  // Every stripe in order from `home`, from one snapshot; refuses read-only,
  // or hands requests above floor(B / S) to TakeAcross() (TryAcquire only).
  Decision DecideAcross(std::int64_t permits, std::int64_t now, bool reserve,
                        int home, int* stripe, std::int64_t* new_tat,
                        std::int64_t* ready_at);
  // A TryAcquire of floor(B / S) < n <= B: takes parts stripe by stripe and
  // gives them all back if they fall short. Locks config_mu_.
  Decision TakeAcross(std::int64_t permits, std::int64_t now, int home)
      ABSL_LOCKS_EXCLUDED(config_mu_);
  // The refusal of such a request, from the stripes' words `tats`.
  Decision RefuseAcross(const Config& bucket, const std::int64_t* tats,
                        std::int64_t permits, std::int64_t now, int home) const;
  // Applies shadow mode and notifies the observer (the uncommon case).
  Decision Finish(Decision decision);

  const std::string name_;
  const bool shadow_;
  Clock* const clock_;
  DecisionObserver* const observer_;
  const ratelimit_internal::DecisionMetrics metrics_;
  // S, a power of two in [1, 64], its log2, and 1.0 / S.
  const int stripes_;
  const int stripe_shift_;
  const double stripe_scale_;
  // The stripes' words when S > 1 (null when S = 1), allocated by Create().
  const std::unique_ptr<Stripe[]> stripe_words_;

  // The state word when S = 1: the theoretical arrival time, in clock
  // nanoseconds. On its own cache line so that CAS traffic does not evict the
  // configuration. Unused when S > 1.
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
