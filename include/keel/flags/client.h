// keel/flags/client.h
//
// `keel::flags::FlagClient` is the OpenFeature evaluation API over a
// FlagProvider: typed values and details, contexts merged in the spec's order
// and hooks run in the spec's order.
//
//   keel::flags::FlagClient client(provider.get(), "checkout");
//   keel::flags::EvaluationContext ctx("user-123");
//   ctx.Set("plan", "pro");
//   bool on = client.BooleanValue("new-checkout", false, ctx);
//   auto details = client.StringDetails("theme", "light", ctx);
//   // details.reason == kTargetingMatch, details.variant == "dark", ...
//
// A/B test (the "checkout-copy" flag of flag_set.h): the details carry the
// variant to record next to the outcome, and errors fall back to the control.
//   keel::flags::EvaluationContext ctx("user-123");
//   ctx.Set("accountId", "acct-9").Set("appVersion", "2.3.1");
//   auto copy = client.StringDetails("checkout-copy", "Buy now", ctx);
//   analytics.Record("checkout-copy", copy.variant);  // "control"/"treatment"
// A rollout ("new-checkout") is a BooleanValue call; raising the flag's
// fractional weights widens it without a deploy.
//
// ObjectValue results are keel::flags::Value (value.h): the flag's JSON
// object, with Value::ToJson() for text.
//
// Context merging (lowest to highest precedence): the provider's global
// context, the client's context, the invocation context, then contexts
// returned by before-hooks. When the global and client contexts are unset the
// invocation context is used as is (no copy).
//
// Hooks: before hooks run global (provider-level is not used here), client,
// invocation order; after, error and finally hooks in reverse. A before or
// after hook returning an error makes the evaluation return the caller's
// default with ERROR / GENERAL, runs the error hooks, then finally.
//
// Allocation: BooleanValue / IntegerValue / DoubleValue with no hooks and no
// global/client context allocate nothing; StringValue allocates only for
// values longer than the small-string buffer; Details allocate the key copy.
//
// Thread safety: evaluation methods are thread-safe. SetContext/AddHook may
// run concurrently with evaluations (they take a short lock).

#ifndef KEEL_FLAGS_CLIENT_H_
#define KEEL_FLAGS_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "keel/base/mutex.h"
#include "keel/flags/evaluation.h"
#include "keel/flags/flag_set.h"
#include "keel/flags/provider.h"
#include "keel/flags/value.h"

namespace keel::flags {

// What a hook sees of the evaluation in progress.
struct HookContext {
  std::string_view flag_key;
  FlagType type = FlagType::kBoolean;
  // The caller's default as a Value.
  const Value* default_value = nullptr;
  // The merged context (before-hook contributions included once they ran).
  const EvaluationContext* context = nullptr;
  std::string_view client_name;
  std::string_view provider_name;
};

// An OpenFeature hook. Every stage has a do-nothing default; override the
// ones needed. Hooks must be thread-safe: one hook object serves concurrent
// evaluations.
class Hook {
 public:
  virtual ~Hook() = default;
  // Before evaluation. May add attributes by setting them on `*extra`, which
  // is merged above the invocation context. An error aborts the evaluation.
  virtual absl::Status Before(const HookContext& context,
                              EvaluationContext* extra) {
    (void)context;
    (void)extra;
    return absl::OkStatus();
  }
  // After a successful evaluation. An error turns the result into the
  // caller's default with ERROR / GENERAL.
  virtual absl::Status After(const HookContext& context,
                             const EvaluationDetails<Value>& details) {
    (void)context;
    (void)details;
    return absl::OkStatus();
  }
  // When evaluation or a hook failed.
  virtual void Error(const HookContext& context, const absl::Status& error) {
    (void)context;
    (void)error;
  }
  // Always, last.
  virtual void Finally(const HookContext& context,
                       const EvaluationDetails<Value>& details) {
    (void)context;
    (void)details;
  }
};

// Evaluates flags through a provider.
class FlagClient {
 public:
  // `provider` must outlive the client.
  explicit FlagClient(FlagProvider* provider, std::string name = "");

  // Client-level context, merged above the provider's global context.
  void SetContext(EvaluationContext context);
  // Adds a client-level hook (shared ownership: hooks often serve many
  // clients).
  void AddHook(std::shared_ptr<Hook> hook);

  // Typed evaluation: the flag's value, or `default_value` on any error.
  // `hooks` are invocation-level hooks.
  bool BooleanValue(std::string_view flag_key, bool default_value,
                    const EvaluationContext& context = {},
                    const std::vector<std::shared_ptr<Hook>>& hooks = {});
  std::string StringValue(std::string_view flag_key,
                          std::string_view default_value,
                          const EvaluationContext& context = {},
                          const std::vector<std::shared_ptr<Hook>>& hooks = {});
  // TYPE_MISMATCH if the variant is not an integral number in int64 range.
  std::int64_t IntegerValue(
      std::string_view flag_key, std::int64_t default_value,
      const EvaluationContext& context = {},
      const std::vector<std::shared_ptr<Hook>>& hooks = {});
  double DoubleValue(std::string_view flag_key, double default_value,
                     const EvaluationContext& context = {},
                     const std::vector<std::shared_ptr<Hook>>& hooks = {});
  // Object (or array) variants.
  Value ObjectValue(std::string_view flag_key, const Value& default_value,
                    const EvaluationContext& context = {},
                    const std::vector<std::shared_ptr<Hook>>& hooks = {});

  // As above, with value, variant, reason, error code/message and metadata.
  EvaluationDetails<bool> BooleanDetails(
      std::string_view flag_key, bool default_value,
      const EvaluationContext& context = {},
      const std::vector<std::shared_ptr<Hook>>& hooks = {});
  EvaluationDetails<std::string> StringDetails(
      std::string_view flag_key, std::string_view default_value,
      const EvaluationContext& context = {},
      const std::vector<std::shared_ptr<Hook>>& hooks = {});
  EvaluationDetails<std::int64_t> IntegerDetails(
      std::string_view flag_key, std::int64_t default_value,
      const EvaluationContext& context = {},
      const std::vector<std::shared_ptr<Hook>>& hooks = {});
  EvaluationDetails<double> DoubleDetails(
      std::string_view flag_key, double default_value,
      const EvaluationContext& context = {},
      const std::vector<std::shared_ptr<Hook>>& hooks = {});
  EvaluationDetails<Value> ObjectDetails(
      std::string_view flag_key, const Value& default_value,
      const EvaluationContext& context = {},
      const std::vector<std::shared_ptr<Hook>>& hooks = {});

  // The client's name (for hooks).
  const std::string& name() const { return name_; }

 private:
  template <typename T>
  EvaluationDetails<T> Evaluate(std::string_view flag_key, FlagType type,
                                T default_value,
                                const EvaluationContext& context,
                                const std::vector<std::shared_ptr<Hook>>& hooks,
                                bool want_details);

  FlagProvider* const provider_;
  const std::string name_;
  std::atomic<bool> has_state_{false};  // a client context or hook exists
  mutable Mutex mu_;
  std::shared_ptr<const EvaluationContext> context_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<Hook>> hooks_ ABSL_GUARDED_BY(mu_);
};

}  // namespace keel::flags

#endif  // KEEL_FLAGS_CLIENT_H_
