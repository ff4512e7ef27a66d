#include "keel/trace/sampler.h"

#include <array>
#include <cmath>
#include <cstdint>

#include "gtest/gtest.h"

namespace keel::trace {
namespace {

TraceId IdWithLow(std::uint64_t low) {
  std::array<std::uint8_t, 16> bytes{};
  bytes[0] = 0xaa;  // the high half is ignored by the ratio sampler
  for (int i = 15; i >= 8; --i) {
    bytes[i] = static_cast<std::uint8_t>(low);
    low >>= 8;
  }
  return TraceId(bytes);
}

SamplingDecision Decide(const Sampler& sampler, const SpanContext& parent,
                        const TraceId& trace_id) {
  return sampler.ShouldSample(
      SamplingParameters{parent, trace_id, "op", SpanKind::kInternal});
}

TEST(SamplerTest, AlwaysOnAndOff) {
  const TraceId id = IdWithLow(1);
  EXPECT_EQ(Decide(*Sampler::AlwaysOn(), SpanContext(), id),
            SamplingDecision::kRecordAndSample);
  EXPECT_EQ(Decide(*Sampler::AlwaysOff(), SpanContext(), id),
            SamplingDecision::kDrop);
}

TEST(SamplerTest, RatioRejectsOutOfRange) {
  EXPECT_FALSE(Sampler::TraceIdRatio(-0.1).ok());
  EXPECT_FALSE(Sampler::TraceIdRatio(1.5).ok());
  EXPECT_FALSE(Sampler::TraceIdRatio(std::nan("")).ok());
}

// The decision is a pure function of the trace id's low 8 bytes: ids below
// ratio * 2^64 (after dropping the lowest bit) are sampled.
TEST(SamplerTest, RatioDecidesFromTraceId) {
  auto sampler = Sampler::TraceIdRatio(0.25).value();
  const std::uint64_t boundary = std::uint64_t{1} << 62;  // 0.25 * 2^64
  EXPECT_EQ(Decide(*sampler, SpanContext(), IdWithLow(boundary - 2)),
            SamplingDecision::kRecordAndSample);
  EXPECT_EQ(Decide(*sampler, SpanContext(), IdWithLow(boundary)),
            SamplingDecision::kDrop);
  EXPECT_EQ(Decide(*sampler, SpanContext(), IdWithLow(~std::uint64_t{0})),
            SamplingDecision::kDrop);
  EXPECT_EQ(sampler->Description(), "TraceIdRatioBased{0.25}");
}

TEST(SamplerTest, RatioBounds) {
  auto none = Sampler::TraceIdRatio(0.0).value();
  auto all = Sampler::TraceIdRatio(1.0).value();
  EXPECT_EQ(Decide(*none, SpanContext(), IdWithLow(0)),
            SamplingDecision::kDrop);
  EXPECT_EQ(Decide(*all, SpanContext(), IdWithLow(~std::uint64_t{0})),
            SamplingDecision::kRecordAndSample);
}

TEST(SamplerTest, RatioSamplesRoughlyTheRatio) {
  auto sampler = Sampler::TraceIdRatio(0.5).value();
  int sampled = 0;
  std::uint64_t x = 12345;
  for (int i = 0; i < 10000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    if (Decide(*sampler, SpanContext(), IdWithLow(x)) ==
        SamplingDecision::kRecordAndSample) {
      ++sampled;
    }
  }
  EXPECT_GT(sampled, 4500);
  EXPECT_LT(sampled, 5500);
}

TEST(SamplerTest, ParentBasedFollowsParent) {
  auto sampler = Sampler::ParentBased(Sampler::AlwaysOff());
  const TraceId id = IdWithLow(7);
  const SpanId span_id = *SpanId::FromHex("00f067aa0ba902b7");
  const SpanContext remote_sampled(id, span_id, kTraceFlagSampled, true);
  const SpanContext remote_unsampled(id, span_id, 0, true);
  const SpanContext local_sampled(id, span_id, kTraceFlagSampled, false);
  const SpanContext local_unsampled(id, span_id, 0, false);
  EXPECT_EQ(Decide(*sampler, SpanContext(), id), SamplingDecision::kDrop);
  EXPECT_EQ(Decide(*sampler, remote_sampled, id),
            SamplingDecision::kRecordAndSample);
  EXPECT_EQ(Decide(*sampler, remote_unsampled, id), SamplingDecision::kDrop);
  EXPECT_EQ(Decide(*sampler, local_sampled, id),
            SamplingDecision::kRecordAndSample);
  EXPECT_EQ(Decide(*sampler, local_unsampled, id), SamplingDecision::kDrop);
}

TEST(SamplerTest, ParentBasedDelegatesAreConfigurable) {
  Sampler::ParentBasedOptions options;
  options.remote_parent_not_sampled = Sampler::AlwaysOn();
  auto sampler = Sampler::ParentBased(Sampler::AlwaysOn(), options);
  const TraceId id = IdWithLow(7);
  const SpanContext remote_unsampled(id, *SpanId::FromHex("00f067aa0ba902b7"),
                                     0, true);
  EXPECT_EQ(Decide(*sampler, remote_unsampled, id),
            SamplingDecision::kRecordAndSample);
}

}  // namespace
}  // namespace keel::trace
