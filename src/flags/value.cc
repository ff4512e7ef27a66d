#include "keel/flags/value.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "flags/json_util.h"
#include "nlohmann/json.hpp"

namespace keel::flags {

namespace {

// What the accessors of a Value of another kind return.
const std::string& EmptyString() {
  static const std::string* const kEmpty = new std::string();
  return *kEmpty;
}
const Value::ArrayType& EmptyArray() {
  static const Value::ArrayType* const kEmpty = new Value::ArrayType();
  return *kEmpty;
}
const Value::ObjectType& EmptyObject() {
  static const Value::ObjectType* const kEmpty = new Value::ObjectType();
  return *kEmpty;
}

}  // namespace

const std::string& Value::string_value() const noexcept {
  const std::string* s = std::get_if<std::string>(&data_);
  return s != nullptr ? *s : EmptyString();
}

const Value::ArrayType& Value::array_value() const noexcept {
  const ArrayType* a = std::get_if<ArrayType>(&data_);
  return a != nullptr ? *a : EmptyArray();
}

const Value::ObjectType& Value::object_value() const noexcept {
  const ObjectType* o = std::get_if<ObjectType>(&data_);
  return o != nullptr ? *o : EmptyObject();
}

Value Value::Array(ArrayType elements) {
  Value v;
  v.data_.emplace<ArrayType>(std::move(elements));
  return v;
}

Value Value::Object(ObjectType members) {
  Value v;
  ObjectType& out = v.data_.emplace<ObjectType>();
  // Stable sort keeps insertion order among equal keys; the last one wins.
  std::stable_sort(
      members.begin(), members.end(),
      [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& member : members) {
    if (!out.empty() && out.back().first == member.first) {
      out.back().second = std::move(member.second);
    } else {
      out.push_back(std::move(member));
    }
  }
  return v;
}

absl::StatusOr<Value> Value::ParseJson(std::string_view json) {
  nlohmann::json parsed = nlohmann::json::parse(
      json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    // Re-run with diagnostics: the exception-free parse does not say where.
    try {
      nlohmann::json probe = nlohmann::json::parse(json.begin(), json.end());
      (void)probe;
    } catch (const nlohmann::json::exception& e) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid JSON: ", e.what()));
    }
    return absl::InvalidArgumentError("invalid JSON");
  }
  return flags_internal::FromNlohmann(parsed);
}

std::string Value::ToJson() const {
  std::string out;
  flags_internal::AppendJson(*this, &out);
  return out;
}

const Value* Value::Find(std::string_view key) const noexcept {
  const ObjectType* members = std::get_if<ObjectType>(&data_);
  if (members == nullptr) return nullptr;
  auto it = std::lower_bound(
      members->begin(), members->end(), key,
      [](const auto& member, std::string_view k) { return member.first < k; });
  if (it == members->end() || it->first != key) return nullptr;
  return &it->second;
}

Value& Value::Set(std::string_view key, Value value) {
  ObjectType* members = std::get_if<ObjectType>(&data_);
  if (members == nullptr) members = &data_.emplace<ObjectType>();
  auto it = std::lower_bound(
      members->begin(), members->end(), key,
      [](const auto& member, std::string_view k) { return member.first < k; });
  if (it != members->end() && it->first == key) {
    it->second = std::move(value);
  } else {
    members->emplace(it, std::string(key), std::move(value));
  }
  return *this;
}

Value& Value::Append(Value value) {
  ArrayType* elements = std::get_if<ArrayType>(&data_);
  if (elements == nullptr) elements = &data_.emplace<ArrayType>();
  elements->push_back(std::move(value));
  return *this;
}

bool operator==(const Value& a, const Value& b) {
  // std::variant's == compares alternatives with their own ==: doubles as
  // IEEE (NaN never equal), arrays and objects element-wise.
  return a.data_ == b.data_;
}

}  // namespace keel::flags
