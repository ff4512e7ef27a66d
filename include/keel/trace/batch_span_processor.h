// keel/trace/batch_span_processor.h
//
// `BatchSpanProcessor` queues ended spans in a bounded lock-free queue and
// exports them in batches from a background task:
//
//   * every `schedule_delay`, and whenever about `max_export_batch_size` more
//     spans have arrived (the largest power of two not above it), the export
//     task drains the queue in batches;
//   * when the queue is full, new spans are dropped and counted
//     (dropped_spans()), never blocking the thread that ends them;
//   * ForceFlush(timeout) exports everything queued so far; Shutdown() flushes
//     and stops. The destructor shuts down.
//
// Threads: the export task runs on `options.scheduler` if given (its thread is
// shared with other components, and an export blocks it for the duration of
// the exporter's call, including retries). If null, the processor creates and
// owns one `keel::Scheduler` thread named "keel-span-export".
//
// Example (see tracer.h for the full wiring with OTLP):
//   keel::trace::BatchSpanProcessorOptions options;
//   options.exporter = std::make_unique<keel::trace::JsonLinesExporter>(...);
//   options.scheduler = scheduler.get();
//   auto processor = keel::trace::BatchSpanProcessor::Create(
//       std::move(options)).value();
//
// Thread safety: OnEnd() is lock-free and thread-safe; the other methods are
// thread-safe.

#ifndef KEEL_TRACE_BATCH_SPAN_PROCESSOR_H_
#define KEEL_TRACE_BATCH_SPAN_PROCESSOR_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/base/clock.h"
#include "keel/base/mutex.h"
#include "keel/base/scheduler.h"
#include "keel/metrics/registry.h"
#include "keel/trace/internal/bounded_queue.h"
#include "keel/trace/span_processor.h"

namespace keel::trace {

// Configuration of a BatchSpanProcessor.
struct BatchSpanProcessorOptions {
  // Where batches go. Required.
  std::unique_ptr<SpanExporter> exporter;
  // Capacity of the queue, rounded up to a power of two. Default 2048.
  std::size_t max_queue_size = 2048;
  // Spans per Export() call; must be in [1, max_queue_size]. Default 512.
  std::size_t max_export_batch_size = 512;
  // Export interval. Must be > 0. Default 5 s (OpenTelemetry's default).
  std::chrono::nanoseconds schedule_delay = std::chrono::seconds(5);
  // Runs the export task; null: the processor owns a scheduler thread.
  // Must outlive the processor.
  Scheduler* scheduler = nullptr;
  // Clock for ForceFlush deadlines, export latency and the owned scheduler.
  // Must outlive the processor.
  Clock* clock = &Clock::System();
  // Registry for the metrics listed above; null: no metrics. Must outlive the
  // processor.
  metrics::Registry* metrics = nullptr;
  // The `processor` label of this processor's series, so that several
  // processors can share a registry. Must not be empty.
  std::string name = "batch";
};

// Whether the exporter currently succeeds; see export_health().
struct ExportHealth {
  // Export() calls that failed in a row (0 after a success or before the
  // first export).
  std::uint64_t consecutive_failures = 0;
  // The status of the last failed Export() call (OK if none failed yet); kept
  // after a success so that the last error stays visible.
  absl::Status last_error;
  // Clock::WallNow() of the last failed Export() call (0 if none).
  std::chrono::nanoseconds last_error_time{0};
};

// Queues ended spans and exports them in batches (see the file comment).

class BatchSpanProcessor final : public SpanProcessor {
 public:
  // Fails with kInvalidArgument naming the bad field (missing exporter, zero
  // or too large batch size, zero queue size, non-positive schedule delay,
  // null clock, empty name), with the registry's error if a metric family
  // conflicts with an existing one (e.g. two processors with the same name),
  // or with the status of creating the owned scheduler.
  static absl::StatusOr<std::unique_ptr<BatchSpanProcessor>> Create(
      BatchSpanProcessorOptions options);

  // Shuts down with a 10 s flush bound.
  ~BatchSpanProcessor() override;

  // Queues a sampled span (record-only spans are not exported and are freed
  // here). Lock-free; drops the span if the queue is full or after Shutdown().
  void OnEnd(std::unique_ptr<SpanData> span) noexcept override;

  // Exports everything queued when called. kDeadlineExceeded if spans remain
  // after `timeout` (checked between batches: one Export() call is not
  // interrupted); otherwise the first export error, or OK.
  absl::Status ForceFlush(std::chrono::nanoseconds timeout) override;

  // Stops the export task, flushes within `timeout`, shuts the exporter
  // down. Idempotent; later calls return OK.
  absl::Status Shutdown(std::chrono::nanoseconds timeout) override;

  // Spans dropped because the queue was full or the processor shut down.
  std::uint64_t dropped_spans() const noexcept {
    return dropped_queue_full_.load(std::memory_order_relaxed) +
           dropped_shutdown_.load(std::memory_order_relaxed);
  }
  // Spans handed to successful Export() calls.
  std::uint64_t exported_spans() const noexcept {
    return exported_.load(std::memory_order_relaxed);
  }
  // Spans in failed Export() calls.
  std::uint64_t failed_spans() const noexcept {
    return failed_.load(std::memory_order_relaxed);
  }
  // Failed Export() calls.
  std::uint64_t export_failures() const noexcept {
    return export_failures_.load(std::memory_order_relaxed);
  }
  // Spans waiting in the queue (approximate under concurrency).
  std::size_t queued_spans() const noexcept { return queue_.SizeApprox(); }

  // The exporter's recent outcome. Takes a short lock.
  ExportHealth export_health() const;

 private:
  BatchSpanProcessor(BatchSpanProcessorOptions options,
                     std::unique_ptr<Scheduler> owned_scheduler);

  // Registers the metric families and callback series.
  absl::Status RegisterMetrics(metrics::Registry& registry,
                               const std::string& name);
  // Exports one batch, records the outcome and recycles the records.
  absl::Status ExportBatch(SpanBatch& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(export_mu_);
  // Schedules an immediate export once the queue holds a full batch.
  void RequestExport() noexcept;
  // The export task.
  void ExportTask();
  // Exports until the queue is empty or `deadline` passes.
  absl::Status Drain(std::optional<MonoTime> deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(export_mu_);

  const std::unique_ptr<SpanExporter> exporter_;
  const std::size_t batch_size_;
  const std::size_t trigger_mask_;
  Clock* const clock_;
  std::unique_ptr<Scheduler> owned_scheduler_;
  Scheduler* const scheduler_;

  trace_internal::BoundedQueue<SpanData*> queue_;
  std::atomic<bool> shutdown_{false};
  std::atomic<bool> export_requested_{false};
  std::atomic<std::uint64_t> dropped_queue_full_{0};
  std::atomic<std::uint64_t> dropped_shutdown_{0};
  std::atomic<std::uint64_t> exported_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> export_failures_{0};

  // Metrics (no-ops without a registry). The callback series read the
  // counters above, so OnEnd() pays nothing for them.
  metrics::Histogram export_duration_;
  std::vector<metrics::CallbackRegistration> metric_callbacks_;

  mutable Mutex health_mu_;
  ExportHealth health_ ABSL_GUARDED_BY(health_mu_);

  Mutex task_mu_;  // guards the scheduled task ids
  std::optional<Scheduler::TaskId> periodic_task_ ABSL_GUARDED_BY(task_mu_);
  std::optional<Scheduler::TaskId> trigger_task_ ABSL_GUARDED_BY(task_mu_);
  bool stopped_ ABSL_GUARDED_BY(task_mu_) = false;

  Mutex export_mu_;  // one exporter call at a time; the queue's consumer
};

}  // namespace keel::trace

#endif  // KEEL_TRACE_BATCH_SPAN_PROCESSOR_H_
