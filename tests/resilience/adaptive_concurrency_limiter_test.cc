#include "keel/resilience/adaptive_concurrency_limiter.h"

#include <chrono>
#include <vector>

#include "gtest/gtest.h"
#include "keel/base/clock.h"

namespace keel::resilience {
namespace {

using std::chrono::milliseconds;
using Algorithm = AdaptiveConcurrencyOptions::Algorithm;

class AdaptiveConcurrencyLimiterTest : public ::testing::Test {
 protected:
  AdaptiveConcurrencyOptions Options(Algorithm algorithm, int initial) {
    AdaptiveConcurrencyOptions options;
    options.algorithm = algorithm;
    options.initial_limit = initial;
    options.min_limit = 1;
    options.max_limit = 100;
    options.clock = &clock_;
    return options;
  }

  std::unique_ptr<AdaptiveConcurrencyLimiter> Make(
      const AdaptiveConcurrencyOptions& options) {
    auto limiter = AdaptiveConcurrencyLimiter::Create(options);
    EXPECT_TRUE(limiter.ok()) << limiter.status();
    return std::move(limiter).value();
  }

  // Admits `n` calls, advances the clock by `rtt`, reports them all.
  void Round(AdaptiveConcurrencyLimiter& limiter, int n,
             std::chrono::nanoseconds rtt, bool drop = false) {
    std::vector<AdaptiveConcurrencyLimiter::Permit> permits;
    for (int i = 0; i < n; ++i) {
      auto permit = limiter.Acquire();
      ASSERT_TRUE(permit.ok()) << i;
      permits.push_back(std::move(permit).value());
    }
    clock_.Advance(rtt);
    for (auto& permit : permits) {
      if (drop) {
        permit.OnDropped();
      } else {
        permit.OnSuccess();
      }
    }
  }

  ManualClock clock_;
};

TEST_F(AdaptiveConcurrencyLimiterTest, RejectsBadOptionsNamingTheField) {
  struct Case {
    void (*mutate)(AdaptiveConcurrencyOptions&);
    const char* field;
  };
  const Case cases[] = {
      {[](AdaptiveConcurrencyOptions& o) { o.min_limit = 0; }, "min_limit"},
      {[](AdaptiveConcurrencyOptions& o) { o.max_limit = 0; }, "max_limit"},
      {[](AdaptiveConcurrencyOptions& o) { o.initial_limit = 1000; },
       "initial_limit"},
      {[](AdaptiveConcurrencyOptions& o) { o.aimd.backoff_ratio = 1; },
       "aimd.backoff_ratio"},
      {[](AdaptiveConcurrencyOptions& o) { o.gradient2.smoothing = 0; },
       "gradient2.smoothing"},
      {[](AdaptiveConcurrencyOptions& o) { o.gradient2.tolerance = 0.5; },
       "gradient2.tolerance"},
      {[](AdaptiveConcurrencyOptions& o) { o.gradient2.long_window = 0; },
       "gradient2.long_window"},
      {[](AdaptiveConcurrencyOptions& o) { o.clock = nullptr; }, "clock"},
  };
  for (const Case& c : cases) {
    AdaptiveConcurrencyOptions options = Options(Algorithm::kAimd, 10);
    c.mutate(options);
    auto limiter = AdaptiveConcurrencyLimiter::Create(options);
    ASSERT_FALSE(limiter.ok()) << c.field;
    EXPECT_NE(limiter.status().message().find(c.field), std::string::npos)
        << limiter.status();
  }
}

TEST_F(AdaptiveConcurrencyLimiterTest, AdmitsBelowLimitAndFreesSlots) {
  auto limiter = Make(Options(Algorithm::kAimd, 2));
  auto a = limiter->Acquire();
  auto b = limiter->Acquire();
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  auto c = limiter->Acquire();
  EXPECT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted);
  { auto dropped_unreported = std::move(a).value(); }  // destructor: ignored
  EXPECT_EQ(limiter->in_flight(), 1);
  EXPECT_EQ(limiter->limit(), 2);  // ignored samples do not move the limit
  EXPECT_TRUE(limiter->Acquire().ok());
}

TEST_F(AdaptiveConcurrencyLimiterTest, AimdGrowsOnlyWhenHalfUsed) {
  auto limiter = Make(Options(Algorithm::kAimd, 10));
  Round(*limiter, 4, milliseconds(10));  // inflight 1..4: 4*2 < 10 -> no growth
  EXPECT_EQ(limiter->limit(), 10);
  Round(*limiter, 5,
        milliseconds(10));  // the 5th sample has inflight 5: 10 >= 10
  EXPECT_EQ(limiter->limit(), 11);
}

TEST_F(AdaptiveConcurrencyLimiterTest, AimdBacksOffOnDropAndTimeout) {
  AdaptiveConcurrencyOptions options = Options(Algorithm::kAimd, 20);
  options.aimd.timeout = milliseconds(100);
  auto limiter = Make(options);
  Round(*limiter, 1, milliseconds(1), /*drop=*/true);
  EXPECT_EQ(limiter->limit(), 18);        // floor(20 * 0.9)
  Round(*limiter, 1, milliseconds(100));  // RTT == timeout counts as a drop
  EXPECT_EQ(limiter->limit(), 16);        // floor(18 * 0.9) = 16
  for (int i = 0; i < 100; ++i) Round(*limiter, 1, milliseconds(1), true);
  EXPECT_EQ(limiter->limit(), 1);  // clamped at min_limit
}

TEST_F(AdaptiveConcurrencyLimiterTest, SamplesUseInflightAtAdmission) {
  auto limiter = Make(Options(Algorithm::kAimd, 4));
  // Admitted while 2 in flight (2*2 >= 4), reported when alone.
  auto first = std::move(limiter->Acquire()).value();
  auto second = std::move(limiter->Acquire()).value();
  first.OnIgnored();
  second.OnSuccess();
  EXPECT_EQ(limiter->limit(), 5);
  // Admitted alone (1*2 < 5), reported while others are in flight.
  auto lone = std::move(limiter->Acquire()).value();
  auto x = std::move(limiter->Acquire()).value();
  auto y = std::move(limiter->Acquire()).value();
  lone.OnSuccess();
  EXPECT_EQ(limiter->limit(), 5);
}

TEST_F(AdaptiveConcurrencyLimiterTest, Gradient2SlowStartThenSmoothedGrowth) {
  AdaptiveConcurrencyOptions options = Options(Algorithm::kGradient2, 4);
  options.gradient2.queue_size = 2;
  options.max_limit = 16;
  auto limiter = Make(options);
  // Steady RTT, fully used: each qualifying sample adds queue_size, unsmoothed.
  Round(*limiter, 4, milliseconds(10));  // samples with inflight 2,3,4 qualify
  EXPECT_DOUBLE_EQ(limiter->estimated_limit(), 4 + 2 + 2 + 2);
  Round(*limiter, 10, milliseconds(10));
  EXPECT_DOUBLE_EQ(limiter->estimated_limit(), 16);  // capped at max_limit
  // Past warm-up, a latency spike beyond tolerance ends slow start and
  // shrinks the limit.
  Round(*limiter, 16, milliseconds(40));
  const double after_spike = limiter->estimated_limit();
  EXPECT_LT(after_spike, 16);
  // Back to normal latency: growth is now smoothed, smoothing * queue_size =
  // 0.4 per qualifying sample at most.
  const int n = limiter->limit();
  Round(*limiter, n, milliseconds(10));
  EXPECT_GT(limiter->estimated_limit(), after_spike);
  EXPECT_LE(limiter->estimated_limit(), after_spike + 0.4 * n + 1e-9);
}

TEST_F(AdaptiveConcurrencyLimiterTest, Gradient2NeverGrowsWhenAppLimited) {
  auto limiter = Make(Options(Algorithm::kGradient2, 20));
  for (int i = 0; i < 50; ++i)
    Round(*limiter, 9, milliseconds(10));  // 9*2 < 20
  EXPECT_DOUBLE_EQ(limiter->estimated_limit(), 20);
}

TEST_F(AdaptiveConcurrencyLimiterTest, Gradient2BaselineDoesNotStayInflated) {
  AdaptiveConcurrencyOptions options = Options(Algorithm::kGradient2, 20);
  options.max_limit = 20;
  options.gradient2.long_window = 1000;  // a slow average: drift would persist
  auto limiter = Make(options);
  // A long overload teaches a 100 ms baseline.
  for (int i = 0; i < 3; ++i) Round(*limiter, 20, milliseconds(100));
  // Latency returns to 10 ms for 60 samples. A plain 1000-sample average would
  // still be ~89 ms; the decay brings the baseline back near 20 ms.
  for (int i = 0; i < 3; ++i) Round(*limiter, 20, milliseconds(10));
  ASSERT_EQ(limiter->limit(), 20);
  // Queueing returns (50 ms = 5x the real baseline): the limiter must react.
  Round(*limiter, 20, milliseconds(50));
  EXPECT_LT(limiter->limit(), 20);
}

TEST_F(AdaptiveConcurrencyLimiterTest, Gradient2DropShrinks) {
  auto limiter = Make(Options(Algorithm::kGradient2, 40));
  Round(*limiter, 1, milliseconds(5), /*drop=*/true);
  // limit += 0.2 * (40 * 0.5 + 4 - 40) = 40 - 3.2
  EXPECT_DOUBLE_EQ(limiter->estimated_limit(), 36.8);
  EXPECT_EQ(limiter->limit(), 36);
}

TEST_F(AdaptiveConcurrencyLimiterTest, ExecuteClassifiesStatuses) {
  auto limiter = Make(Options(Algorithm::kAimd, 10));
  EXPECT_EQ(limiter->Execute([] { return absl::UnavailableError("x"); }).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(limiter->limit(), 9);  // dropped
  EXPECT_EQ(limiter->Execute([] { return absl::NotFoundError("x"); }).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(limiter->limit(), 9);  // ignored
  EXPECT_EQ(limiter->in_flight(), 0);
}

}  // namespace
}  // namespace keel::resilience
