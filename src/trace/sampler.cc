#include "keel/trace/sampler.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "keel/trace/internal/sampler_plan.h"

namespace keel::trace {
namespace {

class AlwaysOnSampler final : public Sampler {
 public:
  SamplingDecision ShouldSample(
      const SamplingParameters& /*params*/) const noexcept override {
    return SamplingDecision::kRecordAndSample;
  }
  std::string Description() const override { return "AlwaysOnSampler"; }
};

class AlwaysOffSampler final : public Sampler {
 public:
  SamplingDecision ShouldSample(
      const SamplingParameters& /*params*/) const noexcept override {
    return SamplingDecision::kDrop;
  }
  std::string Description() const override { return "AlwaysOffSampler"; }
};

class TraceIdRatioSampler final : public Sampler {
 public:
  explicit TraceIdRatioSampler(double ratio)
      : ratio_(ratio),
        // ratio * 2^63 without overflow at ratio == 1.
        bound_(ratio >= 1.0 ? (std::uint64_t{1} << 63)
                            : static_cast<std::uint64_t>(
                                  ratio * 9223372036854775808.0)) {}

  SamplingDecision ShouldSample(
      const SamplingParameters& params) const noexcept override {
    return trace_internal::TraceIdBelowBound(params.trace_id, bound_)
               ? SamplingDecision::kRecordAndSample
               : SamplingDecision::kDrop;
  }
  std::string Description() const override {
    return absl::StrCat("TraceIdRatioBased{", ratio_, "}");
  }

  std::uint64_t bound() const noexcept { return bound_; }

 private:
  const double ratio_;
  const std::uint64_t bound_;
};

class ParentBasedSampler final : public Sampler {
 public:
  ParentBasedSampler(std::shared_ptr<const Sampler> root,
                     ParentBasedOptions options)
      : root_(std::move(root)), options_(std::move(options)) {
    if (!options_.remote_parent_sampled) {
      options_.remote_parent_sampled = AlwaysOn();
    }
    if (!options_.remote_parent_not_sampled) {
      options_.remote_parent_not_sampled = AlwaysOff();
    }
    if (!options_.local_parent_sampled) {
      options_.local_parent_sampled = AlwaysOn();
    }
    if (!options_.local_parent_not_sampled) {
      options_.local_parent_not_sampled = AlwaysOff();
    }
  }

  SamplingDecision ShouldSample(
      const SamplingParameters& params) const noexcept override {
    const SpanContext& parent = params.parent;
    if (!parent.IsValid()) return root_->ShouldSample(params);
    const Sampler* delegate;
    if (parent.is_remote()) {
      delegate = parent.sampled() ? options_.remote_parent_sampled.get()
                                  : options_.remote_parent_not_sampled.get();
    } else {
      delegate = parent.sampled() ? options_.local_parent_sampled.get()
                                  : options_.local_parent_not_sampled.get();
    }
    return delegate->ShouldSample(params);
  }

  // The root sampler, if every parent delegate is OpenTelemetry's default
  // (sampled parent -> sample, unsampled parent -> drop); else null.
  const Sampler* RootIfDefaultDelegates() const noexcept {
    const auto is_on = [](const std::shared_ptr<const Sampler>& s) {
      return dynamic_cast<const AlwaysOnSampler*>(s.get()) != nullptr;
    };
    const auto is_off = [](const std::shared_ptr<const Sampler>& s) {
      return dynamic_cast<const AlwaysOffSampler*>(s.get()) != nullptr;
    };
    if (is_on(options_.remote_parent_sampled) &&
        is_off(options_.remote_parent_not_sampled) &&
        is_on(options_.local_parent_sampled) &&
        is_off(options_.local_parent_not_sampled)) {
      return root_.get();
    }
    return nullptr;
  }

  std::string Description() const override {
    return absl::StrCat(
        "ParentBased{root=", root_->Description(),
        ",remoteParentSampled=", options_.remote_parent_sampled->Description(),
        ",remoteParentNotSampled=",
        options_.remote_parent_not_sampled->Description(),
        ",localParentSampled=", options_.local_parent_sampled->Description(),
        ",localParentNotSampled=",
        options_.local_parent_not_sampled->Description(), "}");
  }

 private:
  const std::shared_ptr<const Sampler> root_;
  ParentBasedOptions options_;
};

// The plan for a sampler that does not look at the parent.
trace_internal::SamplerPlan PlanFlatSampler(const Sampler& sampler) noexcept {
  using Rule = trace_internal::SamplerPlan::Rule;
  trace_internal::SamplerPlan plan;
  if (dynamic_cast<const AlwaysOnSampler*>(&sampler) != nullptr) {
    plan.rule = Rule::kAlwaysOn;
  } else if (dynamic_cast<const AlwaysOffSampler*>(&sampler) != nullptr) {
    plan.rule = Rule::kAlwaysOff;
  } else if (const auto* ratio =
                 dynamic_cast<const TraceIdRatioSampler*>(&sampler)) {
    plan.rule = Rule::kRatio;
    plan.ratio_bound = ratio->bound();
  }
  return plan;
}

}  // namespace

std::shared_ptr<const Sampler> Sampler::AlwaysOn() {
  static const auto* const kSampler =
      new std::shared_ptr<const Sampler>(std::make_shared<AlwaysOnSampler>());
  return *kSampler;
}

std::shared_ptr<const Sampler> Sampler::AlwaysOff() {
  static const auto* const kSampler =
      new std::shared_ptr<const Sampler>(std::make_shared<AlwaysOffSampler>());
  return *kSampler;
}

absl::StatusOr<std::shared_ptr<const Sampler>> Sampler::TraceIdRatio(
    double ratio) {
  if (!(ratio >= 0.0 && ratio <= 1.0)) {  // also rejects NaN
    return absl::InvalidArgumentError(absl::StrCat(
        "TraceIdRatio sampler: ratio must be in [0, 1], got ", ratio));
  }
  return std::shared_ptr<const Sampler>(
      std::make_shared<TraceIdRatioSampler>(ratio));
}

std::shared_ptr<const Sampler> Sampler::ParentBased(
    std::shared_ptr<const Sampler> root, ParentBasedOptions options) {
  if (!root) root = AlwaysOn();
  return std::make_shared<ParentBasedSampler>(std::move(root),
                                              std::move(options));
}

}  // namespace keel::trace

namespace keel::trace_internal {

SamplerPlan PlanSampler(const trace::Sampler& sampler) noexcept {
  if (const auto* parent_based =
          dynamic_cast<const trace::ParentBasedSampler*>(&sampler)) {
    const trace::Sampler* root = parent_based->RootIfDefaultDelegates();
    if (root == nullptr) return SamplerPlan();
    SamplerPlan plan = trace::PlanFlatSampler(*root);
    plan.follow_parent = true;
    return plan;
  }
  return trace::PlanFlatSampler(sampler);
}

}  // namespace keel::trace_internal
