// keel/flags/value.h
//
// `keel::flags::Value` is the small JSON value type of the flags component:
// evaluation-context attributes, object-typed flag results (ObjectValue) and
// flag metadata are Values. keel keeps its JSON parser private, so this type is
// what crosses the public API instead of a parser's document type.
//
//   keel::flags::Value plan = keel::flags::Value::Object();
//   plan.Set("tier", "gold");
//   plan.Set("seats", 25);
//   std::string json = plan.ToJson();   // {"seats":25,"tier":"gold"}
//   auto parsed = keel::flags::Value::ParseJson(R"({"a":[1,true,null]})");
//
// Numbers are IEEE doubles (as in JSON Logic and JavaScript): integers are
// exact up to 2^53. Object members are kept sorted by key with unique keys, so
// serialisation is deterministic and look-ups are binary searches.
//
// Thread safety: a Value is a plain value type; const methods may be called
// concurrently, mutation needs external synchronisation.

#ifndef KEEL_FLAGS_VALUE_H_
#define KEEL_FLAGS_VALUE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"

namespace keel::flags {

// A JSON value: null, boolean, number, string, array or object.
class Value {
 public:
  // The JSON type of a value.
  enum class Kind : std::uint8_t {
    kNull,
    kBool,
    kNumber,
    kString,
    kArray,
    kObject
  };
  // Elements of an array value.
  using ArrayType = std::vector<Value>;
  // Members of an object value, sorted by key, keys unique.
  using ObjectType = std::vector<std::pair<std::string, Value>>;

  // Maximum nesting depth ParseJson() accepts; deeper documents are rejected
  // so that no recursive walk over a Value can exhaust the stack.
  static constexpr int kMaxDepth = 64;

  // null.
  Value() = default;
  Value(std::nullptr_t) {}       // NOLINT(google-explicit-constructor)
  Value(bool b) : data_(b) {}    // NOLINT(google-explicit-constructor)
  Value(double d) : data_(d) {}  // NOLINT(google-explicit-constructor)
  // Any integer type other than bool becomes a number.
  template <typename T,
            std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>,
                             int> = 0>
  Value(T i)  // NOLINT(google-explicit-constructor)
      : data_(static_cast<double>(i)) {}
  Value(const char* s)  // NOLINT(google-explicit-constructor)
      : data_(std::in_place_type<std::string>, s) {}
  Value(std::string s)  // NOLINT(google-explicit-constructor)
      : data_(std::in_place_type<std::string>, std::move(s)) {}
  Value(std::string_view s)  // NOLINT(google-explicit-constructor)
      : data_(std::in_place_type<std::string>, s) {}

  // An array value holding `elements`.
  static Value Array(ArrayType elements = {});
  // An object value; later duplicates of a key replace earlier ones.
  static Value Object(ObjectType members = {});

  // Parses RFC 8259 JSON. Fails with kInvalidArgument naming the position of
  // a syntax error, or if nesting exceeds kMaxDepth.
  static absl::StatusOr<Value> ParseJson(std::string_view json);

  // Compact JSON text; object keys in sorted order. Non-finite numbers (which
  // JSON cannot represent) are written as null.
  std::string ToJson() const;

  // The JSON type.
  Kind kind() const noexcept { return static_cast<Kind>(data_.index()); }
  bool is_null() const noexcept { return kind() == Kind::kNull; }
  bool is_bool() const noexcept { return kind() == Kind::kBool; }
  bool is_number() const noexcept { return kind() == Kind::kNumber; }
  bool is_string() const noexcept { return kind() == Kind::kString; }
  bool is_array() const noexcept { return kind() == Kind::kArray; }
  bool is_object() const noexcept { return kind() == Kind::kObject; }

  // Typed accessors. Each returns a neutral value (false, 0, empty) when the
  // kind differs, so reading never fails.
  bool bool_value() const noexcept {
    const bool* b = std::get_if<bool>(&data_);
    return b != nullptr && *b;
  }
  double number_value() const noexcept {
    const double* d = std::get_if<double>(&data_);
    return d != nullptr ? *d : 0.0;
  }
  const std::string& string_value() const noexcept;
  const ArrayType& array_value() const noexcept;
  const ObjectType& object_value() const noexcept;

  // The member `key` of an object value, or nullptr (also for non-objects).
  // Complexity: O(log members).
  const Value* Find(std::string_view key) const noexcept;

  // Sets member `key`, turning a non-object value into an empty object first.
  Value& Set(std::string_view key, Value value);

  // Appends to an array value, turning a non-array value into an empty array
  // first.
  Value& Append(Value value);

  // Deep equality (numbers compare as doubles; NaN never equals).
  friend bool operator==(const Value& a, const Value& b);
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

 private:
  // One alternative per Kind, in Kind's order. A variant rather than a member
  // per kind: targeting rules create and drop Values on every evaluation, and
  // constructing, assigning and destroying a variant touches one alternative
  // instead of a string and two vectors.
  std::variant<std::monostate, bool, double, std::string, ArrayType, ObjectType>
      data_;
};

}  // namespace keel::flags

#endif  // KEEL_FLAGS_VALUE_H_
