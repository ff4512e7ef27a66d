// SpanData recycling: records come back clean, oversized ones are not kept,
// and reuse through Tracer + BatchSpanProcessor never carries data from one
// span into another. Runs in its own binary so the process-wide pool starts
// empty.

#include "keel/trace/internal/span_recycler.h"

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "keel/base/clock.h"
#include "keel/base/mutex.h"
#include "keel/trace/batch_span_processor.h"
#include "keel/trace/tracer.h"

namespace keel::trace {
namespace {

using trace_internal::AcquireSpanData;
using trace_internal::ClearSpanData;
using trace_internal::RecycleSpanData;

// Fills every field of `span` with non-default values.
void Dirty(SpanData& span) {
  span.context =
      SpanContext(*TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736"),
                  *SpanId::FromHex("00f067aa0ba902b7"), kTraceFlagSampled, true,
                  *TraceState::Parse("k=v"));
  span.parent_span_id = *SpanId::FromHex("00f067aa0ba902b8");
  span.parent_is_remote = true;
  span.name = "a span name long enough to leave the small-string buffer";
  span.kind = SpanKind::kServer;
  span.start_time = std::chrono::seconds(5);
  span.end_time = std::chrono::seconds(6);
  span.attributes.push_back({"user.id", std::int64_t{42}});
  span.events.push_back({"retry", std::chrono::seconds(5), {}});
  span.links.push_back({span.context, {}});
  span.status_code = StatusCode::kError;
  span.status_message = "boom";
  span.dropped_attributes = 1;
  span.dropped_events = 2;
  span.dropped_links = 3;
  static const InstrumentationScope kScope{"scope", "1"};
  span.scope = &kScope;
}

// Expects `span` to equal a default-constructed SpanData.
void ExpectPristine(const SpanData& span) {
  EXPECT_EQ(span.context, SpanContext());
  EXPECT_EQ(span.parent_span_id, SpanId());
  EXPECT_FALSE(span.parent_is_remote);
  EXPECT_TRUE(span.name.empty());
  EXPECT_EQ(span.kind, SpanKind::kInternal);
  EXPECT_EQ(span.start_time.count(), 0);
  EXPECT_EQ(span.end_time.count(), 0);
  EXPECT_TRUE(span.attributes.empty());
  EXPECT_TRUE(span.events.empty());
  EXPECT_TRUE(span.links.empty());
  EXPECT_EQ(span.status_code, StatusCode::kUnset);
  EXPECT_TRUE(span.status_message.empty());
  EXPECT_EQ(span.dropped_attributes, 0u);
  EXPECT_EQ(span.dropped_events, 0u);
  EXPECT_EQ(span.dropped_links, 0u);
  EXPECT_EQ(span.scope, nullptr);
}

TEST(SpanRecyclerTest, ClearResetsEveryFieldAndKeepsBuffers) {
  SpanData span;
  Dirty(span);
  ClearSpanData(span);
  ExpectPristine(span);
  EXPECT_GE(span.attributes.capacity(), 1u);
  EXPECT_GE(span.events.capacity(), 1u);
  EXPECT_GE(span.links.capacity(), 1u);
}

TEST(SpanRecyclerTest, RecycledRecordIsHandedOutAgainClean) {
  std::unique_ptr<SpanData> span = AcquireSpanData();
  Dirty(*span);
  SpanData* const address = span.get();
  RecycleSpanData(std::move(span));
  std::unique_ptr<SpanData> again = AcquireSpanData();
  EXPECT_EQ(again.get(), address);
  ExpectPristine(*again);
  EXPECT_GE(again->attributes.capacity(), 1u);  // the buffer was kept
}

TEST(SpanRecyclerTest, OversizedRecordIsFreedNotPooled) {
  std::unique_ptr<SpanData> span = AcquireSpanData();
  span->attributes.resize(trace_internal::kMaxPooledItems + 1);
  RecycleSpanData(std::move(span));
  std::unique_ptr<SpanData> next = AcquireSpanData();
  // Whatever it is, it is not the big record kept alive in the pool.
  EXPECT_LE(next->attributes.capacity(), trace_internal::kMaxPooledItems);
  ExpectPristine(*next);
}

TEST(SpanRecyclerTest, NullIsIgnored) { RecycleSpanData(nullptr); }

// Keeps copies of exported spans and the addresses of their records.
struct Seen {
  Mutex mu;
  std::vector<SpanData> spans ABSL_GUARDED_BY(mu);
  std::set<const SpanData*> addresses ABSL_GUARDED_BY(mu);
};

class AddressExporter final : public SpanExporter {
 public:
  explicit AddressExporter(std::shared_ptr<Seen> seen)
      : seen_(std::move(seen)) {}
  absl::Status Export(const SpanBatch& batch) override {
    MutexLock lock(seen_->mu);
    for (const auto& span : batch) {
      seen_->spans.push_back(*span);
      seen_->addresses.insert(span.get());
    }
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<Seen> seen_;
};

std::unique_ptr<Tracer> MakeTracer(std::shared_ptr<Seen> seen, Clock* clock,
                                   std::size_t queue_size) {
  BatchSpanProcessorOptions processor_options;
  processor_options.exporter = std::make_unique<AddressExporter>(seen);
  processor_options.max_queue_size = queue_size;
  processor_options.max_export_batch_size = 64;
  processor_options.clock = clock;
  TracerOptions options;
  options.processor =
      BatchSpanProcessor::Create(std::move(processor_options)).value();
  options.clock = clock;
  return Tracer::Create(std::move(options)).value();
}

TEST(SpanRecyclerTest, ReusedRecordsCarryNothingIntoTheNextSpan) {
  ManualClock clock;
  auto seen = std::make_shared<Seen>();
  // Large enough to take every record the pool can hold: the second round
  // then necessarily reuses first-round records.
  constexpr std::size_t kRound = trace_internal::kSpanPoolCapacity + 64;
  auto tracer = MakeTracer(seen, &clock, 2 * kRound);
  for (std::size_t i = 0; i < 64; ++i) {
    Span span = tracer->StartSpan("dirty");
    span.SetAttribute("user.id", 42);
    span.AddEvent("retry");
    span.AddLink(span.context());
    span.SetStatus(StatusCode::kError, "boom");
  }
  ASSERT_TRUE(tracer->ForceFlush(std::chrono::seconds(10)).ok());
  std::set<const SpanData*> first_round;
  {
    MutexLock lock(seen->mu);
    ASSERT_EQ(seen->spans.size(), 64u);
    first_round = seen->addresses;
    seen->spans.clear();
    seen->addresses.clear();
  }
  for (std::size_t i = 0; i < kRound; ++i) tracer->StartSpan("clean").End();
  ASSERT_TRUE(tracer->ForceFlush(std::chrono::seconds(10)).ok());

  MutexLock lock(seen->mu);
  ASSERT_EQ(seen->spans.size(), kRound);
  for (const SpanData& span : seen->spans) {
    ASSERT_EQ(span.name, "clean");
    ASSERT_TRUE(span.attributes.empty());
    ASSERT_TRUE(span.events.empty());
    ASSERT_TRUE(span.links.empty());
    ASSERT_EQ(span.status_code, StatusCode::kUnset);
    ASSERT_TRUE(span.status_message.empty());
    ASSERT_FALSE(span.parent_span_id.IsValid());
  }
  std::size_t reused = 0;
  for (const SpanData* address : seen->addresses) {
    reused += first_round.count(address);
  }
  EXPECT_GT(reused, 0u);
}

TEST(SpanRecyclerTest, TracerWithoutProcessorRecyclesToo) {
  ManualClock clock;
  TracerOptions options;
  options.clock = &clock;
  auto tracer = Tracer::Create(std::move(options)).value();
  // Drain whatever earlier tests pooled, so the next record is ours.
  std::vector<std::unique_ptr<SpanData>> drained;
  for (std::size_t i = 0; i < trace_internal::kSpanPoolCapacity; ++i) {
    drained.push_back(AcquireSpanData());
  }
  {
    Span span = tracer->StartSpan("no-processor");
    span.SetAttribute("k", "v");
  }
  std::unique_ptr<SpanData> next = AcquireSpanData();
  ExpectPristine(*next);
  EXPECT_GE(next->attributes.capacity(), 1u);  // the span's record came back
}

// Many threads start and end spans whose attributes name their own span;
// every exported span must carry exactly its own data.
TEST(SpanRecyclerTest, ConcurrentSpansNeverSeeEachOthersData) {
  auto seen = std::make_shared<Seen>();
  constexpr int kThreads = 4;
  constexpr int kSpansPerThread = 2000;
  auto tracer = MakeTracer(seen, &Clock::System(), 1024);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&tracer, t] {
      for (int i = 0; i < kSpansPerThread; ++i) {
        const std::string name =
            "t" + std::to_string(t) + "-" + std::to_string(i);
        Span span = tracer->StartSpan(name);
        span.SetAttribute("name", name);
        if (i % 3 == 0) span.AddEvent(name);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_TRUE(tracer->ForceFlush(std::chrono::seconds(30)).ok());
  MutexLock lock(seen->mu);
  ASSERT_FALSE(seen->spans.empty());
  for (const SpanData& span : seen->spans) {
    ASSERT_EQ(span.attributes.size(), 1u) << span.name;
    EXPECT_EQ(std::get<std::string>(span.attributes[0].value), span.name);
    ASSERT_LE(span.events.size(), 1u);
    if (!span.events.empty()) {
      EXPECT_EQ(span.events[0].name, span.name);
    }
  }
}

}  // namespace
}  // namespace keel::trace
