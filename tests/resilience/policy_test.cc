#include "keel/resilience/policy.h"

#include <chrono>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "keel/base/clock.h"
#include "keel/resilience/bulkhead.h"
#include "keel/resilience/circuit_breaker.h"
#include "keel/resilience/retry.h"
#include "keel/resilience/retry_after.h"
#include "keel/resilience/sleeper.h"

namespace keel::resilience {
namespace {

using std::chrono::seconds;

// Records the order in which policies wrap the call.
class TracingPolicy final : public Policy {
 public:
  TracingPolicy(std::string name, std::vector<std::string>* trace)
      : name_(std::move(name)), trace_(trace) {}
  absl::Status Run(absl::FunctionRef<absl::Status()> fn,
                   MonoTime deadline) override {
    trace_->push_back(name_ + ">");
    last_deadline = deadline;
    absl::Status status = fn();
    trace_->push_back("<" + name_);
    return status;
  }
  MonoTime last_deadline{0};

 private:
  std::string name_;
  std::vector<std::string>* trace_;
};

TEST(PolicyChainTest, RejectsEmptyOrNull) {
  EXPECT_EQ(PolicyChain::Create({}).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::vector<std::string> trace;
  TracingPolicy a("a", &trace);
  auto bad = PolicyChain::Create({&a, nullptr});
  EXPECT_NE(bad.status().message().find("policies[1]"), std::string::npos);
}

TEST(PolicyChainTest, OutermostFirstAndDeadlinePropagates) {
  std::vector<std::string> trace;
  TracingPolicy a("a", &trace);
  TracingPolicy b("b", &trace);
  auto chain = PolicyChain::Create({&a, &b}).value();
  absl::StatusOr<std::string> result = chain->Execute(
      [&]() -> absl::StatusOr<std::string> {
        trace.push_back("call");
        return std::string("ok");
      },
      MonoTime(seconds(5)));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, "ok");
  const std::vector<std::string> expected = {"a>", "b>", "call", "<b", "<a"};
  EXPECT_EQ(trace, expected);
  EXPECT_EQ(b.last_deadline, MonoTime(seconds(5)));
}

TEST(PolicyChainTest, RetryAroundOpenBreakerReturnsTheRejection) {
  ManualClock clock;
  ManualClockSleeper sleeper(&clock);
  CircuitBreakerOptions breaker_options;
  breaker_options.clock = &clock;
  breaker_options.minimum_calls = 1;
  breaker_options.wait_duration_in_open = seconds(30);
  auto breaker = CircuitBreaker::Create(breaker_options).value();
  RetryOptions retry_options;
  retry_options.clock = &clock;
  retry_options.sleeper = &sleeper;
  retry_options.max_attempts = 3;
  retry_options.random_seed = 1;
  auto retry = Retry::Create(retry_options).value();
  auto chain = PolicyChain::Create({retry.get(), breaker.get()}).value();

  int calls = 0;
  absl::StatusOr<int> result = chain->Execute(
      [&]() -> absl::StatusOr<int> {
        ++calls;
        return absl::UnavailableError("backend down");
      },
      clock.Now() + seconds(10));
  // Attempt 1 fails and trips the breaker; attempt 2 is rejected with a
  // Retry-After of 30 s, beyond the 10 s deadline: Retry stops at once and
  // returns the breaker's rejection, not the stale value of attempt 1.
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(GetRetryAfter(result.status()).has_value());
  EXPECT_EQ(sleeper.sleeps().size(), 1u);
}

TEST(PolicyChainTest, BulkheadInsideBreakerRejectsWithoutCounting) {
  ManualClock clock;
  CircuitBreakerOptions breaker_options;
  breaker_options.clock = &clock;
  auto breaker = CircuitBreaker::Create(breaker_options).value();
  BulkheadOptions bulkhead_options;
  bulkhead_options.clock = &clock;
  bulkhead_options.max_concurrent_calls = 1;
  auto bulkhead = Bulkhead::Create(bulkhead_options).value();
  auto chain = PolicyChain::Create({breaker.get(), bulkhead.get()}).value();
  auto held = bulkhead->Acquire();
  EXPECT_EQ(chain->Execute([] { return absl::OkStatus(); }).code(),
            absl::StatusCode::kResourceExhausted);
  // The breaker saw the bulkhead's rejection as a failure of the call: put
  // the bulkhead outside the breaker, or classify kResourceExhausted as
  // ignored, to keep local overload out of the dependency's health.
  EXPECT_EQ(breaker->Snapshot().failures, 1);
}

}  // namespace
}  // namespace keel::resilience
