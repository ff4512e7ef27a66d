#include "keel/resilience/retry.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <string_view>
#include <utility>

#include "keel/base/hash.h"
#include "keel/resilience/retry_after.h"

namespace keel::resilience {
namespace {

constexpr std::uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

// SplitMix64 stream for one Run(): independent per call and lock-free.
class Jitter {
 public:
  explicit Jitter(std::uint64_t state) : state_(state) {}
  // Uniform in [0, 1).
  double Next() {
    state_ += kGolden;
    return static_cast<double>(Mix64(state_) >> 11) * 0x1.0p-53;
  }

 private:
  std::uint64_t state_;
};

bool DefaultRetryable(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kResourceExhausted:
      return true;
    default:
      return false;
  }
}

// The `reason` label of keel_retry_give_ups_total.
const char* GiveUpName(RetryGiveUp reason) {
  switch (reason) {
    case RetryGiveUp::kNotRetryable:
      return "not_retryable";
    case RetryGiveUp::kAttemptsExhausted:
      return "attempts_exhausted";
    case RetryGiveUp::kDeadline:
      return "deadline";
    case RetryGiveUp::kBudgetExhausted:
      break;
  }
  return "budget_exhausted";
}

std::chrono::nanoseconds Nanos(double ns) {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(ns));
}

}  // namespace

absl::StatusOr<std::unique_ptr<RetryBudget>> RetryBudget::Create(
    RetryBudgetOptions options) {
  if (!(options.max_tokens > 0 && options.max_tokens <= 1000)) {
    return absl::InvalidArgumentError("max_tokens: must be in (0, 1000]");
  }
  if (!(options.token_ratio > 0 && options.token_ratio <= options.max_tokens)) {
    return absl::InvalidArgumentError(
        "token_ratio: must be in (0, max_tokens]");
  }
  const auto max_milli =
      static_cast<std::int64_t>(std::llround(options.max_tokens * 1000));
  const auto ratio_milli = std::max<std::int64_t>(
      1, static_cast<std::int64_t>(std::llround(options.token_ratio * 1000)));
  return std::unique_ptr<RetryBudget>(new RetryBudget(max_milli, ratio_milli));
}

void RetryBudget::AddClamped(std::int64_t delta) {
  std::int64_t current = milli_.load(std::memory_order_relaxed);
  for (;;) {
    const std::int64_t next =
        std::clamp<std::int64_t>(current + delta, 0, max_milli_);
    if (next == current || milli_.compare_exchange_weak(
                               current, next, std::memory_order_relaxed)) {
      return;
    }
  }
}

void RetryBudget::OnSuccess() { AddClamped(ratio_milli_); }
void RetryBudget::OnFailure() { AddClamped(-1000); }

bool RetryBudget::AllowRetry() const {
  // tokens > max / 2, in thousandths without rounding: 2 * milli > max_milli.
  return 2 * milli_.load(std::memory_order_relaxed) > max_milli_;
}

double RetryBudget::tokens() const {
  return static_cast<double>(milli_.load(std::memory_order_relaxed)) / 1000.0;
}

absl::StatusOr<std::unique_ptr<Retry>> Retry::Create(RetryOptions options) {
  if (options.name.empty()) {
    return absl::InvalidArgumentError("name: must not be empty");
  }
  if (options.max_attempts < 1 || options.max_attempts > 1000) {
    return absl::InvalidArgumentError("max_attempts: must be in [1, 1000]");
  }
  if (options.initial_backoff.count() <= 0) {
    return absl::InvalidArgumentError("initial_backoff: must be > 0");
  }
  if (options.max_backoff < options.initial_backoff) {
    return absl::InvalidArgumentError(
        "max_backoff: must be >= initial_backoff");
  }
  if (!(options.multiplier >= 1.0) || std::isinf(options.multiplier)) {
    return absl::InvalidArgumentError("multiplier: must be finite and >= 1");
  }
  if (options.clock == nullptr) {
    return absl::InvalidArgumentError("clock: must not be null");
  }
  if (options.sleeper == nullptr) {
    return absl::InvalidArgumentError("sleeper: must not be null");
  }
  if (!options.retryable) options.retryable = DefaultRetryable;
  const std::uint64_t seed =
      options.random_seed != 0 ? options.random_seed
                               : (std::uint64_t{std::random_device{}()} << 32) ^
                                     std::random_device{}();
  std::unique_ptr<Retry> retry(new Retry(std::move(options), seed));
  const absl::Status bound = retry->BindMetrics();
  if (!bound.ok()) return bound;
  return retry;
}

absl::Status Retry::BindMetrics() {
  metrics::Registry* registry = options_.metrics;
  if (registry == nullptr) return absl::OkStatus();
  const std::string_view name = options_.name;
  auto attempts = registry->AddCounter(
      "keel_retry_attempts_total",
      "Attempts run by a retry policy, by outcome.", {"policy", "outcome"});
  if (!attempts.ok()) return attempts.status();
  auto give_ups =
      registry->AddCounter("keel_retry_give_ups_total",
                           "Calls a retry policy ended with a failure, by why "
                           "it stopped retrying.",
                           {"policy", "reason"});
  if (!give_ups.ok()) return give_ups.status();
  attempts_success_ = (*attempts)->WithLabels({name, "success"});
  attempts_retryable_ = (*attempts)->WithLabels({name, "retryable_failure"});
  attempts_non_retryable_ =
      (*attempts)->WithLabels({name, "non_retryable_failure"});
  for (int i = 0; i < kGiveUpReasons; ++i) {
    give_ups_[static_cast<std::size_t>(i)] = (*give_ups)->WithLabels(
        {name, GiveUpName(static_cast<RetryGiveUp>(i))});
  }
  return absl::OkStatus();
}

absl::Status Retry::GiveUp(RetryGiveUp reason, int attempts,
                           absl::Status status) {
  give_ups_[static_cast<std::size_t>(reason)].Inc();
  if (options_.listener != nullptr) {
    options_.listener->OnGiveUp(reason, attempts, status);
  }
  return status;
}

absl::Status Retry::Run(absl::FunctionRef<absl::Status()> fn,
                        MonoTime deadline) {
  Jitter jitter(Mix64(
      seed_ ^ (calls_.fetch_add(1, std::memory_order_relaxed) * kGolden)));
  const double initial = static_cast<double>(options_.initial_backoff.count());
  const double cap = static_cast<double>(options_.max_backoff.count());
  double previous = initial;  // decorrelated jitter's memory
  for (int attempt = 1;; ++attempt) {
    absl::Status status = fn();
    if (status.ok()) {
      attempts_success_.Inc();
      if (options_.budget != nullptr) options_.budget->OnSuccess();
      return status;
    }
    if (!options_.retryable(status)) {
      attempts_non_retryable_.Inc();
      return GiveUp(RetryGiveUp::kNotRetryable, attempt, std::move(status));
    }
    attempts_retryable_.Inc();
    if (options_.budget != nullptr) options_.budget->OnFailure();
    if (attempt >= options_.max_attempts) {
      return GiveUp(RetryGiveUp::kAttemptsExhausted, attempt,
                    std::move(status));
    }
    if (options_.budget != nullptr && !options_.budget->AllowRetry()) {
      return GiveUp(RetryGiveUp::kBudgetExhausted, attempt, std::move(status));
    }
    double delay;
    if (options_.backoff == RetryOptions::Backoff::kDecorrelatedJitter) {
      delay = std::min(cap, initial + jitter.Next() * (3 * previous - initial));
      previous = delay;
    } else {
      const double ceiling =
          std::min(cap, initial * std::pow(options_.multiplier, attempt - 1));
      delay = jitter.Next() * ceiling;
    }
    std::chrono::nanoseconds wait = Nanos(delay);
    if (options_.honor_retry_after) {
      if (const auto retry_after = GetRetryAfter(status)) {
        wait = std::max(wait, *retry_after);
      }
    }
    if (deadline != kNoDeadline && wait >= deadline - options_.clock->Now()) {
      return GiveUp(RetryGiveUp::kDeadline, attempt, std::move(status));
    }
    if (options_.listener != nullptr) {
      options_.listener->OnRetry(attempt, wait, status);
    }
    options_.sleeper->SleepFor(wait);
  }
}

}  // namespace keel::resilience
