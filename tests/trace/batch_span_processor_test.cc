#include "keel/trace/batch_span_processor.h"

#include <memory>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "keel/base/clock.h"
#include "keel/base/scheduler.h"
#include "recording_exporter.h"

namespace keel::trace {
namespace {

std::unique_ptr<SpanData> SampledSpan(int n) {
  auto span = std::make_unique<SpanData>();
  span->context = SpanContext(
      *TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736"),
      *SpanId::FromHex("00f067aa0ba902b7"), kTraceFlagSampled, false);
  span->name = "span-" + std::to_string(n);
  return span;
}

class BatchSpanProcessorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SchedulerOptions options;
    options.clock = &clock_;
    scheduler_ = Scheduler::Create(options).value();
  }

  BatchSpanProcessorOptions Options() {
    BatchSpanProcessorOptions options;
    options.exporter = std::make_unique<RecordingExporter>(recorded_);
    options.max_queue_size = 8;
    options.max_export_batch_size = 4;
    options.schedule_delay = std::chrono::seconds(5);
    options.scheduler = scheduler_.get();
    options.clock = &clock_;
    return options;
  }

  ManualClock clock_;
  std::unique_ptr<Scheduler> scheduler_;
  std::shared_ptr<RecordedSpans> recorded_ = std::make_shared<RecordedSpans>();
};

TEST_F(BatchSpanProcessorTest, CreateValidatesEveryOption) {
  auto expect_invalid = [](BatchSpanProcessorOptions options,
                           const char* field) {
    auto result = BatchSpanProcessor::Create(std::move(options));
    ASSERT_FALSE(result.ok()) << field;
    EXPECT_NE(result.status().message().find(field), std::string::npos)
        << result.status();
  };
  auto no_exporter = Options();
  no_exporter.exporter = nullptr;
  expect_invalid(std::move(no_exporter), "exporter");
  auto zero_queue = Options();
  zero_queue.max_queue_size = 0;
  expect_invalid(std::move(zero_queue), "max_queue_size");
  auto big_batch = Options();
  big_batch.max_export_batch_size = 9;
  expect_invalid(std::move(big_batch), "max_export_batch_size");
  auto zero_delay = Options();
  zero_delay.schedule_delay = std::chrono::nanoseconds(0);
  expect_invalid(std::move(zero_delay), "schedule_delay");
  auto no_clock = Options();
  no_clock.clock = nullptr;
  expect_invalid(std::move(no_clock), "clock");
}

TEST_F(BatchSpanProcessorTest, ExportsOnScheduleDelay) {
  auto processor = BatchSpanProcessor::Create(Options()).value();
  processor->OnEnd(SampledSpan(1));
  processor->OnEnd(SampledSpan(2));
  scheduler_->RunUntilIdle();
  EXPECT_EQ(recorded_->size(), 0u);  // below batch size, delay not reached
  clock_.Advance(std::chrono::seconds(5));
  scheduler_->RunUntilIdle();
  EXPECT_EQ(recorded_->size(), 2u);
  EXPECT_EQ(processor->exported_spans(), 2u);
}

TEST_F(BatchSpanProcessorTest, FullBatchTriggersExportWithoutWaiting) {
  auto processor = BatchSpanProcessor::Create(Options()).value();
  for (int i = 0; i < 4; ++i) processor->OnEnd(SampledSpan(i));
  scheduler_->RunUntilIdle();
  EXPECT_EQ(recorded_->size(), 4u);
  MutexLock lock(recorded_->mu);
  EXPECT_EQ(recorded_->batch_sizes, std::vector<std::size_t>{4});
  EXPECT_EQ(recorded_->spans[0].name, "span-0");  // FIFO
}

TEST_F(BatchSpanProcessorTest, DropsWhenQueueIsFull) {
  auto processor = BatchSpanProcessor::Create(Options()).value();
  // Hold the scheduler thread so that the triggered exports cannot drain.
  Mutex mu;
  bool release = false;
  CondVar cv;
  ASSERT_TRUE(scheduler_
                  ->ScheduleAfter(std::chrono::nanoseconds(0),
                                  [&] {
                                    MutexLock lock(mu);
                                    while (!release) cv.Wait(mu);
                                  })
                  .ok());
  for (int i = 0; i < 11; ++i) processor->OnEnd(SampledSpan(i));
  EXPECT_EQ(processor->dropped_spans(), 3u);
  {
    MutexLock lock(mu);
    release = true;
  }
  cv.SignalAll();
  ASSERT_TRUE(processor->ForceFlush(std::chrono::seconds(1)).ok());
  EXPECT_EQ(recorded_->size(), 8u);
}

TEST_F(BatchSpanProcessorTest, UnsampledSpansAreNotExported) {
  auto processor = BatchSpanProcessor::Create(Options()).value();
  auto span = SampledSpan(1);
  span->context =
      SpanContext(span->context.trace_id(), span->context.span_id(), 0, false);
  processor->OnEnd(std::move(span));
  ASSERT_TRUE(processor->ForceFlush(std::chrono::seconds(1)).ok());
  EXPECT_EQ(recorded_->size(), 0u);
  EXPECT_EQ(processor->dropped_spans(), 0u);
}

TEST_F(BatchSpanProcessorTest, ForceFlushExportsInBatchesAndReportsErrors) {
  auto options = Options();
  // Batch size 4: two spans trigger no background export (every 4th span
  // does), so the failure is ForceFlush's own and not a racing export's.
  options.max_export_batch_size = 4;
  auto processor = BatchSpanProcessor::Create(std::move(options)).value();
  {
    MutexLock lock(recorded_->mu);
    recorded_->next_status = absl::UnavailableError("collector down");
  }
  for (int i = 0; i < 2; ++i) processor->OnEnd(SampledSpan(i));
  EXPECT_EQ(processor->ForceFlush(std::chrono::seconds(1)).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(processor->failed_spans(), 2u);
}

TEST_F(BatchSpanProcessorTest, ShutdownFlushesAndDropsLaterSpans) {
  auto processor = BatchSpanProcessor::Create(Options()).value();
  processor->OnEnd(SampledSpan(1));
  ASSERT_TRUE(processor->Shutdown(std::chrono::seconds(1)).ok());
  EXPECT_EQ(recorded_->size(), 1u);
  {
    MutexLock lock(recorded_->mu);
    EXPECT_TRUE(recorded_->shut_down);
  }
  processor->OnEnd(SampledSpan(2));
  EXPECT_EQ(processor->dropped_spans(), 1u);
  EXPECT_TRUE(processor->Shutdown(std::chrono::seconds(1)).ok());
  EXPECT_EQ(scheduler_->PendingTasks(), 0u);
}

// With no scheduler in the options the processor runs its own thread.
TEST_F(BatchSpanProcessorTest, OwnedSchedulerExportsOnDestruction) {
  auto options = Options();
  options.scheduler = nullptr;
  auto processor = BatchSpanProcessor::Create(std::move(options)).value();
  processor->OnEnd(SampledSpan(1));
  processor.reset();
  EXPECT_EQ(recorded_->size(), 1u);
}

TEST_F(BatchSpanProcessorTest, ConcurrentProducersLoseNothingButDrops) {
  auto options = Options();
  options.max_queue_size = 1024;
  options.max_export_batch_size = 64;
  options.scheduler = nullptr;  // real export thread racing the producers
  auto processor = BatchSpanProcessor::Create(std::move(options)).value();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&processor] {
      for (int i = 0; i < kPerThread; ++i) processor->OnEnd(SampledSpan(i));
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE(processor->Shutdown(std::chrono::seconds(30)).ok());
  EXPECT_EQ(recorded_->size() + processor->dropped_spans(),
            static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_EQ(processor->exported_spans(), recorded_->size());
}

}  // namespace
}  // namespace keel::trace
