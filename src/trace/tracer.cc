#include "keel/trace/tracer.h"

#include <string>
#include <utility>

#include "absl/base/attributes.h"
#include "keel/trace/context.h"
#include "keel/trace/internal/span_recycler.h"
#include "trace/current_context.h"
#include "trace/random_ids.h"

namespace keel::trace {
namespace {

// Shared defaults so that the hot path neither builds nor destroys these.
const SpanContext kNoParent;
const StartSpanOptions kDefaultStartOptions;

// How long a measured wall-clock offset is used before it is measured again.
constexpr std::chrono::nanoseconds kWallOffsetLifetime =
    std::chrono::seconds(1);

}  // namespace

// --- Span -------------------------------------------------------------------

void Span::SetAttributeValue(std::string_view key, AttributeValue value) {
  for (KeyValue& attribute : data_->attributes) {
    if (attribute.key == key) {
      attribute.value = std::move(value);
      return;
    }
  }
  if (data_->attributes.size() >= tracer_->limits_.max_attributes) {
    ++data_->dropped_attributes;
    return;
  }
  data_->attributes.push_back(KeyValue{std::string(key), std::move(value)});
}

void Span::AddEvent(std::string_view name, std::vector<KeyValue> attributes) {
  if (!data_) return;
  if (data_->events.size() >= tracer_->limits_.max_events) {
    ++data_->dropped_events;
    return;
  }
  data_->events.push_back(
      SpanEvent{std::string(name), WallNow(), std::move(attributes)});
}

void Span::AddLink(const SpanContext& context,
                   std::vector<KeyValue> attributes) {
  if (!data_ || !context.IsValid()) return;
  if (data_->links.size() >= tracer_->limits_.max_links) {
    ++data_->dropped_links;
    return;
  }
  data_->links.push_back(SpanLink{context, std::move(attributes)});
}

void Span::SetStatus(StatusCode code, std::string_view message) {
  if (!data_ || code == StatusCode::kUnset ||
      data_->status_code == StatusCode::kOk) {
    return;
  }
  data_->status_code = code;
  if (code == StatusCode::kError) {
    data_->status_message = std::string(message);
  } else {
    data_->status_message.clear();
  }
}

void Span::UpdateName(std::string_view name) {
  if (data_) data_->name.assign(name.data(), name.size());
}

std::chrono::nanoseconds Span::WallNow() const noexcept {
  if (start_mono_ == kNoMonoStart) return tracer_->clock_->WallNow();
  return data_->start_time + (tracer_->clock_->Now() - start_mono_);
}

void Span::EndRecording(
    std::optional<std::chrono::nanoseconds> end_time) noexcept {
  data_->end_time = end_time ? *end_time : WallNow();
  std::unique_ptr<SpanData> data(data_.release());
  if (tracer_->processor_) {
    tracer_->processor_->OnEnd(std::move(data));
  } else {
    trace_internal::RecycleSpanData(std::move(data));
  }
}

}  // namespace keel::trace

namespace keel::trace_internal {

void SpanDataDeleter::operator()(trace::SpanData* data) const noexcept {
  delete data;
}

}  // namespace keel::trace_internal

namespace keel::trace {

// --- Tracer -----------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Tracer>> Tracer::Create(TracerOptions options) {
  if (options.clock == nullptr) {
    return absl::InvalidArgumentError("TracerOptions.clock must not be null");
  }
  if (options.limits.max_attributes == 0) {
    return absl::InvalidArgumentError(
        "TracerOptions.limits.max_attributes must be > 0");
  }
  if (options.limits.max_events == 0) {
    return absl::InvalidArgumentError(
        "TracerOptions.limits.max_events must be > 0");
  }
  if (options.limits.max_links == 0) {
    return absl::InvalidArgumentError(
        "TracerOptions.limits.max_links must be > 0");
  }
  if (options.shutdown_timeout.count() < 0) {
    return absl::InvalidArgumentError(
        "TracerOptions.shutdown_timeout must be >= 0");
  }
  return std::unique_ptr<Tracer>(new Tracer(std::move(options)));
}

Tracer::Tracer(TracerOptions options)
    : scope_{std::move(options.scope_name), std::move(options.scope_version)},
      sampler_(options.sampler ? std::move(options.sampler)
                               : Sampler::ParentBased(Sampler::AlwaysOn())),
      plan_(trace_internal::PlanSampler(*sampler_)),
      processor_(std::move(options.processor)),
      clock_(options.clock),
      limits_(options.limits),
      shutdown_timeout_(options.shutdown_timeout) {
  WallAt(clock_->Now());  // measures the offset
}

std::chrono::nanoseconds Tracer::WallAt(MonoTime mono) const noexcept {
  if (mono.count() >= wall_offset_expiry_ns_.load(std::memory_order_relaxed)) {
    const std::chrono::nanoseconds offset = clock_->WallNow() - clock_->Now();
    wall_offset_ns_.store(offset.count(), std::memory_order_relaxed);
    wall_offset_expiry_ns_.store((mono + kWallOffsetLifetime).count(),
                                 std::memory_order_relaxed);
    return mono + offset;
  }
  return mono + std::chrono::nanoseconds(
                    wall_offset_ns_.load(std::memory_order_relaxed));
}

Tracer::~Tracer() { Shutdown().IgnoreError(); }

inline SamplingDecision Tracer::Decide(const SpanContext* parent,
                                       const TraceId& trace_id,
                                       std::string_view name,
                                       SpanKind kind) const noexcept {
  using Rule = trace_internal::SamplerPlan::Rule;
  if (parent != nullptr && plan_.follow_parent) {
    return parent->sampled() ? SamplingDecision::kRecordAndSample
                             : SamplingDecision::kDrop;
  }
  switch (plan_.rule) {
    case Rule::kAlwaysOn:
      return SamplingDecision::kRecordAndSample;
    case Rule::kAlwaysOff:
      return SamplingDecision::kDrop;
    case Rule::kRatio:
      return trace_internal::TraceIdBelowBound(trace_id, plan_.ratio_bound)
                 ? SamplingDecision::kRecordAndSample
                 : SamplingDecision::kDrop;
    case Rule::kVirtual:
      break;
  }
  return sampler_->ShouldSample(SamplingParameters{
      parent != nullptr ? *parent : kNoParent, trace_id, name, kind});
}

// Inlined into both StartSpan() forms: the unsampled path is a few
// nanoseconds, so a call and an options object to read matter.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline Span Tracer::Start(
    std::string_view name, const SpanContext* parent,
    const StartSpanOptions& options) const {
  if (parent != nullptr && !parent->IsValid()) parent = nullptr;

  const TraceId trace_id =
      parent == nullptr ? trace_internal::NewTraceId() : parent->trace_id();
  const SamplingDecision decision =
      Decide(parent, trace_id, name, options.kind);
  std::uint8_t flags =
      parent == nullptr
          ? kTraceFlagRandom
          : static_cast<std::uint8_t>(parent->trace_flags() & kTraceFlagRandom);
  if (decision == SamplingDecision::kRecordAndSample) {
    flags |= kTraceFlagSampled;
  }
  // A root gets an empty trace state built in place rather than a copy of
  // an empty one (a shared_ptr copy tests its control block).
  SpanContext context =
      parent != nullptr
          ? SpanContext(trace_id, trace_internal::NewSpanId(), flags,
                        /*is_remote=*/false, parent->trace_state())
          : SpanContext(trace_id, trace_internal::NewSpanId(), flags,
                        /*is_remote=*/false);
  if (decision == SamplingDecision::kDrop) {
    return Span(std::move(context), nullptr, this, Span::kNoMonoStart);
  }
  return StartRecording(std::move(context), parent, name, options);
}

Span Tracer::StartSpan(std::string_view name) const {
  return Start(name, trace_internal::current_context, kDefaultStartOptions);
}

Span Tracer::StartSpan(std::string_view name,
                       const StartSpanOptions& options) const {
  return Start(
      name, options.parent ? &*options.parent : trace_internal::current_context,
      options);
}

Span Tracer::StartRecording(SpanContext context, const SpanContext* parent,
                            std::string_view name,
                            const StartSpanOptions& options) const {
  std::unique_ptr<SpanData> data = trace_internal::AcquireSpanData();
  data->context = context;
  if (parent != nullptr) {
    data->parent_span_id = parent->span_id();
    data->parent_is_remote = parent->is_remote();
  }
  data->name.assign(name.data(), name.size());
  data->kind = options.kind;
  MonoTime start_mono = Span::kNoMonoStart;
  if (options.start_time) {
    data->start_time = *options.start_time;
  } else {
    start_mono = clock_->Now();
    data->start_time = WallAt(start_mono);
  }
  data->scope = &scope_;
  Span span(std::move(context), std::move(data), this, start_mono);
  for (const KeyValue& attribute : options.attributes) {
    span.SetAttributeValue(attribute.key, attribute.value);
  }
  for (const SpanLink& link : options.links) {
    span.AddLink(link.context, link.attributes);
  }
  return span;
}

absl::Status Tracer::ForceFlush(std::chrono::nanoseconds timeout) {
  if (!processor_) return absl::OkStatus();
  return processor_->ForceFlush(timeout);
}

absl::Status Tracer::Shutdown() {
  if (!processor_) return absl::OkStatus();
  return processor_->Shutdown(shutdown_timeout_);
}

}  // namespace keel::trace
