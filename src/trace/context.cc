#include "keel/trace/context.h"

#include <utility>

#include "trace/current_context.h"

namespace keel::trace {

using trace_internal::current_context;

SpanContext CurrentSpanContext() {
  const SpanContext* context = current_context;
  return context != nullptr ? *context : SpanContext();
}

const SpanContext* CurrentSpanContextOrNull() noexcept {
  return current_context;
}

ContextScope::ContextScope(SpanContext context) noexcept
    : context_(std::move(context)), previous_(current_context) {
  current_context = &context_;
}

ContextScope::~ContextScope() { current_context = previous_; }

}  // namespace keel::trace
