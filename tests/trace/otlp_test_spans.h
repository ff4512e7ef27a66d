// Test helper: a fully populated span for the OTLP encoding tests.

#ifndef KEEL_TESTS_TRACE_OTLP_TEST_SPANS_H_
#define KEEL_TESTS_TRACE_OTLP_TEST_SPANS_H_

#include <memory>
#include <string>
#include <vector>

#include "keel/trace/span_data.h"
#include "keel/trace/span_processor.h"
#include "keel/trace/trace_state.h"

namespace keel::trace {

inline const InstrumentationScope& TestScope() {
  static const InstrumentationScope kScope{"keel.test", "1.0.0"};
  return kScope;
}

inline Resource TestResource() {
  Resource resource;
  resource.attributes.push_back({"service.name", std::string("checkout")});
  return resource;
}

// One span using every field the encoders write.
inline SpanBatch TestBatch() {
  auto span = std::make_unique<SpanData>();
  span->context =
      SpanContext(*TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736"),
                  *SpanId::FromHex("00f067aa0ba902b7"),
                  kTraceFlagSampled | kTraceFlagRandom, false,
                  *TraceState::Parse("vendor=abc"));
  span->parent_span_id = *SpanId::FromHex("0102030405060708");
  span->parent_is_remote = true;
  span->name = "GET \"/users\"";
  span->kind = SpanKind::kServer;
  span->start_time = std::chrono::nanoseconds(1700000000123456789);
  span->end_time = std::chrono::nanoseconds(1700000000223456789);
  span->attributes = {
      {"http.method", std::string("GET")},
      {"http.status_code", std::int64_t{200}},
      {"ratio", 0.5},
      {"cached", false},
      {"big", std::int64_t{-9007199254740993}},
      {"tags", std::vector<std::string>{"a", "b"}},
  };
  span->dropped_attributes = 2;
  span->events.push_back(
      SpanEvent{"retry",
                std::chrono::nanoseconds(1700000000150000000),
                {{"attempt", std::int64_t{2}}}});
  span->links.push_back(SpanLink{
      SpanContext(*TraceId::FromHex("0af7651916cd43dd8448eb211c80319c"),
                  *SpanId::FromHex("b7ad6b7169203331"), kTraceFlagSampled,
                  true),
      {}});
  span->status_code = StatusCode::kError;
  span->status_message = "upstream timeout";
  span->scope = &TestScope();
  SpanBatch batch;
  batch.push_back(std::move(span));
  return batch;
}

}  // namespace keel::trace

#endif  // KEEL_TESTS_TRACE_OTLP_TEST_SPANS_H_
