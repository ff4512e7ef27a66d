// keel/trace/traceparent.h
//
// The W3C `traceparent` header (Trace Context Level 1 and 2):
//
//   traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
//                ^^ version  ^^ trace-id (32 hex)     ^^ parent-id     ^^ flags
//
// Parsing rules (every one is covered by tests/trace/traceparent_test.cc):
//   * lower-case hex only; `-` separators at fixed positions;
//   * version `ff` is invalid; version `00` must be exactly 55 characters;
//   * a higher (future) version is parsed leniently: its first 55 characters
//     are read as version 00 and anything after them must start with `-`;
//   * an all-zero trace-id or parent-id is invalid;
//   * surrounding spaces/tabs (HTTP optional whitespace) are ignored;
//   * trace-flags bits keel does not understand are cleared; `sampled` (0x01)
//     and the Level 2 `random` (0x02) bits are kept.
// Any violation makes the whole header invalid: the receiver must then start a
// new trace (the tracer does this when Extract() returns an invalid context).
//
// Example:
//   std::optional<keel::trace::SpanContext> parent =
//       keel::trace::ParseTraceparent(request.header("traceparent"));
//   response.set_header("traceparent", keel::trace::FormatTraceparent(ctx));
//
// Thread safety: pure functions.

#ifndef KEEL_TRACE_TRACEPARENT_H_
#define KEEL_TRACE_TRACEPARENT_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "keel/trace/span_context.h"

namespace keel::trace {

// Length of a version-00 traceparent value.
inline constexpr std::size_t kTraceparentSize = 55;

// The trace-flags bits this implementation understands and propagates.
inline constexpr std::uint8_t kKnownTraceFlags =
    kTraceFlagSampled | kTraceFlagRandom;

// Parses a traceparent header value into a remote SpanContext (without
// tracestate). Returns nullopt if the value breaks any rule above.
// Allocation-free; about 20 ns.
std::optional<SpanContext> ParseTraceparent(std::string_view header) noexcept;

// Writes the version-00 traceparent of `context` into `out` (exactly 55
// characters, no terminator). Allocation-free form for hot paths.
void FormatTraceparent(const SpanContext& context, char* out) noexcept;

// The version-00 traceparent of `context`. `context` should be valid; an
// invalid one formats to all-zero ids, which receivers reject.
std::string FormatTraceparent(const SpanContext& context);

}  // namespace keel::trace

#endif  // KEEL_TRACE_TRACEPARENT_H_
