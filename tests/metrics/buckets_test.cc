#include "keel/metrics/buckets.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace keel {
namespace metrics {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(BucketsTest, Exponential) {
  auto bounds = ExponentialBuckets(0.001, 2, 4);
  ASSERT_TRUE(bounds.ok());
  EXPECT_THAT(*bounds, ElementsAre(0.001, 0.002, 0.004, 0.008));
  EXPECT_THAT(ExponentialBuckets(0, 2, 4).status().message(),
              HasSubstr("start"));
  EXPECT_THAT(ExponentialBuckets(1, 1, 4).status().message(),
              HasSubstr("factor"));
  EXPECT_THAT(ExponentialBuckets(1, 2, 0).status().message(),
              HasSubstr("count"));
  EXPECT_THAT(ExponentialBuckets(1, 1e300, 3).status().message(),
              HasSubstr("infinity"));
}

TEST(BucketsTest, Linear) {
  auto bounds = LinearBuckets(-1, 0.5, 5);
  ASSERT_TRUE(bounds.ok());
  EXPECT_THAT(*bounds, ElementsAre(-1, -0.5, 0, 0.5, 1));
  EXPECT_THAT(LinearBuckets(0, 0, 3).status().message(), HasSubstr("width"));
  EXPECT_THAT(LinearBuckets(NAN, 1, 3).status().message(), HasSubstr("start"));
  EXPECT_THAT(LinearBuckets(0, 1, -1).status().message(), HasSubstr("count"));
  // A width lost to rounding cannot make increasing bounds.
  EXPECT_THAT(LinearBuckets(1e20, 1, 3).status().message(),
              HasSubstr("strictly increasing"));
}

TEST(BucketsTest, DefaultsAreValid) {
  EXPECT_TRUE(ValidateBuckets(DefaultLatencyBuckets()).ok());
  EXPECT_FALSE(ValidateBuckets({}).ok());
  EXPECT_THAT(ValidateBuckets({1, 2, 2}).message(), HasSubstr("[2]"));
}

}  // namespace
}  // namespace metrics
}  // namespace keel
