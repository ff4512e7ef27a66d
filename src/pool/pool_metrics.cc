#include "keel/pool/internal/pool_metrics.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "keel/base/status_macros.h"

namespace keel::pool_internal {
namespace {

// 100 us to 10 s in 1-2.5-5 steps: an acquire served from the idle stack
// lands in the first bucket, one that waited for a connect or a release in
// the millisecond range, a timeout at acquire_timeout.
std::vector<double> AcquireBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0,  10.0};
}

absl::Status Annotate(const std::string& pool, const absl::Status& status) {
  return absl::Status(
      status.code(),
      absl::StrCat("pool '", pool, "' metrics: ", status.message()));
}

}  // namespace

absl::StatusOr<PoolMetrics> PoolMetrics::Bind(
    metrics::Registry* registry, const std::string& pool,
    std::function<PoolGauges()> gauges) {
  PoolMetrics m;
  if (registry == nullptr) return m;

  auto counter = [&](const char* name, const char* help,
                     metrics::Counter* out) -> absl::Status {
    absl::StatusOr<metrics::CounterFamily*> family =
        registry->AddCounter(name, help, {"pool"});
    if (!family.ok()) return Annotate(pool, family.status());
    *out = (*family)->WithLabels({pool});
    return absl::OkStatus();
  };
  KEEL_RETURN_IF_ERROR(counter("keel_pool_acquire_timeouts_total",
                               "Acquire calls that timed out.", &m.timeouts_));
  KEEL_RETURN_IF_ERROR(
      counter("keel_pool_acquire_rejections_total",
              "Acquire calls refused at once because the wait queue was full.",
              &m.rejections_));
  KEEL_RETURN_IF_ERROR(counter("keel_pool_connection_creates_total",
                               "Connections opened.", &m.creates_));
  KEEL_RETURN_IF_ERROR(counter("keel_pool_connect_failures_total",
                               "Failed connection attempts.",
                               &m.create_failures_));
  KEEL_RETURN_IF_ERROR(counter("keel_pool_leaks_total",
                               "Leases held past the leak detection threshold.",
                               &m.leaks_));

  absl::StatusOr<metrics::CounterFamily*> closes = registry->AddCounter(
      "keel_pool_connection_closes_total", "Connections closed, by reason.",
      {"pool", "reason"});
  if (!closes.ok()) return Annotate(pool, closes.status());
  for (std::size_t i = 0; i < pool::kCloseReasonCount; ++i) {
    m.closes_[i] = (*closes)->WithLabels(
        {pool, pool::CloseReasonName(static_cast<pool::CloseReason>(i))});
  }

  absl::StatusOr<metrics::HistogramFamily*> acquire = registry->AddHistogram(
      "keel_pool_acquire_seconds",
      "Time successful Acquire calls waited for a connection.", {"pool"},
      AcquireBuckets());
  if (!acquire.ok()) return Annotate(pool, acquire.status());
  m.acquire_seconds_ = (*acquire)->WithLabels({pool});

  struct GaugeSpec {
    const char* name;
    const char* help;
    std::size_t PoolGauges::*field;
  };
  const GaugeSpec specs[] = {
      {"keel_pool_connections",
       "Open connections (idle, in use and being checked).", &PoolGauges::size},
      {"keel_pool_idle_connections", "Connections ready to hand out.",
       &PoolGauges::idle},
      {"keel_pool_in_use_connections", "Connections leased to callers.",
       &PoolGauges::in_use},
      {"keel_pool_waiters", "Callers waiting in Acquire.",
       &PoolGauges::waiters},
  };
  for (const GaugeSpec& spec : specs) {
    absl::StatusOr<metrics::GaugeFamily*> family =
        registry->AddGauge(spec.name, spec.help, {"pool"});
    if (!family.ok()) return Annotate(pool, family.status());
    absl::StatusOr<metrics::CallbackRegistration> registration =
        (*family)->AddCallback({pool}, [gauges, field = spec.field] {
          return static_cast<double>(gauges().*field);
        });
    if (!registration.ok()) return Annotate(pool, registration.status());
    m.gauge_registrations_.push_back(std::move(*registration));
  }
  return m;
}

}  // namespace keel::pool_internal
