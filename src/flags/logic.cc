#include "flags/logic.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/hex_digit.h"
#include "flags/json_util.h"
#include "flags/semver.h"
#include "keel/base/hash.h"
#include "keel/flags/flag_set.h"

namespace keel::flags_internal {
namespace {

using flags::Value;

// Compiled rules may nest deeper than their JSON text through $ref; this
// bounds the evaluator's recursion.
constexpr int kMaxRuleDepth = 128;

struct OpName {
  const char* name;
  Op op;
};

constexpr OpName kOps[] = {
    {"var", Op::kVar},
    {"if", Op::kIf},
    {"?:", Op::kIf},
    {"==", Op::kEq},
    {"===", Op::kStrictEq},
    {"!=", Op::kNe},
    {"!==", Op::kStrictNe},
    {"<", Op::kLt},
    {"<=", Op::kLe},
    {">", Op::kGt},
    {">=", Op::kGe},
    {"!", Op::kNot},
    {"!!", Op::kNotNot},
    {"and", Op::kAnd},
    {"or", Op::kOr},
    {"in", Op::kIn},
    {"cat", Op::kCat},
    {"substr", Op::kSubstr},
    {"merge", Op::kMerge},
    {"+", Op::kAdd},
    {"-", Op::kSub},
    {"*", Op::kMul},
    {"/", Op::kDiv},
    {"%", Op::kMod},
    {"min", Op::kMin},
    {"max", Op::kMax},
    {"missing", Op::kMissing},
    {"missing_some", Op::kMissingSome},
    {"map", Op::kMap},
    {"filter", Op::kFilter},
    {"reduce", Op::kReduce},
    {"all", Op::kAll},
    {"none", Op::kNone},
    {"some", Op::kSome},
    {"fractional", Op::kFractional},
    {"sem_ver", Op::kSemVer},
    {"starts_with", Op::kStartsWith},
    {"ends_with", Op::kEndsWith},
};

std::vector<std::string> SplitPath(std::string_view key) {
  std::vector<std::string> path;
  if (key.empty()) return path;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = key.find('.', start);
    path.emplace_back(key.substr(start, dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return path;
}

class Compiler {
 public:
  explicit Compiler(const nlohmann::json* evaluators)
      : evaluators_(evaluators) {}

  absl::StatusOr<Node> Compile(const nlohmann::json& json, int depth) {
    if (depth > kMaxRuleDepth) {
      return absl::InvalidArgumentError(
          absl::StrCat("rule nests deeper than ", kMaxRuleDepth, " levels"));
    }
    if (++nodes_ > flags::FlagSet::kMaxRuleNodes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "rule has more than ", flags::FlagSet::kMaxRuleNodes, " nodes"));
    }
    if (json.is_array()) {
      Node node;
      node.op = Op::kArray;
      bool all_literal = true;
      for (const auto& element : json) {
        auto child = Compile(element, depth + 1);
        if (!child.ok()) return child.status();
        all_literal = all_literal && child->op == Op::kLiteral;
        node.args.push_back(*std::move(child));
      }
      if (all_literal) {
        Value::ArrayType elements;
        elements.reserve(node.args.size());
        for (Node& child : node.args)
          elements.push_back(std::move(child.literal));
        Node literal;
        literal.literal = Value::Array(std::move(elements));
        return literal;
      }
      return node;
    }
    if (!json.is_object() || json.empty()) {
      auto value = FromNlohmann(json, depth);
      if (!value.ok()) return value.status();
      Node node;
      node.literal = *std::move(value);
      return node;
    }
    if (json.size() != 1) {
      return absl::InvalidArgumentError(
          "a JSON Logic operation must be an object with exactly one key");
    }
    const auto it = json.begin();
    const std::string& name = it.key();
    if (name == "$ref") return CompileRef(it.value(), depth);
    const OpName* found = nullptr;
    for (const OpName& candidate : kOps) {
      if (name == candidate.name) {
        found = &candidate;
        break;
      }
    }
    if (found == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown operator '", name, "'"));
    }
    Node node;
    node.op = found->op;
    if (it.value().is_array()) {
      for (const auto& arg : it.value()) {
        auto child = Compile(arg, depth + 1);
        if (!child.ok()) return child.status();
        node.args.push_back(*std::move(child));
      }
    } else {
      auto child = Compile(it.value(), depth + 1);
      if (!child.ok()) return child.status();
      node.args.push_back(*std::move(child));
    }
    if (node.op == Op::kVar) {
      if (node.args.empty()) {
        node.static_path = true;
      } else if (node.args[0].op == Op::kLiteral) {
        const Value& key = node.args[0].literal;
        if (key.is_null()) {
          node.static_path = true;
        } else if (key.is_string()) {
          node.static_path = true;
          node.path = SplitPath(key.string_value());
        } else if (key.is_number()) {
          node.static_path = true;
          std::string text;
          AppendJsNumber(key.number_value(), &text);
          node.path = SplitPath(text);
        }
      }
    }
    return node;
  }

 private:
  absl::StatusOr<Node> CompileRef(const nlohmann::json& ref, int depth) {
    if (!ref.is_string()) {
      return absl::InvalidArgumentError("$ref must be a string");
    }
    const std::string& name = ref.get_ref<const std::string&>();
    if (evaluators_ == nullptr || !evaluators_->is_object() ||
        !evaluators_->contains(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("$ref '", name, "' names no entry of $evaluators"));
    }
    if (std::find(stack_.begin(), stack_.end(), name) != stack_.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("$ref '", name, "' refers to itself"));
    }
    stack_.push_back(name);
    auto node = Compile((*evaluators_)[name], depth + 1);
    stack_.pop_back();
    if (!node.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("in $ref '", name, "': ", node.status().message()));
    }
    return node;
  }

  const nlohmann::json* evaluators_;
  std::vector<std::string> stack_;
  std::size_t nodes_ = 0;
};

bool IsJsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

// JavaScript Number(string).
double StringToNumber(std::string_view s) {
  while (!s.empty() && IsJsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsJsSpace(s.back())) s.remove_suffix(1);
  if (s.empty()) return 0.0;
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  if (s == "Infinity" || s == "+Infinity") return HUGE_VAL;
  if (s == "-Infinity") return -HUGE_VAL;
  if (s.size() > 2 && s[0] == '0') {
    int base = 0;
    if (s[1] == 'x' || s[1] == 'X') base = 16;
    if (s[1] == 'o' || s[1] == 'O') base = 8;
    if (s[1] == 'b' || s[1] == 'B') base = 2;
    if (base != 0) {
      double result = 0;
      for (char c : s.substr(2)) {
        const int digit = base_internal::HexDigitValue(c);
        if (digit < 0 || digit >= base) return kNaN;
        result = result * base + digit;
      }
      return result;
    }
  }
  // [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?
  std::size_t i = 0;
  if (s[i] == '+' || s[i] == '-') ++i;
  std::size_t digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  }
  if (digits == 0) return kNaN;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t exp_digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++exp_digits;
    if (exp_digits == 0) return kNaN;
  }
  if (i != s.size()) return kNaN;
  return std::strtod(std::string(s).c_str(), nullptr);
}

double ToNumber(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull:
      return 0.0;
    case Value::Kind::kBool:
      return v.bool_value() ? 1.0 : 0.0;
    case Value::Kind::kNumber:
      return v.number_value();
    case Value::Kind::kString:
      return StringToNumber(v.string_value());
    case Value::Kind::kArray: {
      if (v.array_value().empty()) return 0.0;
      if (v.array_value().size() > 1) break;
      std::string text;
      AppendJsString(v, &text);
      return StringToNumber(text);
    }
    case Value::Kind::kObject:
      break;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

bool IsContainer(const Value& v) { return v.is_array() || v.is_object(); }

// JavaScript's Array.prototype.includes equality (SameValueZero) for
// primitives; arrays and objects compare by identity.
bool SameValueZero(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  if (a.is_number()) {
    if (std::isnan(a.number_value()) && std::isnan(b.number_value())) {
      return true;
    }
    return a.number_value() == b.number_value();
  }
  if (IsContainer(a)) return &a == &b;
  return a == b;
}

// Index of a path segment into an array, or -1.
long ArrayIndex(std::string_view segment, std::size_t size) {
  if (segment.empty() || segment.size() > 10) return -1;
  long index = 0;
  for (char c : segment) {
    if (c < '0' || c > '9') return -1;
    index = index * 10 + (c - '0');
  }
  if (segment.size() > 1 && segment[0] == '0') return -1;
  return static_cast<std::size_t>(index) < size ? index : -1;
}

const Value* Descend(const Value* value, std::string_view segment) {
  if (value == nullptr) return nullptr;
  if (value->is_object()) return value->Find(segment);
  if (value->is_array()) {
    const long index = ArrayIndex(segment, value->array_value().size());
    return index < 0 ? nullptr : &value->array_value()[index];
  }
  return nullptr;
}

enum class Cmp { kEq, kNe, kLt, kLe, kGt, kGe };

template <typename T>
bool ApplyCmp(Cmp cmp, const T& a, const T& b) {
  switch (cmp) {
    case Cmp::kEq:
      return a == b;
    case Cmp::kNe:
      return a != b;
    case Cmp::kLt:
      return a < b;
    case Cmp::kLe:
      return a <= b;
    case Cmp::kGt:
      return a > b;
    case Cmp::kGe:
      return a >= b;
  }
  return false;
}

class Evaluator {
 public:
  explicit Evaluator(const EvalEnv& env) : env_(env) {}

  bool failed() const { return failed_; }
  const std::string& error() const { return error_; }

  // `data` is the current scope; nullptr is the root (the context).
  Datum Eval(const Node& node, const Value* data) {
    if (failed_) return Datum();
    switch (node.op) {
      case Op::kLiteral:
        return Datum::Ref(&node.literal);
      case Op::kArray: {
        Value::ArrayType elements;
        elements.reserve(node.args.size());
        for (const Node& arg : node.args) {
          elements.push_back(Eval(arg, data).Take());
        }
        return Datum::Own(Value::Array(std::move(elements)));
      }
      case Op::kVar:
        return EvalVar(node, data);
      case Op::kIf:
        return EvalIf(node, data);
      case Op::kEq:
        return Compare(node, data, Cmp::kEq);
      case Op::kNe:
        return Compare(node, data, Cmp::kNe);
      case Op::kLt:
        return Compare(node, data, Cmp::kLt);
      case Op::kLe:
        return Compare(node, data, Cmp::kLe);
      case Op::kGt:
        return Compare(node, data, Cmp::kGt);
      case Op::kGe:
        return Compare(node, data, Cmp::kGe);
      case Op::kStrictEq:
      case Op::kStrictNe:
        return StrictCompare(node, data, node.op == Op::kStrictEq);
      case Op::kNot:
      case Op::kNotNot: {
        bool truthy = false;
        if (!node.args.empty()) truthy = Truthy(Eval(node.args[0], data).get());
        return Datum::Bool(node.op == Op::kNot ? !truthy : truthy);
      }
      case Op::kAnd:
      case Op::kOr: {
        Datum item;
        const bool is_and = node.op == Op::kAnd;
        for (const Node& arg : node.args) {
          item = Eval(arg, data);
          if (Truthy(item.get()) != is_and) return item;
        }
        return item;
      }
      case Op::kIn:
        return EvalIn(node, data);
      case Op::kCat: {
        std::string out;
        for (const Node& arg : node.args) {
          Datum d = Eval(arg, data);
          if (!d.get().is_null()) AppendJsString(d.get(), &out);
        }
        return Datum::Own(Value(std::move(out)));
      }
      case Op::kSubstr:
        return EvalSubstr(node, data);
      case Op::kMerge: {
        Value::ArrayType out;
        for (const Node& arg : node.args) {
          Datum d = Eval(arg, data);
          if (d.get().is_array()) {
            for (const Value& v : d.get().array_value()) out.push_back(v);
          } else {
            out.push_back(std::move(d).Take());
          }
        }
        return Datum::Own(Value::Array(std::move(out)));
      }
      case Op::kAdd:
      case Op::kSub:
      case Op::kMul:
      case Op::kDiv:
      case Op::kMod:
        return Arithmetic(node, data);
      case Op::kMin:
      case Op::kMax:
        return MinMax(node, data);
      case Op::kMissing:
        return EvalMissing(node, data);
      case Op::kMissingSome:
        return EvalMissingSome(node, data);
      case Op::kMap:
      case Op::kFilter:
      case Op::kAll:
      case Op::kNone:
      case Op::kSome:
        return Iterate(node, data);
      case Op::kReduce:
        return Reduce(node, data);
      case Op::kFractional:
        return Fractional(node, data);
      case Op::kSemVer:
        return EvalSemVer(node, data);
      case Op::kStartsWith:
      case Op::kEndsWith:
        return EvalAffix(node, data);
    }
    return Datum();
  }

 private:
  Datum Fail(std::string_view message) {
    if (!failed_) {
      failed_ = true;
      error_ = std::string(message);
    }
    return Datum();
  }

  Datum FlagdObject() const {
    Value flagd = Value::Object();
    flagd.Set("flagKey", *env_.flag_key);
    flagd.Set("timestamp", Value(UnixSeconds()));
    return Datum::Own(std::move(flagd));
  }

  Datum WholeData(const Value* data) const {
    if (data != nullptr) return Datum::Ref(data);
    Value root = env_.context->ToValue();
    root.Set("$flagd", FlagdObject().Take());
    return Datum::Own(std::move(root));
  }

  // Resolves `path` against `data`; a null Datum pointer means "not found".
  // `owned` receives values that do not live in the context.
  const Value* Lookup(const std::vector<std::string>& path, const Value* data,
                      Value* owned) const {
    std::size_t i = 0;
    const Value* current = data;
    if (data == nullptr) {
      // string_view comparisons check the length first; comparing a
      // std::string with a C string would strlen() it on every evaluation.
      const std::string_view head = path[0];
      if (head == std::string_view("targetingKey") &&
          env_.context->has_targeting_key()) {
        current = &env_.context->targeting_key();
      } else if (head == std::string_view("$flagd")) {
        if (path.size() == 1) {
          *owned = FlagdObject().Take();
          return owned;
        }
        if (path.size() != 2) return nullptr;
        const std::string_view member = path[1];
        if (member == std::string_view("flagKey")) return env_.flag_key;
        if (member == std::string_view("timestamp")) {
          *owned = Value(UnixSeconds());
          return owned;
        }
        return nullptr;
      } else {
        current = env_.context->Find(head);
      }
      i = 1;
    }
    for (; i < path.size() && current != nullptr; ++i) {
      current = Descend(current, path[i]);
    }
    return current;
  }

  Datum EvalVar(const Node& node, const Value* data) {
    std::vector<std::string> dynamic_path;
    const std::vector<std::string>* path = &node.path;
    if (!node.static_path) {
      Datum key = Eval(node.args[0], data);
      const Value& k = key.get();
      if (k.is_string()) {
        dynamic_path = SplitPath(k.string_value());
      } else if (!k.is_null()) {
        std::string text;
        AppendJsString(k, &text);
        dynamic_path = SplitPath(text);
      }
      path = &dynamic_path;
    }
    if (path->empty()) return WholeData(data);
    Value owned;
    const Value* found = Lookup(*path, data, &owned);
    if (found != nullptr && !found->is_null()) {
      return found == &owned ? Datum::Own(std::move(owned)) : Datum::Ref(found);
    }
    if (node.args.size() >= 2) return Eval(node.args[1], data);
    return Datum();
  }

  Datum EvalIf(const Node& node, const Value* data) {
    const std::size_t n = node.args.size();
    if (n == 0) return Datum();
    if (n == 1) return Eval(node.args[0], data);
    std::size_t i = 0;
    for (; i + 1 < n; i += 2) {
      if (Truthy(Eval(node.args[i], data).get())) {
        return Eval(node.args[i + 1], data);
      }
      if (failed_) return Datum();
    }
    if (i < n) return Eval(node.args[i], data);
    return Datum();
  }

  // One loose comparison step; false with failed_ set if JSON Logic throws.
  bool ComparePair(const Value& a, const Value& b, Cmp cmp, bool* result) {
    const bool a_text = a.is_string() || a.is_null();
    const bool b_text = b.is_string() || b.is_null();
    if (a_text && b_text) {
      if (a.is_string() && b.is_string()) {
        *result = ApplyCmp(cmp, a.string_value(), b.string_value());
      } else if (cmp == Cmp::kEq || cmp == Cmp::kNe) {
        const bool equal = a.is_null() && b.is_null();
        *result = cmp == Cmp::kEq ? equal : !equal;
      } else {
        *result = ApplyCmp(cmp, ToNumber(a), ToNumber(b));
      }
      return true;
    }
    if (IsContainer(a) || IsContainer(b)) {
      Fail("comparison operand is an array or object");
      return false;
    }
    const double x = ToNumber(a);
    const double y = ToNumber(b);
    if (std::isnan(x) || (std::isnan(y) && !a.is_null())) {
      Fail("comparison operand is not a number");
      return false;
    }
    *result = ApplyCmp(cmp, x, y);
    return true;
  }

  Datum Compare(const Node& node, const Value* data, Cmp cmp) {
    if (node.args.size() < 2) return Fail("comparison needs two operands");
    Datum prev = Eval(node.args[0], data);
    for (std::size_t i = 1; i < node.args.size(); ++i) {
      Datum current = Eval(node.args[i], data);
      if (failed_) return Datum();
      bool result = false;
      if (!ComparePair(prev.get(), current.get(), cmp, &result)) {
        return Datum();
      }
      if (!result) return Datum::Bool(false);
      prev = std::move(current);
    }
    return Datum::Bool(true);
  }

  Datum StrictCompare(const Node& node, const Value* data, bool equal) {
    if (node.args.size() < 2) return Fail("comparison needs two operands");
    Datum a = Eval(node.args[0], data);
    Datum b = Eval(node.args[1], data);
    bool same;
    if (IsContainer(a.get()) || IsContainer(b.get())) {
      same = a.borrowed() && b.borrowed() && &a.get() == &b.get();
    } else {
      same = a.get() == b.get();
    }
    return Datum::Bool(equal ? same : !same);
  }

  Datum EvalIn(const Node& node, const Value* data) {
    if (node.args.size() < 2) return Datum::Bool(false);
    Datum item = Eval(node.args[0], data);
    Datum container = Eval(node.args[1], data);
    const Value& c = container.get();
    if (!Truthy(c) && !IsContainer(c)) return Datum::Bool(false);
    if (c.is_string()) {
      if (item.get().is_string()) {
        return Datum::Own(
            Value(c.string_value().find(item.get().string_value()) !=
                  std::string::npos));
      }
      std::string needle;
      AppendJsString(item.get(), &needle);
      return Datum::Own(
          Value(c.string_value().find(needle) != std::string::npos));
    }
    if (c.is_array()) {
      for (const Value& element : c.array_value()) {
        if (SameValueZero(element, item.get())) return Datum::Bool(true);
      }
      return Datum::Bool(false);
    }
    return Fail("'in' needs an array or a string");
  }

  Datum EvalSubstr(const Node& node, const Value* data) {
    if (node.args.empty()) return Fail("substr needs a string");
    Datum text_datum = Eval(node.args[0], data);
    if (!text_datum.get().is_string()) return Fail("substr needs a string");
    const std::string& text = text_datum.get().string_value();
    const double size = static_cast<double>(text.size());
    auto to_integer = [](const Value& v) {
      const double d = ToNumber(v);
      return std::isnan(d) ? 0.0 : std::trunc(d);
    };
    double from = 0;
    if (node.args.size() >= 2)
      from = to_integer(Eval(node.args[1], data).get());
    if (from < 0) from = std::max(size + from, 0.0);
    from = std::min(from, size);
    double length = size - from;
    if (node.args.size() >= 3) {
      Datum end_datum = Eval(node.args[2], data);
      const double end = to_integer(end_datum.get());
      if (ToNumber(end_datum.get()) < 0) {
        length = std::max(size - from + end, 0.0);
      } else {
        length = std::min(std::max(end, 0.0), size - from);
      }
    }
    return Datum::Own(Value(text.substr(static_cast<std::size_t>(from),
                                        static_cast<std::size_t>(length))));
  }

  Datum Arithmetic(const Node& node, const Value* data) {
    const std::size_t n = node.args.size();
    double result = 0;
    for (std::size_t i = 0; i < n; ++i) {
      Datum d = Eval(node.args[i], data);
      if (failed_) return Datum();
      const Value& v = d.get();
      if (IsContainer(v)) return Fail("arithmetic on an array or object");
      const double x = ToNumber(v);
      switch (node.op) {
        case Op::kAdd:
          result = i == 0 ? x : result + x;
          break;
        case Op::kMul:
          result = i == 0 ? x : result * x;
          break;
        case Op::kSub:
          result = i == 0 ? (n == 1 ? -x : x) : result - x;
          break;
        case Op::kDiv:
          if (n == 1) {
            if (x == 0 || std::isnan(x)) return Fail("division by zero");
            result = 1 / x;
          } else if (i == 0) {
            result = x;
          } else {
            if (x == 0 || std::isnan(x)) return Fail("division by zero");
            result /= x;
          }
          break;
        case Op::kMod:
          result = i == 0 ? x : std::fmod(result, x);
          break;
        default:
          break;
      }
    }
    if (n == 0) {
      if (node.op == Op::kAdd) return Datum::Own(Value(0));
      if (node.op == Op::kMul) return Datum::Own(Value(1));
      return Fail("arithmetic needs operands");
    }
    if (node.op == Op::kMod && n < 2) return Fail("'%' needs two operands");
    if (std::isnan(result)) return Fail("arithmetic result is not a number");
    if (node.op == Op::kDiv && std::isinf(result)) {
      return Fail("division result is infinite");
    }
    return Datum::Own(Value(result));
  }

  Datum MinMax(const Node& node, const Value* data) {
    if (node.args.empty()) return Fail("min/max need operands");
    double result = 0;
    for (std::size_t i = 0; i < node.args.size(); ++i) {
      Datum d = Eval(node.args[i], data);
      if (!d.get().is_number()) return Fail("min/max operands must be numbers");
      const double x = d.get().number_value();
      if (i == 0 || (node.op == Op::kMin ? x < result : x > result)) result = x;
    }
    return Datum::Own(Value(result));
  }

  Value Missing(const Value& keys, const Value* data) {
    Value::ArrayType missing;
    auto check = [&](const Value& key) {
      std::string text;
      AppendJsString(key, &text);
      std::vector<std::string> path = SplitPath(text);
      Value owned;
      const Value* found = path.empty() ? nullptr : Lookup(path, data, &owned);
      if (found == nullptr) missing.push_back(key);
    };
    if (keys.is_array()) {
      for (const Value& key : keys.array_value()) check(key);
    } else {
      check(keys);
    }
    return Value::Array(std::move(missing));
  }

  Datum EvalMissing(const Node& node, const Value* data) {
    if (node.args.size() == 1) {
      Datum keys = Eval(node.args[0], data);
      return Datum::Own(Missing(keys.get(), data));
    }
    Value::ArrayType keys;
    for (const Node& arg : node.args) keys.push_back(Eval(arg, data).Take());
    return Datum::Own(Missing(Value::Array(std::move(keys)), data));
  }

  Datum EvalMissingSome(const Node& node, const Value* data) {
    if (node.args.size() < 2) return Fail("missing_some needs [count, keys]");
    Datum need = Eval(node.args[0], data);
    Datum keys = Eval(node.args[1], data);
    if (!keys.get().is_array()) return Fail("missing_some needs a key array");
    Value missing = Missing(keys.get(), data);
    const double present = static_cast<double>(keys.get().array_value().size() -
                                               missing.array_value().size());
    if (present >= ToNumber(need.get())) return Datum::Own(Value::Array());
    return Datum::Own(std::move(missing));
  }

  Datum Iterate(const Node& node, const Value* data) {
    if (node.args.empty()) return Fail("iteration needs an array");
    Datum selector = Eval(node.args[0], data);
    if (failed_) return Datum();
    static const Value kEmpty = Value::Array();
    const Value* items = &selector.get();
    if (!Truthy(*items) && !items->is_array()) items = &kEmpty;
    if (!items->is_array()) return Fail("iteration needs an array");
    const auto& elements = items->array_value();
    const Node* mapper = node.args.size() >= 2 ? &node.args[1] : nullptr;
    auto apply = [&](const Value& element) -> Datum {
      if (mapper == nullptr) return Datum();
      return Eval(*mapper, &element);
    };
    switch (node.op) {
      case Op::kMap: {
        Value::ArrayType out;
        out.reserve(elements.size());
        for (const Value& element : elements)
          out.push_back(apply(element).Take());
        return Datum::Own(Value::Array(std::move(out)));
      }
      case Op::kFilter: {
        Value::ArrayType out;
        for (const Value& element : elements) {
          if (Truthy(apply(element).get())) out.push_back(element);
        }
        return Datum::Own(Value::Array(std::move(out)));
      }
      case Op::kAll: {
        // flagd's compiled JSON Logic: an empty array is false, while a
        // missing (null) selector is vacuously true.
        if (elements.empty()) return Datum::Bool(!selector.get().is_array());
        for (const Value& element : elements) {
          if (!Truthy(apply(element).get())) return Datum::Bool(false);
        }
        return Datum::Bool(true);
      }
      default: {  // some / none
        bool any = false;
        for (const Value& element : elements) {
          if (Truthy(apply(element).get())) {
            any = true;
            break;
          }
        }
        return Datum::Bool(node.op == Op::kSome ? any : !any);
      }
    }
  }

  Datum Reduce(const Node& node, const Value* data) {
    if (node.args.size() < 2)
      return Fail("reduce needs [array, logic, initial]");
    Datum selector = Eval(node.args[0], data);
    if (failed_) return Datum();
    static const Value kEmpty = Value::Array();
    const Value* items = &selector.get();
    if (!Truthy(*items) && !items->is_array()) items = &kEmpty;
    if (!items->is_array()) return Fail("reduce needs an array");
    const auto& elements = items->array_value();
    std::size_t start = 0;
    Value accumulator;
    if (node.args.size() >= 3) {
      accumulator = Eval(node.args[2], data).Take();
    } else {
      if (elements.empty()) return Fail("reduce of an empty array");
      accumulator = elements[0];
      start = 1;
    }
    for (std::size_t i = start; i < elements.size() && !failed_; ++i) {
      Value scope = Value::Object();
      scope.Set("accumulator", std::move(accumulator));
      scope.Set("current", elements[i]);
      accumulator = Eval(node.args[1], &scope).Take();
    }
    return Datum::Own(std::move(accumulator));
  }

  // flagd's `fractional`: [bucketBy?, [variant, weight?]...].
  Datum Fractional(const Node& node, const Value* data) {
    if (node.args.empty()) return Datum();
    // Short keys are hashed from a stack buffer so the common case does not
    // allocate.
    char buffer[256];
    std::string heap;
    std::string_view bucket_by;
    std::size_t first = 0;
    Datum head = Eval(node.args[0], data);
    if (failed_) return Datum();
    if (head.get().is_string()) {
      bucket_by = head.get().string_value();
      first = 1;
    } else {
      const Value* key = &env_.context->targeting_key();
      if (!key->is_string()) key = env_.context->Find("targetingKey");
      if (key == nullptr || !Truthy(*key)) return Datum();
      std::string key_text;
      const std::string* key_string = &key->string_value();
      if (!key->is_string()) {
        AppendJsString(*key, &key_text);
        key_string = &key_text;
      }
      const std::string& flag = env_.flag_key->string_value();
      const std::size_t size = flag.size() + key_string->size();
      if (size <= sizeof buffer) {
        std::memcpy(buffer, flag.data(), flag.size());
        std::memcpy(buffer + flag.size(), key_string->data(),
                    key_string->size());
        bucket_by = std::string_view(buffer, size);
      } else {
        heap = flag + *key_string;
        bucket_by = heap;
      }
    }
    // Pass 1: validate the buckets and sum the weights.
    double total = 0;
    for (std::size_t i = first; i < node.args.size(); ++i) {
      Datum bucket = Eval(node.args[i], data);
      if (failed_) return Datum();
      double weight = 0;
      if (!BucketWeight(bucket.get(), &weight)) return Datum();
      total += weight;
    }
    constexpr double kMaxWeight = 2147483647.0;
    if (total > kMaxWeight) return Datum();
    const std::uint64_t hash = Murmur3X86_32(bucket_by);
    const std::uint64_t point =
        (hash * static_cast<std::uint64_t>(total)) >> 32;
    // Pass 2: find the bucket holding `point`.
    std::uint64_t sum = 0;
    for (std::size_t i = first; i < node.args.size(); ++i) {
      Datum bucket = Eval(node.args[i], data);
      double weight = 0;
      BucketWeight(bucket.get(), &weight);
      sum += static_cast<std::uint64_t>(weight);
      if (sum > point) {
        const Value& variant = bucket.get().array_value()[0];
        if (bucket.borrowed()) return Datum::Ref(&variant);
        return Datum::Own(variant);
      }
    }
    return Datum();
  }

  static bool BucketWeight(const Value& bucket, double* weight) {
    if (!bucket.is_array()) return false;
    const auto& entry = bucket.array_value();
    if (entry.empty() || entry.size() > 2) return false;
    if (IsContainer(entry[0])) return false;
    *weight = 1;
    if (entry.size() == 2) {
      const Value& w = entry[1];
      if (!w.is_number() || !std::isfinite(w.number_value()) ||
          w.number_value() != std::trunc(w.number_value())) {
        return false;
      }
      *weight = std::max(0.0, w.number_value());
    }
    return true;
  }

  Datum EvalSemVer(const Node& node, const Value* data) {
    if (node.args.size() != 3) return Datum();
    Datum left = Eval(node.args[0], data);
    Datum op = Eval(node.args[1], data);
    Datum right = Eval(node.args[2], data);
    if (failed_) return Datum();
    std::string op_text;
    AppendJsString(op.get(), &op_text);
    const auto result = CompareSemVer(left.get(), op_text, right.get());
    if (!result.has_value()) return Datum();
    return Datum::Bool(*result);
  }

  Datum EvalAffix(const Node& node, const Value* data) {
    if (node.args.size() != 2) return Datum();
    Datum text = Eval(node.args[0], data);
    Datum affix = Eval(node.args[1], data);
    if (!text.get().is_string() || !affix.get().is_string()) return Datum();
    const std::string& s = text.get().string_value();
    const std::string& a = affix.get().string_value();
    bool match = false;
    if (a.size() <= s.size()) {
      match = node.op == Op::kStartsWith
                  ? s.compare(0, a.size(), a) == 0
                  : s.compare(s.size() - a.size(), a.size(), a) == 0;
    }
    return Datum::Bool(match);
  }

  // $flagd.timestamp: read from the environment on first use, then the same
  // for the rest of the evaluation.
  std::int64_t UnixSeconds() const {
    if (!unix_seconds_.has_value()) unix_seconds_ = env_.unix_seconds();
    return *unix_seconds_;
  }

  const EvalEnv& env_;
  mutable std::optional<std::int64_t> unix_seconds_;
  bool failed_ = false;
  std::string error_;
};

}  // namespace

absl::StatusOr<Node> CompileRule(const nlohmann::json& rule,
                                 const nlohmann::json* evaluators) {
  Compiler compiler(evaluators);
  return compiler.Compile(rule, 0);
}

bool EvaluateRule(const Node& rule, const EvalEnv& env, Datum* result,
                  std::string* error) {
  Evaluator evaluator(env);
  Datum datum = evaluator.Eval(rule, nullptr);
  if (evaluator.failed()) {
    *error = evaluator.error();
    return false;
  }
  *result = std::move(datum);
  return true;
}

const Value& NullValue() {
  static const Value* const kNull = new Value();
  return *kNull;
}

const Value& BoolValue(bool b) {
  static const Value* const kTrue = new Value(true);
  static const Value* const kFalse = new Value(false);
  return b ? *kTrue : *kFalse;
}

bool Truthy(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::kNull:
      return false;
    case Value::Kind::kBool:
      return value.bool_value();
    case Value::Kind::kNumber:
      return value.number_value() != 0 && !std::isnan(value.number_value());
    case Value::Kind::kString:
      return !value.string_value().empty();
    case Value::Kind::kArray:
      return !value.array_value().empty();
    case Value::Kind::kObject:
      return !value.object_value().empty();
  }
  return false;
}

void AppendJsString(const Value& value, std::string* out) {
  switch (value.kind()) {
    case Value::Kind::kNull:
      out->append("null");
      return;
    case Value::Kind::kBool:
      out->append(value.bool_value() ? "true" : "false");
      return;
    case Value::Kind::kNumber:
      AppendJsNumber(value.number_value(), out);
      return;
    case Value::Kind::kString:
      out->append(value.string_value());
      return;
    case Value::Kind::kArray: {
      bool first = true;
      for (const Value& element : value.array_value()) {
        if (!first) out->push_back(',');
        first = false;
        if (!element.is_null()) AppendJsString(element, out);
      }
      return;
    }
    case Value::Kind::kObject:
      out->append("[object Object]");
      return;
  }
}

}  // namespace keel::flags_internal
