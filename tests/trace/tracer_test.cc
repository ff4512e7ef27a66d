#include "keel/trace/tracer.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "keel/base/clock.h"
#include "keel/trace/context.h"
#include "keel/trace/propagation.h"
#include "recording_exporter.h"

namespace keel::trace {
namespace {

class TracerTest : public ::testing::Test {
 protected:
  std::unique_ptr<Tracer> MakeTracer(
      std::shared_ptr<const Sampler> sampler = Sampler::AlwaysOn(),
      SpanLimits limits = SpanLimits()) {
    TracerOptions options;
    options.scope_name = "test-scope";
    options.scope_version = "1.2";
    options.sampler = std::move(sampler);
    options.processor = std::make_unique<RecordingProcessor>(recorded_);
    options.clock = &clock_;
    options.limits = limits;
    return Tracer::Create(std::move(options)).value();
  }

  std::vector<SpanData> Spans() {
    MutexLock lock(recorded_->mu);
    return recorded_->spans;
  }

  ManualClock clock_;
  std::shared_ptr<RecordedSpans> recorded_ = std::make_shared<RecordedSpans>();
};

TEST_F(TracerTest, CreateValidatesOptions) {
  TracerOptions options;
  options.clock = nullptr;
  EXPECT_EQ(Tracer::Create(std::move(options)).status().code(),
            absl::StatusCode::kInvalidArgument);
  TracerOptions zero_limit;
  zero_limit.limits.max_events = 0;
  auto status = Tracer::Create(std::move(zero_limit)).status();
  EXPECT_NE(status.message().find("max_events"), std::string::npos);
}

TEST_F(TracerTest, RootSpanGetsFreshIdsAndRandomFlag) {
  auto tracer = MakeTracer();
  Span a = tracer->StartSpan("a");
  Span b = tracer->StartSpan("b");
  EXPECT_TRUE(a.context().IsValid());
  EXPECT_TRUE(a.context().sampled());
  EXPECT_TRUE(a.context().random());
  EXPECT_FALSE(a.context().is_remote());
  EXPECT_NE(a.context().trace_id(), b.context().trace_id());
  EXPECT_NE(a.context().span_id(), b.context().span_id());
}

TEST_F(TracerTest, RecordsEverythingAndExportsOnEnd) {
  auto tracer = MakeTracer();
  const auto start = clock_.WallNow();
  Span span = tracer->StartSpan("op");
  span.SetAttribute("str", "value");
  span.SetAttribute("int", 42);
  span.SetAttribute("double", 1.5);
  span.SetAttribute("bool", true);
  span.SetAttribute("ints", std::vector<std::int64_t>{1, 2});
  span.SetAttribute("int", 43);  // replaces
  clock_.Advance(std::chrono::milliseconds(5));
  span.AddEvent("cache-miss", {KeyValue{"key", std::string("k1")}});
  span.SetStatus(StatusCode::kError, "boom");
  span.UpdateName("op2");
  clock_.Advance(std::chrono::milliseconds(5));
  EXPECT_TRUE(span.IsRecording());
  span.End();
  EXPECT_FALSE(span.IsRecording());
  span.End();  // idempotent

  auto spans = Spans();
  ASSERT_EQ(spans.size(), 1u);
  const SpanData& data = spans[0];
  EXPECT_EQ(data.name, "op2");
  EXPECT_EQ(data.start_time, start);
  EXPECT_EQ(data.end_time, start + std::chrono::milliseconds(10));
  ASSERT_EQ(data.attributes.size(), 5u);
  EXPECT_EQ(std::get<std::string>(data.attributes[0].value), "value");
  EXPECT_EQ(std::get<std::int64_t>(data.attributes[1].value), 43);
  EXPECT_EQ(std::get<double>(data.attributes[2].value), 1.5);
  EXPECT_EQ(std::get<bool>(data.attributes[3].value), true);
  ASSERT_EQ(data.events.size(), 1u);
  EXPECT_EQ(data.events[0].time, start + std::chrono::milliseconds(5));
  EXPECT_EQ(data.status_code, StatusCode::kError);
  EXPECT_EQ(data.status_message, "boom");
  ASSERT_NE(data.scope, nullptr);
  EXPECT_EQ(data.scope->name, "test-scope");
  EXPECT_FALSE(data.parent_span_id.IsValid());
}

TEST_F(TracerTest, StatusOkIsFinalAndUnsetIgnored) {
  auto tracer = MakeTracer();
  {
    Span span = tracer->StartSpan("op");
    span.SetStatus(StatusCode::kOk, "ignored message");
    span.SetStatus(StatusCode::kError, "too late");
    span.SetStatus(StatusCode::kUnset);
  }
  auto spans = Spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].status_code, StatusCode::kOk);
  EXPECT_EQ(spans[0].status_message, "");
}

TEST_F(TracerTest, LimitsDropAndCount) {
  SpanLimits limits;
  limits.max_attributes = 2;
  limits.max_events = 1;
  limits.max_links = 1;
  auto tracer = MakeTracer(Sampler::AlwaysOn(), limits);
  Span other = tracer->StartSpan("other");
  {
    Span span = tracer->StartSpan("op");
    span.SetAttribute("a", 1);
    span.SetAttribute("b", 2);
    span.SetAttribute("c", 3);
    span.SetAttribute("a", 9);  // replacing is not dropping
    span.AddEvent("e1");
    span.AddEvent("e2");
    span.AddLink(other.context());
    span.AddLink(other.context());
    span.AddLink(SpanContext());  // invalid: ignored, not counted
  }
  auto spans = Spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].attributes.size(), 2u);
  EXPECT_EQ(spans[0].dropped_attributes, 1u);
  EXPECT_EQ(spans[0].dropped_events, 1u);
  EXPECT_EQ(spans[0].dropped_links, 1u);
}

TEST_F(TracerTest, ScopedSpanBecomesParentOfNestedSpans) {
  auto tracer = MakeTracer();
  SpanContext outer_context;
  {
    ScopedSpan outer(*tracer, "outer");
    outer_context = outer.span().context();
    EXPECT_EQ(CurrentSpanContext(), outer_context);
    Span inner = tracer->StartSpan("inner");
    EXPECT_EQ(inner.context().trace_id(), outer_context.trace_id());
  }
  EXPECT_FALSE(CurrentSpanContext().IsValid());
  auto spans = Spans();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].name, "inner");
  EXPECT_EQ(spans[0].parent_span_id, outer_context.span_id());
  EXPECT_FALSE(spans[0].parent_is_remote);
}

TEST_F(TracerTest, ExplicitInvalidParentStartsNewTrace) {
  auto tracer = MakeTracer();
  ScopedSpan outer(*tracer, "outer");
  StartSpanOptions options;
  options.parent = SpanContext();
  Span root = tracer->StartSpan("root", options);
  EXPECT_NE(root.context().trace_id(), outer.span().context().trace_id());
}

TEST_F(TracerTest, RemoteParentIsContinuedWithTracestateAndFlags) {
  auto tracer = MakeTracer(Sampler::ParentBased(Sampler::AlwaysOff()));
  std::map<std::string, std::string> headers = {
      {"traceparent",
       "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
      {"tracestate", "vendor=x"}};
  MapCarrier carrier(headers);
  StartSpanOptions options;
  options.parent = Extract(carrier);
  options.kind = SpanKind::kServer;
  {
    Span span = tracer->StartSpan("GET /", options);
    EXPECT_EQ(span.context().trace_id().ToHex(),
              "4bf92f3577b34da6a3ce929d0e0e4736");
    EXPECT_TRUE(span.context().sampled());
    EXPECT_FALSE(span.context().random());  // parent did not set it
    EXPECT_EQ(span.context().trace_state().ToHeader(), "vendor=x");
  }
  auto spans = Spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_TRUE(spans[0].parent_is_remote);
  EXPECT_EQ(spans[0].kind, SpanKind::kServer);
  EXPECT_EQ(spans[0].parent_span_id.ToHex(), "00f067aa0ba902b7");
}

TEST_F(TracerTest, UnsampledParentYieldsUnsampledNonRecordingChild) {
  auto tracer = MakeTracer(Sampler::ParentBased(Sampler::AlwaysOn()));
  StartSpanOptions options;
  options.parent =
      SpanContext(*TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736"),
                  *SpanId::FromHex("00f067aa0ba902b7"), kTraceFlagRandom, true);
  {
    Span span = tracer->StartSpan("op", options);
    EXPECT_FALSE(span.IsRecording());
    EXPECT_FALSE(span.context().sampled());
    EXPECT_TRUE(span.context().random());  // Level 2 flag propagated
    EXPECT_TRUE(span.context().IsValid());
    span.SetAttribute("ignored", 1);
  }
  EXPECT_TRUE(Spans().empty());
}

TEST_F(TracerTest, MovedSpanEndsOnce) {
  auto tracer = MakeTracer();
  {
    Span a = tracer->StartSpan("a");
    Span b = std::move(a);
    Span c = tracer->StartSpan("c");
    c = std::move(b);  // ends "c"
  }
  auto spans = Spans();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].name, "c");
  EXPECT_EQ(spans[1].name, "a");
}

TEST_F(TracerTest, DestructorShutsProcessorDown) {
  auto tracer = MakeTracer();
  tracer.reset();
  MutexLock lock(recorded_->mu);
  EXPECT_TRUE(recorded_->shut_down);
}

}  // namespace
}  // namespace keel::trace
