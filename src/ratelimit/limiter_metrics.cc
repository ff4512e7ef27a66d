#include "keel/ratelimit/internal/limiter_metrics.h"

#include <string>
#include <utility>

namespace keel {
namespace ratelimit_internal {

absl::StatusOr<DecisionMetrics> DecisionMetrics::Bind(
    metrics::Registry* registry, std::string_view limiter, bool shadow) {
  DecisionMetrics bound;
  if (registry == nullptr) return bound;
  absl::StatusOr<metrics::CounterFamily*> family = registry->AddCounter(
      "keel_ratelimit_decisions_total",
      "Rate limiter decisions by outcome; shadow_* outcomes are refusals that "
      "shadow mode let through.",
      {"limiter", "decision"});
  if (!family.ok()) return family.status();
  static_assert(static_cast<std::size_t>(
                    ratelimit::DecisionReason::kInvalidPermits) == kReasons - 1,
                "one counter per DecisionReason");
  for (std::size_t i = 0; i < kReasons; ++i) {
    const auto reason = static_cast<ratelimit::DecisionReason>(i);
    std::string decision(ratelimit::DecisionReasonName(reason));
    if (shadow && reason != ratelimit::DecisionReason::kAdmitted) {
      decision.insert(0, "shadow_");
    }
    bound.counters_[i] =
        (*family)->WithLabels({limiter, std::string_view(decision)});
  }
  return bound;
}

absl::StatusOr<metrics::CallbackRegistration> AddLimiterGauge(
    metrics::Registry* registry, std::string_view name, std::string_view help,
    std::string_view limiter, std::function<double()> fn) {
  if (registry == nullptr) return metrics::CallbackRegistration();
  absl::StatusOr<metrics::GaugeFamily*> family =
      registry->AddGauge(name, help, {"limiter"});
  if (!family.ok()) return family.status();
  return (*family)->AddCallback({std::string(limiter)}, std::move(fn));
}

}  // namespace ratelimit_internal
}  // namespace keel
