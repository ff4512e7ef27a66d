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
// Supported format (flagd flag-definition schema):
//   * top level: "flags" (required object), "$evaluators" (named rules used
//     as {"$ref": "name"} anywhere in a targeting rule), "metadata"
//     (flag-set metadata: string, number or boolean values), "$schema".
//   * per flag: "state" ("ENABLED" | "DISABLED"), "variants" (non-empty
//     object; all values of one JSON type: boolean, string, number or
//     object), "defaultVariant" (a variant name, or null / absent: the
//     caller's default is returned with reason DEFAULT), "targeting" (JSON
//     Logic; absent or {} means static), "metadata".
//   * operators: var (dotted paths, array indexes, default), if / ?:, ==,
//     ===, !=, !==, <, <=, >, >= (incl. 3-argument "between"), !, !!, and,
//     or, in (array membership or substring), cat, substr, merge, +, -, *,
//     /, %, min, max, missing, missing_some, map, filter, reduce, all, none,
//     some, and flagd's fractional, sem_ver, starts_with, ends_with.
//   * semantics follow flagd's in-process evaluators: invalid input to a
//     flagd custom operator evaluates to null; invalid arithmetic or
//     comparison input (JSON Logic throwing) makes the evaluation fail with
//     ERROR / GENERAL; a targeting result is turned into a variant name the
//     way JavaScript's toString() would (true -> "true", 3 -> "3").
//   * differences: strings are compared and sliced as UTF-8 bytes (JS uses
//     UTF-16 code units; identical for ASCII), and `fractional` hashes the
//     UTF-8 bytes of its key.
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

#include "absl/status/statusor.h"
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
  std::unique_ptr<Impl> impl_;
};

}  // namespace keel::flags

#endif  // KEEL_FLAGS_FLAG_SET_H_
