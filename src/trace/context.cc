#include "keel/trace/context.h"

#include <utility>

namespace keel::trace {
namespace {

// The innermost active ContextScope's context on this thread. A raw pointer
// into the scope object keeps installation free of copies and allocation.
thread_local const SpanContext* current_context = nullptr;

}  // namespace

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
