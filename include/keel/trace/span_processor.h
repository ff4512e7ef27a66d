// keel/trace/span_processor.h
//
// The pipeline behind a tracer: a `SpanProcessor` receives every ended,
// recorded span and hands batches to a `SpanExporter` (OTLP, JSON lines, or
// your own). keel ships `BatchSpanProcessor` (batch_span_processor.h); the
// interfaces exist so tests and services can plug in their own.
//
//   class CountingExporter : public keel::trace::SpanExporter {
//    public:
//     absl::Status Export(const keel::trace::SpanBatch& batch) override {
//       count_ += batch.size();
//       return absl::OkStatus();
//     }
//     std::size_t count_ = 0;
//   };
//
// Thread safety: see each interface.

#ifndef KEEL_TRACE_SPAN_PROCESSOR_H_
#define KEEL_TRACE_SPAN_PROCESSOR_H_

#include <chrono>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "keel/trace/span_data.h"

namespace keel::trace {

// A batch of finished spans.
using SpanBatch = std::vector<std::unique_ptr<SpanData>>;

// Sends batches of spans somewhere.
//
// Thread safety: a processor calls Export() from one thread at a time, so
// implementations need no locking of their own for that.
class SpanExporter {
 public:
  virtual ~SpanExporter() = default;

  // Exports `batch` and blocks until done. A non-OK status means the batch
  // was lost (the exporter has already retried what it retries); processors
  // count it and move on.
  virtual absl::Status Export(const SpanBatch& batch) = 0;

  // Releases resources; Export() is not called afterwards.
  virtual absl::Status Shutdown() { return absl::OkStatus(); }
};

// Receives spans from a tracer.
//
// Thread safety: OnEnd() is called concurrently from every thread that ends
// spans and must be thread-safe and fast; ForceFlush()/Shutdown() may be
// called from any thread.
class SpanProcessor {
 public:
  virtual ~SpanProcessor() = default;

  // Takes ownership of an ended, recorded span. Must not block.
  virtual void OnEnd(std::unique_ptr<SpanData> span) noexcept = 0;

  // Exports everything received so far, giving up after `timeout`
  // (kDeadlineExceeded) or returning the first export failure.
  virtual absl::Status ForceFlush(std::chrono::nanoseconds timeout) = 0;

  // Flushes like ForceFlush(), then stops: later spans are dropped.
  // Idempotent.
  virtual absl::Status Shutdown(std::chrono::nanoseconds timeout) = 0;
};

}  // namespace keel::trace

#endif  // KEEL_TRACE_SPAN_PROCESSOR_H_
