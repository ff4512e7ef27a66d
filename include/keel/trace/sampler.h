// keel/trace/sampler.h
//
// Head sampling: decides when a span starts whether it is recorded and
// exported. The samplers mirror OpenTelemetry's so that mixed fleets agree:
//
//   * AlwaysOn / AlwaysOff
//   * TraceIdRatio(r)  samples a fraction `r` of traces, decided from the
//                      trace id alone (same rule as OpenTelemetry Go: the
//                      last 8 bytes of the id, big-endian, shifted right by
//                      one, compared with r * 2^63), so every service that
//                      sees the trace makes the same decision;
//   * ParentBased(root) follows the parent's sampled flag and uses `root` for
//                      spans without a parent. This is the default.
//
// Example:
//   auto ratio = keel::trace::Sampler::TraceIdRatio(0.1).value();
//   options.sampler = keel::trace::Sampler::ParentBased(ratio);
//
// Thread safety: samplers are immutable and safe to share between tracers and
// threads.

#ifndef KEEL_TRACE_SAMPLER_H_
#define KEEL_TRACE_SAMPLER_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "keel/trace/span_context.h"
#include "keel/trace/span_data.h"

namespace keel::trace {

// What to do with a new span.
enum class SamplingDecision {
  kDrop,             // not recorded, sampled flag clear
  kRecordOnly,       // recorded (attributes kept) but not exported
  kRecordAndSample,  // recorded, sampled flag set, exported
};

// The facts a sampler decides on.
struct SamplingParameters {
  // The parent's context; invalid for a root span.
  const SpanContext& parent;
  // The trace id the span will have (the parent's, or a fresh one).
  const TraceId& trace_id;
  std::string_view name;
  SpanKind kind;
};

// The sampler interface.
class Sampler {
 public:
  virtual ~Sampler() = default;

  // Decides for one span. Called on the hot path of every span start: must be
  // fast, allocation-free and must not throw.
  virtual SamplingDecision ShouldSample(
      const SamplingParameters& params) const noexcept = 0;

  // A human-readable name, e.g. "TraceIdRatioBased{0.25}".
  virtual std::string Description() const = 0;

  // Samples every span.
  static std::shared_ptr<const Sampler> AlwaysOn();
  // Samples no span.
  static std::shared_ptr<const Sampler> AlwaysOff();
  // Samples a fraction `ratio` of trace ids. Fails with kInvalidArgument if
  // `ratio` is not within [0, 1].
  static absl::StatusOr<std::shared_ptr<const Sampler>> TraceIdRatio(
      double ratio);

  // Delegates to one of five samplers by parent: none -> `root`; remote parent
  // sampled / not sampled; local parent sampled / not sampled. A null
  // delegate takes the OpenTelemetry default (AlwaysOn for sampled parents,
  // AlwaysOff for unsampled ones); a null `root` means AlwaysOn.
  struct ParentBasedOptions {
    std::shared_ptr<const Sampler> remote_parent_sampled;
    std::shared_ptr<const Sampler> remote_parent_not_sampled;
    std::shared_ptr<const Sampler> local_parent_sampled;
    std::shared_ptr<const Sampler> local_parent_not_sampled;
  };
  static std::shared_ptr<const Sampler> ParentBased(
      std::shared_ptr<const Sampler> root, ParentBasedOptions options = {});
};

}  // namespace keel::trace

#endif  // KEEL_TRACE_SAMPLER_H_
