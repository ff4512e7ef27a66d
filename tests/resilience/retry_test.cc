#include "keel/resilience/retry.h"

#include <chrono>
#include <vector>

#include "gtest/gtest.h"
#include "keel/base/clock.h"
#include "keel/resilience/retry_after.h"
#include "keel/resilience/sleeper.h"

namespace keel::resilience {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

class RecordingListener : public RetryListener {
 public:
  void OnRetry(int attempt, nanoseconds, const absl::Status&) override {
    retries.push_back(attempt);
  }
  void OnGiveUp(RetryGiveUp reason, int attempts,
                const absl::Status&) override {
    give_ups.emplace_back(reason, attempts);
  }
  std::vector<int> retries;
  std::vector<std::pair<RetryGiveUp, int>> give_ups;
};

class RetryTest : public ::testing::Test {
 protected:
  RetryTest() : sleeper_(&clock_) {}

  RetryOptions Options() {
    RetryOptions options;
    options.clock = &clock_;
    options.sleeper = &sleeper_;
    options.listener = &listener_;
    options.random_seed = 42;
    return options;
  }

  std::unique_ptr<Retry> Make(const RetryOptions& options) {
    auto retry = Retry::Create(options);
    EXPECT_TRUE(retry.ok()) << retry.status();
    return std::move(retry).value();
  }

  ManualClock clock_;
  ManualClockSleeper sleeper_;
  RecordingListener listener_;
};

TEST_F(RetryTest, RejectsBadOptionsNamingTheField) {
  struct Case {
    void (*mutate)(RetryOptions&);
    const char* field;
  };
  const Case cases[] = {
      {[](RetryOptions& o) { o.max_attempts = 0; }, "max_attempts"},
      {[](RetryOptions& o) { o.initial_backoff = nanoseconds(0); },
       "initial_backoff"},
      {[](RetryOptions& o) { o.max_backoff = milliseconds(1); }, "max_backoff"},
      {[](RetryOptions& o) { o.multiplier = 0.9; }, "multiplier"},
      {[](RetryOptions& o) { o.clock = nullptr; }, "clock"},
      {[](RetryOptions& o) { o.sleeper = nullptr; }, "sleeper"},
  };
  for (const Case& c : cases) {
    RetryOptions options = Options();
    c.mutate(options);
    auto retry = Retry::Create(options);
    ASSERT_FALSE(retry.ok()) << c.field;
    EXPECT_NE(retry.status().message().find(c.field), std::string::npos);
  }
  RetryBudgetOptions budget;
  budget.max_tokens = 0;
  EXPECT_NE(RetryBudget::Create(budget).status().message().find("max_tokens"),
            std::string::npos);
  budget.max_tokens = 10;
  budget.token_ratio = 0;
  EXPECT_NE(RetryBudget::Create(budget).status().message().find("token_ratio"),
            std::string::npos);
}

TEST_F(RetryTest, MaxAttemptsCountsTheFirstCall) {
  RetryOptions options = Options();
  options.max_attempts = 3;
  auto retry = Make(options);
  int calls = 0;
  const absl::Status status = retry->Execute([&] {
    ++calls;
    return absl::UnavailableError("down");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(sleeper_.sleeps().size(), 2u);
  ASSERT_EQ(listener_.give_ups.size(), 1u);
  EXPECT_EQ(listener_.give_ups[0].first, RetryGiveUp::kAttemptsExhausted);
  EXPECT_EQ(listener_.give_ups[0].second, 3);

  options.max_attempts = 1;  // no retries at all
  retry = Make(options);
  calls = 0;
  retry
      ->Execute([&] {
        ++calls;
        return absl::UnavailableError("down");
      })
      .IgnoreError();
  EXPECT_EQ(calls, 1);
}

TEST_F(RetryTest, StopsOnSuccessAndReturnsValue) {
  auto retry = Make(Options());
  int calls = 0;
  absl::StatusOr<int> value = retry->Execute([&]() -> absl::StatusOr<int> {
    if (++calls < 2) return absl::UnavailableError("down");
    return 7;
  });
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, 7);
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(listener_.give_ups.empty());
}

TEST_F(RetryTest, NonRetryableReturnsImmediately) {
  RetryOptions options = Options();
  options.retryable = [](const absl::Status& s) {
    return s.code() == absl::StatusCode::kInternal;
  };
  auto retry = Make(options);
  int calls = 0;
  EXPECT_EQ(retry
                ->Execute([&] {
                  ++calls;
                  return absl::UnavailableError("not retryable here");
                })
                .code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(listener_.give_ups[0].first, RetryGiveUp::kNotRetryable);
  EXPECT_EQ(
      Make(Options())->Execute([] { return absl::NotFoundError("x"); }).code(),
      absl::StatusCode::kNotFound);  // default predicate
}

TEST_F(RetryTest, FullJitterStaysUnderTheExponentialCeiling) {
  RetryOptions options = Options();
  options.max_attempts = 6;
  options.initial_backoff = milliseconds(100);
  options.multiplier = 2;
  options.max_backoff = milliseconds(500);
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    options.random_seed = seed;
    ManualClockSleeper sleeper(&clock_);
    options.sleeper = &sleeper;
    Make(options)
        ->Execute([] { return absl::UnavailableError("x"); })
        .IgnoreError();
    const std::vector<nanoseconds> sleeps = sleeper.sleeps();
    ASSERT_EQ(sleeps.size(), 5u);
    const nanoseconds ceilings[] = {milliseconds(100), milliseconds(200),
                                    milliseconds(400), milliseconds(500),
                                    milliseconds(500)};
    for (int i = 0; i < 5; ++i) {
      EXPECT_GE(sleeps[i].count(), 0);
      EXPECT_LT(sleeps[i], ceilings[i]) << i;
    }
  }
}

TEST_F(RetryTest, DecorrelatedJitterStaysBetweenBaseAndThreeTimesPrevious) {
  RetryOptions options = Options();
  options.backoff = RetryOptions::Backoff::kDecorrelatedJitter;
  options.max_attempts = 8;
  options.initial_backoff = milliseconds(10);
  options.max_backoff = seconds(1);
  Make(options)
      ->Execute([] { return absl::UnavailableError("x"); })
      .IgnoreError();
  const std::vector<nanoseconds> sleeps = sleeper_.sleeps();
  ASSERT_EQ(sleeps.size(), 7u);
  nanoseconds previous = milliseconds(10);
  for (nanoseconds sleep : sleeps) {
    EXPECT_GE(sleep, milliseconds(10));
    EXPECT_LE(sleep, std::min<nanoseconds>(seconds(1), 3 * previous));
    previous = sleep;
  }
}

TEST_F(RetryTest, HonoursRetryAfterCarriedByTheError) {
  RetryOptions options = Options();
  options.max_attempts = 2;
  options.initial_backoff = milliseconds(1);
  options.max_backoff = milliseconds(1);
  auto retry = Make(options);
  retry
      ->Execute([] {
        absl::Status status = absl::ResourceExhaustedError("slow down");
        SetRetryAfter(status, seconds(3));
        return status;
      })
      .IgnoreError();
  ASSERT_EQ(sleeper_.sleeps().size(), 1u);
  EXPECT_EQ(sleeper_.sleeps()[0], seconds(3));

  options.honor_retry_after = false;
  ManualClockSleeper sleeper(&clock_);
  options.sleeper = &sleeper;
  Make(options)
      ->Execute([] {
        absl::Status status = absl::ResourceExhaustedError("slow down");
        SetRetryAfter(status, seconds(3));
        return status;
      })
      .IgnoreError();
  ASSERT_EQ(sleeper.sleeps().size(), 1u);
  EXPECT_LT(sleeper.sleeps()[0], milliseconds(1));
}

TEST_F(RetryTest, NeverSleepsPastTheDeadline) {
  RetryOptions options = Options();
  options.max_attempts = 100;
  options.initial_backoff = seconds(1);
  options.max_backoff = seconds(1);
  options.multiplier = 1;
  auto retry = Make(options);
  const MonoTime deadline = clock_.Now() + seconds(3);
  int calls = 0;
  retry
      ->Execute(
          [&] {
            ++calls;
            absl::Status status = absl::UnavailableError("x");
            SetRetryAfter(status, seconds(1));  // makes every delay exactly 1 s
            return status;
          },
          deadline)
      .IgnoreError();
  // Attempts at t=0, 1, 2; a sleep to t=3 would reach the deadline (>=).
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(clock_.Now(), deadline - seconds(1));
  EXPECT_EQ(listener_.give_ups[0].first, RetryGiveUp::kDeadline);

  // A Retry-After beyond the deadline stops at once.
  calls = 0;
  retry
      ->Execute(
          [&] {
            ++calls;
            absl::Status status = absl::UnavailableError("x");
            SetRetryAfter(status, seconds(60));
            return status;
          },
          clock_.Now() + seconds(30))
      .IgnoreError();
  EXPECT_EQ(calls, 1);
}

TEST_F(RetryTest, FirstAttemptRunsEvenPastTheDeadline) {
  auto retry = Make(Options());
  int calls = 0;
  retry
      ->Execute(
          [&] {
            ++calls;
            return absl::UnavailableError("x");
          },
          clock_.Now() - seconds(1))
      .IgnoreError();
  EXPECT_EQ(calls, 1);
}

TEST_F(RetryTest, BudgetFollowsGrpcThrottlingRules) {
  RetryBudgetOptions budget_options;
  budget_options.max_tokens = 4;
  budget_options.token_ratio = 0.5;
  auto budget = RetryBudget::Create(budget_options).value();
  EXPECT_DOUBLE_EQ(budget->tokens(), 4);
  budget->OnFailure();  // 3 > 2
  EXPECT_TRUE(budget->AllowRetry());
  budget->OnFailure();  // 2 is not > 2
  EXPECT_FALSE(budget->AllowRetry());
  budget->OnSuccess();  // 2.5
  EXPECT_TRUE(budget->AllowRetry());
  for (int i = 0; i < 10; ++i) budget->OnFailure();
  EXPECT_DOUBLE_EQ(budget->tokens(), 0);
  for (int i = 0; i < 100; ++i) budget->OnSuccess();
  EXPECT_DOUBLE_EQ(budget->tokens(), 4);
}

TEST_F(RetryTest, BudgetStopsRetryStorms) {
  RetryBudgetOptions budget_options;
  budget_options.max_tokens = 10;
  budget_options.token_ratio = 0.1;
  auto budget = RetryBudget::Create(budget_options).value();
  RetryOptions options = Options();
  options.max_attempts = 5;
  options.budget = budget.get();
  auto retry = Make(options);
  int calls = 0;
  for (int i = 0; i < 100; ++i) {
    retry
        ->Execute([&] {
          ++calls;
          return absl::UnavailableError("down");
        })
        .IgnoreError();
  }
  // Tokens 10 -> 5 after 5 failures: retries stop; later each call is
  // one attempt only (no amplification).
  EXPECT_EQ(calls, 5 + 99);
  EXPECT_EQ(listener_.give_ups.back().first, RetryGiveUp::kBudgetExhausted);
}

TEST(SleeperTest, ManualClockSleeperAdvancesTheClock) {
  ManualClock clock;
  ManualClockSleeper sleeper(&clock);
  const MonoTime start = clock.Now();
  sleeper.SleepFor(seconds(5));
  sleeper.SleepFor(seconds(-1));
  EXPECT_EQ(clock.Now(), start + seconds(5));
  EXPECT_EQ(sleeper.sleeps().size(), 2u);
}

TEST(RetryAfterTest, RoundTripsAndRejectsMalformedPayloads) {
  absl::Status status = absl::UnavailableError("x");
  EXPECT_FALSE(GetRetryAfter(status).has_value());
  SetRetryAfter(status, milliseconds(1500));
  EXPECT_EQ(GetRetryAfter(status), nanoseconds(milliseconds(1500)));
  SetRetryAfter(status, seconds(-3));
  EXPECT_EQ(GetRetryAfter(status), nanoseconds(0));
  absl::Status ok = absl::OkStatus();
  SetRetryAfter(ok, seconds(1));
  EXPECT_FALSE(GetRetryAfter(ok).has_value());
  for (const char* bad : {"", "-1", "1.5", "abc", "99999999999999999999"}) {
    absl::Status s = absl::UnavailableError("x");
    s.SetPayload(
        absl::string_view(kRetryAfterTypeUrl.data(), kRetryAfterTypeUrl.size()),
        absl::Cord(bad));
    EXPECT_FALSE(GetRetryAfter(s).has_value()) << bad;
  }
}

}  // namespace
}  // namespace keel::resilience
