#include "keel/trace/tracer.h"

#include <string>
#include <utility>

#include "keel/trace/context.h"
#include "trace/random_ids.h"

namespace keel::trace {
namespace {

// Shared defaults so that the hot path neither builds nor destroys these.
const SpanContext kNoParent;
const StartSpanOptions kDefaultStartOptions;

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
  data_->events.push_back(SpanEvent{
      std::string(name), tracer_->clock_->WallNow(), std::move(attributes)});
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
  if (data_) data_->name = std::string(name);
}

void Span::EndRecording(
    std::optional<std::chrono::nanoseconds> end_time) noexcept {
  std::unique_ptr<SpanData> data = std::move(data_);
  data->end_time = end_time ? *end_time : tracer_->clock_->WallNow();
  if (tracer_->processor_) tracer_->processor_->OnEnd(std::move(data));
}

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
      processor_(std::move(options.processor)),
      clock_(options.clock),
      limits_(options.limits),
      shutdown_timeout_(options.shutdown_timeout) {}

Tracer::~Tracer() { Shutdown().IgnoreError(); }

Span Tracer::StartSpan(std::string_view name) const {
  return StartSpan(name, kDefaultStartOptions);
}

Span Tracer::StartSpan(std::string_view name,
                       const StartSpanOptions& options) const {
  const SpanContext* parent =
      options.parent ? &*options.parent : CurrentSpanContextOrNull();
  if (parent == nullptr || !parent->IsValid()) parent = &kNoParent;
  const bool is_root = parent == &kNoParent;

  const TraceId trace_id =
      is_root ? trace_internal::NewTraceId() : parent->trace_id();
  const SamplingDecision decision = sampler_->ShouldSample(
      SamplingParameters{*parent, trace_id, name, options.kind});
  std::uint8_t flags =
      is_root
          ? kTraceFlagRandom
          : static_cast<std::uint8_t>(parent->trace_flags() & kTraceFlagRandom);
  if (decision == SamplingDecision::kRecordAndSample) {
    flags |= kTraceFlagSampled;
  }
  SpanContext context(trace_id, trace_internal::NewSpanId(), flags,
                      /*is_remote=*/false, parent->trace_state());
  if (decision == SamplingDecision::kDrop) {
    return Span(std::move(context), nullptr, this);
  }

  // Default- rather than value-initialised: skips zero-filling the record.
  std::unique_ptr<SpanData> data(new SpanData);
  data->context = context;
  data->parent_span_id = parent->span_id();
  data->parent_is_remote = parent->is_remote();
  data->name = std::string(name);
  data->kind = options.kind;
  data->start_time =
      options.start_time ? *options.start_time : clock_->WallNow();
  data->scope = &scope_;
  Span span(std::move(context), std::move(data), this);
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
