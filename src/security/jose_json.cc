#include "jose_json.h"

#include <cstddef>
#include <vector>

#include "absl/strings/str_cat.h"

namespace keel::security_internal {

absl::StatusOr<nlohmann::json> ParseJsonObject(std::string_view text,
                                               std::string_view what) {
  const absl::string_view label(what.data(), what.size());
  // Member names seen per open object. An object with a repeated name ends
  // up with fewer members than names read, which object_end reveals without
  // copying any name.
  std::vector<std::size_t> names_seen;
  bool duplicate = false;
  bool too_deep = false;
  auto callback = [&](int depth, nlohmann::json::parse_event_t event,
                      nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (depth > kMaxJsonDepth) too_deep = true;
    switch (event) {
      case Event::object_start:
        names_seen.push_back(0);
        break;
      case Event::key:
        if (!names_seen.empty()) ++names_seen.back();
        break;
      case Event::object_end:
        if (!names_seen.empty()) {
          if (parsed.size() != names_seen.back()) duplicate = true;
          names_seen.pop_back();
        }
        break;
      default:
        break;
    }
    return true;
  };
  nlohmann::json value = nlohmann::json::parse(
      text.begin(), text.end(), callback, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat(label, ": invalid JSON"));
  }
  if (too_deep) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": nested deeper than ", kMaxJsonDepth));
  }
  if (duplicate) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": duplicate member name"));
  }
  if (!value.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": not a JSON object"));
  }
  return value;
}

absl::StatusOr<std::optional<std::string>> OptionalString(
    const nlohmann::json& object, std::string_view name,
    std::string_view what) {
  auto it = object.find(name);
  if (it == object.end()) return std::optional<std::string>();
  if (!it->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(
        absl::string_view(what.data(), what.size()), ": \"",
        absl::string_view(name.data(), name.size()), "\" must be a string"));
  }
  return std::optional<std::string>(it->get<std::string>());
}

}  // namespace keel::security_internal
