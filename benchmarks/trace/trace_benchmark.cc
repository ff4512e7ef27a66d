// Tracing hot paths against conventional designs:
//   * UnsampledSpan: keel's stack-value span vs an OpenTelemetry-C++-style
//     tracer that returns a shared_ptr span even when the sampler drops it;
//   * SampledSpan: start + end into keel's lock-free BatchSpanProcessor vs a
//     shared_ptr span pushed into a mutex-protected queue drained by a thread;
//   * TraceparentParse: keel's fixed-offset parser vs a split-on-'-' parser
//     with std::string pieces and strtoull.

#include <atomic>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "keel/trace/batch_span_processor.h"
#include "keel/trace/traceparent.h"
#include "keel/trace/tracer.h"

namespace {

using keel::trace::SpanBatch;

// --- Baseline tracer --------------------------------------------------------

struct BaselineContext {
  std::uint64_t trace_hi = 0, trace_lo = 0, span_id = 0;
  std::uint8_t flags = 0;
};

struct BaselineSpan {
  BaselineContext context;
  bool recording = false;
  std::string name;
  std::vector<std::pair<std::string, std::string>> attributes;
  std::int64_t start = 0, end = 0;
};

class BaselineSampler {
 public:
  virtual ~BaselineSampler() = default;
  virtual bool ShouldSample() const = 0;
};
class BaselineOn final : public BaselineSampler {
  bool ShouldSample() const override { return true; }
};
class BaselineOff final : public BaselineSampler {
  bool ShouldSample() const override { return false; }
};

// A mutex + deque queue drained by one consumer thread.
class BaselineProcessor {
 public:
  BaselineProcessor() : consumer_([this] { Run(); }) {}
  ~BaselineProcessor() {
    stop_.store(true);
    consumer_.join();
  }
  void OnEnd(std::shared_ptr<BaselineSpan> span) {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() < 65536) queue_.push_back(std::move(span));
  }

 private:
  void Run() {
    std::deque<std::shared_ptr<BaselineSpan>> batch;
    while (!stop_.load()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        batch.swap(queue_);
      }
      batch.clear();
      std::this_thread::yield();
    }
  }
  std::mutex mu_;
  std::deque<std::shared_ptr<BaselineSpan>> queue_;
  std::atomic<bool> stop_{false};
  std::thread consumer_;
};

class BaselineTracer {
 public:
  BaselineTracer(std::unique_ptr<BaselineSampler> sampler,
                 BaselineProcessor* processor)
      : sampler_(std::move(sampler)), processor_(processor) {}
  std::shared_ptr<BaselineSpan> StartSpan(std::string_view name) {
    auto span = std::make_shared<BaselineSpan>();
    span->context = BaselineContext{rng_(), rng_(), rng_(), 0};
    if (sampler_->ShouldSample()) {
      span->recording = true;
      span->context.flags = 1;
      span->name = std::string(name);
      span->start = std::chrono::system_clock::now().time_since_epoch().count();
    }
    return span;
  }
  void EndSpan(std::shared_ptr<BaselineSpan> span) {
    if (!span->recording) return;
    span->end = std::chrono::system_clock::now().time_since_epoch().count();
    processor_->OnEnd(std::move(span));
  }

 private:
  std::unique_ptr<BaselineSampler> sampler_;
  BaselineProcessor* processor_;
  std::mt19937_64 rng_{42};
};

// --- keel tracer setup
// --------------------------------------------------------

class DiscardingExporter final : public keel::trace::SpanExporter {
 public:
  absl::Status Export(const SpanBatch& batch) override {
    benchmark::DoNotOptimize(batch.data());
    return absl::OkStatus();
  }
};

std::unique_ptr<keel::trace::Tracer> MakeKeelTracer(
    bool sampled, keel::trace::BatchSpanProcessor** out) {
  keel::trace::BatchSpanProcessorOptions processor_options;
  processor_options.exporter = std::make_unique<DiscardingExporter>();
  processor_options.max_queue_size = 65536;
  processor_options.max_export_batch_size = 512;
  processor_options.schedule_delay = std::chrono::milliseconds(1);
  auto processor =
      keel::trace::BatchSpanProcessor::Create(std::move(processor_options))
          .value();
  if (out != nullptr) *out = processor.get();
  keel::trace::TracerOptions options;
  options.sampler = sampled ? keel::trace::Sampler::AlwaysOn()
                            : keel::trace::Sampler::AlwaysOff();
  options.processor = std::move(processor);
  return keel::trace::Tracer::Create(std::move(options)).value();
}

void BM_Keel_UnsampledSpan(benchmark::State& state) {
  auto tracer = MakeKeelTracer(false, nullptr);
  for (auto _ : state) {
    keel::trace::Span span = tracer->StartSpan("GET /users/{id}");
    span.SetAttribute("http.status_code", 200);
    benchmark::DoNotOptimize(span.context());
    span.End();
  }
}
BENCHMARK(BM_Keel_UnsampledSpan);

void BM_Baseline_UnsampledSpan(benchmark::State& state) {
  BaselineProcessor processor;
  BaselineTracer tracer(std::make_unique<BaselineOff>(), &processor);
  for (auto _ : state) {
    auto span = tracer.StartSpan("GET /users/{id}");
    if (span->recording)
      span->attributes.emplace_back("http.status_code", "200");
    benchmark::DoNotOptimize(span->context);
    tracer.EndSpan(std::move(span));
  }
}
BENCHMARK(BM_Baseline_UnsampledSpan);

void BM_Keel_SampledSpan(benchmark::State& state) {
  keel::trace::BatchSpanProcessor* processor = nullptr;
  auto tracer = MakeKeelTracer(true, &processor);
  for (auto _ : state) {
    keel::trace::Span span = tracer->StartSpan("GET /users/{id}");
    span.End();
  }
  state.counters["dropped"] = static_cast<double>(processor->dropped_spans());
}
BENCHMARK(BM_Keel_SampledSpan);

void BM_Baseline_SampledSpan(benchmark::State& state) {
  BaselineProcessor processor;
  BaselineTracer tracer(std::make_unique<BaselineOn>(), &processor);
  for (auto _ : state) {
    auto span = tracer.StartSpan("GET /users/{id}");
    tracer.EndSpan(std::move(span));
  }
}
BENCHMARK(BM_Baseline_SampledSpan);

// --- traceparent
// ----------------------------------------------------------------

constexpr char kHeader[] =
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

bool IsLowerHex(const std::string& s) {
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && (c < 'a' || c > 'f')) {
      return false;
    }
  }
  return true;
}

std::optional<BaselineContext> BaselineParse(const std::string& header) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t dash = header.find('-', start);
    parts.push_back(header.substr(start, dash - start));
    if (dash == std::string::npos) break;
    start = dash + 1;
  }
  if (parts.size() != 4 || parts[0].size() != 2 || parts[1].size() != 32 ||
      parts[2].size() != 16 || parts[3].size() != 2) {
    return std::nullopt;
  }
  for (const auto& p : parts) {
    if (!IsLowerHex(p)) return std::nullopt;
  }
  if (parts[0] == "ff") return std::nullopt;
  BaselineContext context;
  context.trace_hi = std::strtoull(parts[1].substr(0, 16).c_str(), nullptr, 16);
  context.trace_lo = std::strtoull(parts[1].substr(16).c_str(), nullptr, 16);
  context.span_id = std::strtoull(parts[2].c_str(), nullptr, 16);
  context.flags =
      static_cast<std::uint8_t>(std::strtoul(parts[3].c_str(), nullptr, 16));
  if ((context.trace_hi | context.trace_lo) == 0 || context.span_id == 0) {
    return std::nullopt;
  }
  return context;
}

void BM_Keel_TraceparentParse(benchmark::State& state) {
  const std::string header = kHeader;
  for (auto _ : state) {
    benchmark::DoNotOptimize(keel::trace::ParseTraceparent(header));
  }
}
BENCHMARK(BM_Keel_TraceparentParse);

void BM_Baseline_TraceparentParse(benchmark::State& state) {
  const std::string header = kHeader;
  for (auto _ : state) benchmark::DoNotOptimize(BaselineParse(header));
}
BENCHMARK(BM_Baseline_TraceparentParse);

}  // namespace

BENCHMARK_MAIN();
