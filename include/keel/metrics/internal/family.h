// keel/metrics/internal/family.h
//
// The state shared by every metric family type: identity (name, help, label
// names, bucket bounds), the label-values-to-series map, callback series and
// the cardinality limit. Not part of keel's API: use keel/metrics/registry.h.
//
// Thread safety: thread-safe. The family mutex guards the series map; it is
// taken by label look-ups, callback (un)registration and scrapes, never by
// recording through a handle.

#ifndef KEEL_METRICS_INTERNAL_FAMILY_H_
#define KEEL_METRICS_INTERNAL_FAMILY_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "keel/base/mutex.h"
#include "keel/metrics/internal/cells.h"

namespace keel {
namespace metrics_internal {

enum class MetricType { kCounter, kGauge, kHistogram };

// A borrowed list of label values, used to look series up without copying.
struct LabelValuesView {
  const std::string_view* first;
  const std::string_view* last;
  const std::string_view* begin() const { return first; }
  const std::string_view* end() const { return last; }
};

// Orders label-value lists lexicographically (the exposition order). It is
// transparent so that a LabelValuesView finds a stored std::vector<string>.
struct LabelValuesLess {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return std::lexicographical_compare(
        a.begin(), a.end(), b.begin(), b.end(),
        [](std::string_view x, std::string_view y) { return x < y; });
  }
};

// What identifies a family; two registrations with equal specs share it.
struct FamilySpec {
  MetricType type = MetricType::kCounter;
  // Counters: the name without the `_total` suffix (the OpenMetrics family
  // name); the samples carry `_total`.
  std::string name;
  std::string help;
  std::vector<std::string> label_names;
  std::vector<double> bounds;  // histograms only
  std::size_t max_series = 0;
};

// One labelled series: exactly one of the instrument pointers, or a callback.
struct Series {
  std::unique_ptr<CounterSeries> counter;
  std::unique_ptr<GaugeSeries> gauge;
  std::unique_ptr<HistogramSeries> histogram;
  std::function<double()> callback;
  std::uint64_t callback_id = 0;
};

class FamilyBase {
 public:
  using SeriesMap = std::map<std::vector<std::string>, Series, LabelValuesLess>;

  // `overflow_family` (a counter family with one label, may be null) counts
  // look-ups that hit the cardinality limit, labelled with this family's name.
  FamilyBase(FamilySpec spec, FamilyBase* overflow_family);
  virtual ~FamilyBase();
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const FamilySpec& spec() const { return spec_; }

  // Number of look-ups mapped to the overflow series so far.
  std::uint64_t overflow_count() const {
    return overflows_.load(std::memory_order_relaxed);
  }

  // Number of series, callbacks and the overflow series included.
  std::size_t series_count() const;

  // Finds or creates the instrument series for `values`. Returns nullptr if the
  // number of values differs from the number of label names, or if `values`
  // names a callback series. New label sets beyond max_series map to the
  // overflow series (every value kOverflowLabelValue).
  Series* FindOrCreate(LabelValuesView values);

  // Adds a callback series. Fails with kInvalidArgument on a wrong number of
  // values or an empty function, kAlreadyExists if the label set is taken,
  // kResourceExhausted at the cardinality limit. Returns the callback id.
  absl::StatusOr<std::uint64_t> AddCallback(std::vector<std::string> values,
                                            std::function<double()> fn);

  // Removes a callback series; once this returns the callback is not running
  // and will not run again.
  void RemoveCallback(std::uint64_t id);

  // Calls `f(const std::vector<std::string>& values, const Series&)` for every
  // series in label order, holding the family mutex.
  template <typename F>
  void ForEachSeries(F&& f) const {
    MutexLock lock(mu_);
    for (const auto& entry : series_) f(entry.first, entry.second);
  }

 private:
  Series* Create(std::vector<std::string> values)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Series* Overflow() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const FamilySpec spec_;
  FamilyBase* const overflow_family_;
  std::atomic<std::uint64_t> overflows_{0};

  mutable Mutex mu_;
  SeriesMap series_ ABSL_GUARDED_BY(mu_);
  Series* overflow_series_ ABSL_GUARDED_BY(mu_) = nullptr;
  CounterSeries* overflow_counter_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::uint64_t next_callback_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace metrics_internal
}  // namespace keel

#endif  // KEEL_METRICS_INTERNAL_FAMILY_H_
