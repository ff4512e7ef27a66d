// keel/flags/flag_set.h
//
// `keel::flags::FlagSet` is one immutable, compiled set of flag definitions in
// flagd's flag-definition format. Parsing validates every flag and compiles
// its JSON Logic targeting into keel's own expression tree, so evaluation
// never touches JSON text and, for flags whose rules only read and compare
// context attributes, allocates nothing.
//
//   auto set = keel::flags::FlagSet::Parse(R"({
//     "flags": {
//       "new-checkout": {
//         "state": "ENABLED",
//         "variants": {"on": true, "off": false},
//         "defaultVariant": "off",
//         "targeting": {"if": [{"ends_with": [{"var": "email"},
//         "@example.com"]},
//                              "on", null]}
//       }
//     }
//   })");
//   if (!set.ok()) return set.status();   // message names the flag and field
//
// Supported format (flagd flag-definition schema,
// https://flagd.dev/schema/v0/flags.json):
//   * top level: "flags" (required object), "$evaluators" (named rules used
//     as {"$ref": "name"} anywhere in a targeting rule), "metadata"
//     (flag-set metadata: string, number or boolean values), "$schema".
//   * per flag: "state" ("ENABLED" | "DISABLED"), "variants" (non-empty
//     object; all values of one JSON type: boolean, string, number or
//     object), "defaultVariant" (a variant name, or null / absent: the
//     caller's default is returned with reason DEFAULT), "targeting" (JSON
//     Logic; absent or {} means static), "metadata" (overlays the set's).
//   * a targeting result selects the variant of that name: a string as is,
//     anything else the way JavaScript's String() spells it (true -> "true",
//     3 -> "3"); null (or a rule with no matching branch) means the default
//     variant with reason DEFAULT; a name that is not a variant is ERROR /
//     GENERAL.
//
// Data seen by `var`: the context's attributes, "targetingKey", and the
// injected "$flagd.flagKey" (the flag's key) and "$flagd.timestamp" (Unix
// seconds of the evaluation).
//
// Operators (JSON Logic as flagd's json-logic-engine evaluates it):
//   var            {"var": "a.b.0"} dotted path (array indexes allowed);
//                  {"var": ["path", default]}; "" is the current scope
//   if / ?:        [cond, then, cond2, then2, ..., else]; missing else: null
//   == !=          loose (JavaScript) equality: "1" == 1; null equals only
//                  null
//   === !==        strict equality (type and value)
//   < <= > >=      numeric or string order; [a, b, c] for <, <= means
//                  a < b < c ("between"); array/object or non-numeric
//                  operands fail the evaluation (ERROR / GENERAL)
//   ! !!           negation / truthiness ([] and {} are false, as in
//                  JSON Logic)
//   and / or       short-circuit, return the deciding operand
//   in             [x, array]: membership; [x, "string"]: substring; a
//                  falsy container is false, any other non-container fails
//   cat            concatenation of String() of each operand
//   substr         [s, start, length?]; negative start/length count from
//                  the end (bytes); a non-string fails
//   merge          flattens one level of arrays into one array
//   + - * / %      numbers (strings converted as Number()); "+" with one
//                  operand converts, "-" with one negates; array/object
//                  operands, division by zero and NaN results fail
//   min / max      of numbers; a non-number operand fails
//   missing        keys (or an array of keys) absent/null/"" in the data
//   missing_some   [n, keys]: [] if at least n present, else the missing
//   map / filter   [array, logic]: logic runs with each element as scope
//   reduce         [array, logic, initial]: scope {current, accumulator};
//                  without initial the first element starts
//   all / none /   [array, logic]; `all` of an empty array is false, of a
//   some           missing (null) selector true, as flagd evaluates it
//   fractional     [bucketBy?, [variant, weight?], ...]: deterministic
//                  split; the bucket key is bucketBy (a string expression)
//                  or $flagd.flagKey + targetingKey; weights default to 1;
//                  bucket = (murmur3_x86_32(key bytes) x total weight) >> 32
//                  walked through the cumulative weights; null if there is
//                  no key, a malformed bucket or a total above 2^31-1
//   sem_ver        [version, op, version] with op = != < <= > >= (major,
//                  minor, patch and pre-release by SemVer 2.0 precedence,
//                  build metadata ignored), ^ (same major), ~ (same major
//                  and minor); an optional "v" prefix; an invalid version
//                  or operator gives null
//   starts_with /  [string, affix]; null unless both are strings
//   ends_with
//   $ref           {"$ref": "name"} splices $evaluators.name at load time
//
// Where keel follows flagd-core (the reference in-process evaluator, checked
// by tests/flags/differential against @openfeature/flagd-core 4.0.1) rather
// than a literal reading of the OpenFeature vocabulary:
//   * `fractional` reports TARGETING_MATCH, not SPLIT, and without a
//     targeting key (and no bucketBy) evaluates to null (the default variant,
//     reason DEFAULT) instead of failing with TARGETING_KEY_MISSING.
//   * invalid input to a flagd custom operator (fractional, sem_ver,
//     starts_with, ends_with) evaluates to null; invalid arithmetic or
//     comparison input (JSON Logic throwing) makes the evaluation fail with
//     ERROR / GENERAL.
//   * strings are compared and sliced as UTF-8 bytes (JS uses UTF-16 code
//     units; identical for ASCII), and `fractional` hashes the UTF-8 bytes
//     of its key.
//
// Example, gradual rollout: 10 % of users (stable per user, independent of
// other flags because the flag key is part of the hash), everyone at
// example.com first:
//   "new-checkout": {
//     "state": "ENABLED",
//     "variants": {"on": true, "off": false},
//     "defaultVariant": "off",
//     "targeting": {"if": [
//       {"ends_with": [{"var": "email"}, "@example.com"]}, "on",
//       {"fractional": [["on", 10], ["off", 90]]}]}
//   }
// Raising the rollout is an edit of the weights; users already "on" stay on
// as the "on" share grows, because buckets are cumulative from the start.
//
// Example, A/B test bucketed by account rather than user, for accounts on
// version 2 or later of the app, others see the control:
//   "checkout-copy": {
//     "state": "ENABLED",
//     "variants": {"control": "Buy now", "treatment": "Complete purchase"},
//     "defaultVariant": "control",
//     "targeting": {"if": [
//       {"sem_ver": [{"var": "appVersion"}, ">=", "2.0.0"]},
//       {"fractional": [{"cat": [{"var": "$flagd.flagKey"},
//                                {"var": "accountId"}]},
//                       ["control", 50], ["treatment", 50]]},
//       null]}
//   }
// Evaluations report the variant, so analytics can split on it.
//
// CLI (`keel-flags`, built from src/flags/cli) for CI before deploying:
//   keel-flags validate FILE...
//       exit 0 and no output if every file is valid; otherwise one line per
//       problem ("FILE: flag 'x': defaultVariant 'of' is not a variant") and
//       exit 1; exit 2 if a file cannot be read.
//   keel-flags eval FILE FLAG [--context JSON] [--type boolean|string|
//                              integer|double|object]
//       prints {"flagKey", "type", "value", "variant", "reason",
//       "errorCode"?, "errorMessage"?, "flagMetadata"?} as one JSON line;
//       without --type the flag's own variant type is used; exit 0, or 1 if
//       the evaluation reported an error; 2 for usage errors, an unreadable
//       or invalid file or an invalid context.
//
// Limits (hostile-input defence): JSON nesting deeper than Value::kMaxDepth
// and rules that expand (through $ref) to more than kMaxRuleNodes nodes are
// rejected; $ref cycles are rejected.
//
// Thread safety: immutable after Parse(); every method is safe to call
// concurrently.

#ifndef KEEL_FLAGS_FLAG_SET_H_
#define KEEL_FLAGS_FLAG_SET_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "keel/base/clock.h"
#include "keel/flags/evaluation.h"
#include "keel/flags/value.h"

namespace keel::flags {

// The value type a caller asks for.
enum class FlagType { kBoolean, kString, kInteger, kDouble, kObject };

// "boolean", "string", "integer", "double" or "object".
std::string_view FlagTypeName(FlagType type);

// The raw result of resolving one flag in a FlagSet. Pointers and views refer
// into the FlagSet (or the context passed to Resolve) and stay valid while
// both live.
struct Resolution {
  // The variant's value; nullptr means "return the caller's default".
  const Value* value = nullptr;
  // The variant name; empty when `value` is nullptr.
  std::string_view variant;
  Reason reason = Reason::kUnknown;
  ErrorCode error_code = ErrorCode::kNone;
  std::string error_message;
  // Index of the flag (FlagSet::flag_key()) or -1 if not found.
  int flag_index = -1;
  // Index of the variant (FlagSet::variant_name()) or -1.
  int variant_index = -1;
  // The flag's merged metadata, or the flag set's if the flag is unknown.
  const std::shared_ptr<const Value>* metadata = nullptr;
};

// An immutable compiled set of flags.
class FlagSet {
 public:
  // Upper bound on the nodes of one compiled targeting rule.
  static constexpr std::size_t kMaxRuleNodes = 100000;

  // Parses and compiles a flagd flag-definition document. Fails with
  // kInvalidArgument listing every problem found, each naming the flag and
  // field ("flag 'x': defaultVariant 'on' is not a variant"), for malformed
  // JSON, schema violations, unknown operators, bad $ref and limits.
  static absl::StatusOr<std::shared_ptr<const FlagSet>> Parse(
      std::string_view json);

  // Every problem Parse() would report, one per entry; empty if valid.
  static std::vector<std::string> Validate(std::string_view json);

  ~FlagSet();
  FlagSet(const FlagSet&) = delete;
  FlagSet& operator=(const FlagSet&) = delete;

  // Resolves `flag_key` for `context` asking for `type`. `unix_seconds` is
  // injected as $flagd.timestamp. Never fails; errors are in the result.
  // Complexity: one hash look-up plus the rule's evaluation.
  Resolution Resolve(std::string_view flag_key, FlagType type,
                     const EvaluationContext& context,
                     std::int64_t unix_seconds) const;
  // As above with $flagd.timestamp taken from `clock.WallNow()`, read only
  // when the flag has targeting: a static flag costs no clock read.
  Resolution Resolve(std::string_view flag_key, FlagType type,
                     const EvaluationContext& context,
                     const Clock& clock) const;

  // Number of flags; flags are indexed 0..flag_count()-1 in key order.
  int flag_count() const noexcept;
  // Key of flag `index`.
  std::string_view flag_key(int index) const;
  // Index of `key`, or -1.
  int FindFlag(std::string_view key) const noexcept;
  // Number of variants of flag `index` and their names (sorted).
  int variant_count(int index) const;
  std::string_view variant_name(int index, int variant) const;
  // A digest of flag `index`'s definition; equal digests mean the flag did
  // not change between two sets (used for configuration-changed events).
  std::uint64_t flag_digest(int index) const;
  // Flag-set metadata (an object Value, possibly empty).
  const std::shared_ptr<const Value>& metadata() const noexcept;

  // The compiled state; defined in flag_set.cc.
  struct Impl;

 private:
  explicit FlagSet(std::unique_ptr<Impl> impl);
  // Both Resolve() forms; `unix_seconds` is called at most once, and only
  // when the flag's targeting runs.
  Resolution ResolveAt(std::string_view flag_key, FlagType type,
                       const EvaluationContext& context,
                       absl::FunctionRef<std::int64_t()> unix_seconds) const;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keel::flags

#endif  // KEEL_FLAGS_FLAG_SET_H_
