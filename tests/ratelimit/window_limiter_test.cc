#include "keel/ratelimit/window_limiter.h"

#include <chrono>
#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace keel {
namespace ratelimit {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// The manual clock starts at 1000 s: a multiple of the 10 s window, so the
// first window is [1000 s, 1010 s).
std::unique_ptr<WindowLimiter> Make(ManualClock* clock,
                                    WindowAlgorithm algorithm,
                                    bool shadow = false) {
  WindowLimiterOptions options;
  options.name = "login";
  options.limit = 10;
  options.window = seconds(10);
  options.algorithm = algorithm;
  options.shadow = shadow;
  options.clock = clock;
  auto limiter = WindowLimiter::Create(options);
  EXPECT_TRUE(limiter.ok()) << limiter.status();
  return *std::move(limiter);
}

TEST(FixedWindowTest, CountsUpToTheLimitInclusive) {
  ManualClock clock;
  auto limiter = Make(&clock, WindowAlgorithm::kFixed);
  clock.Advance(seconds(4));
  Decision first = limiter->TryAcquire(9);
  EXPECT_TRUE(first.allowed);
  EXPECT_EQ(first.remaining, 1);
  EXPECT_EQ(first.reset_after, seconds(6));
  EXPECT_TRUE(limiter->TryAcquire(1).allowed);  // count == limit fits
  Decision refused = limiter->TryAcquire(1);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.reason, DecisionReason::kRateLimited);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.retry_after, seconds(6));
  EXPECT_EQ(refused.reset_after, seconds(6));
}

TEST(FixedWindowTest, TheResetInstantBelongsToTheNewWindow) {
  ManualClock clock;
  auto limiter = Make(&clock, WindowAlgorithm::kFixed);
  const MonoTime start = clock.Now();
  ASSERT_TRUE(limiter->TryAcquire(10, start).allowed);
  EXPECT_FALSE(
      limiter->TryAcquire(1, start + seconds(10) - nanoseconds(1)).allowed);
  Decision fresh = limiter->TryAcquire(10, start + seconds(10));
  EXPECT_TRUE(fresh.allowed);
  EXPECT_EQ(fresh.reset_after, seconds(10));
}

TEST(FixedWindowTest, AllowsTwiceTheLimitAroundAnEdge) {
  // The documented weakness that the sliding window fixes.
  ManualClock clock;
  auto limiter = Make(&clock, WindowAlgorithm::kFixed);
  const MonoTime start = clock.Now();
  EXPECT_TRUE(limiter->TryAcquire(10, start + seconds(9)).allowed);
  EXPECT_TRUE(limiter->TryAcquire(10, start + seconds(10)).allowed);
}

TEST(FixedWindowTest, TimeGoingBackwardsCountsInTheCurrentWindow) {
  ManualClock clock;
  auto limiter = Make(&clock, WindowAlgorithm::kFixed);
  const MonoTime start = clock.Now();
  ASSERT_TRUE(limiter->TryAcquire(10, start + seconds(15)).allowed);
  // Back into the previous window: no reset, the count still holds.
  EXPECT_FALSE(limiter->TryAcquire(1, start + seconds(5)).allowed);
  EXPECT_FALSE(limiter->TryAcquire(1, start - seconds(100)).allowed);
  EXPECT_TRUE(limiter->TryAcquire(10, start + seconds(20)).allowed);
}

TEST(FixedWindowTest, OversizeAndInvalid) {
  ManualClock clock;
  auto limiter = Make(&clock, WindowAlgorithm::kFixed);
  Decision oversize = limiter->TryAcquire(11);
  EXPECT_FALSE(oversize.allowed);
  EXPECT_EQ(oversize.reason, DecisionReason::kOversize);
  EXPECT_EQ(oversize.retry_after, kNever);
  EXPECT_EQ(limiter->TryAcquire(-3).reason, DecisionReason::kInvalidPermits);
  EXPECT_EQ(limiter->TryAcquire(0).remaining, 10);
}

TEST(SlidingWindowTest, WeighsThePreviousWindow) {
  ManualClock clock;
  auto limiter = Make(&clock, WindowAlgorithm::kSliding);
  const MonoTime start = clock.Now();
  ASSERT_TRUE(limiter->TryAcquire(10, start + seconds(9)).allowed);
  // 2.5 s into the next window, 75% of the previous 10 still counts: 7.5,
  // so 2 more fit (9.5 <= 10) but not 3.
  const MonoTime t = start + seconds(12) + milliseconds(500);
  Decision query = limiter->TryAcquire(0, t);
  EXPECT_EQ(query.remaining, 2);
  EXPECT_FALSE(limiter->TryAcquire(3, t).allowed);
  Decision d = limiter->TryAcquire(2, t);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 0);
  // reset: the current window's counts leave the sliding window at its end
  // plus one window.
  EXPECT_EQ(d.reset_after, seconds(30) - seconds(12) - milliseconds(500));
}

TEST(SlidingWindowTest, RetryAfterIsTheExactInstantRoomAppears) {
  ManualClock clock;
  auto limiter = Make(&clock, WindowAlgorithm::kSliding);
  const MonoTime start = clock.Now();
  ASSERT_TRUE(limiter->TryAcquire(10, start).allowed);
  const MonoTime next = start + seconds(10);
  // 1 s into the next window the previous 10 weigh 9: one more fits.
  ASSERT_TRUE(limiter->TryAcquire(1, next + seconds(1)).allowed);
  // Another fits when 10 * (10 s - e) / 10 s + 1 + 1 <= 10, i.e. e >= 2 s.
  Decision d = limiter->TryAcquire(1, next + seconds(1));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, seconds(1));
  EXPECT_FALSE(
      limiter->TryAcquire(1, next + seconds(2) - nanoseconds(1)).allowed);
  EXPECT_TRUE(limiter->TryAcquire(1, next + seconds(2)).allowed);
}

TEST(SlidingWindowTest, RetryAfterCanLieInTheNextWindow) {
  ManualClock clock;
  auto limiter = Make(&clock, WindowAlgorithm::kSliding);
  const MonoTime start = clock.Now();
  ASSERT_TRUE(limiter->TryAcquire(8, start + seconds(2)).allowed);
  // Current 8: 4 more fit only once the 8 are the previous window and
  // weigh <= 6, i.e. 8 * (10 - e) / 10 <= 6 -> e >= 2.5 s.
  Decision d = limiter->TryAcquire(4, start + seconds(2));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, seconds(10) + milliseconds(500));
  EXPECT_FALSE(limiter
                   ->TryAcquire(4, start + seconds(12) + milliseconds(500) -
                                       nanoseconds(1))
                   .allowed);
  EXPECT_TRUE(
      limiter->TryAcquire(4, start + seconds(12) + milliseconds(500)).allowed);
}

TEST(SlidingWindowTest, ATwoWindowGapForgetsEverything) {
  ManualClock clock;
  auto limiter = Make(&clock, WindowAlgorithm::kSliding);
  const MonoTime start = clock.Now();
  ASSERT_TRUE(limiter->TryAcquire(10, start).allowed);
  Decision d = limiter->TryAcquire(10, start + seconds(20));
  EXPECT_TRUE(d.allowed);
}

TEST(SlidingWindowTest, NeverAdmitsMoreThanTheLimitInAnyAlignedWindow) {
  ManualClock clock;
  auto limiter = Make(&clock, WindowAlgorithm::kSliding);
  const MonoTime start = clock.Now();
  std::int64_t per_window[6] = {};
  for (MonoTime t = start; t < start + seconds(60); t += milliseconds(250)) {
    while (limiter->TryAcquire(1, t).allowed) {
      ++per_window[(t - start) / seconds(10)];
    }
  }
  for (std::int64_t count : per_window) EXPECT_LE(count, 10);
  // And the limiter is not starved either: steady state is about the limit.
  EXPECT_GE(per_window[5], 9);
}

TEST(WindowLimiterTest, ReserveAndCancelUncount) {
  ManualClock clock;
  auto limiter = Make(&clock, WindowAlgorithm::kFixed);
  Reservation r = limiter->Reserve(7);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.ready_at(), clock.Now());
  EXPECT_EQ(limiter->TryAcquire(0).remaining, 3);
  r.Cancel();
  EXPECT_EQ(limiter->TryAcquire(0).remaining, 10);
  // A reservation from a window that has passed has nothing to give back.
  Reservation old = limiter->Reserve(10);
  clock.Advance(seconds(10));
  ASSERT_TRUE(limiter->TryAcquire(4).allowed);
  old.Cancel();
  EXPECT_EQ(limiter->TryAcquire(0).remaining, 6);
}

TEST(WindowLimiterTest, SlidingCancelReachesThePreviousWindow) {
  ManualClock clock;
  auto limiter = Make(&clock, WindowAlgorithm::kSliding);
  Reservation r = limiter->Reserve(10);
  ASSERT_TRUE(r.ok());
  clock.Advance(seconds(10));
  EXPECT_EQ(limiter->TryAcquire(0).remaining, 0);
  r.Cancel();
  EXPECT_EQ(limiter->TryAcquire(0).remaining, 10);
}

TEST(WindowLimiterTest, AcquireFailsFastPastTheDeadline) {
  ManualClock clock;
  auto limiter = Make(&clock, WindowAlgorithm::kFixed);
  ASSERT_TRUE(limiter->TryAcquire(10).allowed);
  EXPECT_EQ(limiter->Acquire(1, clock.Now() + seconds(9)).code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(limiter->Acquire(11, clock.Now() + seconds(100)).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(WindowLimiterTest, ShadowModeNeverRefuses) {
  ManualClock clock;
  auto limiter = Make(&clock, WindowAlgorithm::kSliding, /*shadow=*/true);
  ASSERT_TRUE(limiter->TryAcquire(10).allowed);
  Decision d = limiter->TryAcquire(5);
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(d.would_reject());
  EXPECT_EQ(limiter->TryAcquire(0).remaining, 0);
  clock.Advance(seconds(20));
  EXPECT_EQ(limiter->TryAcquire(0).remaining, 10);  // shadowed 5 not counted
}

TEST(WindowLimiterTest, CreateValidatesEveryField) {
  ManualClock clock;
  struct Case {
    void (*mutate)(WindowLimiterOptions&);
    const char* field;
  };
  const Case cases[] = {
      {[](WindowLimiterOptions& o) { o.name = ""; }, "name"},
      {[](WindowLimiterOptions& o) { o.limit = 0; }, "limit"},
      {[](WindowLimiterOptions& o) { o.window = nanoseconds(-1); }, "window"},
      {[](WindowLimiterOptions& o) { o.limit = std::int64_t{1} << 40; },
       "limit times window"},
      {[](WindowLimiterOptions& o) { o.clock = nullptr; }, "clock"},
  };
  for (const Case& c : cases) {
    WindowLimiterOptions options;
    options.limit = 10;
    options.window = seconds(10);
    options.clock = &clock;
    c.mutate(options);
    auto limiter = WindowLimiter::Create(options);
    ASSERT_FALSE(limiter.ok()) << c.field;
    EXPECT_EQ(limiter.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(limiter.status().message(), testing::HasSubstr(c.field));
  }
}

TEST(WindowLimiterTest, Policy) {
  ManualClock clock;
  auto limiter = Make(&clock, WindowAlgorithm::kSliding);
  EXPECT_EQ(limiter->policy().name, "login");
  EXPECT_EQ(limiter->policy().quota, 10);
  EXPECT_EQ(limiter->policy().window, seconds(10));
}

}  // namespace
}  // namespace ratelimit
}  // namespace keel
