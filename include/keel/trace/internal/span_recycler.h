// keel/trace/internal/span_recycler.h
//
// A process-wide lock-free pool of SpanData records. The tracer takes its
// records from here and the batch processor gives them back once exported, so
// that steady-state tracing allocates no records (and keeps their attribute,
// event and link buffers) instead of allocating on the thread that starts a
// span and freeing on the export thread. Records that leave the pool's
// cycle (a user processor keeps or deletes them) are ordinary heap objects.
// Private to keel::trace.
//
// Thread safety: all functions are thread-safe and lock-free.

#ifndef KEEL_TRACE_INTERNAL_SPAN_RECYCLER_H_
#define KEEL_TRACE_INTERNAL_SPAN_RECYCLER_H_

#include <cstddef>
#include <memory>

#include "keel/trace/span_data.h"

namespace keel::trace_internal {

// Records kept at most; beyond that, recycled records are freed.
inline constexpr std::size_t kSpanPoolCapacity = 2048;

// Records whose attribute, event or link buffers grew past this many entries
// are freed rather than pooled, so that one huge span does not pin memory.
inline constexpr std::size_t kMaxPooledItems = 32;

// A record in its default state: a pooled one if available, else a new one.
std::unique_ptr<trace::SpanData> AcquireSpanData();

// Clears `span` (ClearSpanData) and pools it, or frees it when the pool is
// full or the record holds oversized buffers. Null is ignored.
void RecycleSpanData(std::unique_ptr<trace::SpanData> span) noexcept;

// Resets every field of `span` to its default value, keeping the capacity of
// its name, attribute, event, link and status buffers.
void ClearSpanData(trace::SpanData& span) noexcept;

}  // namespace keel::trace_internal

#endif  // KEEL_TRACE_INTERNAL_SPAN_RECYCLER_H_
