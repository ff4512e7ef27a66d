// Differential check of keel's JOSE JSON scanner (src/security/jose_json.h)
// against nlohmann_json, shared by jose_json_test and the JWT fuzzer.

#ifndef KEEL_TESTS_SECURITY_JOSE_JSON_DIFFERENTIAL_H_
#define KEEL_TESTS_SECURITY_JOSE_JSON_DIFFERENTIAL_H_

#include <optional>
#include <string>
#include <string_view>

#include "nlohmann/json.hpp"
#include "security/jose_json.h"

namespace keel::security_test {

inline security_internal::JsonKind NlohmannKind(const nlohmann::json& value) {
  using security_internal::JsonKind;
  if (value.is_object()) return JsonKind::kObject;
  if (value.is_array()) return JsonKind::kArray;
  if (value.is_string()) return JsonKind::kString;
  if (value.is_number()) return JsonKind::kNumber;
  if (value.is_boolean()) {
    return value.get<bool>() ? JsonKind::kTrue : JsonKind::kFalse;
  }
  return JsonKind::kNull;
}

// Empty when the scanner and nlohmann_json judge `text` alike; otherwise
// what differs. Alike means:
//   - the scanner accepts: nlohmann accepts an object with the same member
//     names, and each member's compact text (AppendCompactJson) parses with
//     nlohmann to a value equal to nlohmann's, of the same kind; decoded
//     strings, numbers and array sizes agree; a string's compact text is
//     nlohmann's own serialisation; compacting is idempotent;
//   - the scanner refuses the syntax: nlohmann refuses too, except where
//     nlohmann is laxer by design: it skips a leading UTF-8 byte order mark
//     and takes a NUL byte outside strings as the end of the input;
//   - the scanner refuses a non-object: nlohmann parses a non-object;
//   - duplicate names and nesting depth are rules nlohmann does not have:
//     nothing to compare (the scanner stops there, nlohmann reads on).
// Independently of nlohmann, JsonValueKind() must agree with
// JsonObject::Parse().
inline std::string CompareWithNlohmann(std::string_view text) {
  using security_internal::JsonError;
  using security_internal::JsonKind;
  using security_internal::JsonMember;
  security_internal::JsonObject object;
  const bool ours = object.Parse(text, "doc").ok();
  const nlohmann::json doc = nlohmann::json::parse(
      text.begin(), text.end(), /*cb=*/nullptr, /*allow_exceptions=*/false);
  const bool theirs = !doc.is_discarded();
  const std::optional<JsonKind> kind = security_internal::JsonValueKind(text);

  if (!ours) {
    switch (object.error()) {
      case JsonError::kSyntax: {
        if (kind.has_value()) return "JsonValueKind accepts a syntax error";
        const bool bom = text.substr(0, 3) == "\xEF\xBB\xBF";
        const std::size_t at = object.error_offset();
        const bool nul_end = at < text.size() && text[at] == '\0';
        if (theirs && !bom && !nul_end) {
          return "scanner refuses what nlohmann accepts (offset " +
                 std::to_string(at) + ")";
        }
        return "";
      }
      case JsonError::kNotObject:
        if (!kind.has_value() || *kind == JsonKind::kObject) {
          return "JsonValueKind disagrees on a non-object";
        }
        if (!theirs || doc.is_object()) {
          return "nlohmann does not see the non-object";
        }
        return "";
      case JsonError::kDuplicateName:
      case JsonError::kTooDeep:
        if (kind.has_value()) return "JsonValueKind accepts a refused object";
        return "";
      case JsonError::kNone:
        return "refused without an error";
    }
  }
  if (kind != JsonKind::kObject) return "JsonValueKind refuses the object";
  if (!theirs) return "scanner accepts what nlohmann refuses";
  if (!doc.is_object()) return "scanner accepts a non-object";
  if (doc.size() != object.members().size()) return "member counts differ";
  for (const JsonMember& member : object.members()) {
    const std::string name(member.name);
    auto it = doc.find(name);
    if (it == doc.end()) return "nlohmann has no member \"" + name + "\"";
    if (NlohmannKind(*it) != member.value.kind) {
      return "kinds differ for \"" + name + "\"";
    }
    std::string compact;
    security_internal::AppendCompactJson(member.value.text, compact);
    const nlohmann::json reparsed =
        nlohmann::json::parse(compact, nullptr, /*allow_exceptions=*/false);
    if (reparsed.is_discarded() || reparsed != *it) {
      return "compact text of \"" + name + "\" differs: " + compact;
    }
    std::string again;
    security_internal::AppendCompactJson(compact, again);
    if (again != compact) return "compacting is not idempotent: " + compact;
    switch (member.value.kind) {
      case JsonKind::kString: {
        std::string decoded;
        security_internal::AppendJsonString(member.value.text, decoded);
        if (decoded != it->get_ref<const std::string&>()) {
          return "decoded strings differ for \"" + name + "\"";
        }
        if (compact != it->dump()) {
          return "canonical escaping differs for \"" + name + "\": " + compact;
        }
        break;
      }
      case JsonKind::kNumber:
        if (security_internal::JsonNumber(member.value.text) !=
            it->get<double>()) {
          return "numbers differ for \"" + name + "\"";
        }
        break;
      case JsonKind::kArray: {
        absl::InlinedVector<security_internal::JsonValue, 8> elements;
        security_internal::JsonArrayElements(member.value.text, elements);
        if (elements.size() != it->size()) {
          return "array sizes differ for \"" + name + "\"";
        }
        break;
      }
      default:
        break;
    }
  }
  return "";
}

}  // namespace keel::security_test

#endif  // KEEL_TESTS_SECURITY_JOSE_JSON_DIFFERENTIAL_H_
