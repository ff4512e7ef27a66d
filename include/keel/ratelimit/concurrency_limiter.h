// keel/ratelimit/concurrency_limiter.h
//
// `ConcurrencyLimiter`: caps the number of permits in flight at once (open
// requests, running jobs) rather than a rate. A granted `Permit` holds its
// permits until it is released or destroyed.
//
// Semantics (L = limit):
//
//   | rule          | behaviour                                               |
//   |---------------|---------------------------------------------------------|
//   | admission     | in_flight + n <= L, checked after an atomic fetch_add;  |
//   |               | a refusal subtracts again, so concurrent callers can be |
//   |               | refused spuriously for a moment but never over-admitted |
//   | n > L         | kOversize, retry_after = kNever                         |
//   | release       | the Permit's destructor (or Release()) returns exactly  |
//   |               | what it took, once                                      |
//   | SetLimit()    | applies to later requests; permits in flight stay       |
//   | shadow mode   | would-be refusals pass with a Permit that holds nothing |
//   | retry_after   | 0 when refused: the wait depends on other callers       |
//
// It does not implement `RateLimiter`: permits come back by release, not by
// the passage of time, so there is no Reserve/Acquire-with-deadline contract.
//
// Example:
//   keel::ratelimit::ConcurrencyLimiterOptions options;
//   options.name = "uploads";
//   options.limit = 8;
//   auto limiter =
//   keel::ratelimit::ConcurrencyLimiter::Create(options).value();
//   keel::ratelimit::ConcurrencyLimiter::Permit permit = limiter->TryAcquire();
//   if (!permit.ok()) return Reply503();
//   HandleUpload();   // permit released at end of scope
//
// Thread safety: thread-safe and lock-free. A Permit is owned by one thread at
// a time and must not outlive its limiter.

#ifndef KEEL_RATELIMIT_CONCURRENCY_LIMITER_H_
#define KEEL_RATELIMIT_CONCURRENCY_LIMITER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/metrics/registry.h"
#include "keel/ratelimit/internal/limiter_metrics.h"
#include "keel/ratelimit/rate_limiter.h"

namespace keel {
namespace ratelimit {

// Options of a ConcurrencyLimiter. Every field is validated by Create().
struct ConcurrencyLimiterOptions {
  // Name for metrics: non-empty printable ASCII. Default: "default".
  std::string name = "default";
  // Most permits in flight at once. Must be >= 1. No default.
  std::int64_t limit = 0;
  // Shadow (dry-run) mode: decide and count, but never refuse.
  bool shadow = false;
  // Told about every decision. Optional; must outlive the limiter.
  DecisionObserver* observer = nullptr;
  // Registry for `keel_ratelimit_decisions_total{limiter=<name>, decision}`
  // (as TokenBucketOptions::metrics) and the gauge
  // `keel_ratelimit_in_flight{limiter=<name>}`, read from the limiter at
  // scrape time so that the hot path does not pay for it. Names must be
  // unique among concurrency limiters sharing a registry. Optional; must
  // outlive the limiter.
  metrics::Registry* metrics = nullptr;
};

// An in-flight (concurrency) limiter.
//
// Thread safety: thread-safe and lock-free.
class ConcurrencyLimiter {
 public:
  // Permits held from a ConcurrencyLimiter; releases them when destroyed.
  //
  // Thread safety: not thread-safe; move it between threads if needed.
  class Permit {
   public:
    // An empty, refused permit.
    Permit() = default;
    Permit(Permit&& other) noexcept;
    Permit& operator=(Permit&& other) noexcept;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit() { Release(); }

    // True if the caller may proceed (always true in shadow mode).
    bool ok() const { return decision_.allowed; }
    // The decision behind this permit.
    const Decision& decision() const { return decision_; }
    // Returns the held permits now instead of at destruction. Idempotent.
    void Release();

   private:
    friend class ConcurrencyLimiter;
    Permit(ConcurrencyLimiter* limiter, std::int64_t held,
           const Decision& decision)
        : limiter_(limiter), held_(held), decision_(decision) {}

    ConcurrencyLimiter* limiter_ = nullptr;
    std::int64_t held_ = 0;
    Decision decision_;
  };

  // Fails with kInvalidArgument for an empty or non-printable `name` or
  // `limit` < 1. With `metrics`: fails with the registry's error if a family
  // exists with another type or labels, and with kAlreadyExists if another
  // live concurrency limiter of the same name reports to the registry.
  static absl::StatusOr<std::unique_ptr<ConcurrencyLimiter>> Create(
      ConcurrencyLimiterOptions options);

  ConcurrencyLimiter(const ConcurrencyLimiter&) = delete;
  ConcurrencyLimiter& operator=(const ConcurrencyLimiter&) = delete;

  // Takes `permits` if they fit under the limit. Allocation-free; one
  // fetch_add, plus a fetch_sub when refused.
  Permit TryAcquire(std::int64_t permits = 1);

  // Changes the limit for later requests. kInvalidArgument if `limit` < 1.
  absl::Status SetLimit(std::int64_t limit);

  // Permits currently held (may briefly include a refused request's).
  std::int64_t in_flight() const {
    return in_flight_.load(std::memory_order_relaxed);
  }
  // The current limit.
  std::int64_t limit() const { return limit_.load(std::memory_order_relaxed); }
  // The limiter's name.
  std::string_view name() const { return name_; }

 private:
  ConcurrencyLimiter(const ConcurrencyLimiterOptions& options,
                     ratelimit_internal::DecisionMetrics metrics);

  const std::string name_;
  const bool shadow_;
  DecisionObserver* const observer_;
  std::atomic<std::int64_t> limit_;
  std::atomic<std::int64_t> in_flight_{0};
  const ratelimit_internal::DecisionMetrics metrics_;
  // Last: removed (waiting for a running scrape) before the state it reads.
  metrics::CallbackRegistration in_flight_gauge_;
};

}  // namespace ratelimit
}  // namespace keel

#endif  // KEEL_RATELIMIT_CONCURRENCY_LIMITER_H_
