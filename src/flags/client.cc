#include "keel/flags/client.h"

#include <cmath>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"

namespace keel::flags {
namespace {

// Converts a resolved variant to the caller's type (the FlagSet already
// checked the JSON type).
template <typename T>
T Convert(const Value& v);
template <>
bool Convert<bool>(const Value& v) {
  return v.bool_value();
}
template <>
std::string Convert<std::string>(const Value& v) {
  return v.string_value();
}
template <>
std::int64_t Convert<std::int64_t>(const Value& v) {
  return static_cast<std::int64_t>(v.number_value());
}
template <>
double Convert<double>(const Value& v) {
  return v.number_value();
}
template <>
Value Convert<Value>(const Value& v) {
  return v;
}

template <typename T>
Value ToValue(const T& v) {
  return Value(v);
}
template <>
Value ToValue<std::int64_t>(const std::int64_t& v) {
  return Value(static_cast<double>(v));
}

template <typename T>
EvaluationDetails<Value> Generic(const EvaluationDetails<T>& d) {
  EvaluationDetails<Value> out;
  out.flag_key = d.flag_key;
  out.value = ToValue(d.value);
  out.variant = d.variant;
  out.reason = d.reason;
  out.error_code = d.error_code;
  out.error_message = d.error_message;
  out.flag_metadata = d.flag_metadata;
  return out;
}

}  // namespace

FlagClient::FlagClient(FlagProvider* provider, std::string name)
    : provider_(provider), name_(std::move(name)) {}

void FlagClient::SetContext(EvaluationContext context) {
  auto shared = std::make_shared<const EvaluationContext>(std::move(context));
  MutexLock lock(mu_);
  context_ = std::move(shared);
  has_state_.store(true, std::memory_order_release);
}

void FlagClient::AddHook(std::shared_ptr<Hook> hook) {
  MutexLock lock(mu_);
  hooks_.push_back(std::move(hook));
  has_state_.store(true, std::memory_order_release);
}

template <typename T>
EvaluationDetails<T> FlagClient::Evaluate(
    std::string_view flag_key, FlagType type, T default_value,
    const EvaluationContext& context,
    const std::vector<std::shared_ptr<Hook>>& invocation_hooks,
    bool want_details) {
  EvaluationDetails<T> details;
  if (want_details) details.flag_key = std::string(flag_key);

  std::shared_ptr<const EvaluationContext> client_context;
  std::vector<std::shared_ptr<Hook>> hooks;
  if (has_state_.load(std::memory_order_acquire)) {
    MutexLock lock(mu_);
    client_context = context_;
    hooks = hooks_;
  }
  for (const auto& hook : invocation_hooks) hooks.push_back(hook);
  const auto global_context = provider_->global_context();

  // Merge only when there is something to merge.
  const EvaluationContext* effective = &context;
  std::optional<EvaluationContext> merged;
  if (global_context != nullptr || client_context != nullptr) {
    merged.emplace();
    if (global_context != nullptr) *merged = *global_context;
    if (client_context != nullptr)
      *merged = EvaluationContext::Merge(*merged, *client_context);
    *merged = EvaluationContext::Merge(*merged, context);
    effective = &*merged;
  }

  if (hooks.empty()) {
    Resolution r = provider_->Resolve(flag_key, type, *effective);
    details.reason = r.reason;
    details.error_code = r.error_code;
    if (r.value != nullptr) {
      details.value = Convert<T>(*r.value);
      if (want_details) details.variant = std::string(r.variant);
    } else {
      details.value = std::move(default_value);
    }
    if (want_details) {
      details.error_message = std::move(r.error_message);
      if (r.metadata != nullptr) details.flag_metadata = *r.metadata;
    }
    return details;
  }

  // Hook path (OpenFeature spec 4.4): before in order, after/error/finally in
  // reverse order.
  const Value default_as_value = ToValue(default_value);
  HookContext hook_context;
  hook_context.flag_key = flag_key;
  hook_context.type = type;
  hook_context.default_value = &default_as_value;
  hook_context.client_name = name_;
  hook_context.provider_name = provider_->name();
  EvaluationContext hooked = *effective;
  hook_context.context = &hooked;
  details.flag_key = std::string(flag_key);
  absl::Status failure;
  for (const auto& hook : hooks) {
    EvaluationContext extra;
    failure = hook->Before(hook_context, &extra);
    if (!failure.ok()) break;
    if (!extra.empty()) hooked = EvaluationContext::Merge(hooked, extra);
  }
  if (failure.ok()) {
    Resolution r = provider_->Resolve(flag_key, type, hooked);
    details.reason = r.reason;
    details.error_code = r.error_code;
    details.error_message = std::move(r.error_message);
    if (r.metadata != nullptr) details.flag_metadata = *r.metadata;
    if (r.value != nullptr) {
      details.value = Convert<T>(*r.value);
      details.variant = std::string(r.variant);
    } else {
      details.value = default_value;
    }
    if (details.error_code != ErrorCode::kNone) {
      failure = absl::InternalError(details.error_message);
    } else {
      const EvaluationDetails<Value> generic = Generic(details);
      for (auto it = hooks.rbegin(); it != hooks.rend() && failure.ok(); ++it) {
        failure = (*it)->After(hook_context, generic);
      }
      if (!failure.ok()) {
        details.value = default_value;
        details.variant.clear();
        details.reason = Reason::kError;
        details.error_code = ErrorCode::kGeneral;
        details.error_message =
            absl::StrCat("after hook failed: ", failure.message());
      }
    }
  } else {
    details.value = default_value;
    details.reason = Reason::kError;
    details.error_code = ErrorCode::kGeneral;
    details.error_message =
        absl::StrCat("before hook failed: ", failure.message());
  }
  if (!failure.ok()) {
    for (auto it = hooks.rbegin(); it != hooks.rend(); ++it) {
      (*it)->Error(hook_context, failure);
    }
  }
  const EvaluationDetails<Value> final_details = Generic(details);
  for (auto it = hooks.rbegin(); it != hooks.rend(); ++it) {
    (*it)->Finally(hook_context, final_details);
  }
  return details;
}

bool FlagClient::BooleanValue(std::string_view flag_key, bool default_value,
                              const EvaluationContext& context,
                              const std::vector<std::shared_ptr<Hook>>& hooks) {
  return Evaluate<bool>(flag_key, FlagType::kBoolean, default_value, context,
                        hooks, false)
      .value;
}

std::string FlagClient::StringValue(
    std::string_view flag_key, std::string_view default_value,
    const EvaluationContext& context,
    const std::vector<std::shared_ptr<Hook>>& hooks) {
  return Evaluate<std::string>(flag_key, FlagType::kString,
                               std::string(default_value), context, hooks,
                               false)
      .value;
}

std::int64_t FlagClient::IntegerValue(
    std::string_view flag_key, std::int64_t default_value,
    const EvaluationContext& context,
    const std::vector<std::shared_ptr<Hook>>& hooks) {
  return Evaluate<std::int64_t>(flag_key, FlagType::kInteger, default_value,
                                context, hooks, false)
      .value;
}

double FlagClient::DoubleValue(
    std::string_view flag_key, double default_value,
    const EvaluationContext& context,
    const std::vector<std::shared_ptr<Hook>>& hooks) {
  return Evaluate<double>(flag_key, FlagType::kDouble, default_value, context,
                          hooks, false)
      .value;
}

Value FlagClient::ObjectValue(std::string_view flag_key,
                              const Value& default_value,
                              const EvaluationContext& context,
                              const std::vector<std::shared_ptr<Hook>>& hooks) {
  return Evaluate<Value>(flag_key, FlagType::kObject, default_value, context,
                         hooks, false)
      .value;
}

EvaluationDetails<bool> FlagClient::BooleanDetails(
    std::string_view flag_key, bool default_value,
    const EvaluationContext& context,
    const std::vector<std::shared_ptr<Hook>>& hooks) {
  return Evaluate<bool>(flag_key, FlagType::kBoolean, default_value, context,
                        hooks, true);
}

EvaluationDetails<std::string> FlagClient::StringDetails(
    std::string_view flag_key, std::string_view default_value,
    const EvaluationContext& context,
    const std::vector<std::shared_ptr<Hook>>& hooks) {
  return Evaluate<std::string>(flag_key, FlagType::kString,
                               std::string(default_value), context, hooks,
                               true);
}

EvaluationDetails<std::int64_t> FlagClient::IntegerDetails(
    std::string_view flag_key, std::int64_t default_value,
    const EvaluationContext& context,
    const std::vector<std::shared_ptr<Hook>>& hooks) {
  return Evaluate<std::int64_t>(flag_key, FlagType::kInteger, default_value,
                                context, hooks, true);
}

EvaluationDetails<double> FlagClient::DoubleDetails(
    std::string_view flag_key, double default_value,
    const EvaluationContext& context,
    const std::vector<std::shared_ptr<Hook>>& hooks) {
  return Evaluate<double>(flag_key, FlagType::kDouble, default_value, context,
                          hooks, true);
}

EvaluationDetails<Value> FlagClient::ObjectDetails(
    std::string_view flag_key, const Value& default_value,
    const EvaluationContext& context,
    const std::vector<std::shared_ptr<Hook>>& hooks) {
  return Evaluate<Value>(flag_key, FlagType::kObject, default_value, context,
                         hooks, true);
}

}  // namespace keel::flags
