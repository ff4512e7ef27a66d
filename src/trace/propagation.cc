#include "keel/trace/propagation.h"

#include <optional>
#include <string>
#include <utility>

#include "keel/trace/trace_state.h"
#include "keel/trace/traceparent.h"

namespace keel::trace {
void Inject(const SpanContext& context, HeaderSetter& headers) {
  if (!context.IsValid()) return;
  headers.Set(kTraceparentHeader, FormatTraceparent(context));
  if (!context.trace_state().empty()) {
    headers.Set(kTracestateHeader, context.trace_state().ToHeader());
  }
}

SpanContext Extract(const HeaderGetter& headers) {
  const std::vector<std::string_view> parents =
      headers.GetAll(kTraceparentHeader);
  // Several traceparent lines cannot be told apart: treat as invalid.
  if (parents.size() != 1) return SpanContext();
  std::optional<SpanContext> parent = ParseTraceparent(parents.front());
  if (!parent) return SpanContext();
  std::optional<TraceState> state =
      TraceState::ParseLines(headers.GetAll(kTracestateHeader));
  if (!state) return *parent;  // invalid tracestate: keep the trace, drop it
  return SpanContext(parent->trace_id(), parent->span_id(),
                     parent->trace_flags(), /*is_remote=*/true,
                     std::move(*state));
}

void InjectBaggage(const Baggage& baggage, HeaderSetter& headers) {
  if (baggage.empty()) return;
  headers.Set(kBaggageHeader, baggage.ToHeader());
}

Baggage ExtractBaggage(const HeaderGetter& headers) {
  std::optional<Baggage> baggage =
      Baggage::ParseLines(headers.GetAll(kBaggageHeader));
  return baggage ? std::move(*baggage) : Baggage();
}

}  // namespace keel::trace
