#include "keel/cache/internal/stats_exporter.h"

#include <cstdint>
#include <utility>

#include "keel/base/status_macros.h"

namespace keel::cache {

std::string_view RemovalCauseName(RemovalCause cause) {
  switch (cause) {
    case RemovalCause::kExplicit:
      return "explicit";
    case RemovalCause::kReplaced:
      return "replaced";
    case RemovalCause::kSize:
      return "size";
    case RemovalCause::kExpired:
      return "expired";
  }
  return "unknown";
}

}  // namespace keel::cache

namespace keel::cache_internal {

absl::Status StatsExporter::Register(
    metrics::Registry* registry, const std::string& name,
    std::function<cache::CacheStats()> snapshot) {
  using cache::CacheStats;
  using Field = std::function<double(const CacheStats&)>;
  auto count = [](std::uint64_t CacheStats::*member) -> Field {
    return [member](const CacheStats& s) {
      return static_cast<double>(s.*member);
    };
  };
  KEEL_ASSIGN_OR_RETURN(
      metrics::CounterFamily * requests,
      registry->AddCounter("keel_cache_requests_total",
                           "Cache lookups by result.", {"cache", "result"}));
  KEEL_ASSIGN_OR_RETURN(metrics::CounterFamily * loads,
                        registry->AddCounter("keel_cache_loads_total",
                                             "Cache loader calls by result.",
                                             {"cache", "result"}));
  KEEL_ASSIGN_OR_RETURN(
      metrics::CounterFamily * load_seconds,
      registry->AddCounter("keel_cache_load_seconds_total",
                           "Time spent in cache loaders.", {"cache"}));
  KEEL_ASSIGN_OR_RETURN(metrics::CounterFamily * removals,
                        registry->AddCounter("keel_cache_removals_total",
                                             "Cache entries removed, by cause.",
                                             {"cache", "cause"}));
  KEEL_ASSIGN_OR_RETURN(metrics::GaugeFamily * entries,
                        registry->AddGauge("keel_cache_entries",
                                           "Entries in the cache.", {"cache"}));
  KEEL_ASSIGN_OR_RETURN(
      metrics::GaugeFamily * weight,
      registry->AddGauge("keel_cache_weight",
                         "Total weight of the entries in the cache.",
                         {"cache"}));

  struct CounterSeries {
    metrics::CounterFamily* family;
    std::vector<std::string> labels;
    Field field;
  };
  std::vector<CounterSeries> counters = {
      {requests, {name, "hit"}, count(&CacheStats::hits)},
      {requests, {name, "miss"}, count(&CacheStats::misses)},
      {loads, {name, "success"}, count(&CacheStats::load_successes)},
      {loads, {name, "failure"}, count(&CacheStats::load_failures)},
      {load_seconds,
       {name},
       [](const CacheStats& s) {
         return std::chrono::duration<double>(s.total_load_time).count();
       }},
      {removals, {name, "explicit"}, count(&CacheStats::removals_explicit)},
      {removals, {name, "replaced"}, count(&CacheStats::replacements)},
      {removals, {name, "size"}, count(&CacheStats::evictions_size)},
      {removals, {name, "expired"}, count(&CacheStats::evictions_expired)},
  };
  std::vector<metrics::CallbackRegistration> registrations;
  for (CounterSeries& series : counters) {
    KEEL_ASSIGN_OR_RETURN(
        metrics::CallbackRegistration registration,
        series.family->AddCallback(std::move(series.labels),
                                   [snapshot, field = std::move(series.field)] {
                                     return field(snapshot());
                                   }));
    registrations.push_back(std::move(registration));
  }
  KEEL_ASSIGN_OR_RETURN(
      metrics::CallbackRegistration entries_registration,
      entries->AddCallback({name},
                           [snapshot, field = count(&CacheStats::entries)] {
                             return field(snapshot());
                           }));
  registrations.push_back(std::move(entries_registration));
  KEEL_ASSIGN_OR_RETURN(
      metrics::CallbackRegistration weight_registration,
      weight->AddCallback({name},
                          [snapshot, field = count(&CacheStats::weight)] {
                            return field(snapshot());
                          }));
  registrations.push_back(std::move(weight_registration));
  registrations_ = std::move(registrations);
  return absl::OkStatus();
}

}  // namespace keel::cache_internal
