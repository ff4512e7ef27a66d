#include "keel/resilience/policy.h"

#include <string>

namespace keel::resilience {

absl::StatusOr<std::unique_ptr<PolicyChain>> PolicyChain::Create(
    std::vector<Policy*> policies) {
  if (policies.empty()) {
    return absl::InvalidArgumentError("policies: must not be empty");
  }
  for (std::size_t i = 0; i < policies.size(); ++i) {
    if (policies[i] == nullptr) {
      return absl::InvalidArgumentError("policies[" + std::to_string(i) +
                                        "]: must not be null");
    }
  }
  return std::unique_ptr<PolicyChain>(new PolicyChain(std::move(policies)));
}

absl::Status PolicyChain::Run(absl::FunctionRef<absl::Status()> fn,
                              MonoTime deadline) {
  return RunFrom(0, fn, deadline);
}

absl::Status PolicyChain::RunFrom(std::size_t index,
                                  absl::FunctionRef<absl::Status()> fn,
                                  MonoTime deadline) {
  if (index == policies_.size()) return fn();
  return policies_[index]->Run(
      [&]() { return RunFrom(index + 1, fn, deadline); }, deadline);
}

}  // namespace keel::resilience
