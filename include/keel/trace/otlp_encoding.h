// keel/trace/otlp_encoding.h
//
// Serialises spans as an OTLP `ExportTraceServiceRequest`
// (opentelemetry/proto/collector/trace/v1) in the two OTLP/HTTP encodings:
//
//   * protobuf (`application/x-protobuf`): written directly by a small
//     varint / length-delimited writer, no protobuf library involved;
//   * JSON (`application/json`), following the OTLP JSON rules: trace and span
//     ids as lower-case hex (not base64), enums (kind, status code) as
//     integers, lowerCamelCase keys, 64-bit integers (timestamps, intValue)
//     as decimal strings, default values omitted.
//
// Spans are grouped into one `resourceSpans` entry per call and one
// `scopeSpans` entry per instrumentation scope, in first-seen order.
//
// Example:
//   std::string body = keel::trace::EncodeOtlpProtobuf(resource, batch);
//   transport->Post(request_with(body, "application/x-protobuf"));
//
// Thread safety: pure functions.

#ifndef KEEL_TRACE_OTLP_ENCODING_H_
#define KEEL_TRACE_OTLP_ENCODING_H_

#include <string>
#include <string_view>

#include "keel/trace/span_data.h"
#include "keel/trace/span_processor.h"

namespace keel::trace {

// OTLP/HTTP payload encodings.
enum class OtlpEncoding { kProtobuf, kJson };

// The Content-Type header value of `encoding`.
std::string_view OtlpContentType(OtlpEncoding encoding);

// The binary protobuf ExportTraceServiceRequest for `batch`.
std::string EncodeOtlpProtobuf(const Resource& resource,
                               const SpanBatch& batch);

// The OTLP JSON ExportTraceServiceRequest for `batch`.
std::string EncodeOtlpJson(const Resource& resource, const SpanBatch& batch);

// Appends the OTLP JSON object of one span (a `Span` message) to `out`; used
// by the JSON-lines exporter.
void AppendOtlpJsonSpan(const SpanData& span, std::string& out);

// Appends the OTLP JSON `InstrumentationScope` object of `scope` (`{}` if
// null) to `out`.
void AppendOtlpJsonScope(const InstrumentationScope* scope, std::string& out);

// Appends the OTLP JSON `attributes` array of `attributes` to `out`.
void AppendOtlpJsonAttributes(const std::vector<KeyValue>& attributes,
                              std::string& out);

}  // namespace keel::trace

#endif  // KEEL_TRACE_OTLP_ENCODING_H_
