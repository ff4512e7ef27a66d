// keel/flags/evaluation.h
//
// The OpenFeature evaluation vocabulary: the evaluation context (targeting key
// plus typed attributes), resolution reasons, error codes and the details
// record every `...Details` call returns.
//
//   keel::flags::EvaluationContext context("user-123");
//   context.Set("email", "ana@example.com").Set("age", 42);
//   auto details = client.StringDetails("checkout-flow", "v1", context);
//   if (details.error_code != keel::flags::ErrorCode::kNone) {
//     // details.value is the caller's default; details.error_message says why.
//   }
//
// Thread safety: plain value types.

#ifndef KEEL_FLAGS_EVALUATION_H_
#define KEEL_FLAGS_EVALUATION_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "keel/flags/value.h"

namespace keel::flags {

// Why a value was returned (OpenFeature "resolution reasons").
enum class Reason {
  kStatic,          // the flag has no targeting: its default variant
  kDefault,         // targeting returned null: the default variant
  kTargetingMatch,  // targeting selected a variant (including `fractional`)
  kSplit,           // reserved for providers that report pseudorandom splits
  kCached,          // reserved for caching providers
  kDisabled,        // the flag is DISABLED: the caller's default
  kUnknown,         // no better reason applies
  kStale,           // reserved: value from a configuration known to be stale
  kError,           // see the error code: the caller's default
};

// What went wrong (OpenFeature error codes); kNone on success.
enum class ErrorCode {
  kNone,
  kProviderNotReady,     // no configuration has loaded yet
  kFlagNotFound,         // no flag with that key
  kParseError,           // the flag's definition could not be compiled
  kTypeMismatch,         // the variant's JSON type differs from the call's
  kTargetingKeyMissing,  // reserved: keel follows flagd, where `fractional`
                         // without a targeting key evaluates to null
  kInvalidContext,       // the context could not be used (e.g. not an object)
  kProviderFatal,        // the provider cannot recover
  kGeneral,              // targeting failed (bad arithmetic, unknown variant,
                         // a hook error)
};

// The OpenFeature spelling of a reason ("TARGETING_MATCH").
std::string_view ReasonName(Reason reason);
// The OpenFeature spelling of an error code ("FLAG_NOT_FOUND"); "" for kNone.
std::string_view ErrorCodeName(ErrorCode code);

// The subject of an evaluation: an optional targeting key and attributes.
// Inside targeting rules the attributes are the data root, `targetingKey` is
// the targeting key (falling back to an attribute of that name) and
// `$flagd.flagKey` / `$flagd.timestamp` are injected by the evaluator.
class EvaluationContext {
 public:
  // An empty context: no targeting key, no attributes.
  EvaluationContext() = default;
  // A context with a targeting key.
  explicit EvaluationContext(std::string targeting_key);

  // Builds a context from a JSON object: the member "targetingKey" (a string)
  // becomes the targeting key, every other member an attribute. Fails with
  // kInvalidArgument for invalid JSON, a non-object document, or a
  // non-string targetingKey.
  static absl::StatusOr<EvaluationContext> FromJson(std::string_view json);

  // The targeting key, a string Value, or null if unset.
  const Value& targeting_key() const noexcept { return targeting_key_; }
  bool has_targeting_key() const noexcept { return targeting_key_.is_string(); }
  void set_targeting_key(std::string key) { targeting_key_ = std::move(key); }

  // Sets attribute `key` (replacing an existing one). Returns *this to chain.
  EvaluationContext& Set(std::string_view key, Value value);

  // The attribute `key` or nullptr.
  const Value* Find(std::string_view key) const noexcept {
    return attributes_.Find(key);
  }

  // All attributes as an object Value.
  const Value& attributes() const noexcept { return attributes_; }

  // True if there is neither a targeting key nor an attribute.
  bool empty() const noexcept {
    return targeting_key_.is_null() && attributes_.object_value().empty();
  }

  // Returns `lower` overlaid by `higher`: attributes of `higher` replace those
  // of `lower` with the same key, and its targeting key wins if set. This is
  // the OpenFeature merge step; the client applies it in the spec's order
  // (global, client, invocation, before-hooks).
  static EvaluationContext Merge(const EvaluationContext& lower,
                                 const EvaluationContext& higher);

  // The context as a JSON object (targetingKey plus attributes).
  Value ToValue() const;

 private:
  Value targeting_key_;
  Value attributes_ = Value::Object();
};

// The outcome of one typed evaluation.
template <typename T>
struct EvaluationDetails {
  // The evaluated flag's key.
  std::string flag_key;
  // The resolved value, or the caller's default on error / DISABLED / no
  // default variant.
  T value{};
  // The variant name; empty when the caller's default was returned.
  std::string variant;
  // Why this value was returned.
  Reason reason = Reason::kUnknown;
  // kNone on success.
  ErrorCode error_code = ErrorCode::kNone;
  // Human-readable cause of the error; empty on success.
  std::string error_message;
  // Flag metadata (flag-set metadata overlaid by the flag's own), an object
  // Value; null when no flag was found.
  std::shared_ptr<const Value> flag_metadata;
};

}  // namespace keel::flags

#endif  // KEEL_FLAGS_EVALUATION_H_
