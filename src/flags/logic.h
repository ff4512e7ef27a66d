// JSON Logic compiled into an expression tree, and its evaluator.
//
// A rule is compiled once (CompileRule) into Nodes whose literal operands are
// keel Values and whose `var` paths are pre-split. Evaluation walks the tree
// and produces Datums, which either borrow a Value (from the rule, the
// context or an enclosing Datum) or own a computed one, so reading and
// comparing attributes copies nothing.

#ifndef KEEL_SRC_FLAGS_LOGIC_H_
#define KEEL_SRC_FLAGS_LOGIC_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "keel/flags/evaluation.h"
#include "keel/flags/value.h"
#include "nlohmann/json.hpp"

namespace keel::flags_internal {

// JSON Logic operations keel implements.
enum class Op : std::uint8_t {
  kLiteral,
  kArray,  // an array literal with expressions among its elements
  kVar,
  kIf,
  kEq,
  kStrictEq,
  kNe,
  kStrictNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kNot,
  kNotNot,
  kAnd,
  kOr,
  kIn,
  kCat,
  kSubstr,
  kMerge,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kMin,
  kMax,
  kMissing,
  kMissingSome,
  kMap,
  kFilter,
  kReduce,
  kAll,
  kNone,
  kSome,
  kFractional,
  kSemVer,
  kStartsWith,
  kEndsWith,
};

// One compiled expression.
struct Node {
  Op op = Op::kLiteral;
  // The value of a kLiteral node.
  flags::Value literal;
  // Operands, in order.
  std::vector<Node> args;
  // kVar with a literal key: the key split at '.' (empty: the whole data).
  std::vector<std::string> path;
  bool static_path = false;
};

// Compiles `rule`. `evaluators` is the document's "$evaluators" object (or
// null) for {"$ref": name}. Fails with kInvalidArgument naming the unknown
// operator, bad $ref, cycle, or exceeded limit.
absl::StatusOr<Node> CompileRule(const nlohmann::json& rule,
                                 const nlohmann::json* evaluators);

// Immutable shared values that results borrow instead of building one.
const flags::Value& NullValue();
const flags::Value& BoolValue(bool b);

// A value produced by evaluation: borrowed or owned. Most results borrow (a
// context attribute, a literal of the rule, a shared true/false), so the
// common path builds and destroys no Value.
class Datum {
 public:
  // null.
  Datum() = default;
  static Datum Ref(const flags::Value* value) {
    Datum d;
    d.ref_ = value;
    return d;
  }
  static Datum Own(flags::Value value) {
    Datum d;
    d.owned_.emplace(std::move(value));
    return d;
  }
  static Datum Bool(bool b) { return Ref(&BoolValue(b)); }
  const flags::Value& get() const noexcept {
    if (ref_ != nullptr) return *ref_;
    return owned_.has_value() ? *owned_ : NullValue();
  }
  // True if the value is borrowed (its address outlives this Datum).
  bool borrowed() const noexcept { return ref_ != nullptr; }
  // Moves the value out (copying if borrowed).
  flags::Value Take() && {
    if (ref_ != nullptr) return *ref_;
    return owned_.has_value() ? std::move(*owned_) : flags::Value();
  }

 private:
  const flags::Value* ref_ = nullptr;
  std::optional<flags::Value> owned_;
};

// What targeting rules see besides the context.
struct EvalEnv {
  const flags::EvaluationContext* context = nullptr;
  // The flag key as a string Value ($flagd.flagKey).
  const flags::Value* flag_key = nullptr;
  // $flagd.timestamp, called only if a rule reads it (a clock read is a
  // sizeable share of a short rule's cost).
  absl::FunctionRef<std::int64_t()> unix_seconds;
};

// Evaluates `rule`. Returns false if an operation failed the way JSON Logic
// throws (bad arithmetic/comparison operands), with the cause in `*error`.
bool EvaluateRule(const Node& rule, const EvalEnv& env, Datum* result,
                  std::string* error);

// JavaScript truthiness as JSON Logic defines it (empty arrays and objects
// are false).
bool Truthy(const flags::Value& value);

// JavaScript String(value), used to turn a targeting result into a variant
// name.
void AppendJsString(const flags::Value& value, std::string* out);

}  // namespace keel::flags_internal

#endif  // KEEL_SRC_FLAGS_LOGIC_H_
