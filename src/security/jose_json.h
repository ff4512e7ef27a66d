// JSON parsing for keel's JOSE code: nlohmann_json with the checks RFC 7515
// section 5.2 and RFC 8725 call for that nlohmann does not make itself.

#ifndef KEEL_SRC_SECURITY_JOSE_JSON_H_
#define KEEL_SRC_SECURITY_JOSE_JSON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace keel::security_internal {

// Nesting deeper than this is refused: JOSE objects are shallow, and bounded
// depth keeps recursive consumers (dump) safe.
inline constexpr int kMaxJsonDepth = 32;

// Parses `text` as one JSON object. Fails with kInvalidArgument ("<what>:
// ...") for malformed JSON, a non-object, a member name repeated in any
// object (nlohmann would silently keep the last one, letting two parsers of
// the same token disagree), or nesting beyond kMaxJsonDepth.
absl::StatusOr<nlohmann::json> ParseJsonObject(std::string_view text,
                                               std::string_view what);

// The string member `name` of `object`: nullopt if absent; an error if
// present but not a string.
absl::StatusOr<std::optional<std::string>> OptionalString(
    const nlohmann::json& object, std::string_view name, std::string_view what);

}  // namespace keel::security_internal

#endif  // KEEL_SRC_SECURITY_JOSE_JSON_H_
