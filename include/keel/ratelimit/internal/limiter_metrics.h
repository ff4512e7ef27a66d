// keel/ratelimit/internal/limiter_metrics.h
//
// Metric series shared by the rate limiters: the pre-bound decision counters
// every limiter records into, and the scrape-time callbacks for state that
// already lives in a limiter's atomics (in-flight permits, keys held).
// Internal to keel's rate limiters (the limiters hold these as members);
// not part of the public API.

#ifndef KEEL_RATELIMIT_INTERNAL_LIMITER_METRICS_H_
#define KEEL_RATELIMIT_INTERNAL_LIMITER_METRICS_H_

#include <array>
#include <cstddef>
#include <functional>
#include <string_view>

#include "absl/status/statusor.h"
#include "keel/metrics/instruments.h"
#include "keel/metrics/registry.h"
#include "keel/ratelimit/rate_limiter.h"

namespace keel {
namespace ratelimit_internal {

// The `keel_ratelimit_decisions_total{limiter, decision}` series of one
// limiter, bound once so that recording is a counter increment with no
// look-up, lock or allocation. The `decision` label is DecisionReasonName();
// a shadow-mode limiter labels would-be refusals `shadow_<reason>`, because
// they were let through and must not read as real 429s.
//
// Thread safety: Record() may be called concurrently; Bind() is a factory.
class DecisionMetrics {
 public:
  // Records nothing (no registry).
  DecisionMetrics() = default;

  // Binds the series of `limiter` in `registry` (nullptr: a no-op instance).
  // Fails with the registry's error when the family exists with another
  // shape.
  static absl::StatusOr<DecisionMetrics> Bind(metrics::Registry* registry,
                                              std::string_view limiter,
                                              bool shadow);

  // Counts one decision under its reason.
  void Record(const ratelimit::Decision& decision) const noexcept {
    counters_[static_cast<std::size_t>(decision.reason)].Inc();
  }

 private:
  static constexpr std::size_t kReasons = 4;
  std::array<metrics::Counter, kReasons> counters_;
};

// Adds the gauge series `name{limiter}` evaluated as `fn()` at scrape time.
// An empty registration when `registry` is null. Fails with the registry's
// error (another shape, or kAlreadyExists when a limiter of the same name
// already registered the series).
absl::StatusOr<metrics::CallbackRegistration> AddLimiterGauge(
    metrics::Registry* registry, std::string_view name, std::string_view help,
    std::string_view limiter, std::function<double()> fn);

}  // namespace ratelimit_internal
}  // namespace keel

#endif  // KEEL_RATELIMIT_INTERNAL_LIMITER_METRICS_H_
