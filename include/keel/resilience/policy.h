// keel/resilience/policy.h
//
// The one interface every resilience policy implements, and `PolicyChain`,
// which stacks several policies around a call, outermost first.
//
// A call is any function returning `absl::Status` or `absl::StatusOr<T>`.
// Policies never throw; they report their own decisions as statuses
// (open breaker -> kUnavailable, full bulkhead -> kResourceExhausted, ...), and
// otherwise return the call's own status.
//
//   | policy                       | rejects with |
//   |------------------------------|-------------------------------------------|
//   | CircuitBreaker               | kUnavailable (+ Retry-After when open) |
//   | Bulkhead                     | kResourceExhausted / kDeadlineExceeded |
//   | AdaptiveConcurrencyLimiter   | kResourceExhausted | | Retry | never;
//   returns the last attempt's status  |
//
// Example (retry outside the breaker, so every attempt passes the breaker and
// a rejection from an open breaker is itself retried after its Retry-After):
//   auto chain = keel::resilience::PolicyChain::Create(
//       {retry.get(), breaker.get(), bulkhead.get()}).value();
//   absl::StatusOr<Reply> reply = chain->Execute([&] { return client.Get(); });
//
// Thread safety: Policy implementations in keel are thread-safe; PolicyChain
// is immutable after Create() and as thread-safe as the policies it holds.

#ifndef KEEL_RESILIENCE_POLICY_H_
#define KEEL_RESILIENCE_POLICY_H_

#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/base/clock.h"

namespace keel::resilience {

// "No deadline": the largest monotonic time.
inline constexpr MonoTime kNoDeadline = MonoTime::max();

// A resilience policy wrapped around a call.
class Policy {
 public:
  virtual ~Policy() = default;

  // Runs `fn` under this policy: zero times (rejected), once, or several times
  // (Retry). `deadline` is the caller's deadline on the policy's clock; a
  // policy never waits past it. Returns the policy's rejection or the status
  // of the last run of `fn`.
  virtual absl::Status Run(absl::FunctionRef<absl::Status()> fn,
                           MonoTime deadline) = 0;

  // Runs `fn` (returning absl::Status or absl::StatusOr<T>) under this policy
  // and returns the same type: the value of the last run of `fn` when that run
  // is what the policy returned, otherwise the policy's own error.
  template <typename F>
  auto Execute(F&& fn, MonoTime deadline = kNoDeadline) -> decltype(fn());
};

// Stacks policies around a call. The first policy is the outermost: with
// {retry, breaker}, each retry attempt goes through the breaker.
class PolicyChain final : public Policy {
 public:
  // Fails with kInvalidArgument if `policies` is empty or holds a null
  // pointer. The policies are not owned and must outlive the chain.
  static absl::StatusOr<std::unique_ptr<PolicyChain>> Create(
      std::vector<Policy*> policies);

  absl::Status Run(absl::FunctionRef<absl::Status()> fn,
                   MonoTime deadline) override;

 private:
  explicit PolicyChain(std::vector<Policy*> policies)
      : policies_(std::move(policies)) {}
  absl::Status RunFrom(std::size_t index, absl::FunctionRef<absl::Status()> fn,
                       MonoTime deadline);

  const std::vector<Policy*> policies_;
};

template <typename F>
auto Policy::Execute(F&& fn, MonoTime deadline) -> decltype(fn()) {
  using Result = decltype(fn());
  if constexpr (std::is_same_v<Result, absl::Status>) {
    return Run(fn, deadline);
  } else {
    std::optional<Result> result;
    const absl::Status status = Run(
        [&]() -> absl::Status {
          result.emplace(fn());
          return result->status();
        },
        deadline);
    // The last run's value is returned only when it is what the policy
    // returned; a later rejection (a retry stopped by an open breaker) wins.
    if (result.has_value() && result->status() == status) {
      return *std::move(result);
    }
    if (status.ok()) {
      return Result(absl::InternalError("policy returned OK without a call"));
    }
    return Result(status);
  }
}

}  // namespace keel::resilience

#endif  // KEEL_RESILIENCE_POLICY_H_
