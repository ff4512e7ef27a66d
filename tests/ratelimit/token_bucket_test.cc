#include "keel/ratelimit/token_bucket.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace keel {
namespace ratelimit {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// 10 permits per second (one every 100 ms), burst 5.
TokenBucketOptions TenPerSecond(ManualClock* clock) {
  TokenBucketOptions options;
  options.name = "api";
  options.rate = 10;
  options.period = seconds(1);
  options.burst = 5;
  options.clock = clock;
  return options;
}

std::unique_ptr<TokenBucket> Make(const TokenBucketOptions& options) {
  auto bucket = TokenBucket::Create(options);
  EXPECT_TRUE(bucket.ok()) << bucket.status();
  return *std::move(bucket);
}

TEST(TokenBucketTest, StartsFullAndAdmitsExactlyBurst) {
  ManualClock clock;
  auto bucket = Make(TenPerSecond(&clock));
  for (int i = 0; i < 5; ++i) {
    Decision d = bucket->TryAcquire();
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.reason, DecisionReason::kAdmitted);
    EXPECT_EQ(d.remaining, 4 - i);
    EXPECT_EQ(d.limit, 5);
    EXPECT_EQ(d.retry_after, nanoseconds(0));
    EXPECT_EQ(d.reset_after, milliseconds(100) * (i + 1));
  }
  Decision d = bucket->TryAcquire();
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, DecisionReason::kRateLimited);
  EXPECT_EQ(d.remaining, 0);
  EXPECT_EQ(d.retry_after, milliseconds(100));
  EXPECT_EQ(d.reset_after, milliseconds(500));
}

TEST(TokenBucketTest, AdmitsAtTheExactInstantThePermitAccrues) {
  ManualClock clock;
  auto bucket = Make(TenPerSecond(&clock));
  const MonoTime t0 = clock.Now();
  ASSERT_TRUE(bucket->TryAcquire(5, t0).allowed);
  // One nanosecond early: refused, with the exact wait.
  Decision early =
      bucket->TryAcquire(1, t0 + milliseconds(100) - nanoseconds(1));
  EXPECT_FALSE(early.allowed);
  EXPECT_EQ(early.retry_after, nanoseconds(1));
  // Exactly when the permit has accrued (>=): admitted.
  EXPECT_TRUE(bucket->TryAcquire(1, t0 + milliseconds(100)).allowed);
  EXPECT_FALSE(bucket->TryAcquire(1, t0 + milliseconds(100)).allowed);
}

TEST(TokenBucketTest, RetryAfterIsExactForSeveralPermits) {
  ManualClock clock;
  auto bucket = Make(TenPerSecond(&clock));
  const MonoTime t0 = clock.Now();
  ASSERT_TRUE(bucket->TryAcquire(4, t0).allowed);
  Decision d = bucket->TryAcquire(3, t0);  // 1 available, 2 missing
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.remaining, 1);
  EXPECT_EQ(d.retry_after, milliseconds(200));
  EXPECT_FALSE(
      bucket->TryAcquire(3, t0 + d.retry_after - nanoseconds(1)).allowed);
  EXPECT_TRUE(bucket->TryAcquire(3, t0 + d.retry_after).allowed);
}

TEST(TokenBucketTest, RefusalConsumesNothing) {
  ManualClock clock;
  auto bucket = Make(TenPerSecond(&clock));
  const MonoTime t0 = clock.Now();
  ASSERT_TRUE(bucket->TryAcquire(3, t0).allowed);
  for (int i = 0; i < 100; ++i) {
    ASSERT_FALSE(bucket->TryAcquire(3, t0).allowed);
  }
  EXPECT_TRUE(bucket->TryAcquire(2, t0).allowed);
}

TEST(TokenBucketTest, OversizeIsRefusedForeverWithReason) {
  ManualClock clock;
  auto bucket = Make(TenPerSecond(&clock));
  Decision d = bucket->TryAcquire(6);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, DecisionReason::kOversize);
  EXPECT_EQ(d.retry_after, kNever);
  EXPECT_EQ(d.remaining, 5);  // nothing was consumed
  clock.Advance(std::chrono::hours(1));
  EXPECT_EQ(bucket->TryAcquire(6).reason, DecisionReason::kOversize);
  EXPECT_EQ(bucket->Reserve(6).decision().reason, DecisionReason::kOversize);
  EXPECT_EQ(bucket->Acquire(6, clock.Now() + std::chrono::hours(1)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(bucket->TryAcquire(5).allowed);
}

TEST(TokenBucketTest, NegativePermitsAreInvalidAndZeroIsAQuery) {
  ManualClock clock;
  auto bucket = Make(TenPerSecond(&clock));
  Decision d = bucket->TryAcquire(-1);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, DecisionReason::kInvalidPermits);
  EXPECT_EQ(DecisionToStatus(d, "api").code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(bucket->TryAcquire(2).allowed);
  Decision query = bucket->TryAcquire(0);
  EXPECT_TRUE(query.allowed);
  EXPECT_EQ(query.remaining, 3);
  EXPECT_EQ(bucket->TryAcquire(0).remaining, 3);
}

TEST(TokenBucketTest, TimeGoingBackwardsIsANoOp) {
  ManualClock clock;
  auto bucket = Make(TenPerSecond(&clock));
  const MonoTime t0 = clock.Now();
  ASSERT_TRUE(bucket->TryAcquire(5, t0).allowed);
  // Far in the past: nothing is granted and the state does not move.
  for (int i = 0; i < 10; ++i) {
    EXPECT_FALSE(bucket->TryAcquire(1, t0 - seconds(100)).allowed);
  }
  EXPECT_FALSE(bucket->TryAcquire(1, t0 - std::chrono::hours(1000000)).allowed);
  // Back to the present: exactly as if the backwards reads never happened.
  EXPECT_FALSE(bucket->TryAcquire(1, t0).allowed);
  EXPECT_TRUE(bucket->TryAcquire(1, t0 + milliseconds(100)).allowed);
  // A manual clock moved backwards behaves the same.
  clock.Set(t0 + milliseconds(100));
  clock.Advance(-seconds(5));
  EXPECT_FALSE(bucket->TryAcquire().allowed);
}

TEST(TokenBucketTest, NeverExceedsRateTimesTimePlusBurst) {
  ManualClock clock;
  auto bucket = Make(TenPerSecond(&clock));
  const MonoTime t0 = clock.Now();
  std::int64_t admitted = 0;
  // Probe every 7 ms for 10 s.
  for (MonoTime t = t0; t <= t0 + seconds(10); t += milliseconds(7)) {
    while (bucket->TryAcquire(1, t).allowed) ++admitted;
  }
  // Last probe at 9.996 s: 99 permits accrued plus the burst.
  EXPECT_EQ(admitted, 99 + 5);
}

TEST(TokenBucketTest, InitialTokens) {
  ManualClock clock;
  TokenBucketOptions options = TenPerSecond(&clock);
  options.initial_tokens = 2;
  auto bucket = Make(options);
  EXPECT_EQ(bucket->TryAcquire(0).remaining, 2);
  EXPECT_TRUE(bucket->TryAcquire(2).allowed);
  EXPECT_FALSE(bucket->TryAcquire(1).allowed);
  options.initial_tokens = 0;
  auto empty = Make(options);
  EXPECT_FALSE(empty->TryAcquire(1).allowed);
  clock.Advance(milliseconds(500));
  EXPECT_TRUE(empty->TryAcquire(5).allowed);
}

TEST(TokenBucketTest,
     IntervalIsRoundedUpSoTheRateNeverExceedsTheConfiguredOne) {
  ManualClock clock;
  TokenBucketOptions options;
  options.rate = 3;  // 1 s / 3 = 333333333.33 ns -> 333333334 ns
  options.burst = 1;
  options.clock = &clock;
  auto bucket = Make(options);
  const MonoTime t0 = clock.Now();
  ASSERT_TRUE(bucket->TryAcquire(1, t0).allowed);
  EXPECT_FALSE(bucket->TryAcquire(1, t0 + nanoseconds(333333333)).allowed);
  EXPECT_TRUE(bucket->TryAcquire(1, t0 + nanoseconds(333333334)).allowed);
}

TEST(TokenBucketTest, ReserveWithinBurstIsReadyNow) {
  ManualClock clock;
  auto bucket = Make(TenPerSecond(&clock));
  Reservation r = bucket->Reserve(3);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.ready_at(), clock.Now());
  EXPECT_EQ(r.WaitFrom(clock.Now()), nanoseconds(0));
  EXPECT_EQ(bucket->TryAcquire(0).remaining, 2);
}

TEST(TokenBucketTest, ReserveGoesIntoBoundedDebt) {
  ManualClock clock;
  TokenBucketOptions options = TenPerSecond(&clock);
  options.max_debt = 3;
  auto bucket = Make(options);
  const MonoTime t0 = clock.Now();
  ASSERT_TRUE(bucket->TryAcquire(5, t0).allowed);
  Reservation r1 = bucket->Reserve(2, t0);
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1.ready_at(), t0 + milliseconds(200));
  EXPECT_EQ(r1.decision().retry_after, milliseconds(200));
  Reservation r2 = bucket->Reserve(1, t0);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2.ready_at(), t0 + milliseconds(300));
  // The debt (3) is used up: refused, nothing consumed.
  Reservation r3 = bucket->Reserve(1, t0);
  EXPECT_FALSE(r3.ok());
  EXPECT_EQ(r3.decision().reason, DecisionReason::kRateLimited);
  EXPECT_EQ(r3.decision().retry_after, milliseconds(100));
  // TryAcquire never borrows.
  EXPECT_FALSE(bucket->TryAcquire(1, t0 + milliseconds(300)).allowed);
  EXPECT_TRUE(bucket->TryAcquire(1, t0 + milliseconds(400)).allowed);
}

TEST(TokenBucketTest, CancelRestoresTheStateExactly) {
  ManualClock clock;
  TokenBucketOptions options = TenPerSecond(&clock);
  options.max_debt = 5;
  auto bucket = Make(options);
  const MonoTime t0 = clock.Now();
  ASSERT_TRUE(bucket->TryAcquire(4, t0).allowed);
  Reservation r = bucket->Reserve(3);  // 1 now, 2 borrowed
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.ready_at(), t0 + milliseconds(200));
  r.Cancel();
  EXPECT_EQ(bucket->TryAcquire(0).remaining, 1);
  r.Cancel();  // idempotent
  EXPECT_EQ(bucket->TryAcquire(0).remaining, 1);
  // A cancel after part of the reservation has refilled returns only the
  // part still ahead: the state equals "never reserved".
  Reservation late = bucket->Reserve(3);  // TAT t0+400ms -> t0+700ms
  ASSERT_TRUE(late.ok());
  clock.Advance(milliseconds(650));
  late.Cancel();
  // Without the reservation the bucket would have been full since t0+400ms.
  EXPECT_EQ(bucket->TryAcquire(0).remaining, 5);
}

TEST(TokenBucketTest, CancelAfterOtherReservationsIsExact) {
  ManualClock clock;
  TokenBucketOptions options = TenPerSecond(&clock);
  options.max_debt = 10;
  auto bucket = Make(options);
  Reservation a = bucket->Reserve(4);
  Reservation b = bucket->Reserve(5);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  a.Cancel();
  // As if only b had been reserved: 5 taken from a full bucket of 5.
  EXPECT_EQ(bucket->TryAcquire(0).remaining, 0);
  EXPECT_EQ(bucket->TryAcquire(1).retry_after, milliseconds(100));
  b.Cancel();
  EXPECT_EQ(bucket->TryAcquire(0).remaining, 5);
}

TEST(TokenBucketTest, MovedReservationCancelsOnce) {
  ManualClock clock;
  auto bucket = Make(TenPerSecond(&clock));
  Reservation r = bucket->Reserve(2);
  Reservation moved = std::move(r);
  r.Cancel();  // NOLINT(bugprone-use-after-move): moved-from does nothing
  EXPECT_EQ(bucket->TryAcquire(0).remaining, 3);
  moved.Cancel();
  EXPECT_EQ(bucket->TryAcquire(0).remaining, 5);
}

TEST(TokenBucketTest, SetRateRescalesProportionally) {
  ManualClock clock;
  auto bucket = Make(TenPerSecond(&clock));    // 100 ms per permit, burst 5
  ASSERT_TRUE(bucket->TryAcquire(3).allowed);  // 2 of 5 left: 40% full
  // Twice the burst at the same rate: still 40% full -> 4 of 10.
  ASSERT_TRUE(bucket->SetRate(10, seconds(1), 10).ok());
  EXPECT_EQ(bucket->TryAcquire(0).remaining, 4);
  EXPECT_EQ(bucket->TryAcquire(0).limit, 10);
  // Five times slower with burst 5: 40% -> 2 of 5, refills every 500 ms.
  ASSERT_TRUE(bucket->SetRate(2, seconds(1), 5).ok());
  EXPECT_EQ(bucket->TryAcquire(0).remaining, 2);
  ASSERT_TRUE(bucket->TryAcquire(2).allowed);
  Decision d = bucket->TryAcquire(1);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, milliseconds(500));
  EXPECT_EQ(bucket->policy().quota, 5);
  EXPECT_EQ(bucket->policy().window, milliseconds(2500));
}

TEST(TokenBucketTest, SetRateOnAFullBucketKeepsItFull) {
  ManualClock clock;
  auto bucket = Make(TenPerSecond(&clock));
  ASSERT_TRUE(bucket->SetRate(100, seconds(1), 50).ok());
  EXPECT_EQ(bucket->TryAcquire(0).remaining, 50);
  EXPECT_TRUE(bucket->TryAcquire(50).allowed);
}

TEST(TokenBucketTest, SetRateRejectsBadValuesAndKeepsState) {
  ManualClock clock;
  auto bucket = Make(TenPerSecond(&clock));
  ASSERT_TRUE(bucket->TryAcquire(1).allowed);
  EXPECT_THAT(bucket->SetRate(0, seconds(1), 5).message(),
              testing::HasSubstr("rate"));
  EXPECT_THAT(bucket->SetRate(1, seconds(0), 5).message(),
              testing::HasSubstr("period"));
  EXPECT_THAT(bucket->SetRate(1, seconds(1), 0).message(),
              testing::HasSubstr("burst"));
  EXPECT_EQ(bucket->TryAcquire(0).remaining, 4);
  EXPECT_EQ(bucket->TryAcquire(0).limit, 5);
}

TEST(TokenBucketTest, ShadowModeDecidesButNeverRefuses) {
  ManualClock clock;
  TokenBucketOptions options = TenPerSecond(&clock);
  options.shadow = true;
  auto bucket = Make(options);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(bucket->TryAcquire().allowed);
  Decision d = bucket->TryAcquire();
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(d.would_reject());
  EXPECT_EQ(d.reason, DecisionReason::kRateLimited);
  EXPECT_EQ(d.retry_after, milliseconds(100));
  Decision oversize = bucket->TryAcquire(6);
  EXPECT_TRUE(oversize.allowed);
  EXPECT_EQ(oversize.reason, DecisionReason::kOversize);
  // Shadow pass-throughs consume nothing: one permit after 100 ms, not less.
  clock.Advance(milliseconds(100));
  EXPECT_EQ(bucket->TryAcquire().reason, DecisionReason::kAdmitted);
  EXPECT_EQ(bucket->TryAcquire().reason, DecisionReason::kRateLimited);
  EXPECT_TRUE(bucket->Acquire(1, clock.Now()).ok());
}

class RecordingObserver : public DecisionObserver {
 public:
  void OnDecision(std::string_view limiter, const Decision& d) override {
    limiters.emplace_back(limiter);
    decisions.push_back(d);
  }
  std::vector<std::string> limiters;
  std::vector<Decision> decisions;
};

TEST(TokenBucketTest, ObserverSeesEveryDecision) {
  ManualClock clock;
  RecordingObserver observer;
  TokenBucketOptions options = TenPerSecond(&clock);
  options.observer = &observer;
  auto bucket = Make(options);
  bucket->TryAcquire(5);
  bucket->TryAcquire(1);
  bucket->Reserve(1);
  ASSERT_EQ(observer.decisions.size(), 3u);
  EXPECT_EQ(observer.limiters[0], "api");
  EXPECT_TRUE(observer.decisions[0].allowed);
  EXPECT_FALSE(observer.decisions[1].allowed);
  EXPECT_FALSE(observer.decisions[2].allowed);
}

TEST(TokenBucketTest, AcquireFailsFastWhenTheDeadlineCannotBeMet) {
  ManualClock clock;
  TokenBucketOptions options = TenPerSecond(&clock);
  options.max_debt = 5;
  auto bucket = Make(options);
  ASSERT_TRUE(bucket->TryAcquire(5).allowed);
  const absl::Status status =
      bucket->Acquire(1, clock.Now() + milliseconds(100) - nanoseconds(1));
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  // The reservation it made was cancelled.
  clock.Advance(milliseconds(100));
  EXPECT_TRUE(bucket->TryAcquire(1).allowed);
}

TEST(TokenBucketTest, AcquireReturnsAtOnceWhenPermitsAreThere) {
  ManualClock clock;
  auto bucket = Make(TenPerSecond(&clock));
  EXPECT_TRUE(bucket->Acquire(5, clock.Now()).ok());
  // Without debt, a wait goes through retry_after.
  EXPECT_EQ(bucket->Acquire(1, clock.Now()).code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST(TokenBucketTest, AcquireWaitsForTheManualClock) {
  ManualClock clock;
  TokenBucketOptions options = TenPerSecond(&clock);
  options.max_debt = 5;
  auto bucket = Make(options);
  ASSERT_TRUE(bucket->TryAcquire(5).allowed);
  absl::Status status = absl::UnknownError("not run");
  std::thread waiter(
      [&] { status = bucket->Acquire(2, clock.Now() + seconds(10)); });
  // Wait until the waiter's reservation is visible (the TAT moved 200 ms).
  while (bucket->TryAcquire(0).reset_after < milliseconds(700)) {
    std::this_thread::yield();
  }
  clock.Advance(milliseconds(100));
  clock.Advance(milliseconds(100));
  waiter.join();
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_FALSE(bucket->TryAcquire(1).allowed);
}

TEST(TokenBucketTest, CreateValidatesEveryField) {
  ManualClock clock;
  struct Case {
    void (*mutate)(TokenBucketOptions&);
    const char* field;
  };
  const Case cases[] = {
      {[](TokenBucketOptions& o) { o.name = ""; }, "name"},
      {[](TokenBucketOptions& o) { o.name = "a\nb"; }, "name"},
      {[](TokenBucketOptions& o) { o.rate = 0; }, "rate"},
      {[](TokenBucketOptions& o) { o.period = nanoseconds(0); }, "period"},
      {[](TokenBucketOptions& o) { o.burst = 0; }, "burst"},
      {[](TokenBucketOptions& o) { o.initial_tokens = 6; }, "initial_tokens"},
      {[](TokenBucketOptions& o) { o.initial_tokens = -1; }, "initial_tokens"},
      {[](TokenBucketOptions& o) { o.max_debt = -1; }, "max_debt"},
      {[](TokenBucketOptions& o) { o.burst = std::int64_t{1} << 40; }, "burst"},
      {[](TokenBucketOptions& o) { o.clock = nullptr; }, "clock"},
  };
  for (const Case& c : cases) {
    TokenBucketOptions options = TenPerSecond(&clock);
    c.mutate(options);
    auto bucket = TokenBucket::Create(options);
    ASSERT_FALSE(bucket.ok()) << c.field;
    EXPECT_EQ(bucket.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(bucket.status().message(), testing::HasSubstr(c.field));
  }
}

TEST(TokenBucketTest, ExtremeCallerTimesDoNotOverflow) {
  ManualClock clock;
  auto bucket = Make(TenPerSecond(&clock));
  const MonoTime max = MonoTime::max();
  Decision d = bucket->TryAcquire(5, max);
  EXPECT_TRUE(d.allowed);
  EXPECT_FALSE(bucket->TryAcquire(1, max).allowed);
  EXPECT_FALSE(bucket->TryAcquire(1, MonoTime::min()).allowed);
}

TEST(TokenBucketTest, PolicyAdvertisesBurstAndRefillTime) {
  ManualClock clock;
  auto bucket = Make(TenPerSecond(&clock));
  const Policy policy = bucket->policy();
  EXPECT_EQ(policy.name, "api");
  EXPECT_EQ(policy.quota, 5);
  EXPECT_EQ(policy.window, milliseconds(500));
  EXPECT_EQ(bucket->name(), "api");
}

// Striped mode. 8 permits over 4 stripes (2 each); the bucket accrues one
// permit per 100 ms, so each stripe one per 400 ms. Which stripe is the test
// thread's home depends on its thread slot, so every expectation below holds
// whichever it is.
TokenBucketOptions FourStripes(ManualClock* clock) {
  TokenBucketOptions options = TenPerSecond(clock);
  options.burst = 8;
  options.stripes = 4;
  return options;
}

constexpr nanoseconds kStripeInterval = milliseconds(400);

TEST(TokenBucketStripedTest, SplitsBurstInitialTokensAndDebtIntoShares) {
  ManualClock clock;
  TokenBucketOptions options = TenPerSecond(&clock);
  options.burst = 10;  // shares 3 3 2 2
  options.stripes = 4;
  auto full = Make(options);
  // A reservation comes from one stripe: two stripes hold 3.
  EXPECT_TRUE(full->Reserve(3).ok());
  EXPECT_TRUE(full->Reserve(3).ok());
  EXPECT_FALSE(full->Reserve(3).ok());
  Reservation too_big = full->Reserve(4);
  EXPECT_EQ(too_big.decision().reason, DecisionReason::kOversize);
  EXPECT_EQ(too_big.decision().limit, 3);
  EXPECT_EQ(too_big.decision().retry_after, kNever);

  options.initial_tokens = 7;  // shares 2 2 2 1
  auto partial = Make(options);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(partial->Reserve(2).ok()) << i;
  EXPECT_FALSE(partial->Reserve(2).ok());
  EXPECT_TRUE(partial->Reserve(1).ok());
  EXPECT_FALSE(partial->TryAcquire(1).allowed);

  options.initial_tokens = std::nullopt;
  options.max_debt = 5;  // shares 2 1 1 1
  auto borrowing = Make(options);
  const MonoTime t0 = clock.Now();
  ASSERT_TRUE(borrowing->TryAcquire(10, t0).allowed);
  // Only one stripe may borrow two permits, ready after two of its
  // intervals; the three others one each.
  Reservation two = borrowing->Reserve(2, t0);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two.ready_at(), t0 + 2 * kStripeInterval);
  EXPECT_FALSE(borrowing->Reserve(2, t0).ok());
  for (int i = 0; i < 3; ++i) {
    Reservation one = borrowing->Reserve(1, t0);
    ASSERT_TRUE(one.ok()) << i;
    EXPECT_EQ(one.ready_at(), t0 + kStripeInterval);
  }
  Reservation refused = borrowing->Reserve(1, t0);
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.decision().reason, DecisionReason::kRateLimited);
  EXPECT_EQ(refused.decision().retry_after, kStripeInterval);
}

TEST(TokenBucketStripedTest, OneThreadDrainsEveryStripeThenRefillsAtTheRate) {
  ManualClock clock;
  auto bucket = Make(FourStripes(&clock));
  EXPECT_EQ(bucket->stripes(), 4);
  const MonoTime t0 = clock.Now();
  for (int i = 0; i < 8; ++i) {
    Decision d = bucket->TryAcquire(1, t0);
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.limit, 8);
  }
  Decision refused = bucket->TryAcquire(1, t0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.retry_after, kStripeInterval);
  EXPECT_EQ(refused.reset_after, 2 * kStripeInterval);
  EXPECT_FALSE(
      bucket->TryAcquire(1, t0 + kStripeInterval - nanoseconds(1)).allowed);
  // Probing every 100 ms for 10 s: the stripes emptied together refill
  // together (four permits every 400 ms), never above rate x time + burst,
  // and exactly at it on every multiple of 400 ms.
  std::int64_t admitted = 8;
  for (int m = 1; m <= 100; ++m) {
    const MonoTime t = t0 + milliseconds(100) * m;
    while (bucket->TryAcquire(1, t).allowed) ++admitted;
    ASSERT_LE(admitted, 8 + m) << m;
    if (m % 4 == 0) {
      ASSERT_EQ(admitted, 8 + m) << m;
    }
  }
  EXPECT_EQ(admitted, 108);
}

TEST(TokenBucketStripedTest, LargeRequestsGatherPermitsAcrossStripes) {
  ManualClock clock;
  auto bucket = Make(FourStripes(&clock));
  auto twin = Make(FourStripes(&clock));
  const MonoTime t0 = clock.Now();
  // 5 > 2 per stripe: drawn from three stripes (2 + 2 + 1), one left there.
  Decision d = bucket->TryAcquire(5, t0);
  ASSERT_TRUE(d.allowed);
  EXPECT_EQ(d.reason, DecisionReason::kAdmitted);
  EXPECT_EQ(d.remaining, 1);
  EXPECT_EQ(d.reset_after, 2 * kStripeInterval);
  ASSERT_TRUE(twin->TryAcquire(5, t0).allowed);
  // 4 of the 3 left: refused with nothing taken.
  Decision refused = bucket->TryAcquire(4, t0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.reason, DecisionReason::kRateLimited);
  EXPECT_EQ(refused.retry_after, kStripeInterval);
  // From here on the bucket decides exactly like its twin, which never saw
  // the refused request.
  for (const MonoTime t : {t0, t0 + milliseconds(399), t0 + kStripeInterval,
                           t0 + milliseconds(1000)}) {
    for (std::int64_t n : {3, 1, 4, 2}) {
      const Decision a = bucket->TryAcquire(n, t);
      const Decision b = twin->TryAcquire(n, t);
      EXPECT_EQ(a.allowed, b.allowed) << n;
      EXPECT_EQ(a.remaining, b.remaining) << n;
      EXPECT_EQ(a.retry_after, b.retry_after) << n;
      EXPECT_EQ(a.reset_after, b.reset_after) << n;
    }
  }
  // The whole burst at once, from every stripe.
  EXPECT_TRUE(bucket->TryAcquire(8, t0 + std::chrono::hours(1)).allowed);
  EXPECT_EQ(bucket->TryAcquire(9).reason, DecisionReason::kOversize);
}

TEST(TokenBucketStripedTest, RetryAfterIsTheSoonestOneOrAllStripesCanGrant) {
  ManualClock clock;
  auto bucket = Make(FourStripes(&clock));
  const MonoTime t0 = clock.Now();
  ASSERT_TRUE(bucket->TryAcquire(2, t0).allowed);  // empties the home stripe
  const MonoTime t1 = t0 + milliseconds(100);
  ASSERT_TRUE(bucket->TryAcquire(6, t1).allowed);  // and the three others
  // Permits arrive at t0 + 400 ms (home), t0 + 500 ms (three others), then
  // t0 + 800 ms (home) and t0 + 900 ms.
  EXPECT_EQ(bucket->TryAcquire(1, t1).retry_after, milliseconds(300));
  // Two from one stripe: the home stripe's second permit.
  EXPECT_EQ(bucket->TryAcquire(2, t1).retry_after, milliseconds(700));
  // Three or five: the third / fifth permit arriving anywhere.
  EXPECT_EQ(bucket->TryAcquire(3, t1).retry_after, milliseconds(400));
  EXPECT_EQ(bucket->TryAcquire(5, t1).retry_after, milliseconds(700));
  EXPECT_FALSE(
      bucket->TryAcquire(3, t1 + milliseconds(400) - nanoseconds(1)).allowed);
  EXPECT_TRUE(bucket->TryAcquire(3, t1 + milliseconds(400)).allowed);
}

TEST(TokenBucketStripedTest, CancelReturnsPermitsToTheirStripe) {
  ManualClock clock;
  auto bucket = Make(FourStripes(&clock));
  const MonoTime t0 = clock.Now();
  Reservation first = bucket->Reserve(2);  // empties one stripe
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first.ready_at(), t0);
  clock.Advance(milliseconds(100));
  Reservation second = bucket->Reserve(2);  // empties another, 100 ms later
  ASSERT_TRUE(second.ok());
  first.Cancel();
  // The first stripe is full again and the second still empty: 6 permits.
  // (Given back to the second stripe, the 700 ms still ahead of the first
  // reservation would have left 2 + 1 + 2 permits.)
  EXPECT_TRUE(bucket->TryAcquire(6).allowed);
  EXPECT_FALSE(bucket->TryAcquire(1).allowed);
  second.Cancel();
  EXPECT_TRUE(bucket->TryAcquire(2).allowed);
  EXPECT_FALSE(bucket->TryAcquire(1).allowed);
}

TEST(TokenBucketStripedTest, ReserveAndAcquireStayWithinOneStripe) {
  ManualClock clock;
  TokenBucketOptions options = FourStripes(&clock);
  options.max_debt = 4;  // one per stripe
  auto bucket = Make(options);
  const MonoTime t0 = clock.Now();
  ASSERT_TRUE(bucket->TryAcquire(8, t0).allowed);
  Reservation r = bucket->Reserve(2, t0);  // 2 > one stripe's debt
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.decision().retry_after, kStripeInterval);
  EXPECT_EQ(bucket->Reserve(3, t0).decision().reason,
            DecisionReason::kOversize);
  EXPECT_EQ(bucket->Acquire(3, t0 + std::chrono::hours(1)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bucket->Acquire(1, t0 + kStripeInterval - nanoseconds(1)).code(),
            absl::StatusCode::kDeadlineExceeded);
  clock.Advance(kStripeInterval);
  EXPECT_TRUE(bucket->Acquire(1, clock.Now()).ok());
}

TEST(TokenBucketStripedTest, SetRateRescalesEveryStripe) {
  ManualClock clock;
  auto bucket = Make(FourStripes(&clock));
  ASSERT_TRUE(bucket->TryAcquire(2).allowed);
  ASSERT_TRUE(bucket->TryAcquire(2).allowed);  // two stripes empty, two full
  // Twice the burst: empty stripes stay empty, full ones hold 4 each.
  ASSERT_TRUE(bucket->SetRate(10, seconds(1), 16).ok());
  EXPECT_EQ(bucket->policy().quota, 16);
  EXPECT_TRUE(bucket->TryAcquire(8).allowed);
  Decision d = bucket->TryAcquire(1);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.limit, 16);
  EXPECT_EQ(d.retry_after, kStripeInterval);
  // Fewer permits than stripes: refused, nothing changed.
  const absl::Status status = bucket->SetRate(10, seconds(1), 2);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), testing::HasSubstr("stripes"));
  EXPECT_EQ(bucket->TryAcquire(1).limit, 16);
  clock.Advance(std::chrono::hours(1));
  EXPECT_TRUE(bucket->TryAcquire(16).allowed);
}

TEST(TokenBucketStripedTest, TimeGoingBackwardsIsANoOpOnEveryStripe) {
  ManualClock clock;
  auto bucket = Make(FourStripes(&clock));
  const MonoTime t0 = clock.Now();
  ASSERT_TRUE(bucket->TryAcquire(8, t0).allowed);
  EXPECT_FALSE(bucket->TryAcquire(1, t0 - seconds(100)).allowed);
  EXPECT_FALSE(bucket->TryAcquire(4, t0 - seconds(100)).allowed);
  EXPECT_FALSE(bucket->TryAcquire(4, MonoTime::min()).allowed);
  EXPECT_FALSE(bucket->TryAcquire(1, t0).allowed);
  EXPECT_TRUE(bucket->TryAcquire(4, t0 + kStripeInterval).allowed);
  EXPECT_FALSE(bucket->TryAcquire(1, t0 + kStripeInterval).allowed);
  EXPECT_TRUE(bucket->TryAcquire(8, MonoTime::max()).allowed);
}

TEST(TokenBucketStripedTest, ShadowModeAppliesToStripedDecisions) {
  ManualClock clock;
  TokenBucketOptions options = FourStripes(&clock);
  options.shadow = true;
  auto bucket = Make(options);
  ASSERT_TRUE(bucket->TryAcquire(8).allowed);
  Decision d = bucket->TryAcquire(5);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.reason, DecisionReason::kRateLimited);
  clock.Advance(kStripeInterval);
  EXPECT_EQ(bucket->TryAcquire(4).reason, DecisionReason::kAdmitted);
}

TEST(TokenBucketStripedTest, CreateValidatesStripes) {
  ManualClock clock;
  for (int stripes : {-1, 3, 6, 128}) {
    TokenBucketOptions options = TenPerSecond(&clock);
    options.burst = 1000;
    options.stripes = stripes;
    auto bucket = TokenBucket::Create(options);
    ASSERT_FALSE(bucket.ok()) << stripes;
    EXPECT_EQ(bucket.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(bucket.status().message(), testing::HasSubstr("stripes"));
  }
  TokenBucketOptions options = TenPerSecond(&clock);
  options.burst = 3;
  options.stripes = 4;
  auto small = TokenBucket::Create(options);
  ASSERT_FALSE(small.ok());
  EXPECT_THAT(small.status().message(),
              testing::HasSubstr("burst must be >= stripes"));
  // A stripe's share times S intervals is checked too: burst 5 over 4
  // stripes is 2 x 4 intervals, above 2^60 ns where 5 intervals are not.
  options.rate = 1;
  options.period = nanoseconds((std::int64_t{1} << 60) / 6);
  options.burst = 5;
  auto huge = TokenBucket::Create(options);
  ASSERT_FALSE(huge.ok());
  EXPECT_THAT(huge.status().message(), testing::HasSubstr("burst"));
}

TEST(TokenBucketStripedTest, AutomaticStripesFollowTheCpusAndTheBurst) {
  ManualClock clock;
  TokenBucketOptions options = TenPerSecond(&clock);
  options.stripes = 0;
  options.burst = 1000;
  const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  int expected = 1;
  while (expected < 64 && static_cast<unsigned>(expected) < cpus) {
    expected *= 2;
  }
  EXPECT_EQ(Make(options)->stripes(), expected);
  options.burst = 1;
  EXPECT_EQ(Make(options)->stripes(), 1);
  options.burst = 3;
  EXPECT_EQ(Make(options)->stripes(), std::min(expected, 2));
}

}  // namespace
}  // namespace ratelimit
}  // namespace keel
