// keel/trace/internal/sampler_plan.h
//
// Lets the Tracer decide the common sampling cases inline, without a virtual
// call: AlwaysOn, AlwaysOff, TraceIdRatio, and ParentBased with
// OpenTelemetry's default delegates (a child follows its parent's sampled
// flag). Any other sampler is called through its interface. Private to
// keel::trace.
//
// Thread safety: plain immutable data.

#ifndef KEEL_TRACE_INTERNAL_SAMPLER_PLAN_H_
#define KEEL_TRACE_INTERNAL_SAMPLER_PLAN_H_

#include <cstdint>

#include "keel/trace/span_context.h"

namespace keel::trace {
class Sampler;
}  // namespace keel::trace

namespace keel::trace_internal {

// The TraceIdRatio rule shared by the sampler and the inline plan (same as
// OpenTelemetry Go): the last 8 bytes of the id, big-endian, shifted right by
// one, compared with ratio * 2^63.
inline bool TraceIdBelowBound(const trace::TraceId& trace_id,
                              std::uint64_t bound) noexcept {
  const auto& b = trace_id.bytes();
  std::uint64_t x = 0;
  for (int i = 8; i < 16; ++i) x = (x << 8) | b[i];
  return (x >> 1) < bound;
}

// How a tracer reaches its decisions.
struct SamplerPlan {
  enum class Rule : std::uint8_t {
    kAlwaysOn,
    kAlwaysOff,
    kRatio,    // TraceIdBelowBound(trace_id, ratio_bound)
    kVirtual,  // call Sampler::ShouldSample()
  };
  // True for ParentBased with the default delegates: a span with a valid
  // parent is sampled exactly when its parent is, and `rule` then applies to
  // root spans only. False: `rule` applies to every span.
  bool follow_parent = false;
  Rule rule = Rule::kVirtual;
  std::uint64_t ratio_bound = 0;
};

// Classifies `sampler`; anything it does not recognise gets kVirtual.
SamplerPlan PlanSampler(const trace::Sampler& sampler) noexcept;

}  // namespace keel::trace_internal

#endif  // KEEL_TRACE_INTERNAL_SAMPLER_PLAN_H_
