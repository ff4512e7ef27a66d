#include "keel/ratelimit/concurrency_limiter.h"

#include <memory>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace keel {
namespace ratelimit {
namespace {

std::unique_ptr<ConcurrencyLimiter> Make(std::int64_t limit,
                                         bool shadow = false) {
  ConcurrencyLimiterOptions options;
  options.name = "uploads";
  options.limit = limit;
  options.shadow = shadow;
  auto limiter = ConcurrencyLimiter::Create(options);
  EXPECT_TRUE(limiter.ok()) << limiter.status();
  return *std::move(limiter);
}

TEST(ConcurrencyLimiterTest, AdmitsUpToTheLimitAndReleasesOnDestruction) {
  auto limiter = Make(3);
  {
    ConcurrencyLimiter::Permit a = limiter->TryAcquire(2);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a.decision().remaining, 1);
    ConcurrencyLimiter::Permit b = limiter->TryAcquire();
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b.decision().remaining, 0);
    ConcurrencyLimiter::Permit c = limiter->TryAcquire();
    EXPECT_FALSE(c.ok());
    EXPECT_EQ(c.decision().reason, DecisionReason::kRateLimited);
    EXPECT_EQ(limiter->in_flight(), 3);  // the refusal took nothing
  }
  EXPECT_EQ(limiter->in_flight(), 0);
}

TEST(ConcurrencyLimiterTest, ReleaseIsIdempotentAndMovesTransferOwnership) {
  auto limiter = Make(2);
  ConcurrencyLimiter::Permit a = limiter->TryAcquire(2);
  ConcurrencyLimiter::Permit moved = std::move(a);
  a.Release();  // moved-from: holds nothing
  EXPECT_EQ(limiter->in_flight(), 2);
  moved.Release();
  moved.Release();
  EXPECT_EQ(limiter->in_flight(), 0);
  ConcurrencyLimiter::Permit b = limiter->TryAcquire(1);
  b = limiter->TryAcquire(1);  // assigning releases the old permit first
  EXPECT_EQ(limiter->in_flight(), 1);
}

TEST(ConcurrencyLimiterTest, OversizeAndInvalid) {
  auto limiter = Make(2);
  ConcurrencyLimiter::Permit p = limiter->TryAcquire(3);
  EXPECT_FALSE(p.ok());
  EXPECT_EQ(p.decision().reason, DecisionReason::kOversize);
  EXPECT_EQ(p.decision().retry_after, kNever);
  EXPECT_EQ(limiter->TryAcquire(-1).decision().reason,
            DecisionReason::kInvalidPermits);
  EXPECT_EQ(limiter->in_flight(), 0);
}

TEST(ConcurrencyLimiterTest, SetLimitAppliesToLaterRequests) {
  auto limiter = Make(2);
  ConcurrencyLimiter::Permit a = limiter->TryAcquire(2);
  ASSERT_TRUE(limiter->SetLimit(1).ok());
  EXPECT_FALSE(limiter->TryAcquire().ok());
  a.Release();
  EXPECT_TRUE(limiter->TryAcquire().ok());
  EXPECT_EQ(limiter->SetLimit(0).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ConcurrencyLimiterTest, ShadowPassThroughsHoldNothing) {
  auto limiter = Make(1, /*shadow=*/true);
  ConcurrencyLimiter::Permit a = limiter->TryAcquire();
  ConcurrencyLimiter::Permit b = limiter->TryAcquire();
  EXPECT_TRUE(b.ok());
  EXPECT_TRUE(b.decision().would_reject());
  EXPECT_EQ(limiter->in_flight(), 1);
  b.Release();
  EXPECT_EQ(limiter->in_flight(), 1);
}

TEST(ConcurrencyLimiterTest, CreateValidates) {
  ConcurrencyLimiterOptions options;
  options.limit = 0;
  EXPECT_THAT(ConcurrencyLimiter::Create(options).status().message(),
              testing::HasSubstr("limit"));
  options.limit = 1;
  options.name = "";
  EXPECT_THAT(ConcurrencyLimiter::Create(options).status().message(),
              testing::HasSubstr("name"));
}

}  // namespace
}  // namespace ratelimit
}  // namespace keel
