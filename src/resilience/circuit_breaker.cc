#include "keel/resilience/circuit_breaker.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "keel/base/hash.h"
#include "keel/resilience/breaker_metrics.h"
#include "keel/resilience/retry_after.h"
#include "outcome_window.h"

namespace keel::resilience {
namespace {

constexpr std::uint64_t kStateMask = 7;

std::uint64_t MakeWord(std::uint64_t epoch, CircuitState state) {
  return (epoch << 3) | static_cast<std::uint64_t>(state);
}
CircuitState StateOf(std::uint64_t word) {
  return static_cast<CircuitState>(word & kStateMask);
}

absl::Status ValidateOptions(const CircuitBreakerOptions& o) {
  using Window = CircuitBreakerOptions::WindowType;
  if (o.name.empty())
    return absl::InvalidArgumentError("name: must not be empty");
  if (o.window_type == Window::kCountBased &&
      (o.window_size < 1 ||
       o.window_size > resilience_internal::CountWindow::kMaxSize)) {
    return absl::InvalidArgumentError("window_size: must be in [1, 1000000]");
  }
  if (o.window_type == Window::kTimeBased) {
    if (o.window_duration.count() <= 0) {
      return absl::InvalidArgumentError("window_duration: must be > 0");
    }
    if (o.window_buckets < 1 || o.window_buckets > 1000) {
      return absl::InvalidArgumentError("window_buckets: must be in [1, 1000]");
    }
    if (o.window_duration.count() < o.window_buckets) {
      return absl::InvalidArgumentError(
          "window_duration: must be at least window_buckets nanoseconds");
    }
  }
  if (o.minimum_calls < 1) {
    return absl::InvalidArgumentError("minimum_calls: must be >= 1");
  }
  if (!(o.failure_rate_threshold >= 0 && o.failure_rate_threshold <= 100)) {
    return absl::InvalidArgumentError(
        "failure_rate_threshold: must be in [0, 100]");
  }
  if (!(o.slow_call_rate_threshold >= 0 && o.slow_call_rate_threshold <= 100)) {
    return absl::InvalidArgumentError(
        "slow_call_rate_threshold: must be in [0, 100]");
  }
  if (o.slow_call_duration.count() < 0 ||
      (o.slow_call_rate_threshold > 0 && o.slow_call_duration.count() == 0)) {
    return absl::InvalidArgumentError(
        "slow_call_duration: must be > 0 when slow_call_rate_threshold is set");
  }
  if (o.consecutive_failure_threshold < 0) {
    return absl::InvalidArgumentError(
        "consecutive_failure_threshold: must be >= 0");
  }
  if (o.failure_count_threshold < 0) {
    return absl::InvalidArgumentError("failure_count_threshold: must be >= 0");
  }
  if (o.wait_duration_in_open.count() <= 0) {
    return absl::InvalidArgumentError("wait_duration_in_open: must be > 0");
  }
  if (!(o.wait_multiplier >= 1.0) || std::isinf(o.wait_multiplier)) {
    return absl::InvalidArgumentError(
        "wait_multiplier: must be finite and >= 1");
  }
  if (o.max_wait_duration_in_open < o.wait_duration_in_open) {
    return absl::InvalidArgumentError(
        "max_wait_duration_in_open: must be >= wait_duration_in_open");
  }
  if (!(o.wait_jitter >= 0 && o.wait_jitter < 1)) {
    return absl::InvalidArgumentError("wait_jitter: must be in [0, 1)");
  }
  if (o.half_open_max_probes < 1) {
    return absl::InvalidArgumentError("half_open_max_probes: must be >= 1");
  }
  if (o.half_open_successes_to_close < 1) {
    return absl::InvalidArgumentError(
        "half_open_successes_to_close: must be >= 1");
  }
  if (o.probe_timeout.count() <= 0) {
    return absl::InvalidArgumentError("probe_timeout: must be > 0");
  }
  if (o.clock == nullptr)
    return absl::InvalidArgumentError("clock: must not be null");
  for (CircuitBreakerListener* listener : o.listeners) {
    if (listener == nullptr) {
      return absl::InvalidArgumentError("listeners: must not hold null");
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view CircuitStateName(CircuitState state) {
  switch (state) {
    case CircuitState::kClosed:
      return "closed";
    case CircuitState::kOpen:
      return "open";
    case CircuitState::kHalfOpen:
      return "half_open";
    case CircuitState::kDisabled:
      return "disabled";
    case CircuitState::kForcedOpen:
      return "forced_open";
    case CircuitState::kMetricsOnly:
      return "metrics_only";
  }
  return "unknown";
}

CallOutcome DefaultCallClassifier(const absl::Status& status) {
  if (status.ok()) return CallOutcome::kSuccess;
  if (status.code() == absl::StatusCode::kCancelled)
    return CallOutcome::kIgnored;
  return CallOutcome::kFailure;
}

// The sliding window: exactly one of the two kinds.
class CircuitBreaker::Impl {
 public:
  explicit Impl(const CircuitBreakerOptions& options) {
    if (options.window_type == CircuitBreakerOptions::WindowType::kTimeBased) {
      time_ = std::make_unique<resilience_internal::TimeWindow>(
          options.window_duration, options.window_buckets);
    } else {
      count_ = std::make_unique<resilience_internal::CountWindow>(
          options.window_size);
    }
  }
  resilience_internal::WindowCounts Record(MonoTime now, bool failure,
                                           bool slow) {
    return count_ ? count_->Record(failure, slow)
                  : time_->Record(now, failure, slow);
  }
  resilience_internal::WindowCounts Totals(MonoTime now) const {
    return count_ ? count_->Totals() : time_->Totals(now);
  }
  void Clear() {
    if (count_) {
      count_->Clear();
    } else {
      time_->Clear();
    }
  }

 private:
  std::unique_ptr<resilience_internal::CountWindow> count_;
  std::unique_ptr<resilience_internal::TimeWindow> time_;
};

absl::StatusOr<std::unique_ptr<CircuitBreaker>> CircuitBreaker::Create(
    CircuitBreakerOptions options) {
  const absl::Status valid = ValidateOptions(options);
  if (!valid.ok()) return valid;
  if (!options.classifier) options.classifier = DefaultCallClassifier;
  std::unique_ptr<CircuitBreakerListener> metrics;
  if (options.metrics != nullptr) {
    auto exporter =
        CircuitBreakerMetrics::Create(options.metrics, options.name);
    if (!exporter.ok()) return exporter.status();
    metrics = *std::move(exporter);
    options.listeners.push_back(metrics.get());
  }
  return std::unique_ptr<CircuitBreaker>(
      new CircuitBreaker(std::move(options), std::move(metrics)));
}

CircuitBreaker::CircuitBreaker(CircuitBreakerOptions options,
                               std::unique_ptr<CircuitBreakerListener> metrics)
    : options_(std::move(options)),
      timed_(options_.window_type ==
                 CircuitBreakerOptions::WindowType::kTimeBased ||
             options_.slow_call_rate_threshold > 0),
      clock_(options_.clock),
      impl_(std::make_unique<Impl>(options_)),
      metrics_(std::move(metrics)),
      state_word_(MakeWord(0, CircuitState::kClosed)),
      probe_started_ns_(static_cast<std::size_t>(options_.half_open_max_probes),
                        -1),
      rng_state_(options_.random_seed != 0 ? options_.random_seed
                                           : std::random_device{}()) {}

CircuitBreaker::~CircuitBreaker() = default;

CircuitState CircuitBreaker::state() const {
  return StateOf(state_word_.load(std::memory_order_acquire));
}

absl::StatusOr<CircuitBreaker::Permit> CircuitBreaker::Acquire() {
  for (;;) {
    const std::uint64_t word = state_word_.load(std::memory_order_acquire);
    switch (StateOf(word)) {
      case CircuitState::kClosed:
      case CircuitState::kMetricsOnly: {
        Permit permit;
        permit.word_ = word;
        permit.record_ = true;
        if (timed_) permit.start_ns_ = clock_->Now().count();
        return permit;
      }
      case CircuitState::kDisabled:
        return Permit();
      case CircuitState::kForcedOpen:
        return Reject(CircuitState::kForcedOpen, MonoTime(0), MonoTime(0));
      case CircuitState::kOpen: {
        const MonoTime now = clock_->Now();
        const MonoTime until(open_until_ns_.load(std::memory_order_acquire));
        if (now < until) return Reject(CircuitState::kOpen, now, until);
        TransitionIf(word, CircuitState::kHalfOpen, now);
        continue;  // re-read: half-open now, or another thread moved on
      }
      case CircuitState::kHalfOpen:
        return AcquireProbe(clock_->Now());
    }
  }
}

absl::StatusOr<CircuitBreaker::Permit> CircuitBreaker::AcquireProbe(
    MonoTime now) {
  {
    MutexLock lock(mu_);
    const std::uint64_t word = state_word_.load(std::memory_order_relaxed);
    if (StateOf(word) == CircuitState::kHalfOpen) {
      // A probe past its deadline is a failure: reopen instead of waiting
      // forever for a result that may never come.
      bool expired = false;
      int free_slot = -1;
      for (std::size_t i = 0; i < probe_started_ns_.size(); ++i) {
        const std::int64_t started = probe_started_ns_[i];
        if (started < 0) {
          if (free_slot < 0) free_slot = static_cast<int>(i);
        } else if (now.count() - started >= options_.probe_timeout.count()) {
          expired = true;
        }
      }
      if (expired) {
        TransitionLocked(CircuitState::kOpen, now);
      } else if (free_slot >= 0) {
        probe_started_ns_[static_cast<std::size_t>(free_slot)] = now.count();
        Permit permit;
        permit.word_ = word;
        permit.record_ = true;
        permit.start_ns_ = now.count();
        permit.probe_ = free_slot;
        return permit;
      }
    }
  }
  // Rejected: all probes busy, or a hung probe just reopened the breaker, or
  // another thread moved the state on.
  const std::uint64_t word = state_word_.load(std::memory_order_acquire);
  if (StateOf(word) == CircuitState::kOpen) {
    return Reject(CircuitState::kOpen, now,
                  MonoTime(open_until_ns_.load(std::memory_order_acquire)));
  }
  if (StateOf(word) != CircuitState::kHalfOpen) return Acquire();
  return Reject(CircuitState::kHalfOpen, now, now);
}

absl::Status CircuitBreaker::Reject(CircuitState state, MonoTime now,
                                    MonoTime open_until) {
  rejected_.fetch_add(1, std::memory_order_relaxed);
  for (CircuitBreakerListener* listener : options_.listeners) {
    listener->OnCallRejected(*this, state);
  }
  absl::Status status =
      absl::UnavailableError("circuit breaker '" + options_.name + "' is " +
                             std::string(CircuitStateName(state)));
  if (state == CircuitState::kOpen) SetRetryAfter(status, open_until - now);
  return status;
}

void CircuitBreaker::OnResult(const Permit& permit,
                              const absl::Status& status) {
  Record(permit, options_.classifier(status));
}

void CircuitBreaker::Record(const Permit& permit, CallOutcome outcome) {
  if (!permit.record_) return;
  const bool timed = timed_ || permit.probe_ >= 0;
  const MonoTime now = timed ? clock_->Now() : MonoTime(0);
  const bool slow =
      options_.slow_call_rate_threshold > 0 &&
      outcome != CallOutcome::kIgnored &&
      now.count() - permit.start_ns_ >= options_.slow_call_duration.count();
  if (permit.probe_ >= 0) {
    RecordProbe(permit, outcome, slow);
    return;
  }
  if (state_word_.load(std::memory_order_acquire) != permit.word_) {
    late_.fetch_add(1, std::memory_order_relaxed);
    for (CircuitBreakerListener* listener : options_.listeners) {
      listener->OnLateResult(*this);
    }
    return;
  }
  for (CircuitBreakerListener* listener : options_.listeners) {
    listener->OnCallRecorded(*this, outcome, slow);
  }
  if (outcome == CallOutcome::kIgnored) return;
  const bool failure = outcome == CallOutcome::kFailure;
  std::int64_t consecutive = 0;
  if (failure) {
    consecutive =
        consecutive_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
  } else if (consecutive_failures_.load(std::memory_order_relaxed) != 0) {
    consecutive_failures_.store(0, std::memory_order_relaxed);
  }
  const resilience_internal::WindowCounts counts =
      impl_->Record(now, failure, slow);
  if (StateOf(permit.word_) == CircuitState::kClosed &&
      ShouldTrip(counts.calls, counts.failures, counts.slow, consecutive)) {
    TransitionIf(permit.word_, CircuitState::kOpen,
                 timed ? now : clock_->Now());
  }
}

bool CircuitBreaker::ShouldTrip(std::int64_t calls, std::int64_t failures,
                                std::int64_t slow,
                                std::int64_t consecutive) const {
  if (options_.consecutive_failure_threshold > 0 &&
      consecutive >= options_.consecutive_failure_threshold) {
    return true;
  }
  if (options_.failure_count_threshold > 0 &&
      failures >= options_.failure_count_threshold) {
    return true;
  }
  if (calls < options_.minimum_calls || calls <= 0) return false;
  // 100*x >= threshold*calls instead of a division, so that the documented
  // ">=" boundary holds exactly (3 of 6 failures is 50%, not 49.99...).
  const double denominator = static_cast<double>(calls);
  if (options_.failure_rate_threshold > 0 &&
      100.0 * static_cast<double>(failures) >=
          options_.failure_rate_threshold * denominator) {
    return true;
  }
  return options_.slow_call_rate_threshold > 0 &&
         100.0 * static_cast<double>(slow) >=
             options_.slow_call_rate_threshold * denominator;
}

void CircuitBreaker::RecordProbe(const Permit& permit, CallOutcome outcome,
                                 bool slow) {
  MutexLock lock(mu_);
  if (state_word_.load(std::memory_order_relaxed) != permit.word_) {
    late_.fetch_add(1, std::memory_order_relaxed);
    for (CircuitBreakerListener* listener : options_.listeners) {
      listener->OnLateResult(*this);
    }
    return;
  }
  for (CircuitBreakerListener* listener : options_.listeners) {
    listener->OnCallRecorded(*this, outcome, slow);
  }
  probe_started_ns_[static_cast<std::size_t>(permit.probe_)] = -1;
  const MonoTime now = clock_->Now();
  if (outcome == CallOutcome::kFailure ||
      (slow && outcome == CallOutcome::kSuccess)) {
    TransitionLocked(CircuitState::kOpen, now);
  } else if (outcome == CallOutcome::kSuccess &&
             ++probe_successes_ >= options_.half_open_successes_to_close) {
    TransitionLocked(CircuitState::kClosed, now);
  }
}

bool CircuitBreaker::TransitionIf(std::uint64_t expected, CircuitState to,
                                  MonoTime now) {
  MutexLock lock(mu_);
  if (state_word_.load(std::memory_order_relaxed) != expected) return false;
  TransitionLocked(to, now);
  return true;
}

std::chrono::nanoseconds CircuitBreaker::NextOpenWait() {
  const double base =
      static_cast<double>(options_.wait_duration_in_open.count());
  const double cap =
      static_cast<double>(options_.max_wait_duration_in_open.count());
  double wait =
      std::min(cap, base * std::pow(options_.wait_multiplier,
                                    std::max(0, consecutive_trips_ - 1)));
  if (options_.wait_jitter > 0) {
    rng_state_ += 0x9e3779b97f4a7c15ULL;
    const double unit =
        static_cast<double>(Mix64(rng_state_) >> 11) * 0x1.0p-53;  // [0, 1)
    wait *= 1.0 + options_.wait_jitter * (2.0 * unit - 1.0);
  }
  return std::chrono::nanoseconds(static_cast<std::int64_t>(wait));
}

void CircuitBreaker::TransitionLocked(CircuitState to, MonoTime now) {
  const std::uint64_t old_word = state_word_.load(std::memory_order_relaxed);
  const CircuitState from = StateOf(old_word);
  if (to == CircuitState::kOpen) {
    ++consecutive_trips_;
    open_until_ns_.store((now + NextOpenWait()).count(),
                         std::memory_order_release);
  }
  if (to == CircuitState::kHalfOpen) {
    probe_successes_ = 0;
    std::fill(probe_started_ns_.begin(), probe_started_ns_.end(), -1);
  }
  if (to == CircuitState::kClosed) {
    consecutive_trips_ = 0;
    ClearCounts();
  }
  state_word_.store(MakeWord((old_word >> 3) + 1, to),
                    std::memory_order_release);
  for (CircuitBreakerListener* listener : options_.listeners) {
    listener->OnStateChange(*this, from, to);
  }
}

void CircuitBreaker::ClearCounts() {
  impl_->Clear();
  consecutive_failures_.store(0, std::memory_order_relaxed);
}

absl::Status CircuitBreaker::Run(absl::FunctionRef<absl::Status()> fn,
                                 MonoTime deadline) {
  (void)deadline;
  absl::StatusOr<Permit> permit = Acquire();
  if (!permit.ok()) return permit.status();
  absl::Status status = fn();
  OnResult(*permit, status);
  return status;
}

CircuitBreakerSnapshot CircuitBreaker::Snapshot() const {
  CircuitBreakerSnapshot snapshot;
  snapshot.state = state();
  const resilience_internal::WindowCounts counts = impl_->Totals(clock_->Now());
  snapshot.calls = counts.calls;
  snapshot.failures = counts.failures;
  snapshot.slow_calls = counts.slow;
  snapshot.consecutive_failures =
      consecutive_failures_.load(std::memory_order_relaxed);
  snapshot.rejected_calls = rejected_.load(std::memory_order_relaxed);
  snapshot.late_results = late_.load(std::memory_order_relaxed);
  MutexLock lock(mu_);
  snapshot.consecutive_trips = consecutive_trips_;
  return snapshot;
}

void CircuitBreaker::Reset() {
  MutexLock lock(mu_);
  TransitionLocked(CircuitState::kClosed, clock_->Now());
}

void CircuitBreaker::ForceOpen() {
  MutexLock lock(mu_);
  TransitionLocked(CircuitState::kForcedOpen, clock_->Now());
}

void CircuitBreaker::Disable() {
  MutexLock lock(mu_);
  TransitionLocked(CircuitState::kDisabled, clock_->Now());
}

void CircuitBreaker::SetMetricsOnly() {
  MutexLock lock(mu_);
  ClearCounts();
  TransitionLocked(CircuitState::kMetricsOnly, clock_->Now());
}

}  // namespace keel::resilience
