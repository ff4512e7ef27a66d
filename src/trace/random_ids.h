// Per-thread id generation for keel::trace (private).

#ifndef KEEL_SRC_TRACE_RANDOM_IDS_H_
#define KEEL_SRC_TRACE_RANDOM_IDS_H_

#include <cstdint>

#include "keel/trace/span_context.h"

namespace keel::trace_internal {

// The next 64 random bits of this thread's generator (SplitMix64 seeded per
// thread from std::random_device and the thread's identity). Not
// cryptographic: ids must be unique and uniformly distributed, not secret.
std::uint64_t NextRandom64() noexcept;

// A fresh random, valid (non-zero) trace id. All 16 bytes are random, which
// entitles spans to the W3C Level 2 `random` flag.
trace::TraceId NewTraceId() noexcept;

// A fresh random, valid (non-zero) span id.
trace::SpanId NewSpanId() noexcept;

}  // namespace keel::trace_internal

#endif  // KEEL_SRC_TRACE_RANDOM_IDS_H_
