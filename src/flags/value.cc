#include "keel/flags/value.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "flags/json_util.h"
#include "nlohmann/json.hpp"

namespace keel::flags {

Value Value::Array(ArrayType elements) {
  Value v;
  v.kind_ = Kind::kArray;
  v.array_ = std::move(elements);
  return v;
}

Value Value::Object(ObjectType members) {
  Value v;
  v.kind_ = Kind::kObject;
  // Stable sort keeps insertion order among equal keys; the last one wins.
  std::stable_sort(
      members.begin(), members.end(),
      [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& member : members) {
    if (!v.object_.empty() && v.object_.back().first == member.first) {
      v.object_.back().second = std::move(member.second);
    } else {
      v.object_.push_back(std::move(member));
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
  if (kind_ != Kind::kObject) return nullptr;
  auto it = std::lower_bound(
      object_.begin(), object_.end(), key,
      [](const auto& member, std::string_view k) { return member.first < k; });
  if (it == object_.end() || it->first != key) return nullptr;
  return &it->second;
}

Value& Value::Set(std::string_view key, Value value) {
  if (kind_ != Kind::kObject) *this = Object();
  auto it = std::lower_bound(
      object_.begin(), object_.end(), key,
      [](const auto& member, std::string_view k) { return member.first < k; });
  if (it != object_.end() && it->first == key) {
    it->second = std::move(value);
  } else {
    object_.emplace(it, std::string(key), std::move(value));
  }
  return *this;
}

Value& Value::Append(Value value) {
  if (kind_ != Kind::kArray) *this = Array();
  array_.push_back(std::move(value));
  return *this;
}

bool operator==(const Value& a, const Value& b) {
  if (a.kind_ != b.kind_) return false;
  switch (a.kind_) {
    case Value::Kind::kNull:
      return true;
    case Value::Kind::kBool:
      return a.bool_ == b.bool_;
    case Value::Kind::kNumber:
      return a.number_ == b.number_;
    case Value::Kind::kString:
      return a.string_ == b.string_;
    case Value::Kind::kArray:
      return a.array_ == b.array_;
    case Value::Kind::kObject:
      return a.object_ == b.object_;
  }
  return false;
}

}  // namespace keel::flags
