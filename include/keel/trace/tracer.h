// keel/trace/tracer.h
//
// `Tracer` starts spans; `Span` is a move-only value handle that records
// attributes, events, links and a status and hands itself to the tracer's
// SpanProcessor when it ends. `ScopedSpan` additionally makes the span the
// thread's current span (context.h) for its lifetime.
//
// Cost model: an unsampled span is a stack value (ids + flags) with no heap
// allocation, no clock read and no processor call; the built-in samplers
// (AlwaysOn, AlwaysOff, TraceIdRatio, ParentBased with default delegates) are
// decided inline without a virtual call, and every recording method on an
// unsampled span is a single branch. A sampled span takes a SpanData record
// from a process-wide pool that BatchSpanProcessor refills after export (so
// steady state allocates no records) and reads one clock at start and one at
// end, both monotonic: the start time is the monotonic reading plus the
// tracer's wall-clock offset (WallNow() - Now(), re-measured when at least
// one second has passed since the last measurement, so a stepped wall clock
// shows up within a second), and end and event times are the start time plus
// the monotonic time elapsed, so durations never go negative when the wall
// clock is stepped. (Clock reads dominate a sampled span's cost: a third
// read per span would cost more than everything else on its path.)
//
// Setup (tracer + batch processor + OTLP/HTTP exporter over cpp-httplib):
//
//   #include "keel/httplib/otlp_http_transport.h"
//   #include "keel/trace/batch_span_processor.h"
//   #include "keel/trace/env_config.h"
//   #include "keel/trace/otlp_exporter.h"
//   #include "keel/trace/tracer.h"
//
//   auto env = keel::trace::TracingConfigFromEnv().value();   // OTEL_* vars
//   keel::trace::OtlpExporterOptions exporter_options;
//   exporter_options.endpoint = env.traces_endpoint;
//   exporter_options.resource = env.resource;
//   exporter_options.transport =
//   keel::httplib::OtlpHttpTransport::Create().value();
//   keel::trace::BatchSpanProcessorOptions processor_options;
//   processor_options.exporter =
//       keel::trace::OtlpExporter::Create(std::move(exporter_options)).value();
//   processor_options.scheduler = scheduler.get();   // or null: own thread
//   keel::trace::TracerOptions tracer_options;
//   tracer_options.sampler = env.sampler;
//   tracer_options.processor = keel::trace::BatchSpanProcessor::Create(
//       std::move(processor_options)).value();
//   auto tracer =
//   keel::trace::Tracer::Create(std::move(tracer_options)).value();
//
//   {
//     keel::trace::ScopedSpan span(*tracer, "load-user");
//     span->SetAttribute("user.id", 42);
//     LoadUser();                       // spans started here are children
//   }                                   // ended and queued for export
//
// Thread safety: Tracer is thread-safe. A Span is used by one thread at a time
// (move it to hand it over).

#ifndef KEEL_TRACE_TRACER_H_
#define KEEL_TRACE_TRACER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/base/clock.h"
#include "keel/trace/context.h"
#include "keel/trace/internal/sampler_plan.h"
#include "keel/trace/sampler.h"
#include "keel/trace/span_context.h"
#include "keel/trace/span_data.h"
#include "keel/trace/span_processor.h"

namespace keel::trace {

class Tracer;

// Converts a C++ value to an AttributeValue: any integer -> int64, any
// floating point -> double, anything convertible to std::string_view ->
// string (so string literals never become bool), else the variant's own
// conversion (bool, std::vector<...>).
template <typename T>
AttributeValue MakeAttributeValue(T&& value) {
  using D = std::decay_t<T>;
  if constexpr (std::is_same_v<D, bool>) {
    return AttributeValue(value);
  } else if constexpr (std::is_integral_v<D>) {
    return AttributeValue(static_cast<std::int64_t>(value));
  } else if constexpr (std::is_floating_point_v<D>) {
    return AttributeValue(static_cast<double>(value));
  } else if constexpr (std::is_convertible_v<T, std::string_view>) {
    return AttributeValue(std::string(std::string_view(value)));
  } else {
    return AttributeValue(std::forward<T>(value));
  }
}

// Per-span caps; items past a cap are dropped and counted in SpanData.
struct SpanLimits {
  std::size_t max_attributes = 128;
  std::size_t max_events = 128;
  std::size_t max_links = 128;
};

// How to start one span.
struct StartSpanOptions {
  SpanKind kind = SpanKind::kInternal;
  // The parent. nullopt (default): the thread's current span context. An
  // invalid SpanContext: start a new trace (a root span) regardless of the
  // current context. A remote context from Extract(): continue that trace.
  std::optional<SpanContext> parent;
  // Initial attributes (visible to nothing but the record; samplers do not
  // see them).
  std::vector<KeyValue> attributes;
  std::vector<SpanLink> links;
  // Start timestamp (since the Unix epoch); default: the tracer clock's
  // WallNow(). With an explicit start time, End() and AddEvent() read the
  // wall clock too (there is no monotonic reading to measure from).
  std::optional<std::chrono::nanoseconds> start_time;
};

}  // namespace keel::trace

namespace keel::trace_internal {
// Deletes span data out of line: with the default deleter every Span
// destructor carried SpanData's whole destructor, too big to inline where
// spans are unsampled and never own data.
struct SpanDataDeleter {
  void operator()(trace::SpanData* data) const noexcept;
};
}  // namespace keel::trace_internal

namespace keel::trace {

// A span handle. Default-constructed spans are no-ops with an invalid context.
// Ending is idempotent; the destructor ends a span that was not ended.
class Span {
 public:
  Span() noexcept = default;
  Span(Span&& other) noexcept = default;
  Span& operator=(Span&& other) noexcept {
    if (this != &other) {
      End();
      context_ = std::move(other.context_);
      data_ = std::move(other.data_);
      tracer_ = other.tracer_;
      start_mono_ = other.start_mono_;
    }
    return *this;
  }
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;
  ~Span() { End(); }

  // The span's identity, for propagation and log correlation.
  const SpanContext& context() const noexcept { return context_; }

  // True while the span records data (it was sampled or record-only and has
  // not ended).
  bool IsRecording() const noexcept { return data_ != nullptr; }

  // Sets (or replaces) attribute `key`. See MakeAttributeValue for accepted
  // types.
  template <typename T>
  void SetAttribute(std::string_view key, T&& value) {
    if (data_)
      SetAttributeValue(key, MakeAttributeValue(std::forward<T>(value)));
  }

  // Adds a timestamped event (time: the span's start time plus the monotonic
  // time elapsed since, i.e. the tracer clock's wall time at the call).
  void AddEvent(std::string_view name, std::vector<KeyValue> attributes = {});

  // Adds a link to another span's context (ignored if `context` is invalid).
  void AddLink(const SpanContext& context,
               std::vector<KeyValue> attributes = {});

  // Sets the status. Per OpenTelemetry, kOk is final (later calls are
  // ignored), kUnset is never set explicitly, and `message` is kept only
  // with kError.
  void SetStatus(StatusCode code, std::string_view message = {});

  // Renames the span (e.g. once the route is known).
  void UpdateName(std::string_view name);

  // Ends the span now (or at `end_time`, since the Unix epoch) and hands it
  // to the processor. "Now" is the start time plus the monotonic time
  // elapsed since the start. Later calls and recording methods do nothing.
  void End(std::optional<std::chrono::nanoseconds> end_time =
               std::nullopt) noexcept {
    if (data_) EndRecording(end_time);
  }

 private:
  friend class Tracer;
  // Marks a span whose start time was given by the caller.
  static constexpr MonoTime kNoMonoStart = MonoTime::min();

  Span(SpanContext context, std::unique_ptr<SpanData> data,
       const Tracer* tracer, MonoTime start_mono) noexcept
      : context_(std::move(context)),
        data_(data.release()),
        tracer_(tracer),
        start_mono_(start_mono) {}

  void SetAttributeValue(std::string_view key, AttributeValue value);
  void EndRecording(std::optional<std::chrono::nanoseconds> end_time) noexcept;
  // The current wall time on the span's timeline (see End()).
  std::chrono::nanoseconds WallNow() const noexcept;

  SpanContext context_;
  // Null unless recording.
  std::unique_ptr<SpanData, trace_internal::SpanDataDeleter> data_;
  const Tracer* tracer_ = nullptr;
  // The tracer clock's Now() at the start, or kNoMonoStart.
  MonoTime start_mono_ = kNoMonoStart;
};

// Tracer configuration.
struct TracerOptions {
  // Reported as the OTLP instrumentation scope of every span.
  std::string scope_name = "keel";
  std::string scope_version;
  // Default: ParentBased(AlwaysOn).
  std::shared_ptr<const Sampler> sampler;
  // Receives ended spans. May be null: spans then still get ids and
  // propagate, but recorded data is discarded at End().
  std::unique_ptr<SpanProcessor> processor;
  // Source of span timestamps (WallNow()). Must outlive the tracer.
  Clock* clock = &Clock::System();
  SpanLimits limits;
  // Bound on the processor flush in Shutdown()/the destructor.
  std::chrono::nanoseconds shutdown_timeout = std::chrono::seconds(10);
};

// Starts spans.
//
// Thread safety: thread-safe; StartSpan() is lock-free (the processor decides
// what OnEnd costs; BatchSpanProcessor is lock-free too).
class Tracer {
 public:
  // Validates the options: kInvalidArgument if `clock` is null, a limit is
  // zero or shutdown_timeout is negative.
  static absl::StatusOr<std::unique_ptr<Tracer>> Create(TracerOptions options);

  // Shuts the processor down (flushing within shutdown_timeout). Spans still
  // alive must not be ended after this.
  ~Tracer();

  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  // Starts a span; see StartSpanOptions for parent selection. The trace
  // flags of a child keep the parent's `random` bit; a new root gets a
  // random trace id and the `random` bit. Never fails.
  Span StartSpan(std::string_view name, const StartSpanOptions& options) const;

  // Starts an internal span whose parent is the thread's current context
  // (the hot-path form: no options object is built).
  Span StartSpan(std::string_view name) const;

  // Flushes the processor (see SpanProcessor::ForceFlush).
  absl::Status ForceFlush(std::chrono::nanoseconds timeout);

  // Shuts the processor down; spans ended afterwards are dropped. Idempotent.
  absl::Status Shutdown();

  // The scope reported for this tracer's spans.
  const InstrumentationScope& scope() const { return scope_; }

 private:
  friend class Span;
  explicit Tracer(TracerOptions options);

  // Both StartSpan() forms once the candidate parent is known.
  Span Start(std::string_view name, const SpanContext* parent,
             const StartSpanOptions& options) const;
  // Decides for a span whose parent is `parent` (null: a root span).
  SamplingDecision Decide(const SpanContext* parent, const TraceId& trace_id,
                          std::string_view name, SpanKind kind) const noexcept;
  // The recording half of StartSpan(), kept out of line so that the
  // unsampled path stays small.
  Span StartRecording(SpanContext context, const SpanContext* parent,
                      std::string_view name,
                      const StartSpanOptions& options) const;

  const InstrumentationScope scope_;
  const std::shared_ptr<const Sampler> sampler_;
  const trace_internal::SamplerPlan plan_;
  const std::unique_ptr<SpanProcessor> processor_;
  Clock* const clock_;
  const SpanLimits limits_;
  const std::chrono::nanoseconds shutdown_timeout_;

  // The wall time at monotonic time `mono`, from the cached offset (see the
  // cost model above); re-measures the offset when it is due.
  std::chrono::nanoseconds WallAt(MonoTime mono) const noexcept;

  // WallNow() - Now() as last measured, and the monotonic time after which
  // it is measured again. Benign races: every measurement is valid.
  mutable std::atomic<std::int64_t> wall_offset_ns_{0};
  mutable std::atomic<std::int64_t> wall_offset_expiry_ns_{0};
};

// A span that is also the thread's current span until the end of the scope:
// spans started inside (without an explicit parent) become its children, and
// CurrentSpanContext() returns its context. Ends the span on destruction.
//
// Thread safety: confined to the creating thread (like ContextScope).
class ScopedSpan {
 public:
  ScopedSpan(const Tracer& tracer, std::string_view name)
      : span_(tracer.StartSpan(name)), scope_(span_.context()) {}
  ScopedSpan(const Tracer& tracer, std::string_view name,
             const StartSpanOptions& options)
      : span_(tracer.StartSpan(name, options)), scope_(span_.context()) {}

  ScopedSpan(const ScopedSpan&) = delete;
  ScopedSpan& operator=(const ScopedSpan&) = delete;

  // The underlying span.
  Span& span() noexcept { return span_; }
  Span* operator->() noexcept { return &span_; }

 private:
  Span span_;
  ContextScope scope_;
};

}  // namespace keel::trace

#endif  // KEEL_TRACE_TRACER_H_
