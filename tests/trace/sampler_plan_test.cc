// The tracer's inline sampling plan must classify the built-in samplers and
// decide exactly as the samplers themselves do.

#include "keel/trace/internal/sampler_plan.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "keel/base/clock.h"
#include "keel/trace/sampler.h"
#include "keel/trace/tracer.h"

namespace keel::trace {
namespace {

using Rule = trace_internal::SamplerPlan::Rule;
using trace_internal::PlanSampler;

// A sampler the plan cannot know: samples spans named "yes".
class NameSampler final : public Sampler {
 public:
  SamplingDecision ShouldSample(
      const SamplingParameters& params) const noexcept override {
    return params.name == "yes" ? SamplingDecision::kRecordAndSample
                                : SamplingDecision::kDrop;
  }
  std::string Description() const override { return "NameSampler"; }
};

TEST(SamplerPlanTest, ClassifiesBuiltInSamplers) {
  auto on = PlanSampler(*Sampler::AlwaysOn());
  EXPECT_EQ(on.rule, Rule::kAlwaysOn);
  EXPECT_FALSE(on.follow_parent);

  auto off = PlanSampler(*Sampler::AlwaysOff());
  EXPECT_EQ(off.rule, Rule::kAlwaysOff);
  EXPECT_FALSE(off.follow_parent);

  auto ratio = PlanSampler(*Sampler::TraceIdRatio(0.5).value());
  EXPECT_EQ(ratio.rule, Rule::kRatio);
  EXPECT_EQ(ratio.ratio_bound, std::uint64_t{1} << 62);

  auto parent_based = PlanSampler(*Sampler::ParentBased(Sampler::AlwaysOff()));
  EXPECT_TRUE(parent_based.follow_parent);
  EXPECT_EQ(parent_based.rule, Rule::kAlwaysOff);

  auto custom_root =
      PlanSampler(*Sampler::ParentBased(std::make_shared<NameSampler>()));
  EXPECT_TRUE(custom_root.follow_parent);
  EXPECT_EQ(custom_root.rule, Rule::kVirtual);

  EXPECT_EQ(PlanSampler(NameSampler()).rule, Rule::kVirtual);
}

TEST(SamplerPlanTest, NonDefaultParentDelegatesAreCalledThroughTheInterface) {
  Sampler::ParentBasedOptions options;
  options.local_parent_not_sampled = Sampler::AlwaysOn();
  auto plan = PlanSampler(*Sampler::ParentBased(Sampler::AlwaysOn(), options));
  EXPECT_FALSE(plan.follow_parent);
  EXPECT_EQ(plan.rule, Rule::kVirtual);

  // And the tracer honours the delegate: an unsampled local parent gets a
  // sampled child.
  TracerOptions tracer_options;
  tracer_options.sampler = Sampler::ParentBased(Sampler::AlwaysOn(), options);
  auto tracer = Tracer::Create(std::move(tracer_options)).value();
  StartSpanOptions start;
  start.parent =
      SpanContext(*TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736"),
                  *SpanId::FromHex("00f067aa0ba902b7"), 0, false);
  EXPECT_TRUE(tracer->StartSpan("child", start).context().sampled());
}

TEST(SamplerPlanTest, InlineDecisionsMatchTheSampler) {
  ManualClock clock;
  for (double ratio : {0.0, 0.1, 0.5, 0.9, 1.0}) {
    auto root = Sampler::TraceIdRatio(ratio).value();
    for (const auto& sampler : {root, Sampler::ParentBased(root)}) {
      TracerOptions options;
      options.sampler = sampler;
      options.clock = &clock;
      auto tracer = Tracer::Create(std::move(options)).value();
      int sampled = 0;
      for (int i = 0; i < 2000; ++i) {
        Span span = tracer->StartSpan("root");
        const SpanContext& context = span.context();
        const SamplingDecision expected = sampler->ShouldSample(
            SamplingParameters{SpanContext(), context.trace_id(), "root",
                               SpanKind::kInternal});
        ASSERT_EQ(context.sampled(),
                  expected == SamplingDecision::kRecordAndSample)
            << sampler->Description();
        ASSERT_EQ(span.IsRecording(), context.sampled());
        sampled += context.sampled();
        // A child follows ParentBased, or the ratio rule on the same trace.
        StartSpanOptions child_options;
        child_options.parent = context;
        Span child = tracer->StartSpan("child", child_options);
        ASSERT_EQ(child.context().sampled(), context.sampled());
      }
      if (ratio == 0.0) {
        EXPECT_EQ(sampled, 0);
      }
      if (ratio == 1.0) {
        EXPECT_EQ(sampled, 2000);
      }
      if (ratio == 0.5) {
        EXPECT_GT(sampled, 800);
        EXPECT_LT(sampled, 1200);
      }
    }
  }
}

TEST(SamplerPlanTest, CustomSamplerSeesNameAndParent) {
  TracerOptions options;
  options.sampler = std::make_shared<NameSampler>();
  auto tracer = Tracer::Create(std::move(options)).value();
  EXPECT_TRUE(tracer->StartSpan("yes").context().sampled());
  EXPECT_FALSE(tracer->StartSpan("no").context().sampled());
}

}  // namespace
}  // namespace keel::trace
