// BatchSpanProcessor publishes its counters, queue size and export latency
// through keel::metrics.

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "keel/base/clock.h"
#include "keel/base/scheduler.h"
#include "keel/metrics/exposition.h"
#include "keel/metrics/registry.h"
#include "keel/trace/batch_span_processor.h"
#include "testing/prometheus_text.h"

namespace keel::trace {
namespace {

std::unique_ptr<SpanData> Span(bool sampled) {
  auto span = std::make_unique<SpanData>();
  span->context =
      SpanContext(*TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736"),
                  *SpanId::FromHex("00f067aa0ba902b7"),
                  sampled ? kTraceFlagSampled : 0, false);
  return span;
}

// Fails while `fail` is set; each call takes 20 ms of manual time.
class SlowExporter final : public SpanExporter {
 public:
  SlowExporter(ManualClock* clock, std::shared_ptr<bool> fail)
      : clock_(clock), fail_(std::move(fail)) {}
  absl::Status Export(const SpanBatch& /*batch*/) override {
    clock_->Advance(std::chrono::milliseconds(20));
    if (*fail_) return absl::UnavailableError("collector down");
    return absl::OkStatus();
  }

 private:
  ManualClock* clock_;
  std::shared_ptr<bool> fail_;
};

class ProcessorMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SchedulerOptions options;
    options.clock = &clock_;
    scheduler_ = Scheduler::Create(options).value();
  }

  BatchSpanProcessorOptions Options(std::string name) {
    BatchSpanProcessorOptions options;
    options.exporter = std::make_unique<SlowExporter>(&clock_, fail_);
    options.max_queue_size = 4;
    options.max_export_batch_size = 4;
    options.schedule_delay = std::chrono::hours(1);
    options.scheduler = scheduler_.get();
    options.clock = &clock_;
    options.metrics = &registry_;
    options.name = std::move(name);
    return options;
  }

  std::string Scrape() { return testing::PrometheusText(registry_); }

  void ExpectLine(const std::string& line) {
    const std::string text = Scrape();
    EXPECT_NE(text.find(line + "\n"), std::string::npos)
        << "missing `" << line << "` in:\n"
        << text;
  }

  ManualClock clock_;
  std::unique_ptr<Scheduler> scheduler_;
  metrics::Registry registry_;
  std::shared_ptr<bool> fail_ = std::make_shared<bool>(false);
};

TEST_F(ProcessorMetricsTest, CountsExportedDroppedAndFailedSpans) {
  auto processor = BatchSpanProcessor::Create(Options("main")).value();
  // Batch size 4: the fourth span triggers one export of all four, which a
  // flush waits for.
  for (int i = 0; i < 4; ++i) processor->OnEnd(Span(true));
  ASSERT_TRUE(processor->ForceFlush(std::chrono::seconds(1)).ok());
  ExpectLine("keel_trace_spans_exported_total{processor=\"main\"} 4");
  ExpectLine("keel_trace_queue_spans{processor=\"main\"} 0");
  ExpectLine("keel_trace_export_failures_total{processor=\"main\"} 0");
  ExpectLine("keel_trace_export_duration_seconds_count{processor=\"main\"} 1");
  ExpectLine(
      "keel_trace_export_duration_seconds_bucket{processor=\"main\",le="
      "\"0.025\"} 1");
  ExpectLine(
      "keel_trace_export_duration_seconds_bucket{processor=\"main\",le="
      "\"0.01\"} 0");

  *fail_ = true;
  processor->OnEnd(Span(true));
  processor->OnEnd(Span(false));  // not sampled: not counted anywhere
  EXPECT_FALSE(processor->ForceFlush(std::chrono::seconds(1)).ok());
  ExpectLine("keel_trace_export_failures_total{processor=\"main\"} 1");
  ExpectLine(
      "keel_trace_spans_dropped_total{processor=\"main\",reason=\"export_"
      "failed\"} 1");

  ASSERT_TRUE(processor->Shutdown(std::chrono::seconds(1)).ok());
  processor->OnEnd(Span(true));
  ExpectLine(
      "keel_trace_spans_dropped_total{processor=\"main\",reason=\"shutdown\"}"
      " 1");
  ExpectLine(
      "keel_trace_spans_dropped_total{processor=\"main\",reason=\"queue_"
      "full\"} 0");
}

TEST_F(ProcessorMetricsTest, FullQueueDropsAreCounted) {
  auto options = Options("full");
  auto processor = BatchSpanProcessor::Create(std::move(options)).value();
  // Stop the scheduler from draining so the queue really fills.
  scheduler_->Shutdown();
  for (int i = 0; i < 6; ++i) processor->OnEnd(Span(true));
  EXPECT_EQ(processor->dropped_spans(), 2u);
  ExpectLine(
      "keel_trace_spans_dropped_total{processor=\"full\",reason=\"queue_"
      "full\"} 2");
  ExpectLine("keel_trace_queue_spans{processor=\"full\"} 4");
}

TEST_F(ProcessorMetricsTest, TwoProcessorsShareARegistryByName) {
  auto a = BatchSpanProcessor::Create(Options("a"));
  auto b = BatchSpanProcessor::Create(Options("b"));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  auto same = BatchSpanProcessor::Create(Options("a"));
  EXPECT_FALSE(same.ok());
}

TEST_F(ProcessorMetricsTest, EmptyNameIsRejected) {
  auto result = BatchSpanProcessor::Create(Options(""));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("name"), std::string::npos);
}

TEST_F(ProcessorMetricsTest, DestroyedProcessorLeavesNoCallbackSeries) {
  {
    auto processor = BatchSpanProcessor::Create(Options("gone")).value();
    EXPECT_NE(Scrape().find("processor=\"gone\""), std::string::npos);
  }
  const std::string text = Scrape();
  EXPECT_EQ(text.find("keel_trace_queue_spans{processor=\"gone\"}"),
            std::string::npos);
  EXPECT_EQ(text.find("keel_trace_spans_exported_total{processor=\"gone\"}"),
            std::string::npos);
}

}  // namespace
}  // namespace keel::trace
