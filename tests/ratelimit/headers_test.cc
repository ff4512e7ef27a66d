#include "keel/ratelimit/headers.h"

#include <chrono>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace keel {
namespace ratelimit {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;
using testing::ElementsAre;
using testing::Field;

Policy ApiPolicy() {
  Policy policy;
  policy.name = "api";
  policy.quota = 10;
  policy.window = seconds(10);
  return policy;
}

Decision Refused() {
  Decision d;
  d.allowed = false;
  d.reason = DecisionReason::kRateLimited;
  d.limit = 10;
  d.remaining = 0;
  d.retry_after = milliseconds(200);
  d.reset_after = milliseconds(2001);
  return d;
}

TEST(HeadersTest, CeilSeconds) {
  EXPECT_EQ(CeilSeconds(nanoseconds(0)), 0);
  EXPECT_EQ(CeilSeconds(nanoseconds(-5)), 0);
  EXPECT_EQ(CeilSeconds(nanoseconds(1)), 1);
  EXPECT_EQ(CeilSeconds(seconds(1)), 1);
  EXPECT_EQ(CeilSeconds(seconds(1) + nanoseconds(1)), 2);
  EXPECT_EQ(CeilSeconds(kNever), 2147483647);
}

TEST(HeadersTest, PolicyValue) {
  EXPECT_EQ(RateLimitPolicyValue(ApiPolicy()), "\"api\";q=10;w=10");
  Policy fast = ApiPolicy();
  fast.name = "a\"b\\c";
  fast.window = milliseconds(100);  // sub-second windows advertise w=1
  EXPECT_EQ(RateLimitPolicyValue(fast), "\"a\\\"b\\\\c\";q=10;w=1");
  Policy hour;
  hour.name = "hour";
  hour.quota = 1000;
  hour.window = std::chrono::hours(1);
  EXPECT_EQ(RateLimitPolicyValue(std::vector<Policy>{ApiPolicy(), hour}),
            "\"api\";q=10;w=10, \"hour\";q=1000;w=3600");
}

TEST(HeadersTest, RateLimitValueRoundsResetUp) {
  EXPECT_EQ(RateLimitValue("api", Refused()), "\"api\";r=0;t=3");
}

TEST(HeadersTest, RetryAfterOnlyForRetryableRefusals) {
  EXPECT_EQ(RetryAfterValue(Refused()), "1");
  Decision later = Refused();
  later.retry_after = seconds(61);
  EXPECT_EQ(RetryAfterValue(later), "61");
  Decision shadowed = Refused();
  shadowed.allowed = true;
  EXPECT_EQ(RetryAfterValue(shadowed), std::nullopt);
  Decision oversize = Refused();
  oversize.reason = DecisionReason::kOversize;
  oversize.retry_after = kNever;
  EXPECT_EQ(RetryAfterValue(oversize), std::nullopt);
}

TEST(HeadersTest, IetfFieldsForARefusal) {
  EXPECT_THAT(
      RateLimitHeaders(ApiPolicy(), Refused(), HeaderStyle::kIetf),
      ElementsAre(AllOf(Field(&HeaderField::name, "RateLimit-Policy"),
                        Field(&HeaderField::value, "\"api\";q=10;w=10")),
                  AllOf(Field(&HeaderField::name, "RateLimit"),
                        Field(&HeaderField::value, "\"api\";r=0;t=3")),
                  AllOf(Field(&HeaderField::name, "Retry-After"),
                        Field(&HeaderField::value, "1"))));
}

TEST(HeadersTest, LegacyFieldsForAnAdmission) {
  Decision d;
  d.allowed = true;
  d.reason = DecisionReason::kAdmitted;
  d.limit = 10;
  d.remaining = 7;
  d.reset_after = milliseconds(300);
  EXPECT_THAT(
      RateLimitHeaders(ApiPolicy(), d, HeaderStyle::kLegacy),
      ElementsAre(AllOf(Field(&HeaderField::name, "X-RateLimit-Limit"),
                        Field(&HeaderField::value, "10")),
                  AllOf(Field(&HeaderField::name, "X-RateLimit-Remaining"),
                        Field(&HeaderField::value, "7")),
                  AllOf(Field(&HeaderField::name, "X-RateLimit-Reset"),
                        Field(&HeaderField::value, "1"))));
  EXPECT_EQ(RateLimitHeaders(ApiPolicy(), d, HeaderStyle::kBoth).size(), 5u);
}

}  // namespace
}  // namespace ratelimit
}  // namespace keel
