// Span timestamps: the start is the monotonic reading plus the tracer's
// wall-clock offset, and end and event times add monotonic elapsed time, so a
// stepped wall clock never produces negative durations and is picked up by
// later spans once the offset is re-measured.

#include <atomic>
#include <chrono>
#include <memory>

#include "gtest/gtest.h"
#include "keel/base/clock.h"
#include "keel/trace/tracer.h"
#include "recording_exporter.h"

namespace keel::trace {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// A clock whose wall time can be stepped without moving monotonic time, and
// which counts its reads.
class SteppableClock final : public Clock {
 public:
  MonoTime Now() const noexcept override {
    ++reads;
    return nanoseconds(mono_ns.load());
  }
  nanoseconds WallNow() const noexcept override {
    ++reads;
    ++wall_reads;
    return nanoseconds(mono_ns.load() + wall_offset_ns.load());
  }
  void Advance(nanoseconds d) { mono_ns += d.count(); }
  void StepWall(nanoseconds d) { wall_offset_ns += d.count(); }

  std::atomic<std::int64_t> mono_ns{seconds(100).count()};
  std::atomic<std::int64_t> wall_offset_ns{seconds(1700000000).count()};
  mutable std::atomic<int> reads{0};
  mutable std::atomic<int> wall_reads{0};
};

class SpanTimingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TracerOptions options;
    options.clock = &clock_;
    options.processor = std::make_unique<RecordingProcessor>(recorded_);
    tracer_ = Tracer::Create(std::move(options)).value();
  }

  SpanData Only() {
    MutexLock lock(recorded_->mu);
    EXPECT_EQ(recorded_->spans.size(), 1u);
    SpanData data = recorded_->spans.back();
    recorded_->spans.clear();
    return data;
  }

  SteppableClock clock_;
  std::shared_ptr<RecordedSpans> recorded_ = std::make_shared<RecordedSpans>();
  std::unique_ptr<Tracer> tracer_;
};

TEST_F(SpanTimingTest, StartIsWallTimeAndEndAddsMonotonicElapsed) {
  const nanoseconds wall_at_start = clock_.WallNow();
  {
    Span span = tracer_->StartSpan("op");
    clock_.Advance(milliseconds(3));
    span.AddEvent("half-way");
    clock_.Advance(milliseconds(4));
  }
  const SpanData data = Only();
  EXPECT_EQ(data.start_time, wall_at_start);
  ASSERT_EQ(data.events.size(), 1u);
  EXPECT_EQ(data.events[0].time, wall_at_start + milliseconds(3));
  EXPECT_EQ(data.end_time, wall_at_start + milliseconds(7));
}

TEST_F(SpanTimingTest, WallStepDuringSpanDoesNotChangeItsDuration) {
  {
    Span span = tracer_->StartSpan("op");
    clock_.Advance(milliseconds(10));
    clock_.StepWall(-std::chrono::hours(1));  // NTP steps the clock back
  }
  const SpanData data = Only();
  EXPECT_EQ(data.end_time - data.start_time, milliseconds(10));
}

TEST_F(SpanTimingTest, OneClockReadAtStartAndOneAtEnd) {
  clock_.Advance(milliseconds(1));  // offset still fresh
  const int before = clock_.reads.load();
  tracer_->StartSpan("op").End();
  EXPECT_EQ(clock_.reads.load() - before, 2);
  Only();
}

TEST_F(SpanTimingTest, UnsampledSpansReadNoClock) {
  TracerOptions options;
  options.clock = &clock_;
  options.sampler = Sampler::AlwaysOff();
  auto tracer = Tracer::Create(std::move(options)).value();
  const int before = clock_.reads.load();
  {
    Span span = tracer->StartSpan("op");
    span.AddEvent("ignored");
  }
  EXPECT_EQ(clock_.reads.load(), before);
}

TEST_F(SpanTimingTest, WallStepIsPickedUpOnceTheOffsetIsRemeasured) {
  clock_.StepWall(seconds(30));
  // Within a second of the last measurement the old offset is still used...
  tracer_->StartSpan("stale").End();
  const SpanData stale = Only();
  EXPECT_EQ(stale.start_time, clock_.WallNow() - seconds(30));
  // ...after it, the step shows.
  clock_.Advance(seconds(1));
  tracer_->StartSpan("fresh").End();
  const SpanData fresh = Only();
  EXPECT_EQ(fresh.start_time, clock_.WallNow());
}

TEST_F(SpanTimingTest, ExplicitStartTimeEndsOnTheWallClock) {
  StartSpanOptions options;
  options.start_time = clock_.WallNow() - seconds(2);
  {
    Span span = tracer_->StartSpan("backdated", options);
    clock_.Advance(milliseconds(5));
  }
  const SpanData data = Only();
  EXPECT_EQ(data.start_time, *options.start_time);
  EXPECT_EQ(data.end_time, clock_.WallNow());
}

TEST_F(SpanTimingTest, ExplicitEndTimeWins) {
  const nanoseconds end = clock_.WallNow() + seconds(9);
  tracer_->StartSpan("op").End(end);
  EXPECT_EQ(Only().end_time, end);
}

}  // namespace
}  // namespace keel::trace
