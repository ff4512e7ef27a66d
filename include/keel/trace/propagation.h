// keel/trace/propagation.h
//
// Moving span contexts and baggage in and out of request headers:
// `Inject` writes `traceparent` / `tracestate` (and `baggage`), `Extract`
// reads them back. Headers are reached through a tiny carrier interface, with
// `MapCarrier` adapting any std map-like container (map, multimap,
// unordered_map, cpp-httplib's Headers, ...).
//
//   // Client side: propagate the current span.
//   std::map<std::string, std::string> headers;
//   keel::trace::MapCarrier carrier(headers);
//   keel::trace::Inject(span.context(), carrier);
//
//   // Server side: continue the caller's trace (or start a new one if the
//   // headers are missing or invalid: Extract returns an invalid context and
//   // the tracer then starts a new root).
//   keel::trace::MapCarrier in(request_headers);
//   keel::trace::StartSpanOptions options;
//   options.parent = keel::trace::Extract(in);
//   options.kind = keel::trace::SpanKind::kServer;
//   keel::trace::Span span = tracer->StartSpan("GET /users", options);
//
// Rules: an invalid traceparent discards the tracestate too; an invalid
// tracestate is dropped while the traceparent is kept; several `tracestate`
// (or `baggage`) header lines are joined with `,`.
//
// Thread safety: the functions are reentrant; a carrier is used by one thread.

#ifndef KEEL_TRACE_PROPAGATION_H_
#define KEEL_TRACE_PROPAGATION_H_

#include <string>
#include <string_view>
#include <vector>

#include "keel/trace/baggage.h"
#include "keel/trace/span_context.h"

namespace keel::trace {

// Header names (lower case, as HTTP/2 requires).
inline constexpr std::string_view kTraceparentHeader = "traceparent";
inline constexpr std::string_view kTracestateHeader = "tracestate";
inline constexpr std::string_view kBaggageHeader = "baggage";

// Read access to request headers.
class HeaderGetter {
 public:
  virtual ~HeaderGetter() = default;
  // Every value of header `name` in arrival order (empty if absent). The views
  // stay valid while the underlying headers are unchanged.
  virtual std::vector<std::string_view> GetAll(std::string_view name) const = 0;
};

// Write access to request headers.
class HeaderSetter {
 public:
  virtual ~HeaderSetter() = default;
  // Replaces every value of header `name` with `value`.
  virtual void Set(std::string_view name, std::string value) = 0;
};

// Adapts a std map-like container of string keys and values (`find`,
// `equal_range`, `erase`, `emplace`) to both carrier interfaces. Lookups use
// the container's own comparison, so a case-insensitive map (cpp-httplib's
// Headers) matches any case; a plain std::map must hold lower-case names.
template <typename Map>
class MapCarrier final : public HeaderGetter, public HeaderSetter {
 public:
  explicit MapCarrier(Map& map) : map_(map) {}

  std::vector<std::string_view> GetAll(std::string_view name) const override {
    std::vector<std::string_view> values;
    auto range = map_.equal_range(typename Map::key_type(name));
    for (auto it = range.first; it != range.second; ++it) {
      values.emplace_back(it->second);
    }
    return values;
  }

  void Set(std::string_view name, std::string value) override {
    typename Map::key_type key(name);
    map_.erase(key);
    map_.emplace(std::move(key), std::move(value));
  }

 private:
  Map& map_;
};

// Writes `traceparent` and, if non-empty, `tracestate` for `context`. Does
// nothing for an invalid context.
void Inject(const SpanContext& context, HeaderSetter& headers);

// Reads the caller's span context (is_remote() is true). Returns an invalid
// SpanContext if `traceparent` is absent, repeated or invalid.
SpanContext Extract(const HeaderGetter& headers);

// Writes the `baggage` header (nothing if `baggage` is empty).
void InjectBaggage(const Baggage& baggage, HeaderSetter& headers);

// Reads the `baggage` header lines; empty baggage if absent or invalid.
Baggage ExtractBaggage(const HeaderGetter& headers);

}  // namespace keel::trace

#endif  // KEEL_TRACE_PROPAGATION_H_
