// The thread's current span context (private to keel::trace): shared by the
// ContextScope implementation and the tracer, which reads it on every span
// start without a call.

#ifndef KEEL_SRC_TRACE_CURRENT_CONTEXT_H_
#define KEEL_SRC_TRACE_CURRENT_CONTEXT_H_

#include "keel/trace/span_context.h"

namespace keel::trace_internal {

// The innermost active ContextScope's context on this thread. A raw pointer
// into the scope object keeps installation free of copies and allocation.
inline thread_local const trace::SpanContext* current_context = nullptr;

}  // namespace keel::trace_internal

#endif  // KEEL_SRC_TRACE_CURRENT_CONTEXT_H_
