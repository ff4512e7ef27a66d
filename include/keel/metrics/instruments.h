// keel/metrics/instruments.h
//
// The hot-path metric handles: `Counter`, `Gauge` and `Histogram`. A handle is
// a pointer-sized value bound to one labelled series of a family in a
// `keel::metrics::Registry` (see registry.h). The label look-up is paid once,
// when the handle is made; recording through it is a few instructions with no
// lock and no allocation.
//
// A default-constructed handle is a valid no-op, so a component whose options
// carry no registry keeps plain handle members and records unconditionally:
//
//   class Pool {
//    public:
//     explicit Pool(keel::metrics::Registry* metrics) {
//       if (metrics != nullptr) {
//         auto family = metrics->AddCounter("keel_pool_timeouts_total",
//                                           "Acquire timeouts.", {"pool"});
//         if (family.ok()) timeouts_ = (*family)->WithLabels({"main"});
//       }
//     }
//     void OnTimeout() { timeouts_.Inc(); }    // no branch in the caller
//    private:
//     keel::metrics::Counter timeouts_;       // no-op until bound
//   };
//
// Costs (Release build, one thread): Counter::Inc ~1-2 ns, Histogram::Observe
// ~3-6 ns plus a binary search over the bounds; increments from different
// threads touch different cache lines (see internal/cells.h).
//
// Lifetime: a bound handle must not be used after its registry is destroyed.
//
// Thread safety: handles are immutable values; every method may be called
// concurrently from any thread.

#ifndef KEEL_METRICS_INSTRUMENTS_H_
#define KEEL_METRICS_INSTRUMENTS_H_

#include <chrono>
#include <cstdint>

#include "keel/metrics/internal/cells.h"

namespace keel {
namespace metrics {

class CounterFamily;
class GaugeFamily;
class HistogramFamily;

// A monotonically increasing count (requests, bytes, errors).
class Counter {
 public:
  // A no-op counter: Inc() does nothing and Value() is 0.
  Counter() = default;

  // Adds one.
  void Inc() const noexcept {
    if (series_ != nullptr) series_->Increment();
  }

  // Adds `amount`. Negative and NaN amounts are ignored, because a counter
  // that went down would read as a reset to every rate() query.
  void Inc(double amount) const noexcept {
    if (series_ != nullptr) series_->Add(amount);
  }

  // The current total across threads (0 for a no-op counter). Meant for tests
  // and diagnostics; O(threads that recorded).
  double Value() const { return series_ != nullptr ? series_->Value() : 0.0; }

  // True if bound to a registry series.
  bool bound() const noexcept { return series_ != nullptr; }

 private:
  friend class CounterFamily;
  explicit Counter(metrics_internal::CounterSeries* series) : series_(series) {}

  metrics_internal::CounterSeries* series_ = nullptr;
};

// A value that goes up and down (queue depth, in-flight requests, pool size).
// Inc/Dec/Add are atomic compare-and-swap loops on one shared cache line, so
// prefer a Counter for high-rate events.
class Gauge {
 public:
  // A no-op gauge.
  Gauge() = default;

  // Sets the value.
  void Set(double value) const noexcept {
    if (series_ != nullptr) series_->Set(value);
  }
  // Adds `delta` (may be negative).
  void Add(double delta) const noexcept {
    if (series_ != nullptr) series_->Add(delta);
  }
  // Adds one.
  void Inc() const noexcept { Add(1.0); }
  // Subtracts one.
  void Dec() const noexcept { Add(-1.0); }

  // The current value (0 for a no-op gauge).
  double Value() const noexcept {
    return series_ != nullptr ? series_->Value() : 0.0;
  }

  // True if bound to a registry series.
  bool bound() const noexcept { return series_ != nullptr; }

 private:
  friend class GaugeFamily;
  explicit Gauge(metrics_internal::GaugeSeries* series) : series_(series) {}

  metrics_internal::GaugeSeries* series_ = nullptr;
};

// A distribution of observations in cumulative buckets (latencies, sizes).
class Histogram {
 public:
  // A no-op histogram.
  Histogram() = default;

  // Records `value` in the first bucket whose upper bound is >= value (the
  // +Inf bucket if none) and adds it to the sum. NaN is ignored.
  void Observe(double value) const noexcept {
    if (series_ != nullptr) series_->Observe(value);
  }

  // Records a duration in seconds, the base unit keel's `_seconds` histograms
  // use.
  void ObserveDuration(std::chrono::nanoseconds duration) const noexcept {
    Observe(std::chrono::duration<double>(duration).count());
  }

  // Number of observations so far (0 for a no-op histogram). For tests and
  // diagnostics; O(threads x buckets).
  std::uint64_t Count() const;

  // Sum of the observations so far (0 for a no-op histogram).
  double Sum() const;

  // True if bound to a registry series.
  bool bound() const noexcept { return series_ != nullptr; }

 private:
  friend class HistogramFamily;
  explicit Histogram(metrics_internal::HistogramSeries* series)
      : series_(series) {}

  metrics_internal::HistogramSeries* series_ = nullptr;
};

}  // namespace metrics
}  // namespace keel

#endif  // KEEL_METRICS_INSTRUMENTS_H_
