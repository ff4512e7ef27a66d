// keel/trace/span_data.h
//
// The record of a finished span as handed to processors and exporters, and the
// attribute types shared by spans, events, links and resources.
//
//   keel::trace::KeyValue attribute{"http.route", std::string("/users/{id}")};
//   keel::trace::Resource resource;
//   resource.attributes.push_back({"service.name", std::string("checkout")});
//
// Thread safety: plain data. A SpanData is owned by one thread at a time (the
// span while recording, then the processor, then the exporter).

#ifndef KEEL_TRACE_SPAN_DATA_H_
#define KEEL_TRACE_SPAN_DATA_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "keel/trace/span_context.h"

namespace keel::trace {

// An attribute value: OpenTelemetry's primitive types and homogeneous arrays.
using AttributeValue =
    std::variant<bool, std::int64_t, double, std::string, std::vector<bool>,
                 std::vector<std::int64_t>, std::vector<double>,
                 std::vector<std::string>>;

// One attribute.
struct KeyValue {
  std::string key;
  AttributeValue value;
};

// The role of a span in a request (OTLP SpanKind numbering).
enum class SpanKind : std::uint8_t {
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5,
};

// Outcome of the operation (OTLP Status.StatusCode numbering).
enum class StatusCode : std::uint8_t {
  kUnset = 0,
  kOk = 1,
  kError = 2,
};

// A timestamped annotation on a span.
struct SpanEvent {
  std::string name;
  std::chrono::nanoseconds time{0};  // since the Unix epoch
  std::vector<KeyValue> attributes;
};

// A reference to another span (batch consumers, fan-in).
struct SpanLink {
  SpanContext context;
  std::vector<KeyValue> attributes;
};

// The library that produced the spans (OTLP InstrumentationScope).
struct InstrumentationScope {
  std::string name;
  std::string version;
};

// The entity producing telemetry (OTLP Resource), e.g. `service.name`.
struct Resource {
  std::vector<KeyValue> attributes;
};

// A finished (or, for processors' OnStart, started) span.
struct SpanData {
  SpanContext context;
  // Invalid for a root span.
  SpanId parent_span_id;
  // Whether the parent came from another process (OTLP span flags bit 9).
  bool parent_is_remote = false;
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  // Since the Unix epoch (Clock::WallNow()).
  std::chrono::nanoseconds start_time{0};
  std::chrono::nanoseconds end_time{0};
  std::vector<KeyValue> attributes;
  std::vector<SpanEvent> events;
  std::vector<SpanLink> links;
  StatusCode status_code = StatusCode::kUnset;
  std::string status_message;
  // Items discarded because a span limit was reached.
  std::uint32_t dropped_attributes = 0;
  std::uint32_t dropped_events = 0;
  std::uint32_t dropped_links = 0;
  // The tracer's scope; owned by the Tracer, which outlives its processor's
  // exports (the tracer flushes and shuts its processor down first).
  const InstrumentationScope* scope = nullptr;
};

}  // namespace keel::trace

#endif  // KEEL_TRACE_SPAN_DATA_H_
