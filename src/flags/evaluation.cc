#include "keel/flags/evaluation.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace keel::flags {

std::string_view ReasonName(Reason reason) {
  switch (reason) {
    case Reason::kStatic:
      return "STATIC";
    case Reason::kDefault:
      return "DEFAULT";
    case Reason::kTargetingMatch:
      return "TARGETING_MATCH";
    case Reason::kSplit:
      return "SPLIT";
    case Reason::kCached:
      return "CACHED";
    case Reason::kDisabled:
      return "DISABLED";
    case Reason::kUnknown:
      return "UNKNOWN";
    case Reason::kStale:
      return "STALE";
    case Reason::kError:
      return "ERROR";
  }
  return "UNKNOWN";
}

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNone:
      return "";
    case ErrorCode::kProviderNotReady:
      return "PROVIDER_NOT_READY";
    case ErrorCode::kFlagNotFound:
      return "FLAG_NOT_FOUND";
    case ErrorCode::kParseError:
      return "PARSE_ERROR";
    case ErrorCode::kTypeMismatch:
      return "TYPE_MISMATCH";
    case ErrorCode::kTargetingKeyMissing:
      return "TARGETING_KEY_MISSING";
    case ErrorCode::kInvalidContext:
      return "INVALID_CONTEXT";
    case ErrorCode::kProviderFatal:
      return "PROVIDER_FATAL";
    case ErrorCode::kGeneral:
      return "GENERAL";
  }
  return "GENERAL";
}

EvaluationContext::EvaluationContext(std::string targeting_key)
    : targeting_key_(std::move(targeting_key)) {}

absl::StatusOr<EvaluationContext> EvaluationContext::FromJson(
    std::string_view json) {
  auto parsed = Value::ParseJson(json);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("evaluation context: ", parsed.status().message()));
  }
  if (!parsed->is_object()) {
    return absl::InvalidArgumentError(
        "evaluation context: must be a JSON object");
  }
  EvaluationContext context;
  for (const auto& [key, value] : parsed->object_value()) {
    if (key == "targetingKey") {
      if (!value.is_string()) {
        return absl::InvalidArgumentError(
            "evaluation context: targetingKey must be a string");
      }
      context.targeting_key_ = value;
    } else {
      context.attributes_.Set(key, value);
    }
  }
  return context;
}

EvaluationContext& EvaluationContext::Set(std::string_view key, Value value) {
  attributes_.Set(key, std::move(value));
  return *this;
}

EvaluationContext EvaluationContext::Merge(const EvaluationContext& lower,
                                           const EvaluationContext& higher) {
  if (lower.empty()) return higher;
  EvaluationContext merged = lower;
  if (higher.has_targeting_key()) merged.targeting_key_ = higher.targeting_key_;
  for (const auto& [key, value] : higher.attributes_.object_value()) {
    merged.attributes_.Set(key, value);
  }
  return merged;
}

Value EvaluationContext::ToValue() const {
  Value out = attributes_;
  if (has_targeting_key()) out.Set("targetingKey", targeting_key_);
  return out;
}

}  // namespace keel::flags
