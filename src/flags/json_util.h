// Conversions between nlohmann::json (private to keel::core) and
// keel::flags::Value, and JavaScript-compatible number formatting.

#ifndef KEEL_SRC_FLAGS_JSON_UTIL_H_
#define KEEL_SRC_FLAGS_JSON_UTIL_H_

#include <string>

#include "absl/status/statusor.h"
#include "keel/flags/value.h"
#include "nlohmann/json.hpp"

namespace keel::flags_internal {

// Converts `json` (nesting at most Value::kMaxDepth deep from `depth`);
// fails with kInvalidArgument beyond that depth.
absl::StatusOr<flags::Value> FromNlohmann(const nlohmann::json& json,
                                          int depth = 0);

// Appends `number` the way JavaScript's Number.prototype.toString() writes it
// ("3", "0.1", "1e+21", "NaN", "Infinity").
void AppendJsNumber(double number, std::string* out);

// Appends JSON text for `value` to `out`.
void AppendJson(const flags::Value& value, std::string* out);

}  // namespace keel::flags_internal

#endif  // KEEL_SRC_FLAGS_JSON_UTIL_H_
