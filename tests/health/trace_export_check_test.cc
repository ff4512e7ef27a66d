// The span-export health check: pass while exports succeed, warn with the
// last error while they fail.

#include "keel/health/trace_export_check.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "keel/base/clock.h"
#include "keel/base/scheduler.h"
#include "recording_exporter.h"  // tests/trace

namespace keel::health {
namespace {

using trace::BatchSpanProcessor;
using trace::BatchSpanProcessorOptions;
using trace::ExportHealth;
using trace::kTraceFlagSampled;
using trace::RecordedSpans;
using trace::RecordingExporter;
using trace::SpanContext;
using trace::SpanData;
using trace::SpanId;
using trace::TraceId;

std::unique_ptr<SpanData> SampledSpan() {
  auto span = std::make_unique<SpanData>();
  span->context = SpanContext(
      *TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736"),
      *SpanId::FromHex("00f067aa0ba902b7"), kTraceFlagSampled, false);
  return span;
}

TEST(TraceExportResultTest, PassWithoutFailures) {
  const CheckResult result = TraceExportResult(ExportHealth());
  EXPECT_EQ(result.status, Status::kPass);
  EXPECT_TRUE(result.output.empty());
}

TEST(TraceExportResultTest, WarnNamesTheErrorAndTheStreak) {
  ExportHealth health;
  health.consecutive_failures = 3;
  health.last_error = absl::UnavailableError("collector down");
  const CheckResult result = TraceExportResult(health);
  EXPECT_EQ(result.status, Status::kWarn);
  EXPECT_NE(result.output.find("collector down"), std::string::npos);
  EXPECT_NE(result.output.find("3 in a row"), std::string::npos);
  ASSERT_TRUE(result.observed_value.has_value());
  EXPECT_EQ(std::get<std::int64_t>(*result.observed_value), 3);
}

TEST(TraceExportCheckTest, FollowsTheExporter) {
  ManualClock clock;
  SchedulerOptions scheduler_options;
  scheduler_options.clock = &clock;
  auto scheduler = Scheduler::Create(scheduler_options).value();
  auto recorded = std::make_shared<RecordedSpans>();
  BatchSpanProcessorOptions options;
  options.exporter = std::make_unique<RecordingExporter>(recorded);
  options.scheduler = scheduler.get();
  options.clock = &clock;
  auto processor = BatchSpanProcessor::Create(std::move(options)).value();
  const CheckFunction check = TraceExportCheck(*processor);

  EXPECT_EQ(check().status, Status::kPass);  // nothing exported yet

  {
    MutexLock lock(recorded->mu);
    recorded->next_status = absl::UnavailableError("collector down");
  }
  for (int i = 0; i < 2; ++i) {
    processor->OnEnd(SampledSpan());
    EXPECT_FALSE(processor->ForceFlush(std::chrono::seconds(1)).ok());
  }
  CheckResult result = check();
  EXPECT_EQ(result.status, Status::kWarn);
  EXPECT_NE(result.output.find("collector down"), std::string::npos);
  const ExportHealth failing = processor->export_health();
  EXPECT_EQ(failing.consecutive_failures, 2u);
  EXPECT_EQ(failing.last_error_time, clock.WallNow());

  {
    MutexLock lock(recorded->mu);
    recorded->next_status = absl::OkStatus();
  }
  processor->OnEnd(SampledSpan());
  ASSERT_TRUE(processor->ForceFlush(std::chrono::seconds(1)).ok());
  EXPECT_EQ(check().status, Status::kPass);
  // The last error stays visible for diagnosis.
  EXPECT_EQ(processor->export_health().last_error.message(), "collector down");
}

}  // namespace
}  // namespace keel::health
