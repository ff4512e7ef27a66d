// keel/resilience/circuit_breaker.h
//
// `CircuitBreaker` stops calling a dependency that keeps failing, lets a few
// probe calls test it after a wait, and resumes when the probes succeed.
//
// States and what a call sees:
//   | state         | admits                        | records outcomes | leaves
//   by              |
//   |---------------|-------------------------------|------------------|------------------------|
//   | kClosed       | every call (lock-free path)   | yes, in window   | a
//   trigger -> kOpen      | | kOpen         | nothing: kUnavailable with a  |
//   no               | wait elapsed (now >=    | |               | Retry-After
//   of the wait left  |                  | open_until) -> kHalfOpen| |
//   kHalfOpen     | up to half_open_max_probes    | probes only      | enough
//   successes ->     | |               | concurrent probes; others get | |
//   kClosed; one failure or | |               | kUnavailable                  |
//   | probe timeout -> kOpen  | | kDisabled     | every call | no | manual
//   transition only | | kForcedOpen   | nothing: kUnavailable         | no |
//   manual transition only | | kMetricsOnly  | every call                    |
//   yes, never trips | manual transition only |
//
// Triggers (evaluated in kClosed after each recorded outcome; any one trips):
//   | trigger            | fires when | minimum_calls |
//   |--------------------|------------------------------------------------------|---------------|
//   | failure rate       | 100*failures/calls >= failure_rate_threshold |
//   applies       | | slow-call rate     | 100*slow/calls >=
//   slow_call_rate_threshold           | applies       | | consecutive        |
//   failures since the last success >= threshold         | ignored       | |
//   failure count      | failures in the window >= failure_count_threshold    |
//   ignored       |
//
// Boundary definitions:
//   * The denominator `calls` is successes + failures recorded in the window.
//     Ignored outcomes (classifier says kIgnored), rejected calls and late
//     results are not counted anywhere in the window.
//   * Rate triggers need `calls >= minimum_calls` (so with minimum_calls = 10
//     the 10th recorded call can trip, the 9th cannot). Comparisons are >=.
//   * A call is slow when its duration (admission to record) is
//     >= slow_call_duration. Slow calls count toward the slow-call rate
//     whatever their outcome, and toward the failure rate only if they failed.
//   * Count-based window: the last `window_size` recorded outcomes. Time-based
//     window: `window_buckets` buckets of `window_duration / window_buckets`;
//     a bucket expires as a whole, so the window covers between
//     window_duration - one bucket and window_duration.
//   * Open -> half-open happens at the first Acquire() with now >= open_until.
//     The wait for the n-th consecutive trip (trips since the last close) is
//     min(max_wait_duration_in_open, wait_duration_in_open * multiplier^(n-1)),
//     then scaled by a uniform factor in [1 - jitter, 1 + jitter].
//   * Half-open: a probe whose result has not arrived within probe_timeout of
//     its admission counts as a failure: the next Acquire() that sees it
//     reopens the breaker, so a hung probe can never wedge it. A slow probe
//     (slow-call trigger enabled) counts as a failure. Ignored probe outcomes
//     free the probe slot without counting.
//   * Epochs: every transition starts a new epoch; a Permit remembers its
//     epoch, and a result reported under a later epoch is ignored (counted in
//     `late_results`). A result that races with a transition's window reset
//     may be counted once in the fresh window; it is never counted twice.
//   * Transitions into kClosed empty the window and the consecutive counter.
//
// Example:
//   keel::resilience::CircuitBreakerOptions options;
//   options.name = "payments";
//   options.failure_rate_threshold = 50;
//   options.minimum_calls = 20;
//   options.wait_duration_in_open = std::chrono::seconds(10);
//   auto breaker = keel::resilience::CircuitBreaker::Create(options).value();
//   absl::StatusOr<Receipt> receipt = breaker->Execute([&] { return Pay(); });
//   // or, by hand:
//   auto permit = breaker->Acquire();
//   if (!permit.ok()) return permit.status();   // kUnavailable
//   absl::Status status = Pay();
//   breaker->OnResult(*permit, status);
//
// Hot path: in kClosed, Acquire() is one atomic load (plus a clock read when
// the window is time-based or the slow-call trigger is on) and OnResult() is
// two or three uncontended atomic operations on a count window; neither takes
// a lock nor allocates. Transitions and the half-open state use a mutex.
//
// Thread safety: thread-safe. Listeners are called on the thread that caused
// the event; transition callbacks are serialised under the breaker's mutex and
// must not call the breaker's transition methods.

#ifndef KEEL_RESILIENCE_CIRCUIT_BREAKER_H_
#define KEEL_RESILIENCE_CIRCUIT_BREAKER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/base/clock.h"
#include "keel/base/mutex.h"
#include "keel/metrics/registry.h"
#include "keel/resilience/policy.h"

namespace keel::resilience {

// The breaker's state (see the table in the file comment).
enum class CircuitState : std::uint8_t {
  kClosed = 0,
  kOpen = 1,
  kHalfOpen = 2,
  kDisabled = 3,
  kForcedOpen = 4,
  kMetricsOnly = 5,
};

// "closed", "open", "half_open", "disabled", "forced_open", "metrics_only".
std::string_view CircuitStateName(CircuitState state);

// How a finished call counts.
enum class CallOutcome : std::uint8_t { kSuccess, kFailure, kIgnored };

// The default classifier: OK -> kSuccess, kCancelled -> kIgnored (the caller
// gave up; says nothing about the dependency), every other code -> kFailure.
CallOutcome DefaultCallClassifier(const absl::Status& status);

class CircuitBreaker;

// Receives the breaker's decisions, for metrics and logs. Every method has an
// empty default. Methods run on the calling thread and must be cheap and
// thread-safe; OnCallRecorded is on the hot path.
class CircuitBreakerListener {
 public:
  virtual ~CircuitBreakerListener() = default;
  // A transition happened (serialised under the breaker's mutex).
  virtual void OnStateChange(const CircuitBreaker& breaker, CircuitState from,
                             CircuitState to) {
    (void)breaker, (void)from, (void)to;
  }
  // A call was rejected while the breaker was in `state`.
  virtual void OnCallRejected(const CircuitBreaker& breaker,
                              CircuitState state) {
    (void)breaker, (void)state;
  }
  // An outcome was recorded (also kIgnored ones; late results excluded).
  virtual void OnCallRecorded(const CircuitBreaker& breaker,
                              CallOutcome outcome, bool slow) {
    (void)breaker, (void)outcome, (void)slow;
  }
  // A result arrived for a permit of an earlier epoch and was dropped.
  virtual void OnLateResult(const CircuitBreaker& breaker) { (void)breaker; }
};

struct CircuitBreakerOptions {
  enum class WindowType { kCountBased, kTimeBased };

  // Name used in messages and by listeners. Default "default". Non-empty.
  std::string name = "default";

  // Sliding window kind. Default kCountBased.
  WindowType window_type = WindowType::kCountBased;
  // Count-based: number of most recent outcomes kept. Default 100.
  // Range [1, 1000000].
  int window_size = 100;
  // Time-based: window length. Default 60 s. Must be > 0.
  std::chrono::nanoseconds window_duration = std::chrono::seconds(60);
  // Time-based: number of buckets the window is cut into. Default 10.
  // Range [1, 1000].
  int window_buckets = 10;

  // Rate triggers only fire with at least this many calls in the window.
  // Default 20. Must be >= 1.
  int minimum_calls = 20;
  // Failure-rate trigger, percent in [0, 100]; 0 disables. Default 50.
  double failure_rate_threshold = 50;
  // Slow-call-rate trigger, percent in [0, 100]; 0 disables. Default 0.
  double slow_call_rate_threshold = 0;
  // A call at least this long is slow. Must be > 0 when the slow-call trigger
  // is enabled. Default 0.
  std::chrono::nanoseconds slow_call_duration{0};
  // Consecutive-failure trigger; 0 disables. Default 0. Must be >= 0.
  int consecutive_failure_threshold = 0;
  // Absolute failure count in the window; 0 disables. Default 0. Must be >= 0.
  int failure_count_threshold = 0;

  // Wait in kOpen after the first trip. Default 30 s. Must be > 0.
  std::chrono::nanoseconds wait_duration_in_open = std::chrono::seconds(30);
  // Growth factor of the wait for repeated trips. Default 1 (constant).
  // Must be >= 1.
  double wait_multiplier = 1.0;
  // Cap of the grown wait (before jitter). Default 10 min. Must be >=
  // wait_duration_in_open.
  std::chrono::nanoseconds max_wait_duration_in_open = std::chrono::minutes(10);
  // Relative jitter of the wait, in [0, 1). Default 0.
  double wait_jitter = 0;

  // Concurrent probes admitted in kHalfOpen. Default 1. Must be >= 1.
  int half_open_max_probes = 1;
  // Successful probes needed to close. Default 1. Must be >= 1.
  int half_open_successes_to_close = 1;
  // A probe without a result after this long counts as failed. Default 10 s.
  // Must be > 0.
  std::chrono::nanoseconds probe_timeout = std::chrono::seconds(10);

  // Classifies a finished call's status. Default: DefaultCallClassifier.
  std::function<CallOutcome(const absl::Status&)> classifier;
  // Listeners, not owned; each must outlive the breaker. Default none.
  std::vector<CircuitBreakerListener*> listeners;
  // Time source. Default the system clock. Must outlive the breaker.
  Clock* clock = &Clock::System();
  // Seed of the wait jitter; 0 picks a random seed. Default 0.
  std::uint64_t random_seed = 0;
  // Registry for keel_breaker_state, keel_breaker_calls_total and
  // keel_breaker_transitions_total labelled `breaker=<name>`: the breaker
  // creates and owns a CircuitBreakerMetrics listener (breaker_metrics.h).
  // Not owned; may be null (no metrics). Default null. Must outlive the
  // breaker.
  metrics::Registry* metrics = nullptr;
};

// Counters and window totals at one moment.
struct CircuitBreakerSnapshot {
  CircuitState state = CircuitState::kClosed;
  // Window totals (see the boundary definitions in the file comment).
  std::int64_t calls = 0;
  std::int64_t failures = 0;
  std::int64_t slow_calls = 0;
  // Failures since the last success.
  std::int64_t consecutive_failures = 0;
  // Lifetime counters.
  std::int64_t rejected_calls = 0;
  std::int64_t late_results = 0;
  // Trips since the breaker last closed (drives the growing wait).
  int consecutive_trips = 0;
};

class CircuitBreaker final : public Policy {
 public:
  // Admission ticket for one call; report its result with OnResult() or
  // Record(). Trivially copyable; dropping it without a result is allowed in
  // kClosed (nothing is recorded) and counts as a hung probe in kHalfOpen.
  class Permit {
   public:
    Permit() = default;

   private:
    friend class CircuitBreaker;
    std::uint64_t word_ = 0;     // state word (epoch and state) at admission
    std::int64_t start_ns_ = 0;  // admission time when durations matter
    std::int32_t probe_ = -1;    // probe slot in kHalfOpen, else -1
    bool record_ = false;        // false in kDisabled
  };

  // Validates `options`; kInvalidArgument names the first bad field. With
  // `metrics`: the registry's error if a family exists with another type or
  // labels.
  static absl::StatusOr<std::unique_ptr<CircuitBreaker>> Create(
      CircuitBreakerOptions options);

  ~CircuitBreaker() override;
  CircuitBreaker(const CircuitBreaker&) = delete;
  CircuitBreaker& operator=(const CircuitBreaker&) = delete;

  // Asks to make one call. Fails with kUnavailable when the breaker is open
  // (with a Retry-After payload of the remaining wait), forced open, or
  // half-open with every probe slot taken. Never blocks on the closed path.
  absl::StatusOr<Permit> Acquire();

  // Classifies `status` with the classifier and records it.
  void OnResult(const Permit& permit, const absl::Status& status);
  // Records an already classified outcome.
  void Record(const Permit& permit, CallOutcome outcome);

  // Acquire(), fn(), OnResult(). `deadline` is unused: the breaker never
  // waits.
  absl::Status Run(absl::FunctionRef<absl::Status()> fn,
                   MonoTime deadline) override;

  // Current state. Lock-free.
  CircuitState state() const;
  const std::string& name() const { return options_.name; }
  CircuitBreakerSnapshot Snapshot() const;

  // Manual transitions; each starts a new epoch and notifies listeners (also
  // when the state does not change, so a reset is visible).
  // Back to kClosed with an empty window and the trip counter reset.
  void Reset();
  // Reject everything until another manual transition.
  void ForceOpen();
  // Admit everything, record nothing.
  void Disable();
  // Admit everything, record outcomes, never trip.
  void SetMetricsOnly();

 private:
  class Impl;
  CircuitBreaker(CircuitBreakerOptions options,
                 std::unique_ptr<CircuitBreakerListener> metrics);

  absl::Status Reject(CircuitState state, MonoTime now, MonoTime open_until);
  // Transition from the state word `expected` (if still current) to `to`.
  void TransitionLocked(CircuitState to, MonoTime now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool TransitionIf(std::uint64_t expected, CircuitState to, MonoTime now);
  absl::StatusOr<Permit> AcquireProbe(MonoTime now);
  void RecordProbe(const Permit& permit, CallOutcome outcome, bool slow);
  bool ShouldTrip(std::int64_t calls, std::int64_t failures, std::int64_t slow,
                  std::int64_t consecutive) const;
  std::chrono::nanoseconds NextOpenWait() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ClearCounts();

  const CircuitBreakerOptions options_;
  const bool timed_;  // whether permits need an admission time
  Clock* const clock_;
  std::unique_ptr<Impl> impl_;  // the window
  // The CircuitBreakerMetrics made for options.metrics (also in
  // options_.listeners), or null.
  const std::unique_ptr<CircuitBreakerListener> metrics_;

  // Epoch << 3 | state. Changes only under mu_.
  alignas(64) std::atomic<std::uint64_t> state_word_;
  alignas(64) std::atomic<std::int64_t> consecutive_failures_{0};
  std::atomic<std::int64_t> open_until_ns_{0};
  std::atomic<std::int64_t> rejected_{0};
  std::atomic<std::int64_t> late_{0};

  mutable Mutex mu_;
  int consecutive_trips_ ABSL_GUARDED_BY(mu_) = 0;
  int probe_successes_ ABSL_GUARDED_BY(mu_) = 0;
  // Admission time of each busy probe slot; -1 when free.
  std::vector<std::int64_t> probe_started_ns_ ABSL_GUARDED_BY(mu_);
  std::uint64_t rng_state_ ABSL_GUARDED_BY(mu_);
};

}  // namespace keel::resilience

#endif  // KEEL_RESILIENCE_CIRCUIT_BREAKER_H_
