#include "keel/trace/internal/span_recycler.h"

#include <utility>

#include "keel/trace/internal/bounded_queue.h"

namespace keel::trace_internal {
namespace {

// Longest name or status message a pooled record keeps room for.
constexpr std::size_t kMaxPooledStringCapacity = 256;

// Never destroyed: records may be recycled by export threads that outlive
// static destruction order, and pooled records stay reachable from here.
BoundedQueue<trace::SpanData*>& Pool() {
  static auto* const pool =
      new BoundedQueue<trace::SpanData*>(kSpanPoolCapacity);
  return *pool;
}

bool IsOversized(const trace::SpanData& span) noexcept {
  return span.attributes.capacity() > kMaxPooledItems ||
         span.events.capacity() > kMaxPooledItems ||
         span.links.capacity() > kMaxPooledItems ||
         span.name.capacity() > kMaxPooledStringCapacity ||
         span.status_message.capacity() > kMaxPooledStringCapacity;
}

}  // namespace

std::unique_ptr<trace::SpanData> AcquireSpanData() {
  trace::SpanData* span;
  if (Pool().TryPop(&span)) return std::unique_ptr<trace::SpanData>(span);
  return std::make_unique<trace::SpanData>();
}

void RecycleSpanData(std::unique_ptr<trace::SpanData> span) noexcept {
  if (span == nullptr || IsOversized(*span)) return;
  ClearSpanData(*span);
  std::size_t position;
  if (Pool().TryPush(span.get(), &position)) span.release();
}

void ClearSpanData(trace::SpanData& span) noexcept {
  span.context = trace::SpanContext();
  span.parent_span_id = trace::SpanId();
  span.parent_is_remote = false;
  span.name.clear();
  span.kind = trace::SpanKind::kInternal;
  span.start_time = std::chrono::nanoseconds(0);
  span.end_time = std::chrono::nanoseconds(0);
  span.attributes.clear();
  span.events.clear();
  span.links.clear();
  span.status_code = trace::StatusCode::kUnset;
  span.status_message.clear();
  span.dropped_attributes = 0;
  span.dropped_events = 0;
  span.dropped_links = 0;
  span.scope = nullptr;
}

}  // namespace keel::trace_internal
