#include "keel/resilience/circuit_breaker.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "keel/base/clock.h"
#include "keel/resilience/retry_after.h"

namespace keel::resilience {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class RecordingListener : public CircuitBreakerListener {
 public:
  void OnStateChange(const CircuitBreaker&, CircuitState from,
                     CircuitState to) override {
    transitions.emplace_back(from, to);
  }
  void OnCallRejected(const CircuitBreaker&, CircuitState) override {
    ++rejected;
  }
  void OnLateResult(const CircuitBreaker&) override { ++late; }
  std::vector<std::pair<CircuitState, CircuitState>> transitions;
  int rejected = 0;
  int late = 0;
};

class CircuitBreakerTest : public ::testing::Test {
 protected:
  CircuitBreakerOptions Options() {
    CircuitBreakerOptions options;
    options.name = "dep";
    options.clock = &clock_;
    options.listeners = {&listener_};
    options.random_seed = 7;
    return options;
  }

  std::unique_ptr<CircuitBreaker> Make(const CircuitBreakerOptions& options) {
    auto breaker = CircuitBreaker::Create(options);
    EXPECT_TRUE(breaker.ok()) << breaker.status();
    return std::move(breaker).value();
  }

  // One admitted call with the given outcome; false if rejected.
  static bool Call(CircuitBreaker& breaker, CallOutcome outcome) {
    auto permit = breaker.Acquire();
    if (!permit.ok()) return false;
    breaker.Record(*permit, outcome);
    return true;
  }

  ManualClock clock_;
  RecordingListener listener_;
};

TEST_F(CircuitBreakerTest, RejectsBadOptionsNamingTheField) {
  struct Case {
    void (*mutate)(CircuitBreakerOptions&);
    const char* field;
  };
  const Case cases[] = {
      {[](CircuitBreakerOptions& o) { o.name.clear(); }, "name"},
      {[](CircuitBreakerOptions& o) { o.window_size = 0; }, "window_size"},
      {[](CircuitBreakerOptions& o) { o.minimum_calls = 0; }, "minimum_calls"},
      {[](CircuitBreakerOptions& o) { o.failure_rate_threshold = 101; },
       "failure_rate_threshold"},
      {[](CircuitBreakerOptions& o) { o.slow_call_rate_threshold = 10; },
       "slow_call_duration"},
      {[](CircuitBreakerOptions& o) { o.consecutive_failure_threshold = -1; },
       "consecutive_failure_threshold"},
      {[](CircuitBreakerOptions& o) { o.wait_duration_in_open = seconds(0); },
       "wait_duration_in_open"},
      {[](CircuitBreakerOptions& o) { o.wait_multiplier = 0.5; },
       "wait_multiplier"},
      {[](CircuitBreakerOptions& o) {
         o.max_wait_duration_in_open = seconds(1);
       },
       "max_wait_duration_in_open"},
      {[](CircuitBreakerOptions& o) { o.wait_jitter = 1; }, "wait_jitter"},
      {[](CircuitBreakerOptions& o) { o.half_open_max_probes = 0; },
       "half_open_max_probes"},
      {[](CircuitBreakerOptions& o) { o.probe_timeout = seconds(0); },
       "probe_timeout"},
      {[](CircuitBreakerOptions& o) { o.clock = nullptr; }, "clock"},
      {[](CircuitBreakerOptions& o) { o.listeners = {nullptr}; }, "listeners"},
      {[](CircuitBreakerOptions& o) {
         o.window_type = CircuitBreakerOptions::WindowType::kTimeBased;
         o.window_buckets = 0;
       },
       "window_buckets"},
  };
  for (const Case& c : cases) {
    CircuitBreakerOptions options = Options();
    c.mutate(options);
    auto breaker = CircuitBreaker::Create(options);
    ASSERT_FALSE(breaker.ok()) << c.field;
    EXPECT_EQ(breaker.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(breaker.status().message().find(c.field), std::string::npos)
        << breaker.status();
  }
}

TEST_F(CircuitBreakerTest, FailureRateTripsAtThresholdOnlyWithMinimumCalls) {
  CircuitBreakerOptions options = Options();
  options.window_size = 10;
  options.minimum_calls = 4;
  options.failure_rate_threshold = 50;
  auto breaker = Make(options);
  // 3 failures: 100% but below minimum_calls.
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));
  EXPECT_EQ(breaker->state(), CircuitState::kClosed);
  breaker->Reset();
  // 1 failure + 2 successes = 33%; the 4th call (a success) reaches minimum
  // calls at 25% -> closed; the 5th (failure) makes 2/5 = 40% -> closed;
  // the 6th (failure) makes 3/6 = 50% -> trips (>=).
  ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));
  ASSERT_TRUE(Call(*breaker, CallOutcome::kSuccess));
  ASSERT_TRUE(Call(*breaker, CallOutcome::kSuccess));
  ASSERT_TRUE(Call(*breaker, CallOutcome::kSuccess));
  ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));
  EXPECT_EQ(breaker->state(), CircuitState::kClosed);
  ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));
  EXPECT_EQ(breaker->state(), CircuitState::kOpen);
}

TEST_F(CircuitBreakerTest, SuccessReachingMinimumCallsCanTrip) {
  CircuitBreakerOptions options = Options();
  options.minimum_calls = 4;
  options.failure_rate_threshold = 75;
  auto breaker = Make(options);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));
  EXPECT_EQ(breaker->state(), CircuitState::kClosed);
  ASSERT_TRUE(Call(*breaker, CallOutcome::kSuccess));  // 3/4 = 75% >= 75
  EXPECT_EQ(breaker->state(), CircuitState::kOpen);
}

TEST_F(CircuitBreakerTest, IgnoredOutcomesAreNotInTheDenominator) {
  CircuitBreakerOptions options = Options();
  options.minimum_calls = 2;
  options.failure_rate_threshold = 50;
  auto breaker = Make(options);
  ASSERT_TRUE(Call(*breaker, CallOutcome::kSuccess));
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(Call(*breaker, CallOutcome::kIgnored));
  EXPECT_EQ(breaker->Snapshot().calls, 1);
  ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));  // 1/2 = 50%
  EXPECT_EQ(breaker->state(), CircuitState::kOpen);
}

TEST_F(CircuitBreakerTest, DefaultClassifierIgnoresCancelled) {
  auto breaker = Make(Options());
  auto permit = breaker->Acquire();
  ASSERT_TRUE(permit.ok());
  breaker->OnResult(*permit, absl::CancelledError("caller left"));
  permit = breaker->Acquire();
  breaker->OnResult(*permit, absl::UnavailableError("down"));
  permit = breaker->Acquire();
  breaker->OnResult(*permit, absl::OkStatus());
  const CircuitBreakerSnapshot snapshot = breaker->Snapshot();
  EXPECT_EQ(snapshot.calls, 2);
  EXPECT_EQ(snapshot.failures, 1);
}

TEST_F(CircuitBreakerTest, UserClassifierDecidesFailures) {
  CircuitBreakerOptions options = Options();
  options.minimum_calls = 1;
  options.classifier = [](const absl::Status& status) {
    return status.code() == absl::StatusCode::kNotFound
               ? CallOutcome::kSuccess
               : DefaultCallClassifier(status);
  };
  auto breaker = Make(options);
  EXPECT_EQ(
      breaker->Execute([] { return absl::NotFoundError("no row"); }).code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(breaker->state(), CircuitState::kClosed);
  breaker->Execute([] { return absl::InternalError("boom"); }).IgnoreError();
  EXPECT_EQ(breaker->state(), CircuitState::kOpen);
}

TEST_F(CircuitBreakerTest, CountWindowEvictsOldestOutcome) {
  CircuitBreakerOptions options = Options();
  options.window_size = 3;
  options.minimum_calls = 3;
  options.failure_rate_threshold = 100;
  auto breaker = Make(options);
  ASSERT_TRUE(Call(*breaker, CallOutcome::kSuccess));
  ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));
  ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));
  EXPECT_EQ(breaker->state(), CircuitState::kClosed);  // 2/3
  ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));  // evicts the success
  EXPECT_EQ(breaker->state(), CircuitState::kOpen);
}

TEST_F(CircuitBreakerTest, TimeWindowExpiresWholeBuckets) {
  CircuitBreakerOptions options = Options();
  options.window_type = CircuitBreakerOptions::WindowType::kTimeBased;
  options.window_duration = seconds(10);
  options.window_buckets = 10;
  options.minimum_calls = 100;
  auto breaker = Make(options);
  clock_.Set(seconds(1000));  // bucket boundary
  ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));
  clock_.Advance(milliseconds(9999));  // still within 10 buckets
  ASSERT_TRUE(Call(*breaker, CallOutcome::kSuccess));
  EXPECT_EQ(breaker->Snapshot().calls, 2);
  clock_.Advance(milliseconds(1));  // the first bucket expires as a whole
  EXPECT_EQ(breaker->Snapshot().calls, 1);
  EXPECT_EQ(breaker->Snapshot().failures, 0);
  clock_.Advance(seconds(100));
  EXPECT_EQ(breaker->Snapshot().calls, 0);
}

TEST_F(CircuitBreakerTest, SlowCallRateCountsSlowCallsOfAnyOutcome) {
  CircuitBreakerOptions options = Options();
  options.minimum_calls = 2;
  options.failure_rate_threshold = 0;
  options.slow_call_rate_threshold = 100;
  options.slow_call_duration = milliseconds(100);
  auto breaker = Make(options);
  auto permit = breaker->Acquire();
  clock_.Advance(milliseconds(100));  // exactly the threshold: slow (>=)
  breaker->Record(*permit, CallOutcome::kSuccess);
  permit = breaker->Acquire();
  clock_.Advance(milliseconds(99));  // not slow
  breaker->Record(*permit, CallOutcome::kFailure);
  EXPECT_EQ(breaker->state(), CircuitState::kClosed);  // 1/2 slow
  EXPECT_EQ(breaker->Snapshot().slow_calls, 1);
  breaker->Reset();
  for (int i = 0; i < 2; ++i) {
    permit = breaker->Acquire();
    clock_.Advance(milliseconds(150));
    breaker->Record(*permit,
                    i == 0 ? CallOutcome::kFailure : CallOutcome::kSuccess);
  }
  EXPECT_EQ(breaker->state(), CircuitState::kOpen);
}

TEST_F(CircuitBreakerTest,
       ConsecutiveFailuresIgnoreMinimumCallsAndResetOnSuccess) {
  CircuitBreakerOptions options = Options();
  options.failure_rate_threshold = 0;
  options.consecutive_failure_threshold = 3;
  auto breaker = Make(options);
  ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));
  ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));
  ASSERT_TRUE(Call(*breaker, CallOutcome::kSuccess));
  ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));
  ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));
  ASSERT_TRUE(
      Call(*breaker, CallOutcome::kIgnored));  // neither resets nor counts
  EXPECT_EQ(breaker->state(), CircuitState::kClosed);
  ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));
  EXPECT_EQ(breaker->state(), CircuitState::kOpen);
}

TEST_F(CircuitBreakerTest, FailureCountTriggerIgnoresMinimumCalls) {
  CircuitBreakerOptions options = Options();
  options.failure_rate_threshold = 0;
  options.failure_count_threshold = 2;
  options.minimum_calls = 1000;
  auto breaker = Make(options);
  ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(Call(*breaker, CallOutcome::kSuccess));
  EXPECT_EQ(breaker->state(), CircuitState::kClosed);
  ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));
  EXPECT_EQ(breaker->state(), CircuitState::kOpen);
}

TEST_F(CircuitBreakerTest, OpenRejectsWithRetryAfterUntilWaitElapsed) {
  CircuitBreakerOptions options = Options();
  options.minimum_calls = 1;
  options.wait_duration_in_open = seconds(10);
  auto breaker = Make(options);
  ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));
  ASSERT_EQ(breaker->state(), CircuitState::kOpen);
  clock_.Advance(seconds(4));
  auto rejected = breaker->Acquire();
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetRetryAfter(rejected.status()),
            std::chrono::nanoseconds(seconds(6)));
  clock_.Advance(seconds(6) - std::chrono::nanoseconds(1));
  EXPECT_FALSE(breaker->Acquire().ok());
  clock_.Advance(std::chrono::nanoseconds(1));  // now == open_until: half-open
  auto probe = breaker->Acquire();
  ASSERT_TRUE(probe.ok());
  EXPECT_EQ(breaker->state(), CircuitState::kHalfOpen);
  EXPECT_EQ(breaker->Snapshot().rejected_calls, 2);
  EXPECT_EQ(listener_.rejected, 2);
}

TEST_F(CircuitBreakerTest,
       HalfOpenBoundsConcurrentProbesAndClosesAfterSuccesses) {
  CircuitBreakerOptions options = Options();
  options.minimum_calls = 1;
  options.wait_duration_in_open = seconds(1);
  options.half_open_max_probes = 2;
  options.half_open_successes_to_close = 3;
  auto breaker = Make(options);
  ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));
  clock_.Advance(seconds(1));
  auto a = breaker->Acquire();
  auto b = breaker->Acquire();
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  auto c = breaker->Acquire();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable);
  breaker->Record(*a, CallOutcome::kSuccess);
  breaker->Record(*b, CallOutcome::kIgnored);  // frees the slot, no count
  EXPECT_EQ(breaker->state(), CircuitState::kHalfOpen);
  ASSERT_TRUE(Call(*breaker, CallOutcome::kSuccess));
  EXPECT_EQ(breaker->state(), CircuitState::kHalfOpen);
  ASSERT_TRUE(Call(*breaker, CallOutcome::kSuccess));
  EXPECT_EQ(breaker->state(), CircuitState::kClosed);
  EXPECT_EQ(breaker->Snapshot().calls, 0);  // closing empties the window
  const std::vector<std::pair<CircuitState, CircuitState>> expected = {
      {CircuitState::kClosed, CircuitState::kOpen},
      {CircuitState::kOpen, CircuitState::kHalfOpen},
      {CircuitState::kHalfOpen, CircuitState::kClosed}};
  EXPECT_EQ(listener_.transitions, expected);
}

TEST_F(CircuitBreakerTest, ProbeFailureReopensWithGrowingWait) {
  CircuitBreakerOptions options = Options();
  options.minimum_calls = 1;
  options.wait_duration_in_open = seconds(1);
  options.wait_multiplier = 2;
  options.max_wait_duration_in_open = seconds(3);
  auto breaker = Make(options);
  ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));  // trip 1: 1 s
  clock_.Advance(seconds(1));
  ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));  // trip 2: 2 s
  EXPECT_EQ(breaker->state(), CircuitState::kOpen);
  clock_.Advance(seconds(2) - std::chrono::nanoseconds(1));
  EXPECT_FALSE(breaker->Acquire().ok());
  clock_.Advance(std::chrono::nanoseconds(1));
  ASSERT_TRUE(
      Call(*breaker, CallOutcome::kFailure));  // trip 3: 4 s capped to 3
  auto rejected = breaker->Acquire();
  EXPECT_EQ(GetRetryAfter(rejected.status()),
            std::chrono::nanoseconds(seconds(3)));
  EXPECT_EQ(breaker->Snapshot().consecutive_trips, 3);
  clock_.Advance(seconds(3));
  ASSERT_TRUE(Call(*breaker, CallOutcome::kSuccess));
  EXPECT_EQ(breaker->state(), CircuitState::kClosed);
  ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));  // back to 1 s
  EXPECT_EQ(GetRetryAfter(breaker->Acquire().status()),
            std::chrono::nanoseconds(seconds(1)));
}

TEST_F(CircuitBreakerTest, JitterStaysWithinBounds) {
  CircuitBreakerOptions options = Options();
  options.minimum_calls = 1;
  options.wait_duration_in_open = seconds(10);
  options.wait_jitter = 0.5;
  auto breaker = Make(options);
  bool saw_different = false;
  std::chrono::nanoseconds first{-1};
  for (int i = 0; i < 50; ++i) {
    breaker->Reset();
    ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));
    auto wait = GetRetryAfter(breaker->Acquire().status());
    ASSERT_TRUE(wait.has_value());
    EXPECT_GE(*wait, seconds(5));
    EXPECT_LE(*wait, seconds(15));
    if (first.count() < 0) first = *wait;
    saw_different |= *wait != first;
  }
  EXPECT_TRUE(saw_different);
}

TEST_F(CircuitBreakerTest, HungProbeReopensAfterProbeTimeout) {
  CircuitBreakerOptions options = Options();
  options.minimum_calls = 1;
  options.wait_duration_in_open = seconds(1);
  options.probe_timeout = seconds(5);
  auto breaker = Make(options);
  ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));
  clock_.Advance(seconds(1));
  auto hung = breaker->Acquire();
  ASSERT_TRUE(hung.ok());
  clock_.Advance(seconds(5) - std::chrono::nanoseconds(1));
  EXPECT_FALSE(breaker->Acquire().ok());  // probe slot still busy
  EXPECT_EQ(breaker->state(), CircuitState::kHalfOpen);
  clock_.Advance(std::chrono::nanoseconds(1));
  EXPECT_FALSE(breaker->Acquire().ok());  // the hung probe counts as failure
  EXPECT_EQ(breaker->state(), CircuitState::kOpen);
  clock_.Advance(seconds(1));
  ASSERT_TRUE(Call(*breaker, CallOutcome::kSuccess));  // a fresh probe closes
  EXPECT_EQ(breaker->state(), CircuitState::kClosed);
  // The hung probe finally answers: its epoch is gone, so it is ignored.
  breaker->Record(*hung, CallOutcome::kFailure);
  EXPECT_EQ(breaker->state(), CircuitState::kClosed);
  EXPECT_EQ(breaker->Snapshot().late_results, 1);
  EXPECT_EQ(listener_.late, 1);
}

TEST_F(CircuitBreakerTest, ResultsFromAnEarlierEpochAreIgnored) {
  CircuitBreakerOptions options = Options();
  options.minimum_calls = 1;
  auto breaker = Make(options);
  auto old_permit = breaker->Acquire();
  ASSERT_TRUE(old_permit.ok());
  breaker->Reset();  // new epoch, same state
  breaker->Record(*old_permit, CallOutcome::kFailure);
  EXPECT_EQ(breaker->state(), CircuitState::kClosed);
  EXPECT_EQ(breaker->Snapshot().calls, 0);
  EXPECT_EQ(breaker->Snapshot().late_results, 1);
}

TEST_F(CircuitBreakerTest, ManualStates) {
  CircuitBreakerOptions options = Options();
  options.minimum_calls = 1;
  auto breaker = Make(options);
  breaker->ForceOpen();
  auto rejected = breaker->Acquire();
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(GetRetryAfter(rejected.status()).has_value());
  clock_.Advance(std::chrono::hours(1));
  EXPECT_EQ(breaker->state(), CircuitState::kForcedOpen);
  EXPECT_FALSE(breaker->Acquire().ok());

  breaker->Disable();
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));
  EXPECT_EQ(breaker->state(), CircuitState::kDisabled);
  EXPECT_EQ(breaker->Snapshot().calls, 0);

  breaker->SetMetricsOnly();
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));
  EXPECT_EQ(breaker->state(), CircuitState::kMetricsOnly);
  EXPECT_EQ(breaker->Snapshot().failures, 5);

  breaker->Reset();
  EXPECT_EQ(breaker->state(), CircuitState::kClosed);
  EXPECT_EQ(breaker->Snapshot().calls, 0);
  ASSERT_TRUE(Call(*breaker, CallOutcome::kFailure));
  EXPECT_EQ(breaker->state(), CircuitState::kOpen);
}

TEST_F(CircuitBreakerTest, ExecutePassesValuesAndRejects) {
  CircuitBreakerOptions options = Options();
  options.minimum_calls = 1;
  auto breaker = Make(options);
  absl::StatusOr<int> value =
      breaker->Execute([]() -> absl::StatusOr<int> { return 42; });
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, 42);
  breaker->ForceOpen();
  int runs = 0;
  value = breaker->Execute([&]() -> absl::StatusOr<int> {
    ++runs;
    return 1;
  });
  EXPECT_EQ(value.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(runs, 0);
}

TEST(CircuitStateNameTest, NamesEveryState) {
  EXPECT_EQ(CircuitStateName(CircuitState::kClosed), "closed");
  EXPECT_EQ(CircuitStateName(CircuitState::kOpen), "open");
  EXPECT_EQ(CircuitStateName(CircuitState::kHalfOpen), "half_open");
  EXPECT_EQ(CircuitStateName(CircuitState::kDisabled), "disabled");
  EXPECT_EQ(CircuitStateName(CircuitState::kForcedOpen), "forced_open");
  EXPECT_EQ(CircuitStateName(CircuitState::kMetricsOnly), "metrics_only");
}

}  // namespace
}  // namespace keel::resilience
