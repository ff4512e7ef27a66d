// keel/resilience/retry.h
//
// `Retry` re-runs a failed call with randomised backoff; `RetryBudget` caps
// retries across many calls (gRPC-style token bucket) so that a struggling
// dependency is not hit by a retry storm.
//
// Semantics:
//   | rule            | definition |
//   |-----------------|-----------------------------------------------------------|
//   | attempts        | max_attempts counts the FIRST call: 3 = 1 call + 2
//   retries | | retryable       | predicate over the attempt's status (default:
//   kUnavailable,| |                 | kAborted, kResourceExhausted); OK or
//   non-retryable returns | | full jitter     | before retry n (n = 1, 2, ...):
//   uniform in                | |                 | [0, min(max_backoff,
//   initial_backoff * multiplier^(n-1))] | | decorrelated    | before retry n:
//   min(max_backoff, uniform in               | |                 |
//   [initial_backoff, 3 * previous delay]); previous starts at | | |
//   initial_backoff                                           | | Retry-After
//   | when honor_retry_after and the status carries one         | | |
//   (retry_after.h): delay = max(backoff, Retry-After)        | | deadline | if
//   now + delay >= deadline, give up now without sleeping  | | | (an attempt
//   starting at the deadline could not finish)    | | budget          | each
//   retryable failure costs 1 token, each success earns  | |                 |
//   token_ratio; retries only while tokens > max_tokens / 2   | | result | the
//   last attempt's status, unchanged, in every give-up     |
//
// The first attempt always runs, even past the deadline: enforcing the call's
// own deadline is the callee's job; Retry only decides whether to try again.
//
// Example:
//   keel::resilience::RetryOptions options;
//   options.max_attempts = 4;
//   options.initial_backoff = std::chrono::milliseconds(50);
//   auto retry = keel::resilience::Retry::Create(options).value();
//   absl::StatusOr<Row> row = retry->Execute(
//       [&] { return db.Get(key); }, clock.Now() + std::chrono::seconds(2));
//
// Thread safety: Retry and RetryBudget are thread-safe; one Retry may run many
// calls at once.

#ifndef KEEL_RESILIENCE_RETRY_H_
#define KEEL_RESILIENCE_RETRY_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/base/clock.h"
#include "keel/metrics/instruments.h"
#include "keel/metrics/registry.h"
#include "keel/resilience/policy.h"
#include "keel/resilience/sleeper.h"

namespace keel::resilience {

struct RetryBudgetOptions {
  // Bucket size; the bucket starts full. Default 10. Range (0, 1000].
  double max_tokens = 10;
  // Tokens earned per successful attempt. Default 0.1. Range (0, max_tokens].
  // Precision: thousandths of a token.
  double token_ratio = 0.1;
};

// A shared retry budget (gRPC retry throttling, proposal A6): when more than
// about half the bucket has been spent on failures, retries stop until
// successes refill it. Share one budget among all Retry objects that call the
// same dependency.
//
// Thread safety: thread-safe and lock-free.
class RetryBudget {
 public:
  // kInvalidArgument names the bad field.
  static absl::StatusOr<std::unique_ptr<RetryBudget>> Create(
      RetryBudgetOptions options = {});

  // A successful attempt: tokens = min(max_tokens, tokens + token_ratio).
  void OnSuccess();
  // A retryable failure: tokens = max(0, tokens - 1).
  void OnFailure();
  // True while tokens > max_tokens / 2.
  bool AllowRetry() const;
  // Current tokens.
  double tokens() const;

 private:
  RetryBudget(std::int64_t max_milli, std::int64_t ratio_milli)
      : max_milli_(max_milli), ratio_milli_(ratio_milli), milli_(max_milli) {}
  void AddClamped(std::int64_t delta);

  const std::int64_t max_milli_;
  const std::int64_t ratio_milli_;
  std::atomic<std::int64_t> milli_;  // tokens in thousandths
};

// Why Retry stopped retrying.
enum class RetryGiveUp {
  kNotRetryable,       // the predicate said no
  kAttemptsExhausted,  // max_attempts reached
  kDeadline,           // the next delay would reach the deadline
  kBudgetExhausted,    // the RetryBudget refused
};

// Observes retry decisions (for metrics and logs). Empty defaults; called on
// the calling thread; must be thread-safe.
class RetryListener {
 public:
  virtual ~RetryListener() = default;
  // Attempt `attempt` (1-based) failed with `status`; the next attempt runs
  // after `delay`.
  virtual void OnRetry(int attempt, std::chrono::nanoseconds delay,
                       const absl::Status& status) {
    (void)attempt, (void)delay, (void)status;
  }
  // Retrying stopped after `attempts` attempts with a non-OK `status`.
  virtual void OnGiveUp(RetryGiveUp reason, int attempts,
                        const absl::Status& status) {
    (void)reason, (void)attempts, (void)status;
  }
};

struct RetryOptions {
  enum class Backoff { kExponentialFullJitter, kDecorrelatedJitter };

  // Name used as the `policy` metric label. Default "default". Non-empty.
  std::string name = "default";

  // Total attempts including the first call. Default 3. Range [1, 1000].
  int max_attempts = 3;
  // Jitter algorithm. Default kExponentialFullJitter.
  Backoff backoff = Backoff::kExponentialFullJitter;
  // Base delay. Default 100 ms. Must be > 0.
  std::chrono::nanoseconds initial_backoff = std::chrono::milliseconds(100);
  // Delay cap (before Retry-After). Default 10 s. Must be >= initial_backoff.
  std::chrono::nanoseconds max_backoff = std::chrono::seconds(10);
  // Growth per retry for full jitter. Default 2. Must be >= 1.
  double multiplier = 2.0;
  // Wait at least the Retry-After carried by the error. Default true.
  bool honor_retry_after = true;
  // Which failures are retried. Default: kUnavailable, kAborted,
  // kResourceExhausted.
  std::function<bool(const absl::Status&)> retryable;
  // Shared budget, not owned; null = unlimited. Default null.
  RetryBudget* budget = nullptr;
  // Observer, not owned; may be null. Default null.
  RetryListener* listener = nullptr;
  // Time source for deadlines. Default system clock. Must outlive the Retry.
  Clock* clock = &Clock::System();
  // How delays are waited. Default Sleeper::System(). Must outlive the Retry.
  Sleeper* sleeper = &Sleeper::System();
  // Seed of the jitter; 0 picks a random seed. Default 0.
  std::uint64_t random_seed = 0;
  // Registry for these series, all labelled `policy=<name>`:
  //   keel_retry_attempts_total{outcome}  every attempt, outcome "success",
  //                                       "retryable_failure" or
  //                                       "non_retryable_failure"
  //   keel_retry_give_ups_total{reason}   calls that ended failed, reason
  //                                       "not_retryable",
  //                                       "attempts_exhausted", "deadline" or
  //                                       "budget_exhausted" (RetryGiveUp)
  // Retry objects with the same name share the series. Not owned; may be
  // null (no metrics). Default null. Must outlive the Retry.
  metrics::Registry* metrics = nullptr;
};

class Retry final : public Policy {
 public:
  // kInvalidArgument names the first bad field. With `metrics`: the
  // registry's error if a family exists with another type or labels.
  static absl::StatusOr<std::unique_ptr<Retry>> Create(RetryOptions options);

  // Runs `fn` until it succeeds or a give-up rule applies (see the table);
  // returns the last attempt's status.
  absl::Status Run(absl::FunctionRef<absl::Status()> fn,
                   MonoTime deadline) override;

 private:
  explicit Retry(RetryOptions options, std::uint64_t seed)
      : options_(std::move(options)), seed_(seed) {}
  absl::Status BindMetrics();
  absl::Status GiveUp(RetryGiveUp reason, int attempts, absl::Status status);

  static constexpr int kGiveUpReasons = 4;

  const RetryOptions options_;
  const std::uint64_t seed_;
  std::atomic<std::uint64_t> calls_{0};
  metrics::Counter attempts_success_;
  metrics::Counter attempts_retryable_;
  metrics::Counter attempts_non_retryable_;
  // Indexed by RetryGiveUp.
  std::array<metrics::Counter, kGiveUpReasons> give_ups_;
};

}  // namespace keel::resilience

#endif  // KEEL_RESILIENCE_RETRY_H_
