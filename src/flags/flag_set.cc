#include "keel/flags/flag_set.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "flags/json_util.h"
#include "flags/logic.h"
#include "keel/base/hash.h"
#include "nlohmann/json.hpp"

namespace keel::flags {
namespace {

using flags_internal::Datum;
using flags_internal::Node;

struct Flag {
  std::string key;
  Value key_value;  // the key as a string Value, for $flagd.flagKey
  bool enabled = true;
  Value::ObjectType variants;  // sorted by name
  int default_variant = -1;
  std::unique_ptr<Node> targeting;
  std::shared_ptr<const Value> metadata;
  std::uint64_t digest = 0;
};

int FindVariant(const Flag& flag, std::string_view name) {
  auto it = std::lower_bound(flag.variants.begin(), flag.variants.end(), name,
                             [](const auto& variant, std::string_view n) {
                               return variant.first < n;
                             });
  if (it == flag.variants.end() || it->first != name) return -1;
  return static_cast<int>(it - flag.variants.begin());
}

const char* JsonTypeName(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull:
      return "null";
    case Value::Kind::kBool:
      return "boolean";
    case Value::Kind::kNumber:
      return "number";
    case Value::Kind::kString:
      return "string";
    case Value::Kind::kArray:
      return "array";
    case Value::Kind::kObject:
      return "object";
  }
  return "null";
}

bool MatchesType(const Value& v, FlagType type) {
  switch (type) {
    case FlagType::kBoolean:
      return v.is_bool();
    case FlagType::kString:
      return v.is_string();
    case FlagType::kInteger: {
      if (!v.is_number()) return false;
      const double d = v.number_value();
      return std::isfinite(d) && d == std::trunc(d) &&
             d >= -9223372036854775808.0 && d < 9223372036854775808.0;
    }
    case FlagType::kDouble:
      return v.is_number();
    case FlagType::kObject:
      return v.is_object() || v.is_array();
  }
  return false;
}

// Checks a metadata object: string, number or boolean values only.
void CheckMetadata(const nlohmann::json& json, const std::string& where,
                   std::vector<std::string>* problems) {
  if (!json.is_object()) {
    problems->push_back(absl::StrCat(where, ": metadata must be an object"));
    return;
  }
  for (auto it = json.begin(); it != json.end(); ++it) {
    if (!it.value().is_string() && !it.value().is_number() &&
        !it.value().is_boolean()) {
      problems->push_back(
          absl::StrCat(where, ": metadata '", it.key(),
                       "' must be a string, number or boolean"));
    }
  }
}

}  // namespace

struct FlagSet::Impl {
  std::vector<Flag> flags;  // sorted by key
  std::vector<int> slots;   // open-addressing index into `flags`, -1 empty
  std::shared_ptr<const Value> metadata;

  void BuildIndex() {
    std::size_t size = 8;
    while (size < flags.size() * 2) size *= 2;
    slots.assign(size, -1);
    for (std::size_t i = 0; i < flags.size(); ++i) {
      std::size_t slot = Hash64(flags[i].key) & (size - 1);
      while (slots[slot] >= 0) slot = (slot + 1) & (size - 1);
      slots[slot] = static_cast<int>(i);
    }
  }

  int Find(std::string_view key) const noexcept {
    const std::size_t mask = slots.size() - 1;
    std::size_t slot = Hash64(key) & mask;
    while (true) {
      const int index = slots[slot];
      if (index < 0) return -1;
      if (flags[index].key == key) return index;
      slot = (slot + 1) & mask;
    }
  }
};

namespace {

// Parses and compiles; problems are appended, and nullptr returned if any.
std::unique_ptr<FlagSet::Impl> Compile(std::string_view text,
                                       std::vector<std::string>* problems);

}  // namespace

std::string_view FlagTypeName(FlagType type) {
  switch (type) {
    case FlagType::kBoolean:
      return "boolean";
    case FlagType::kString:
      return "string";
    case FlagType::kInteger:
      return "integer";
    case FlagType::kDouble:
      return "double";
    case FlagType::kObject:
      return "object";
  }
  return "object";
}

namespace {

std::unique_ptr<FlagSet::Impl> Compile(std::string_view text,
                                       std::vector<std::string>* problems) {
  nlohmann::json doc = nlohmann::json::parse(text.begin(), text.end(), nullptr,
                                             /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    try {
      nlohmann::json probe = nlohmann::json::parse(text.begin(), text.end());
      (void)probe;
      problems->push_back("malformed JSON");
    } catch (const nlohmann::json::exception& e) {
      problems->push_back(absl::StrCat("malformed JSON: ", e.what()));
    }
    return nullptr;
  }
  if (!doc.is_object()) {
    problems->push_back("the document must be a JSON object");
    return nullptr;
  }
  auto impl = std::make_unique<FlagSet::Impl>();
  const nlohmann::json* evaluators = nullptr;
  if (auto it = doc.find("$evaluators"); it != doc.end()) {
    if (!it->is_object()) {
      problems->push_back("$evaluators must be an object");
    } else {
      evaluators = &*it;
    }
  }
  Value set_metadata = Value::Object();
  if (auto it = doc.find("metadata"); it != doc.end()) {
    CheckMetadata(*it, "flag set", problems);
    auto converted = flags_internal::FromNlohmann(*it);
    if (converted.ok() && converted->is_object()) set_metadata = *converted;
  }
  impl->metadata = std::make_shared<const Value>(set_metadata);
  const auto flags_it = doc.find("flags");
  if (flags_it == doc.end() || !flags_it->is_object()) {
    problems->push_back("\"flags\" must be present and be an object");
    return nullptr;
  }
  const std::string evaluators_text =
      evaluators != nullptr ? evaluators->dump() : std::string();
  for (auto it = flags_it->begin(); it != flags_it->end(); ++it) {
    const std::string& key = it.key();
    const nlohmann::json& def = it.value();
    const std::string where = absl::StrCat("flag '", key, "'");
    const std::size_t problems_before = problems->size();
    if (key.empty()) {
      problems->push_back("a flag key must not be empty");
      continue;
    }
    if (!def.is_object()) {
      problems->push_back(absl::StrCat(where, ": must be an object"));
      continue;
    }
    Flag flag;
    flag.key = key;
    flag.key_value = Value(key);
    // state
    const auto state = def.find("state");
    if (state == def.end() || !state->is_string() ||
        (*state != "ENABLED" && *state != "DISABLED")) {
      problems->push_back(
          absl::StrCat(where, ": state must be \"ENABLED\" or \"DISABLED\""));
    } else {
      flag.enabled = *state == "ENABLED";
    }
    // variants
    const auto variants = def.find("variants");
    if (variants == def.end() || !variants->is_object() || variants->empty()) {
      problems->push_back(
          absl::StrCat(where, ": variants must be a non-empty object"));
    } else {
      std::string first_type;
      for (auto v = variants->begin(); v != variants->end(); ++v) {
        if (v.key().empty()) {
          problems->push_back(
              absl::StrCat(where, ": variant names must not be empty"));
          continue;
        }
        auto value = flags_internal::FromNlohmann(v.value(), 2);
        if (!value.ok()) {
          problems->push_back(absl::StrCat(where, ": variant '", v.key(),
                                           "': ", value.status().message()));
          continue;
        }
        if (value->is_null() || value->is_array()) {
          problems->push_back(
              absl::StrCat(where, ": variant '", v.key(),
                           "' must be a boolean, string, number or object"));
          continue;
        }
        const std::string type(JsonTypeName(*value));
        if (first_type.empty()) {
          first_type = type;
        } else if (type != first_type) {
          problems->push_back(
              absl::StrCat(where, ": variant '", v.key(), "' is a ", type,
                           " but other variants are ", first_type, "s"));
        }
        flag.variants.emplace_back(v.key(), *std::move(value));
      }
    }
    // defaultVariant
    if (const auto dv = def.find("defaultVariant"); dv != def.end()) {
      if (dv->is_string()) {
        const std::string& name = dv->get_ref<const std::string&>();
        if (!name.empty()) {
          flag.default_variant = FindVariant(flag, name);
          if (flag.default_variant < 0) {
            problems->push_back(absl::StrCat(where, ": defaultVariant '", name,
                                             "' is not one of its variants"));
          }
        }
      } else if (!dv->is_null()) {
        problems->push_back(
            absl::StrCat(where, ": defaultVariant must be a string or null"));
      }
    }
    // targeting
    bool uses_evaluators = false;
    if (const auto targeting = def.find("targeting"); targeting != def.end()) {
      if (!targeting->is_object()) {
        problems->push_back(
            absl::StrCat(where, ": targeting must be a JSON Logic object"));
      } else if (!targeting->empty()) {
        auto rule = flags_internal::CompileRule(*targeting, evaluators);
        if (!rule.ok()) {
          problems->push_back(
              absl::StrCat(where, ": targeting: ", rule.status().message()));
        } else {
          flag.targeting = std::make_unique<Node>(*std::move(rule));
          uses_evaluators = true;
        }
      }
    }
    // metadata: the flag's own entries override the flag set's.
    Value metadata = set_metadata;
    if (const auto md = def.find("metadata"); md != def.end()) {
      CheckMetadata(*md, where, problems);
      auto converted = flags_internal::FromNlohmann(*md);
      if (converted.ok() && converted->is_object()) {
        for (const auto& [k, v] : converted->object_value()) metadata.Set(k, v);
      }
    }
    flag.metadata = std::make_shared<const Value>(std::move(metadata));
    if (problems->size() == problems_before) {
      // Dumped only once valid: a valid flag's nesting is bounded.
      flag.digest = Hash64(def.dump() +
                           (uses_evaluators ? evaluators_text : std::string()));
      impl->flags.push_back(std::move(flag));
    }
  }
  if (!problems->empty()) return nullptr;
  std::sort(impl->flags.begin(), impl->flags.end(),
            [](const Flag& a, const Flag& b) { return a.key < b.key; });
  impl->BuildIndex();
  return impl;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const FlagSet>> FlagSet::Parse(
    std::string_view json) {
  std::vector<std::string> problems;
  std::unique_ptr<Impl> impl = Compile(json, &problems);
  if (impl == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid flag configuration: ", absl::StrJoin(problems, "; ")));
  }
  return std::shared_ptr<const FlagSet>(new FlagSet(std::move(impl)));
}

std::vector<std::string> FlagSet::Validate(std::string_view json) {
  std::vector<std::string> problems;
  (void)Compile(json, &problems);
  return problems;
}

FlagSet::FlagSet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FlagSet::~FlagSet() = default;

Resolution FlagSet::Resolve(std::string_view flag_key, FlagType type,
                            const EvaluationContext& context,
                            std::int64_t unix_seconds) const {
  return ResolveAt(flag_key, type, context,
                   [unix_seconds] { return unix_seconds; });
}

Resolution FlagSet::Resolve(std::string_view flag_key, FlagType type,
                            const EvaluationContext& context,
                            const Clock& clock) const {
  return ResolveAt(flag_key, type, context, [&clock] {
    return static_cast<std::int64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(clock.WallNow())
            .count());
  });
}

Resolution FlagSet::ResolveAt(
    std::string_view flag_key, FlagType type, const EvaluationContext& context,
    absl::FunctionRef<std::int64_t()> unix_seconds) const {
  Resolution r;
  const int index = impl_->Find(flag_key);
  if (index < 0) {
    r.reason = Reason::kError;
    r.error_code = ErrorCode::kFlagNotFound;
    r.error_message =
        absl::StrCat("flag '", std::string(flag_key), "' not found");
    r.metadata = &impl_->metadata;
    return r;
  }
  const Flag& flag = impl_->flags[index];
  r.flag_index = index;
  r.metadata = &flag.metadata;
  if (!flag.enabled) {
    r.reason = Reason::kDisabled;
    return r;
  }
  int variant = flag.default_variant;
  r.reason = Reason::kStatic;
  if (flag.targeting != nullptr) {
    const flags_internal::EvalEnv env{&context, &flag.key_value, unix_seconds};
    Datum result;
    std::string error;
    if (!flags_internal::EvaluateRule(*flag.targeting, env, &result, &error)) {
      r.reason = Reason::kError;
      r.error_code = ErrorCode::kGeneral;
      r.error_message =
          absl::StrCat("flag '", flag.key, "': targeting failed: ", error);
      return r;
    }
    if (result.get().is_null()) {
      r.reason = Reason::kDefault;
    } else {
      std::string text;
      std::string_view name;
      if (result.get().is_string()) {
        name = result.get().string_value();
      } else {
        flags_internal::AppendJsString(result.get(), &text);
        name = text;
      }
      variant = FindVariant(flag, name);
      if (variant < 0) {
        r.reason = Reason::kError;
        r.error_code = ErrorCode::kGeneral;
        r.error_message =
            absl::StrCat("flag '", flag.key, "': targeting chose variant '",
                         std::string(name), "', which is not defined");
        return r;
      }
      r.reason = Reason::kTargetingMatch;
    }
  }
  if (variant < 0) {
    // No default variant: the caller's default, reason DEFAULT, no error.
    r.reason = Reason::kDefault;
    return r;
  }
  const auto& [name, value] = flag.variants[variant];
  if (!MatchesType(value, type)) {
    r.reason = Reason::kError;
    r.error_code = ErrorCode::kTypeMismatch;
    r.error_message = absl::StrCat("flag '", flag.key, "': variant '", name,
                                   "' is a ", JsonTypeName(value), ", not a ",
                                   std::string(FlagTypeName(type)));
    return r;
  }
  r.value = &value;
  r.variant = name;
  r.variant_index = variant;
  return r;
}

int FlagSet::flag_count() const noexcept {
  return static_cast<int>(impl_->flags.size());
}
std::string_view FlagSet::flag_key(int index) const {
  return impl_->flags[index].key;
}
int FlagSet::FindFlag(std::string_view key) const noexcept {
  return impl_->Find(key);
}
int FlagSet::variant_count(int index) const {
  return static_cast<int>(impl_->flags[index].variants.size());
}
std::string_view FlagSet::variant_name(int index, int variant) const {
  return impl_->flags[index].variants[variant].first;
}
std::uint64_t FlagSet::flag_digest(int index) const {
  return impl_->flags[index].digest;
}
const std::shared_ptr<const Value>& FlagSet::metadata() const noexcept {
  return impl_->metadata;
}

}  // namespace keel::flags
