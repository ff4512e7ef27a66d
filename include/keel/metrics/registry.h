// keel/metrics/registry.h
//
// `keel::metrics::Registry` holds metric families (a name, help text, label
// names and a type) and hands out pre-bound handles (instruments.h) for their
// labelled series. exposition.h renders a registry as Prometheus text or
// OpenMetrics.
//
//   keel::metrics::Registry registry;
//   auto requests = registry.AddCounter("keel_http_requests_total",
//                                       "HTTP requests served.",
//                                       {"method", "code"});
//   if (!requests.ok()) return requests.status();
//   keel::metrics::Counter get_ok = (*requests)->WithLabels({"GET", "200"});
//   get_ok.Inc();                                  // hot path: no look-up
//
//   auto conns = registry.AddGauge("keel_pool_connections",
//                                  "Open connections.", {"pool"});
//   auto registration = (*conns)->AddCallback(     // evaluated per scrape
//       {"main"}, [&pool] { return pool.size(); });
//
// Naming conventions keel components follow (and users are encouraged to):
//   * `keel_<component>_<what>_<unit>`, lowercase snake case, e.g.
//     `keel_pool_acquire_seconds`, `keel_cache_requests_total`,
//     `keel_ratelimit_decisions_total`, `keel_http_response_size_bytes`.
//   * Base units only: `_seconds` (not ms), `_bytes`, `_ratio` (0..1), and
//     the unit comes before the suffix.
//   * Counters end in `_total`. AddCounter() accepts the name with or without
//     it; the family is stored without it (the OpenMetrics family name) and
//     samples are exposed as `<name>_total`.
//   * Labels describe a bounded dimension (`pool`, `cache`, `result`,
//     `method`, `code`); never ids, paths with parameters, or user input.
//   * Components that share a registry register identical families (same
//     type, help and labels) and tell their series apart with a label such as
//     `pool="orders"`; the second registration returns the first family.
//
// Validation: metric names must match `[a-zA-Z_:][a-zA-Z0-9_:]*`; label names
// `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`, unique, and not `le` on a
// histogram; bucket bounds finite and strictly increasing. HELP text and label
// values are stored as UTF-8, with ill-formed bytes replaced by U+FFFD.
//
// Cardinality: each family holds at most `FamilyOptions::max_series` label
// sets (default kDefaultMaxSeries = 1000). Further new label sets all map to
// one overflow series whose every label value is kOverflowLabelValue
// ("__overflow__"), and each such look-up increments
// `keel_metrics_series_overflow_total{metric="<family>"}`, which the registry
// exposes once an overflow has happened.
//
// Thread safety: Registry and the family classes are thread-safe. Recording
// through handles never takes a lock; registration and label look-ups take
// short locks; a scrape holds the registry lock and one family lock at a time,
// which blocks registrations and look-ups, never recording.
//
// Lifetime: families, handles and callback registrations must not outlive
// their registry.

#ifndef KEEL_METRICS_REGISTRY_H_
#define KEEL_METRICS_REGISTRY_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/base/mutex.h"
#include "keel/metrics/instruments.h"
#include "keel/metrics/internal/family.h"

namespace keel {
namespace metrics {

// Default for FamilyOptions::max_series.
inline constexpr std::size_t kDefaultMaxSeries = 1000;

// Label value of every label of a family's overflow series.
inline constexpr std::string_view kOverflowLabelValue = "__overflow__";

// The counter that records cardinality-limit hits, labelled `metric`.
inline constexpr std::string_view kOverflowMetricName =
    "keel_metrics_series_overflow_total";

// Defined in exposition.h.
enum class ExpositionFormat : int;

// Per-family settings.
struct FamilyOptions {
  // Maximum number of distinct label sets (instrument and callback series)
  // before new ones map to the overflow series. Must be >= 1. When a family is
  // registered twice the first registration's value stays in force.
  std::size_t max_series = kDefaultMaxSeries;
};

// Keeps a callback series registered; destroying it (or Reset()) removes the
// series. Move-only.
//
// Thread safety: not thread-safe itself (one owner), but it may be destroyed
// while another thread scrapes: removal waits for a running callback.
class CallbackRegistration {
 public:
  // An empty registration.
  CallbackRegistration() = default;
  ~CallbackRegistration() { Reset(); }
  CallbackRegistration(CallbackRegistration&& other) noexcept;
  CallbackRegistration& operator=(CallbackRegistration&& other) noexcept;
  CallbackRegistration(const CallbackRegistration&) = delete;
  CallbackRegistration& operator=(const CallbackRegistration&) = delete;

  // Removes the callback series now. Once this returns the callback is not
  // running and never runs again. Idempotent.
  void Reset();

 private:
  friend class CounterFamily;
  friend class GaugeFamily;
  CallbackRegistration(metrics_internal::FamilyBase* family, std::uint64_t id)
      : family_(family), id_(id) {}

  metrics_internal::FamilyBase* family_ = nullptr;
  std::uint64_t id_ = 0;
};

// A family of counters. Obtained from Registry::AddCounter().
//
// Thread safety: thread-safe.
class CounterFamily final : public metrics_internal::FamilyBase {
 public:
  // The handle of the series with these label values (one per label name, in
  // order), created on first use. Look-up cost: a map search under the family
  // lock, so bind handles once and keep them. A wrong number of values, or the
  // label set of a callback series, yields a no-op handle.
  Counter WithLabels(std::initializer_list<std::string_view> label_values);
  Counter WithLabels(const std::vector<std::string>& label_values);

  // Adds a series whose value is `fn()` at scrape time (e.g. a total kept by
  // another library). `fn` must be cheap, thread-safe, return a non-decreasing
  // value, and must not call into the registry. In OpenMetrics output a
  // negative or NaN result is left out. Fails with kInvalidArgument (wrong
  // number of values, empty fn), kAlreadyExists (label set taken),
  // kResourceExhausted (max_series reached).
  [[nodiscard]] absl::StatusOr<CallbackRegistration> AddCallback(
      std::vector<std::string> label_values, std::function<double()> fn);

 private:
  friend class Registry;
  CounterFamily(metrics_internal::FamilySpec spec,
                metrics_internal::FamilyBase* overflow_family)
      : FamilyBase(std::move(spec), overflow_family) {}
};

// A family of gauges. Obtained from Registry::AddGauge().
//
// Thread safety: thread-safe.
class GaugeFamily final : public metrics_internal::FamilyBase {
 public:
  // As CounterFamily::WithLabels().
  Gauge WithLabels(std::initializer_list<std::string_view> label_values);
  Gauge WithLabels(const std::vector<std::string>& label_values);

  // Adds a series whose value is `fn()` at scrape time (pool sizes, queue
  // depths owned by another object). `fn` must be cheap, thread-safe and must
  // not call into the registry. Failures as CounterFamily::AddCallback().
  [[nodiscard]] absl::StatusOr<CallbackRegistration> AddCallback(
      std::vector<std::string> label_values, std::function<double()> fn);

 private:
  friend class Registry;
  GaugeFamily(metrics_internal::FamilySpec spec,
              metrics_internal::FamilyBase* overflow_family)
      : FamilyBase(std::move(spec), overflow_family) {}
};

// A family of histograms sharing one set of bucket bounds. Obtained from
// Registry::AddHistogram().
//
// Thread safety: thread-safe.
class HistogramFamily final : public metrics_internal::FamilyBase {
 public:
  // As CounterFamily::WithLabels().
  Histogram WithLabels(std::initializer_list<std::string_view> label_values);
  Histogram WithLabels(const std::vector<std::string>& label_values);

 private:
  friend class Registry;
  HistogramFamily(metrics_internal::FamilySpec spec,
                  metrics_internal::FamilyBase* overflow_family)
      : FamilyBase(std::move(spec), overflow_family) {}
};

// The set of metric families of a process or component tree. keel components
// take a `Registry*` (nullptr: no metrics) in their options.
//
// Thread safety: thread-safe.
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registers (or returns the existing) counter family `name` (with or
  // without the `_total` suffix). Fails with kInvalidArgument for an invalid
  // name, label name or option, and kAlreadyExists if `name` is registered
  // with another type, help or label names, or if one of its sample names
  // (`<name>_total`, `<name>_created`) collides with another family's.
  absl::StatusOr<CounterFamily*> AddCounter(
      std::string_view name, std::string_view help,
      std::vector<std::string> label_names = {}, FamilyOptions options = {});

  // Registers (or returns the existing) gauge family. Failures as
  // AddCounter().
  absl::StatusOr<GaugeFamily*> AddGauge(
      std::string_view name, std::string_view help,
      std::vector<std::string> label_names = {}, FamilyOptions options = {});

  // Registers (or returns the existing) histogram family with the given
  // finite, strictly increasing upper bounds (the +Inf bucket is implicit; see
  // buckets.h for helpers). Failures as AddCounter(), plus kInvalidArgument
  // for bad bounds or an `le` label; re-registration must use equal bounds.
  absl::StatusOr<HistogramFamily*> AddHistogram(
      std::string_view name, std::string_view help,
      std::vector<std::string> label_names, std::vector<double> bounds,
      FamilyOptions options = {});

 private:
  friend void WriteExposition(const Registry& registry, ExpositionFormat format,
                              std::string* out);

  absl::StatusOr<metrics_internal::FamilyBase*> Add(
      metrics_internal::FamilySpec spec) ABSL_LOCKS_EXCLUDED(mu_);

  mutable Mutex mu_;
  // By family name; the exposition order.
  std::map<std::string, std::unique_ptr<metrics_internal::FamilyBase>,
           std::less<>>
      families_ ABSL_GUARDED_BY(mu_);
  // Every sample name a family writes (and its family name) -> family name.
  std::map<std::string, std::string, std::less<>> sample_names_
      ABSL_GUARDED_BY(mu_);
  metrics_internal::FamilyBase* overflow_family_ = nullptr;
};

}  // namespace metrics
}  // namespace keel

#endif  // KEEL_METRICS_REGISTRY_H_
