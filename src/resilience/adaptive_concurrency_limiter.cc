#include "keel/resilience/adaptive_concurrency_limiter.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <utility>

namespace keel::resilience {
namespace {

LimiterSample DefaultSampleClassifier(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return LimiterSample::kSuccess;
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnavailable:
      return LimiterSample::kDropped;
    default:
      return LimiterSample::kIgnored;
  }
}

absl::Status Validate(const AdaptiveConcurrencyOptions& o) {
  if (o.name.empty())
    return absl::InvalidArgumentError("name: must not be empty");
  if (o.min_limit < 1)
    return absl::InvalidArgumentError("min_limit: must be >= 1");
  if (o.max_limit < o.min_limit) {
    return absl::InvalidArgumentError("max_limit: must be >= min_limit");
  }
  if (o.initial_limit < o.min_limit || o.initial_limit > o.max_limit) {
    return absl::InvalidArgumentError(
        "initial_limit: must be in [min_limit, max_limit]");
  }
  if (!(o.aimd.backoff_ratio >= 0.5 && o.aimd.backoff_ratio < 1)) {
    return absl::InvalidArgumentError(
        "aimd.backoff_ratio: must be in [0.5, 1)");
  }
  if (o.aimd.timeout.count() <= 0) {
    return absl::InvalidArgumentError("aimd.timeout: must be > 0");
  }
  if (!(o.gradient2.smoothing > 0 && o.gradient2.smoothing <= 1)) {
    return absl::InvalidArgumentError("gradient2.smoothing: must be in (0, 1]");
  }
  if (!(o.gradient2.tolerance >= 1) || std::isinf(o.gradient2.tolerance)) {
    return absl::InvalidArgumentError(
        "gradient2.tolerance: must be finite and >= 1");
  }
  if (o.gradient2.long_window < 1) {
    return absl::InvalidArgumentError("gradient2.long_window: must be >= 1");
  }
  if (o.gradient2.warmup_samples < 1) {
    return absl::InvalidArgumentError("gradient2.warmup_samples: must be >= 1");
  }
  if (!(o.gradient2.queue_size >= 0) || std::isinf(o.gradient2.queue_size)) {
    return absl::InvalidArgumentError(
        "gradient2.queue_size: must be finite and >= 0");
  }
  if (o.clock == nullptr)
    return absl::InvalidArgumentError("clock: must not be null");
  return absl::OkStatus();
}

}  // namespace

// The limit estimate and the state of the chosen algorithm. Used under mu_.
class AdaptiveConcurrencyLimiter::Algorithm {
 public:
  explicit Algorithm(const AdaptiveConcurrencyOptions& options)
      : options_(options), limit_(options.initial_limit) {}

  double limit() const { return limit_; }

  void Update(std::chrono::nanoseconds rtt, int inflight, bool dropped) {
    if (options_.algorithm == AdaptiveConcurrencyOptions::Algorithm::kAimd) {
      UpdateAimd(rtt, inflight, dropped);
    } else {
      UpdateGradient2(rtt, inflight, dropped);
    }
    limit_ = std::clamp(limit_, static_cast<double>(options_.min_limit),
                        static_cast<double>(options_.max_limit));
  }

 private:
  bool AppLimited(int inflight) const {
    return 2.0 * static_cast<double>(inflight) < limit_;
  }

  void UpdateAimd(std::chrono::nanoseconds rtt, int inflight, bool dropped) {
    if (dropped || rtt >= options_.aimd.timeout) {
      limit_ = std::floor(limit_ * options_.aimd.backoff_ratio);
    } else if (!AppLimited(inflight)) {
      limit_ += 1;
    }
  }

  void UpdateGradient2(std::chrono::nanoseconds rtt, int inflight,
                       bool dropped) {
    const AdaptiveConcurrencyOptions::Gradient2& g = options_.gradient2;
    const double queue = g.queue_size;
    if (dropped) {
      slow_start_ = false;
      const double estimate = limit_ * 0.5 + queue;
      limit_ += g.smoothing * (estimate - limit_);
      return;
    }
    const double short_rtt = std::max(1.0, static_cast<double>(rtt.count()));
    ++samples_;
    if (samples_ <= g.warmup_samples) {
      long_rtt_ += (short_rtt - long_rtt_) / static_cast<double>(samples_);
    } else {
      const double factor = 2.0 / (static_cast<double>(g.long_window) + 1.0);
      long_rtt_ += factor * (short_rtt - long_rtt_);
    }
    // Recover quickly from a baseline inflated by a long overload.
    if (long_rtt_ / short_rtt > 2) long_rtt_ *= 0.95;
    if (AppLimited(inflight)) return;
    const double gradient =
        std::clamp(g.tolerance * long_rtt_ / short_rtt, 0.5, 1.0);
    if (slow_start_ && gradient >= 1.0) {
      limit_ += std::max(1.0, queue);
      return;
    }
    slow_start_ = false;
    const double estimate = limit_ * gradient + queue;
    limit_ += g.smoothing * (estimate - limit_);
  }

  const AdaptiveConcurrencyOptions& options_;
  double limit_;
  // Gradient2 state.
  double long_rtt_ = 0;
  std::int64_t samples_ = 0;
  bool slow_start_ = true;
};

absl::StatusOr<std::unique_ptr<AdaptiveConcurrencyLimiter>>
AdaptiveConcurrencyLimiter::Create(AdaptiveConcurrencyOptions options) {
  const absl::Status valid = Validate(options);
  if (!valid.ok()) return valid;
  if (!options.classifier) options.classifier = DefaultSampleClassifier;
  std::unique_ptr<AdaptiveConcurrencyLimiter> limiter(
      new AdaptiveConcurrencyLimiter(std::move(options)));
  const absl::Status bound = limiter->BindMetrics();
  if (!bound.ok()) return bound;
  return limiter;
}

absl::Status AdaptiveConcurrencyLimiter::BindMetrics() {
  metrics::Registry* registry = options_.metrics;
  if (registry == nullptr) return absl::OkStatus();
  const std::string_view name = options_.name;
  auto limit = registry->AddGauge("keel_adaptive_limit",
                                  "Current limit of an adaptive concurrency "
                                  "limiter.",
                                  {"limiter"});
  if (!limit.ok()) return limit.status();
  auto in_flight = registry->AddGauge(
      "keel_adaptive_in_flight",
      "Calls holding a permit of an adaptive concurrency limiter.",
      {"limiter"});
  if (!in_flight.ok()) return in_flight.status();
  auto rejections = registry->AddCounter(
      "keel_adaptive_rejections_total",
      "Calls an adaptive concurrency limiter refused at its limit.",
      {"limiter"});
  if (!rejections.ok()) return rejections.status();
  auto drops = registry->AddCounter(
      "keel_adaptive_drops_total",
      "Finished calls reported to an adaptive concurrency limiter as dropped.",
      {"limiter"});
  if (!drops.ok()) return drops.status();
  rejections_ = (*rejections)->WithLabels({name});
  drops_ = (*drops)->WithLabels({name});
  auto limit_registration = (*limit)->AddCallback(
      {options_.name}, [this] { return static_cast<double>(this->limit()); });
  if (!limit_registration.ok()) return limit_registration.status();
  limit_gauge_ = *std::move(limit_registration);
  auto in_flight_registration =
      (*in_flight)->AddCallback({options_.name}, [this] {
        return static_cast<double>(this->in_flight());
      });
  if (!in_flight_registration.ok()) return in_flight_registration.status();
  in_flight_gauge_ = *std::move(in_flight_registration);
  return absl::OkStatus();
}

AdaptiveConcurrencyLimiter::AdaptiveConcurrencyLimiter(
    AdaptiveConcurrencyOptions options)
    : options_(std::move(options)),
      limit_(options_.initial_limit),
      algorithm_(std::make_unique<Algorithm>(options_)) {}

AdaptiveConcurrencyLimiter::~AdaptiveConcurrencyLimiter() = default;

double AdaptiveConcurrencyLimiter::estimated_limit() const {
  MutexLock lock(mu_);
  return algorithm_->limit();
}

absl::StatusOr<AdaptiveConcurrencyLimiter::Permit>
AdaptiveConcurrencyLimiter::Acquire() {
  int current = in_flight_.load(std::memory_order_relaxed);
  for (;;) {
    const int limit = limit_.load(std::memory_order_relaxed);
    if (current >= limit) {
      rejections_.Inc();
      if (options_.listener != nullptr)
        options_.listener->OnCallRejected(limit);
      return absl::ResourceExhaustedError("concurrency limit " +
                                          std::to_string(limit) + " reached");
    }
    if (in_flight_.compare_exchange_weak(current, current + 1,
                                         std::memory_order_acquire,
                                         std::memory_order_relaxed)) {
      return Permit(this, options_.clock->Now(), current + 1);
    }
  }
}

void AdaptiveConcurrencyLimiter::OnSample(MonoTime start, int inflight,
                                          LimiterSample sample) {
  in_flight_.fetch_sub(1, std::memory_order_release);
  if (sample == LimiterSample::kIgnored) return;
  if (sample == LimiterSample::kDropped) drops_.Inc();
  const std::chrono::nanoseconds rtt = options_.clock->Now() - start;
  MutexLock lock(mu_);
  algorithm_->Update(rtt, inflight, sample == LimiterSample::kDropped);
  const int old_limit = limit_.load(std::memory_order_relaxed);
  const int new_limit = static_cast<int>(algorithm_->limit());
  if (new_limit != old_limit) {
    limit_.store(new_limit, std::memory_order_relaxed);
    if (options_.listener != nullptr) {
      options_.listener->OnLimitChanged(old_limit, new_limit);
    }
  }
}

AdaptiveConcurrencyLimiter::Permit&
AdaptiveConcurrencyLimiter::Permit::operator=(Permit&& other) noexcept {
  if (this != &other) {
    OnIgnored();
    owner_ = std::exchange(other.owner_, nullptr);
    start_ = other.start_;
    inflight_ = other.inflight_;
  }
  return *this;
}

void AdaptiveConcurrencyLimiter::Permit::Finish(LimiterSample sample) {
  if (owner_ == nullptr) return;
  std::exchange(owner_, nullptr)->OnSample(start_, inflight_, sample);
}

absl::Status AdaptiveConcurrencyLimiter::Run(
    absl::FunctionRef<absl::Status()> fn, MonoTime deadline) {
  (void)deadline;
  absl::StatusOr<Permit> permit = Acquire();
  if (!permit.ok()) return permit.status();
  absl::Status status = fn();
  switch (options_.classifier(status)) {
    case LimiterSample::kSuccess:
      permit->OnSuccess();
      break;
    case LimiterSample::kDropped:
      permit->OnDropped();
      break;
    case LimiterSample::kIgnored:
      permit->OnIgnored();
      break;
  }
  return status;
}

}  // namespace keel::resilience
