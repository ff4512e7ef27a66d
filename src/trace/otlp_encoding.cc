#include "keel/trace/otlp_encoding.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "keel/base/json_writer.h"

namespace keel::trace {
namespace {

// OTLP span flags (trace.proto SpanFlags).
constexpr std::uint32_t kHasIsRemoteMask = 0x100;
constexpr std::uint32_t kIsRemoteMask = 0x200;

std::uint32_t SpanFlags(std::uint8_t trace_flags, bool is_remote) {
  return std::uint32_t{trace_flags} | kHasIsRemoteMask |
         (is_remote ? kIsRemoteMask : 0);
}

std::uint64_t UnixNanos(std::chrono::nanoseconds t) {
  return t.count() < 0 ? 0 : static_cast<std::uint64_t>(t.count());
}

// Spans of one instrumentation scope, in batch order.
struct ScopeGroup {
  const InstrumentationScope* scope;
  std::vector<const SpanData*> spans;
};

std::vector<ScopeGroup> GroupByScope(const SpanBatch& batch) {
  std::vector<ScopeGroup> groups;
  for (const auto& span : batch) {
    ScopeGroup* group = nullptr;
    for (ScopeGroup& g : groups) {
      if (g.scope == span->scope) group = &g;
    }
    if (group == nullptr) {
      groups.push_back(ScopeGroup{span->scope, {}});
      group = &groups.back();
    }
    group->spans.push_back(span.get());
  }
  return groups;
}

// --- protobuf ---------------------------------------------------------------

enum WireType : std::uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kFixed32 = 5,
};

// Appends protobuf wire format to a string. Nested messages are written in
// place and their length prefix is inserted when they end.
class ProtoWriter {
 public:
  explicit ProtoWriter(std::string& out) : out_(out) {}

  void Varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void Tag(std::uint32_t field, WireType type) {
    Varint((std::uint64_t{field} << 3) | type);
  }
  void VarintField(std::uint32_t field, std::uint64_t v) {
    Tag(field, kVarint);
    Varint(v);
  }
  void Fixed64Field(std::uint32_t field, std::uint64_t v) {
    Tag(field, kFixed64);
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>(v >> (8 * i)));
  }
  void Fixed32Field(std::uint32_t field, std::uint32_t v) {
    Tag(field, kFixed32);
    for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>(v >> (8 * i)));
  }
  void DoubleField(std::uint32_t field, double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof(bits));
    Fixed64Field(field, bits);
  }
  void BytesField(std::uint32_t field, const void* data, std::size_t size) {
    Tag(field, kLengthDelimited);
    Varint(size);
    out_.append(static_cast<const char*>(data), size);
  }
  void StringField(std::uint32_t field, std::string_view s) {
    BytesField(field, s.data(), s.size());
  }
  // Proto3 omits empty strings outside oneofs.
  void OptionalStringField(std::uint32_t field, std::string_view s) {
    if (!s.empty()) StringField(field, s);
  }

  // Starts an embedded message; pass the result to End().
  std::size_t Begin(std::uint32_t field) {
    Tag(field, kLengthDelimited);
    return out_.size();
  }
  void End(std::size_t start) {
    std::string prefix;
    std::uint64_t size = out_.size() - start;
    while (size >= 0x80) {
      prefix.push_back(static_cast<char>((size & 0x7f) | 0x80));
      size >>= 7;
    }
    prefix.push_back(static_cast<char>(size));
    out_.insert(start, prefix);
  }

 private:
  std::string& out_;
};

// common.proto AnyValue field numbers.
enum AnyValueField : std::uint32_t {
  kStringValue = 1,
  kBoolValue = 2,
  kIntValue = 3,
  kDoubleValue = 4,
  kArrayValue = 5,
};

void WriteAnyValue(ProtoWriter& w, std::uint32_t field,
                   const AttributeValue& value) {
  const std::size_t any = w.Begin(field);
  std::visit(
      [&w](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          w.VarintField(kBoolValue, v ? 1 : 0);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          w.VarintField(kIntValue, static_cast<std::uint64_t>(v));
        } else if constexpr (std::is_same_v<T, double>) {
          w.DoubleField(kDoubleValue, v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          w.StringField(kStringValue, v);
        } else {
          const std::size_t array = w.Begin(kArrayValue);
          for (const auto& element : v) {
            const std::size_t item = w.Begin(1);  // ArrayValue.values
            using E = std::decay_t<decltype(element)>;
            if constexpr (std::is_same_v<E, bool>) {
              w.VarintField(kBoolValue, element ? 1 : 0);
            } else if constexpr (std::is_same_v<E, std::int64_t>) {
              w.VarintField(kIntValue, static_cast<std::uint64_t>(element));
            } else if constexpr (std::is_same_v<E, double>) {
              w.DoubleField(kDoubleValue, element);
            } else {
              w.StringField(kStringValue, element);
            }
            w.End(item);
          }
          w.End(array);
        }
      },
      value);
  w.End(any);
}

// Writes repeated KeyValue `field`s.
void WriteAttributes(ProtoWriter& w, std::uint32_t field,
                     const std::vector<KeyValue>& attributes) {
  for (const KeyValue& kv : attributes) {
    const std::size_t start = w.Begin(field);
    w.StringField(1, kv.key);
    WriteAnyValue(w, 2, kv.value);
    w.End(start);
  }
}

void WriteSpan(ProtoWriter& w, const SpanData& span) {
  const std::size_t start = w.Begin(2);  // ScopeSpans.spans
  w.BytesField(1, span.context.trace_id().bytes().data(), TraceId::kSize);
  w.BytesField(2, span.context.span_id().bytes().data(), SpanId::kSize);
  if (!span.context.trace_state().empty()) {
    w.StringField(3, span.context.trace_state().ToHeader());
  }
  if (span.parent_span_id.IsValid()) {
    w.BytesField(4, span.parent_span_id.bytes().data(), SpanId::kSize);
  }
  w.OptionalStringField(5, span.name);
  w.VarintField(6, static_cast<std::uint64_t>(span.kind));
  w.Fixed64Field(7, UnixNanos(span.start_time));
  w.Fixed64Field(8, UnixNanos(span.end_time));
  WriteAttributes(w, 9, span.attributes);
  if (span.dropped_attributes > 0) w.VarintField(10, span.dropped_attributes);
  for (const SpanEvent& event : span.events) {
    const std::size_t e = w.Begin(11);
    w.Fixed64Field(1, UnixNanos(event.time));
    w.OptionalStringField(2, event.name);
    WriteAttributes(w, 3, event.attributes);
    w.End(e);
  }
  if (span.dropped_events > 0) w.VarintField(12, span.dropped_events);
  for (const SpanLink& link : span.links) {
    const std::size_t l = w.Begin(13);
    w.BytesField(1, link.context.trace_id().bytes().data(), TraceId::kSize);
    w.BytesField(2, link.context.span_id().bytes().data(), SpanId::kSize);
    if (!link.context.trace_state().empty()) {
      w.StringField(3, link.context.trace_state().ToHeader());
    }
    WriteAttributes(w, 4, link.attributes);
    w.Fixed32Field(
        6, SpanFlags(link.context.trace_flags(), link.context.is_remote()));
    w.End(l);
  }
  if (span.dropped_links > 0) w.VarintField(14, span.dropped_links);
  if (span.status_code != StatusCode::kUnset) {
    const std::size_t s = w.Begin(15);
    w.OptionalStringField(2, span.status_message);
    w.VarintField(3, static_cast<std::uint64_t>(span.status_code));
    w.End(s);
  }
  w.Fixed32Field(16,
                 SpanFlags(span.context.trace_flags(), span.parent_is_remote));
  w.End(start);
}

// --- JSON -------------------------------------------------------------------

// `"key":` with a leading comma unless `first`.
void AppendKey(std::string_view key, bool& first, std::string& out) {
  if (!first) out.push_back(',');
  first = false;
  out.push_back('"');
  out.append(key);
  out.append("\":");
}

template <std::size_t N, typename Derived>
void AppendHexId(const trace_internal::HexId<N, Derived>& id,
                 std::string& out) {
  char hex[2 * N];
  id.ToHex(hex);
  out.push_back('"');
  out.append(hex, 2 * N);
  out.push_back('"');
}

void AppendUint64String(std::uint64_t v, std::string& out) {
  out.push_back('"');
  out.append(std::to_string(v));
  out.push_back('"');
}

void AppendDouble(double v, std::string& out) {
  // Proto3 JSON spells non-finite doubles as strings.
  if (std::isnan(v)) {
    out.append("\"NaN\"");
  } else if (std::isinf(v)) {
    out.append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else {
    char buffer[32];
    const int n = std::snprintf(buffer, sizeof(buffer), "%.17g", v);
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

template <typename T>
void AppendScalarAnyValue(const T& v, std::string& out) {
  if constexpr (std::is_same_v<T, bool>) {
    out.append(v ? "{\"boolValue\":true}" : "{\"boolValue\":false}");
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    out.append("{\"intValue\":\"");
    out.append(std::to_string(v));
    out.append("\"}");
  } else if constexpr (std::is_same_v<T, double>) {
    out.append("{\"doubleValue\":");
    AppendDouble(v, out);
    out.push_back('}');
  } else {
    out.append("{\"stringValue\":");
    AppendJsonString(out, v);
    out.push_back('}');
  }
}

void AppendAnyValue(const AttributeValue& value, std::string& out) {
  std::visit(
      [&out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool> ||
                      std::is_same_v<T, std::int64_t> ||
                      std::is_same_v<T, double> ||
                      std::is_same_v<T, std::string>) {
          AppendScalarAnyValue(v, out);
        } else {
          out.append("{\"arrayValue\":{\"values\":[");
          bool first = true;
          for (const auto& element : v) {
            if (!first) out.push_back(',');
            first = false;
            using E = std::decay_t<decltype(element)>;
            AppendScalarAnyValue(static_cast<E>(element), out);
          }
          out.append("]}}");
        }
      },
      value);
}

void AppendDroppedCount(std::string_view key, std::uint32_t count, bool& first,
                        std::string& out) {
  if (count == 0) return;
  AppendKey(key, first, out);
  out.append(std::to_string(count));
}

}  // namespace

std::string_view OtlpContentType(OtlpEncoding encoding) {
  return encoding == OtlpEncoding::kJson ? "application/json"
                                         : "application/x-protobuf";
}

std::string EncodeOtlpProtobuf(const Resource& resource,
                               const SpanBatch& batch) {
  std::string out;
  ProtoWriter w(out);
  const std::size_t resource_spans = w.Begin(1);  // resource_spans
  const std::size_t resource_start = w.Begin(1);  // ResourceSpans.resource
  WriteAttributes(w, 1, resource.attributes);
  w.End(resource_start);
  for (const ScopeGroup& group : GroupByScope(batch)) {
    const std::size_t scope_spans = w.Begin(2);  // ResourceSpans.scope_spans
    const std::size_t scope = w.Begin(1);        // ScopeSpans.scope
    if (group.scope != nullptr) {
      w.OptionalStringField(1, group.scope->name);
      w.OptionalStringField(2, group.scope->version);
    }
    w.End(scope);
    for (const SpanData* span : group.spans) WriteSpan(w, *span);
    w.End(scope_spans);
  }
  w.End(resource_spans);
  return out;
}

void AppendOtlpJsonScope(const InstrumentationScope* scope, std::string& out) {
  out.push_back('{');
  bool first = true;
  if (scope != nullptr && !scope->name.empty()) {
    AppendKey("name", first, out);
    AppendJsonString(out, scope->name);
  }
  if (scope != nullptr && !scope->version.empty()) {
    AppendKey("version", first, out);
    AppendJsonString(out, scope->version);
  }
  out.push_back('}');
}

void AppendOtlpJsonAttributes(const std::vector<KeyValue>& attributes,
                              std::string& out) {
  out.push_back('[');
  bool first = true;
  for (const KeyValue& kv : attributes) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"key\":");
    AppendJsonString(out, kv.key);
    out.append(",\"value\":");
    AppendAnyValue(kv.value, out);
    out.push_back('}');
  }
  out.push_back(']');
}

void AppendOtlpJsonSpan(const SpanData& span, std::string& out) {
  out.push_back('{');
  bool first = true;
  AppendKey("traceId", first, out);
  AppendHexId(span.context.trace_id(), out);
  AppendKey("spanId", first, out);
  AppendHexId(span.context.span_id(), out);
  if (!span.context.trace_state().empty()) {
    AppendKey("traceState", first, out);
    AppendJsonString(out, span.context.trace_state().ToHeader());
  }
  if (span.parent_span_id.IsValid()) {
    AppendKey("parentSpanId", first, out);
    AppendHexId(span.parent_span_id, out);
  }
  AppendKey("flags", first, out);
  out.append(std::to_string(
      SpanFlags(span.context.trace_flags(), span.parent_is_remote)));
  AppendKey("name", first, out);
  AppendJsonString(out, span.name);
  AppendKey("kind", first, out);
  out.append(std::to_string(static_cast<int>(span.kind)));
  AppendKey("startTimeUnixNano", first, out);
  AppendUint64String(UnixNanos(span.start_time), out);
  AppendKey("endTimeUnixNano", first, out);
  AppendUint64String(UnixNanos(span.end_time), out);
  if (!span.attributes.empty()) {
    AppendKey("attributes", first, out);
    AppendOtlpJsonAttributes(span.attributes, out);
  }
  AppendDroppedCount("droppedAttributesCount", span.dropped_attributes, first,
                     out);
  if (!span.events.empty()) {
    AppendKey("events", first, out);
    out.push_back('[');
    for (std::size_t i = 0; i < span.events.size(); ++i) {
      const SpanEvent& event = span.events[i];
      if (i > 0) out.push_back(',');
      out.append("{\"timeUnixNano\":");
      AppendUint64String(UnixNanos(event.time), out);
      out.append(",\"name\":");
      AppendJsonString(out, event.name);
      if (!event.attributes.empty()) {
        out.append(",\"attributes\":");
        AppendOtlpJsonAttributes(event.attributes, out);
      }
      out.push_back('}');
    }
    out.push_back(']');
  }
  AppendDroppedCount("droppedEventsCount", span.dropped_events, first, out);
  if (!span.links.empty()) {
    AppendKey("links", first, out);
    out.push_back('[');
    for (std::size_t i = 0; i < span.links.size(); ++i) {
      const SpanLink& link = span.links[i];
      if (i > 0) out.push_back(',');
      out.append("{\"traceId\":");
      AppendHexId(link.context.trace_id(), out);
      out.append(",\"spanId\":");
      AppendHexId(link.context.span_id(), out);
      if (!link.context.trace_state().empty()) {
        out.append(",\"traceState\":");
        AppendJsonString(out, link.context.trace_state().ToHeader());
      }
      if (!link.attributes.empty()) {
        out.append(",\"attributes\":");
        AppendOtlpJsonAttributes(link.attributes, out);
      }
      out.append(",\"flags\":");
      out.append(std::to_string(
          SpanFlags(link.context.trace_flags(), link.context.is_remote())));
      out.push_back('}');
    }
    out.push_back(']');
  }
  AppendDroppedCount("droppedLinksCount", span.dropped_links, first, out);
  if (span.status_code != StatusCode::kUnset) {
    AppendKey("status", first, out);
    out.push_back('{');
    if (!span.status_message.empty()) {
      out.append("\"message\":");
      AppendJsonString(out, span.status_message);
      out.push_back(',');
    }
    out.append("\"code\":");
    out.append(std::to_string(static_cast<int>(span.status_code)));
    out.push_back('}');
  }
  out.push_back('}');
}

std::string EncodeOtlpJson(const Resource& resource, const SpanBatch& batch) {
  std::string out;
  out.append("{\"resourceSpans\":[{\"resource\":{\"attributes\":");
  AppendOtlpJsonAttributes(resource.attributes, out);
  out.append("},\"scopeSpans\":[");
  bool first_group = true;
  for (const ScopeGroup& group : GroupByScope(batch)) {
    if (!first_group) out.push_back(',');
    first_group = false;
    out.append("{\"scope\":");
    AppendOtlpJsonScope(group.scope, out);
    out.append(",\"spans\":[");
    for (std::size_t i = 0; i < group.spans.size(); ++i) {
      if (i > 0) out.push_back(',');
      AppendOtlpJsonSpan(*group.spans[i], out);
    }
    out.append("]}");
  }
  out.append("]}]}");
  return out;
}

}  // namespace keel::trace
