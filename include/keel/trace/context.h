// keel/trace/context.h
//
// Which span is "current". Each thread has a stack of active span contexts:
// a `ContextScope` pushes one for the lifetime of a C++ scope, and
// `CurrentSpanContext()` reads the top (an invalid SpanContext if none). The
// tracer uses the current context as the default parent of a new span, and the
// logger stamps records with its ids.
//
// Async code (callbacks, thread pools, coroutines) passes the context
// explicitly: capture it where the work is created and re-install it where the
// work runs.
//
//   // On the request thread:
//   keel::trace::SpanContext context = keel::trace::CurrentSpanContext();
//   pool.Submit([context] {
//     keel::trace::ContextScope scope(context);   // now current on this thread
//     DoWork();                                   // child spans parent here
//   });
//   // or equivalently:
//   pool.Submit(keel::trace::BindCurrentContext([] { DoWork(); }));
//
// Thread safety: the current context is per thread; nothing here is shared.

#ifndef KEEL_TRACE_CONTEXT_H_
#define KEEL_TRACE_CONTEXT_H_

#include <utility>

#include "keel/trace/span_context.h"

namespace keel::trace {

// The calling thread's active span context, or an invalid SpanContext if no
// scope is active. Complexity: one thread-local read and a copy.
SpanContext CurrentSpanContext();

// Allocation-free form of CurrentSpanContext() for hot paths: the active
// context or nullptr. The pointer is valid until the innermost ContextScope
// on this thread ends.
const SpanContext* CurrentSpanContextOrNull() noexcept;

// Makes `context` the current span context of this thread until the end of
// the scope, then restores the previous one. Scopes must end in reverse order
// of creation on the thread that created them (they live on the stack).
//
// Thread safety: confined to the creating thread.
class ContextScope {
 public:
  // Installs `context` (an invalid context is allowed and hides the outer one,
  // e.g. to start an unrelated trace).
  explicit ContextScope(SpanContext context) noexcept;
  // Restores the context that was current when this scope was created.
  ~ContextScope();

  ContextScope(const ContextScope&) = delete;
  ContextScope& operator=(const ContextScope&) = delete;

  // The installed context.
  const SpanContext& context() const noexcept { return context_; }

 private:
  SpanContext context_;
  const SpanContext* previous_;
};

// Returns a callable that runs `fn` with the calling thread's current span
// context (captured now) installed, for handing work to another thread.
template <typename F>
auto BindCurrentContext(F fn) {
  return [context = CurrentSpanContext(),
          fn = std::move(fn)](auto&&... args) mutable -> decltype(auto) {
    ContextScope scope(context);
    return fn(std::forward<decltype(args)>(args)...);
  };
}

}  // namespace keel::trace

#endif  // KEEL_TRACE_CONTEXT_H_
