// keel metrics against the straightforward designs other clients use:
//   * CounterInc: one std::atomic<double> updated with a compare-and-swap
//     loop (prometheus-cpp's counter), shared by all benchmark threads.
//   * HistogramObserve: a mutex-protected bucket array and sum (prometheus-cpp
//     takes a mutex per Observe).
//   * Exposition1000: 1,000 counter series written with std::ostringstream.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "keel/metrics/buckets.h"
#include "keel/metrics/exposition.h"
#include "keel/metrics/registry.h"

namespace {

// --- Counter increment -------------------------------------------------------

class BaselineCounter {
 public:
  void Inc(double v = 1.0) {
    double old = value_.load(std::memory_order_relaxed);
    while (!value_.compare_exchange_weak(old, old + v,
                                         std::memory_order_relaxed)) {
    }
  }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

keel::metrics::Registry& BenchRegistry() {
  static auto* const registry = new keel::metrics::Registry;
  return *registry;
}

keel::metrics::Counter& KeelCounter() {
  static keel::metrics::Counter counter =
      (*BenchRegistry().AddCounter("bench_ops_total", "Ops.", {"kind"}))
          ->WithLabels({"inc"});
  return counter;
}

BaselineCounter& SharedBaselineCounter() {
  static auto* const counter = new BaselineCounter;
  return *counter;
}

void BM_Keel_CounterInc(benchmark::State& state) {
  const keel::metrics::Counter counter = KeelCounter();
  for (auto _ : state) counter.Inc();
  benchmark::DoNotOptimize(counter.Value());
}
BENCHMARK(BM_Keel_CounterInc)->Threads(1)->Threads(2);

void BM_Baseline_CounterInc(benchmark::State& state) {
  BaselineCounter& counter = SharedBaselineCounter();
  for (auto _ : state) counter.Inc();
  benchmark::DoNotOptimize(counter.Value());
}
BENCHMARK(BM_Baseline_CounterInc)->Threads(1)->Threads(2);

// --- Histogram observe -------------------------------------------------------

class BaselineHistogram {
 public:
  explicit BaselineHistogram(std::vector<double> bounds)
      : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}

  void Observe(double v) {
    const auto bucket = static_cast<std::size_t>(
        std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[bucket];
    sum_ += v;
  }

  std::uint64_t Count() {
    std::lock_guard<std::mutex> lock(mu_);
    std::uint64_t total = 0;
    for (const std::uint64_t c : counts_) total += c;
    return total;
  }

 private:
  const std::vector<double> bounds_;
  std::mutex mu_;
  std::vector<std::uint64_t> counts_;
  double sum_ = 0;
};

// Observations spread over every bucket of the default latency buckets.
const std::vector<double>& Observations() {
  static const auto* const values = [] {
    auto* v = new std::vector<double>;
    for (int i = 0; i < 64; ++i) v->push_back(0.002 * (1 << (i % 13)));
    return v;
  }();
  return *values;
}

void BM_Keel_HistogramObserve(benchmark::State& state) {
  static const keel::metrics::Histogram histogram =
      (*BenchRegistry().AddHistogram("bench_latency_seconds", "Latency.", {},
                                     keel::metrics::DefaultLatencyBuckets()))
          ->WithLabels({});
  const std::vector<double>& values = Observations();
  std::size_t i = 0;
  for (auto _ : state) {
    histogram.Observe(values[i]);
    i = (i + 1) % values.size();
  }
  benchmark::DoNotOptimize(histogram.Count());
}
BENCHMARK(BM_Keel_HistogramObserve)->Threads(1)->Threads(2);

void BM_Baseline_HistogramObserve(benchmark::State& state) {
  static auto* const histogram =
      new BaselineHistogram(keel::metrics::DefaultLatencyBuckets());
  const std::vector<double>& values = Observations();
  std::size_t i = 0;
  for (auto _ : state) {
    histogram->Observe(values[i]);
    i = (i + 1) % values.size();
  }
  benchmark::DoNotOptimize(histogram->Count());
}
BENCHMARK(BM_Baseline_HistogramObserve)->Threads(1)->Threads(2);

// --- Exposition of 1,000 series ----------------------------------------------

constexpr int kSeries = 1000;

std::string Method(int i) { return i % 2 == 0 ? "GET" : "POST"; }
std::string Path(int i) { return "/api/v1/items/" + std::to_string(i / 2); }

void BM_Keel_Exposition1000(benchmark::State& state) {
  keel::metrics::Registry registry;
  auto family = registry.AddCounter("bench_requests_total", "Requests.",
                                    {"method", "path"});
  for (int i = 0; i < kSeries; ++i) {
    (*family)->WithLabels({Method(i), Path(i)}).Inc(i * 3.5);
  }
  std::string out;
  for (auto _ : state) {
    keel::metrics::WriteExposition(
        registry, keel::metrics::ExpositionFormat::kPrometheusText, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["bytes"] = static_cast<double>(out.size());
}
BENCHMARK(BM_Keel_Exposition1000);

struct BaselineSeries {
  std::vector<std::pair<std::string, std::string>> labels;
  BaselineCounter value;
};

void EscapeTo(std::ostringstream& os, const std::string& s) {
  for (const char c : s) {
    if (c == '\\' || c == '"') {
      os << '\\' << c;
    } else if (c == '\n') {
      os << "\\n";
    } else {
      os << c;
    }
  }
}

void BM_Baseline_Exposition1000(benchmark::State& state) {
  std::map<std::string, BaselineSeries> series;  // sorted by label string
  for (int i = 0; i < kSeries; ++i) {
    BaselineSeries& s = series[Method(i) + "\xff" + Path(i)];
    s.labels = {{"method", Method(i)}, {"path", Path(i)}};
    s.value.Inc(i * 3.5);
  }
  std::string out;
  for (auto _ : state) {
    std::ostringstream os;
    os.precision(17);
    os << "# HELP bench_requests_total Requests.\n"
       << "# TYPE bench_requests_total counter\n";
    for (const auto& entry : series) {
      os << "bench_requests_total{";
      bool first = true;
      for (const auto& label : entry.second.labels) {
        if (!first) os << ',';
        first = false;
        os << label.first << "=\"";
        EscapeTo(os, label.second);
        os << '"';
      }
      os << "} " << entry.second.value.Value() << '\n';
    }
    out = os.str();
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["bytes"] = static_cast<double>(out.size());
}
BENCHMARK(BM_Baseline_Exposition1000);

}  // namespace

BENCHMARK_MAIN();
