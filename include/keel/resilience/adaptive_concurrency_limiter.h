// keel/resilience/adaptive_concurrency_limiter.h
//
// `AdaptiveConcurrencyLimiter` caps in-flight calls like a bulkhead, but learns
// the cap from the latency and drops it observes (after Netflix's
// concurrency-limits): when latency rises or calls are dropped the limit
// shrinks; while latency stays low and the limit is actually used it grows.
//
// Algorithms (one sample per finished call; `inflight` is the number of calls
// in flight when the sampled call was ADMITTED, itself included):
//   | algorithm | on success                                | on drop |
//   |-----------|-------------------------------------------|--------------------------|
//   | kAimd     | limit + 1 if inflight * 2 >= limit        | limit *
//   backoff_ratio    | |           | (an RTT >= aimd.timeout counts as a drop)
//   |                          | | kGradient2| gradient = clamp(tolerance *
//   long_rtt /   | as gradient 0.5          | |           |   rtt, 0.5, 1); new
//   = limit * gradient +  |                          | |           |
//   queue_size; limit += smoothing *        |                          | | |
//   (new - limit)                           |                          |
// Known failure modes and how they are handled:
//   * App-limited growth: the limit never grows from a sample whose inflight
//     was below half the limit (inflight * 2 < limit): an idle service has
//     not proven it can take more. Decreases still apply.
//   * Min-RTT drift (Gradient2): the baseline is a long exponential average
//     (long_window samples) rather than a minimum that can only fall; after a
//     long overload, when long_rtt > 2 * rtt the baseline decays 5% per sample
//     so the limit recovers without waiting for the average.
//   * Warm-up (Gradient2): the first warmup_samples samples form a plain
//     average, so one lucky first RTT does not become the baseline.
//   * Slow start (Gradient2): until the first congestion signal (a drop or a
//     gradient below 1) the limit grows by queue_size per qualifying sample
//     without smoothing, so a service starting at a small initial limit
//     reaches its capacity quickly; afterwards growth is smoothed.
// The limit is a real number clamped to [min_limit, max_limit]; admission uses
// its integer part: a call is admitted iff in-flight < floor(limit).
//
// Example:
//   keel::resilience::AdaptiveConcurrencyOptions options;
//   options.algorithm =
//   keel::resilience::AdaptiveConcurrencyOptions::Algorithm::kGradient2; auto
//   limiter =
//   keel::resilience::AdaptiveConcurrencyLimiter::Create(options).value();
//   absl::Status status = limiter->Execute([&] { return Query(); });
//   // or: auto permit = limiter->Acquire(); ... permit->OnSuccess();
//
// Thread safety: thread-safe. Admission is a lock-free CAS; each sample
// updates the algorithm under a mutex.

#ifndef KEEL_RESILIENCE_ADAPTIVE_CONCURRENCY_LIMITER_H_
#define KEEL_RESILIENCE_ADAPTIVE_CONCURRENCY_LIMITER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/base/clock.h"
#include "keel/base/mutex.h"
#include "keel/metrics/instruments.h"
#include "keel/metrics/registry.h"
#include "keel/resilience/policy.h"

namespace keel::resilience {

// How a finished call feeds the limiter.
enum class LimiterSample : std::uint8_t {
  kSuccess,  // RTT sample
  kDropped,  // overload signal (timeout, rejected downstream)
  kIgnored,  // no signal; just frees the slot
};

// Observes limiter decisions (for metrics). Empty defaults; called on the
// calling thread; must be thread-safe.
class AdaptiveConcurrencyListener {
 public:
  virtual ~AdaptiveConcurrencyListener() = default;
  virtual void OnCallRejected(int limit) { (void)limit; }
  // The integer limit changed (called under the limiter's mutex).
  virtual void OnLimitChanged(int old_limit, int new_limit) {
    (void)old_limit, (void)new_limit;
  }
};

struct AdaptiveConcurrencyOptions {
  enum class Algorithm { kAimd, kGradient2 };

  struct Aimd {
    // Multiplier on a drop. Default 0.9. Range [0.5, 1).
    double backoff_ratio = 0.9;
    // A success slower than this counts as a drop. Default 5 s. Must be > 0.
    std::chrono::nanoseconds timeout = std::chrono::seconds(5);
  };

  struct Gradient2 {
    // Weight of a new limit estimate. Default 0.2. Range (0, 1].
    double smoothing = 0.2;
    // RTT growth tolerated before shrinking. Default 1.5. Must be >= 1.
    double tolerance = 1.5;
    // Samples in the long RTT average. Default 600. Must be >= 1.
    int long_window = 600;
    // Samples averaged plainly before the exponential average. Default 10.
    // Must be >= 1.
    int warmup_samples = 10;
    // Headroom added to the estimate. Default 4. Must be >= 0.
    double queue_size = 4;
  };

  // Name used as the `limiter` metric label. Default "default". Non-empty.
  std::string name = "default";
  // Default kGradient2.
  Algorithm algorithm = Algorithm::kGradient2;
  // Starting limit. Default 20. Range [min_limit, max_limit].
  int initial_limit = 20;
  // Bounds of the limit. Defaults 1 and 1000. 1 <= min_limit <= max_limit.
  int min_limit = 1;
  int max_limit = 1000;
  Aimd aimd;
  Gradient2 gradient2;
  // Maps a call's status for Execute(). Default: OK -> kSuccess;
  // kDeadlineExceeded, kResourceExhausted, kUnavailable -> kDropped; any
  // other code -> kIgnored (the call failed for reasons unrelated to load).
  std::function<LimiterSample(const absl::Status&)> classifier;
  // Observer, not owned; may be null. Default null.
  AdaptiveConcurrencyListener* listener = nullptr;
  // Time source of RTTs. Default the system clock. Must outlive the limiter.
  Clock* clock = &Clock::System();
  // Registry for these series, all labelled `limiter=<name>`:
  //   keel_adaptive_limit             gauge, the current integer limit
  //   keel_adaptive_in_flight         gauge, calls holding a permit
  //   keel_adaptive_rejections_total  counter, calls refused at the limit
  //   keel_adaptive_drops_total       counter, finished calls reported as
  //                                   dropped (the overload signal)
  // The gauges are read from the limiter at scrape time. Names must be
  // unique among limiters sharing a registry. Not owned; may be null (no
  // metrics). Default null. Must outlive the limiter.
  metrics::Registry* metrics = nullptr;
};

class AdaptiveConcurrencyLimiter final : public Policy {
 public:
  // One admitted call. Report it once with OnSuccess/OnDropped/OnIgnored;
  // destroying an unreported permit counts as OnIgnored. Move-only.
  class Permit {
   public:
    Permit() = default;
    Permit(Permit&& other) noexcept { *this = std::move(other); }
    Permit& operator=(Permit&& other) noexcept;
    ~Permit() { OnIgnored(); }

    void OnSuccess() { Finish(LimiterSample::kSuccess); }
    void OnDropped() { Finish(LimiterSample::kDropped); }
    void OnIgnored() { Finish(LimiterSample::kIgnored); }

   private:
    friend class AdaptiveConcurrencyLimiter;
    Permit(AdaptiveConcurrencyLimiter* owner, MonoTime start, int inflight)
        : owner_(owner), start_(start), inflight_(inflight) {}
    void Finish(LimiterSample sample);

    AdaptiveConcurrencyLimiter* owner_ = nullptr;
    MonoTime start_{0};
    int inflight_ = 0;  // in flight at admission, this call included
  };

  // kInvalidArgument names the bad field. With `metrics`: the registry's
  // error if a family exists with another type or labels, and kAlreadyExists
  // if a live limiter of the same name reports to the registry.
  static absl::StatusOr<std::unique_ptr<AdaptiveConcurrencyLimiter>> Create(
      AdaptiveConcurrencyOptions options);
  ~AdaptiveConcurrencyLimiter() override;

  // Admits a call iff in-flight < limit(); otherwise kResourceExhausted.
  absl::StatusOr<Permit> Acquire();

  // Acquire(), fn(), report through the classifier. Never waits.
  absl::Status Run(absl::FunctionRef<absl::Status()> fn,
                   MonoTime deadline) override;

  // Current integer limit.
  int limit() const { return limit_.load(std::memory_order_relaxed); }
  // The real-valued estimate behind limit().
  double estimated_limit() const;
  int in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

 private:
  class Algorithm;
  explicit AdaptiveConcurrencyLimiter(AdaptiveConcurrencyOptions options);
  absl::Status BindMetrics();
  void OnSample(MonoTime start, int inflight, LimiterSample sample);

  const AdaptiveConcurrencyOptions options_;
  alignas(64) std::atomic<int> in_flight_{0};
  std::atomic<int> limit_;
  mutable Mutex mu_;
  std::unique_ptr<Algorithm> algorithm_ ABSL_GUARDED_BY(mu_);
  metrics::Counter rejections_;
  metrics::Counter drops_;
  // Last: removed (waiting for a running scrape) before the state they read.
  metrics::CallbackRegistration limit_gauge_;
  metrics::CallbackRegistration in_flight_gauge_;
};

}  // namespace keel::resilience

#endif  // KEEL_RESILIENCE_ADAPTIVE_CONCURRENCY_LIMITER_H_
