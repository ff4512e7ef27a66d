#include "keel/trace/batch_span_processor.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "keel/base/status_macros.h"
#include "keel/metrics/buckets.h"
#include "keel/trace/internal/span_recycler.h"

namespace keel::trace {
namespace {

std::size_t RoundUpToPowerOfTwo(std::size_t n) {
  std::size_t p = 2;
  while (p < n) p <<= 1;
  return p;
}

std::size_t RoundDownToPowerOfTwo(std::size_t n) {
  std::size_t p = 1;
  while (p * 2 <= n) p <<= 1;
  return p;
}

constexpr std::chrono::nanoseconds kDestructorFlushTimeout =
    std::chrono::seconds(10);

}  // namespace

absl::StatusOr<std::unique_ptr<BatchSpanProcessor>> BatchSpanProcessor::Create(
    BatchSpanProcessorOptions options) {
  if (!options.exporter) {
    return absl::InvalidArgumentError(
        "BatchSpanProcessorOptions.exporter must not be null");
  }
  if (options.max_queue_size == 0) {
    return absl::InvalidArgumentError(
        "BatchSpanProcessorOptions.max_queue_size must be > 0");
  }
  if (options.max_export_batch_size == 0 ||
      options.max_export_batch_size > options.max_queue_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "BatchSpanProcessorOptions.max_export_batch_size must be in [1, "
        "max_queue_size=",
        options.max_queue_size, "], got ", options.max_export_batch_size));
  }
  if (options.schedule_delay.count() <= 0) {
    return absl::InvalidArgumentError(
        "BatchSpanProcessorOptions.schedule_delay must be > 0");
  }
  if (options.clock == nullptr) {
    return absl::InvalidArgumentError(
        "BatchSpanProcessorOptions.clock must not be null");
  }
  if (options.name.empty()) {
    return absl::InvalidArgumentError(
        "BatchSpanProcessorOptions.name must not be empty");
  }
  std::unique_ptr<Scheduler> owned_scheduler;
  if (options.scheduler == nullptr) {
    SchedulerOptions scheduler_options;
    scheduler_options.clock = options.clock;
    scheduler_options.thread_name = "keel-span-export";
    auto scheduler = Scheduler::Create(std::move(scheduler_options));
    if (!scheduler.ok()) return scheduler.status();
    owned_scheduler = std::move(*scheduler);
  }
  const std::chrono::nanoseconds delay = options.schedule_delay;
  metrics::Registry* const registry = options.metrics;
  const std::string name = options.name;
  std::unique_ptr<BatchSpanProcessor> processor(
      new BatchSpanProcessor(std::move(options), std::move(owned_scheduler)));
  BatchSpanProcessor* self = processor.get();
  if (registry != nullptr) {
    KEEL_RETURN_IF_ERROR(self->RegisterMetrics(*registry, name));
  }
  auto task =
      self->scheduler_->ScheduleEvery(delay, [self] { self->ExportTask(); });
  if (!task.ok()) return task.status();
  MutexLock lock(self->task_mu_);
  self->periodic_task_ = *task;
  return processor;
}

BatchSpanProcessor::BatchSpanProcessor(
    BatchSpanProcessorOptions options,
    std::unique_ptr<Scheduler> owned_scheduler)
    : exporter_(std::move(options.exporter)),
      batch_size_(options.max_export_batch_size),
      trigger_mask_(RoundDownToPowerOfTwo(options.max_export_batch_size) - 1),
      clock_(options.clock),
      owned_scheduler_(std::move(owned_scheduler)),
      scheduler_(owned_scheduler_ ? owned_scheduler_.get() : options.scheduler),
      queue_(RoundUpToPowerOfTwo(options.max_queue_size)) {}

absl::Status BatchSpanProcessor::RegisterMetrics(metrics::Registry& registry,
                                                 const std::string& name) {
  const auto add_counter =
      [&](std::string_view metric, std::string_view help,
          std::vector<std::string> labels, std::vector<std::string> values,
          const std::atomic<std::uint64_t>* source) -> absl::Status {
    KEEL_ASSIGN_OR_RETURN(metrics::CounterFamily * family,
                          registry.AddCounter(metric, help, std::move(labels)));
    KEEL_ASSIGN_OR_RETURN(
        metrics::CallbackRegistration registration,
        family->AddCallback(std::move(values), [source] {
          return static_cast<double>(source->load(std::memory_order_relaxed));
        }));
    metric_callbacks_.push_back(std::move(registration));
    return absl::OkStatus();
  };
  KEEL_RETURN_IF_ERROR(add_counter("keel_trace_spans_exported_total",
                                   "Spans handed to successful exports.",
                                   {"processor"}, {name}, &exported_));
  constexpr std::string_view kDroppedHelp =
      "Spans that will never be exported, by reason.";
  KEEL_RETURN_IF_ERROR(add_counter("keel_trace_spans_dropped_total",
                                   kDroppedHelp, {"processor", "reason"},
                                   {name, "queue_full"}, &dropped_queue_full_));
  KEEL_RETURN_IF_ERROR(add_counter("keel_trace_spans_dropped_total",
                                   kDroppedHelp, {"processor", "reason"},
                                   {name, "shutdown"}, &dropped_shutdown_));
  KEEL_RETURN_IF_ERROR(add_counter("keel_trace_spans_dropped_total",
                                   kDroppedHelp, {"processor", "reason"},
                                   {name, "export_failed"}, &failed_));
  KEEL_RETURN_IF_ERROR(add_counter("keel_trace_export_failures_total",
                                   "Failed span exporter calls.", {"processor"},
                                   {name}, &export_failures_));

  KEEL_ASSIGN_OR_RETURN(
      metrics::GaugeFamily * queue,
      registry.AddGauge("keel_trace_queue_spans",
                        "Ended spans waiting for export.", {"processor"}));
  KEEL_ASSIGN_OR_RETURN(metrics::CallbackRegistration queue_registration,
                        queue->AddCallback({name}, [this] {
                          return static_cast<double>(queue_.SizeApprox());
                        }));
  metric_callbacks_.push_back(std::move(queue_registration));

  KEEL_ASSIGN_OR_RETURN(
      metrics::HistogramFamily * duration,
      registry.AddHistogram("keel_trace_export_duration_seconds",
                            "Duration of span exporter calls.", {"processor"},
                            metrics::DefaultLatencyBuckets()));
  export_duration_ = duration->WithLabels({name});
  return absl::OkStatus();
}

BatchSpanProcessor::~BatchSpanProcessor() {
  Shutdown(kDestructorFlushTimeout).IgnoreError();
  // Spans that did not make it out before the deadline are freed here.
  SpanData* span;
  while (queue_.TryPop(&span)) delete span;
}

void BatchSpanProcessor::OnEnd(std::unique_ptr<SpanData> span) noexcept {
  if (!span->context.sampled()) {
    trace_internal::RecycleSpanData(std::move(span));
    return;
  }
  std::size_t position;
  if (shutdown_.load(std::memory_order_acquire)) {
    dropped_shutdown_.fetch_add(1, std::memory_order_relaxed);
    trace_internal::RecycleSpanData(std::move(span));
    return;
  }
  if (!queue_.TryPush(span.get(), &position)) {
    dropped_queue_full_.fetch_add(1, std::memory_order_relaxed);
    trace_internal::RecycleSpanData(std::move(span));
    return;
  }
  span.release();  // owned by the queue now
  // Every 2^k-th span (2^k <= batch size) asks for an export: a mask test is
  // cheaper than a division or reading the consumer's position (another
  // core's cache line) on every call.
  if ((position & trigger_mask_) == trigger_mask_) RequestExport();
}

void BatchSpanProcessor::RequestExport() noexcept {
  // At most one triggered export is pending: the flag is cleared by the task
  // itself once it holds export_mu_.
  if (export_requested_.load(std::memory_order_relaxed) ||
      export_requested_.exchange(true, std::memory_order_acq_rel)) {
    return;
  }
  MutexLock lock(task_mu_);
  if (stopped_) return;
  auto task = scheduler_->ScheduleAfter(std::chrono::nanoseconds(0),
                                        [this] { ExportTask(); });
  if (task.ok()) {
    trigger_task_ = *task;
  } else {
    export_requested_.store(false, std::memory_order_release);
  }
}

void BatchSpanProcessor::ExportTask() {
  MutexLock lock(export_mu_);
  export_requested_.store(false, std::memory_order_release);
  Drain(std::nullopt).IgnoreError();  // counted in failed_spans()
}

absl::Status BatchSpanProcessor::Drain(std::optional<MonoTime> deadline) {
  // Only what is queued now: producers faster than the exporter must not keep
  // one drain running forever.
  std::size_t remaining = queue_.SizeApprox();
  absl::Status first_error;
  SpanBatch batch;
  batch.reserve(std::min(batch_size_, remaining));
  while (remaining > 0) {
    batch.clear();
    SpanData* span;
    while (batch.size() < batch_size_ && remaining > 0 &&
           queue_.TryPop(&span)) {
      batch.emplace_back(span);
      --remaining;
    }
    if (batch.empty()) break;
    const absl::Status status = ExportBatch(batch);
    if (!status.ok() && first_error.ok()) first_error = status;
    if (remaining > 0 && deadline && clock_->Now() >= *deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "span flush deadline passed with ", remaining, " spans queued"));
    }
  }
  return first_error;
}

absl::Status BatchSpanProcessor::ExportBatch(SpanBatch& batch) {
  const MonoTime start = clock_->Now();
  absl::Status status = exporter_->Export(batch);
  export_duration_.ObserveDuration(clock_->Now() - start);
  if (status.ok()) {
    exported_.fetch_add(batch.size(), std::memory_order_relaxed);
    MutexLock lock(health_mu_);
    health_.consecutive_failures = 0;
  } else {
    failed_.fetch_add(batch.size(), std::memory_order_relaxed);
    export_failures_.fetch_add(1, std::memory_order_relaxed);
    const std::chrono::nanoseconds now = clock_->WallNow();
    MutexLock lock(health_mu_);
    ++health_.consecutive_failures;
    health_.last_error = status;
    health_.last_error_time = now;
  }
  for (std::unique_ptr<SpanData>& span : batch) {
    trace_internal::RecycleSpanData(std::move(span));
  }
  batch.clear();
  return status;
}

ExportHealth BatchSpanProcessor::export_health() const {
  MutexLock lock(health_mu_);
  return health_;
}

absl::Status BatchSpanProcessor::ForceFlush(std::chrono::nanoseconds timeout) {
  const MonoTime deadline = clock_->Now() + timeout;
  MutexLock lock(export_mu_);
  return Drain(deadline);
}

absl::Status BatchSpanProcessor::Shutdown(std::chrono::nanoseconds timeout) {
  {
    MutexLock lock(task_mu_);
    if (stopped_) return absl::OkStatus();
    stopped_ = true;
    shutdown_.store(true, std::memory_order_release);
    // Cancel() waits for a run in progress, so no task touches `this` after
    // this block except one that already holds export_mu_ (ForceFlush below
    // waits for it).
    if (periodic_task_) scheduler_->Cancel(*periodic_task_);
    if (trigger_task_) scheduler_->Cancel(*trigger_task_);
  }
  absl::Status status = ForceFlush(timeout);
  const absl::Status exporter_status = exporter_->Shutdown();
  if (status.ok()) status = exporter_status;
  if (owned_scheduler_) owned_scheduler_->Shutdown();
  return status;
}

}  // namespace keel::trace
