// JSON for keel's JOSE code.
//
// The hot path (a JWT's header and payload) uses JsonObject, a strict,
// allocation-light scanner that yields the top-level members of an object as
// (decoded name, kind, raw value text) without building a DOM. It accepts
// exactly RFC 8259 JSON text and additionally refuses what RFC 7515 section
// 5.2 and RFC 8725 call for:
//   - strings: no raw control characters (U+0000..U+001F), only the escapes
//     \" \\ \/ \b \f \n \r \t \uXXXX; a \u escape of a UTF-16 surrogate must
//     be a high surrogate directly followed by an escaped low surrogate; raw
//     bytes must be well-formed UTF-8 (RFC 3629: no overlong forms, no
//     surrogates, nothing above U+10FFFF);
//   - numbers: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, and a
//     magnitude a double can hold (larger ones round to infinity, which a
//     consumer of the value would have to special-case; underflow is fine);
//   - literals true, false, null; whitespace only space, tab, CR and LF; no
//     byte order mark, nothing after the value;
//   - a member name repeated in any object, compared after decoding (two
//     parsers of the same token could otherwise keep different values);
//   - more than kMaxJsonDepth nested arrays and objects (the top-level
//     object counts as one).
// Key sets (the cold path) are parsed with nlohmann_json by ParseJsonObject,
// which first runs the same scanner so that JWTs and JWKS accept exactly the
// same documents (jose_json_test holds the differential test, and the JWT
// fuzzer compares the two parsers).

#ifndef KEEL_SRC_SECURITY_JOSE_JSON_H_
#define KEEL_SRC_SECURITY_JOSE_JSON_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "nlohmann/json.hpp"

namespace keel::security_internal {

// Nesting deeper than this is refused: JOSE objects are shallow, and bounded
// depth keeps the recursive scanner and nlohmann's recursive destructor and
// dump() safe.
inline constexpr int kMaxJsonDepth = 32;

enum class JsonKind : std::uint8_t {
  kNull,
  kFalse,
  kTrue,
  kNumber,
  kString,
  kArray,
  kObject,
};

// Why a text was refused.
enum class JsonError : std::uint8_t {
  kNone,
  kSyntax,         // not RFC 8259 JSON (or a number beyond the double range)
  kTooDeep,        // more than kMaxJsonDepth nested containers
  kDuplicateName,  // a member name repeated in one object
  kNotObject,      // valid JSON, but not an object
};

// A value as written: `text` is the exact slice of the scanned input (for a
// string, including the quotes and escapes; for a container, including any
// whitespace inside).
struct JsonValue {
  JsonKind kind = JsonKind::kNull;
  std::string_view text;
};

// One top-level member of a JsonObject.
struct JsonMember {
  std::string_view name;  // decoded (escapes resolved)
  JsonValue value;
};

// The top-level members of one JSON object text.
//
// Parse() keeps views into the text and into this object's own storage: the
// text must outlive the JsonObject, which can be neither copied nor moved.
// Cost: one pass over the text; no allocation unless there are more than 16
// members, more than 16 names in one nested object, or a member name with an
// escape.
//
// Thread safety: none needed; one per parse.
class JsonObject {
 public:
  JsonObject() = default;
  JsonObject(const JsonObject&) = delete;
  JsonObject& operator=(const JsonObject&) = delete;

  // Scans `text` as one JSON object. Fails with kInvalidArgument ("<what>:
  // ...", naming the problem and, for syntax errors, the byte offset).
  absl::Status Parse(std::string_view text, std::string_view what);

  // Why the last Parse() failed (kNone after a success), and the byte
  // offset where the scanner stopped.
  JsonError error() const { return error_; }
  std::size_t error_offset() const { return error_offset_; }

  // The members, sorted by name (byte-wise); names are unique.
  absl::Span<const JsonMember> members() const { return members_; }

  // The member called `name`, or nullptr. O(log n).
  const JsonMember* Find(std::string_view name) const;

 private:
  absl::InlinedVector<JsonMember, 16> members_;
  // Decoded names that had escapes; reserved to the text's size before the
  // first one is appended, so it never reallocates under the views.
  std::string decoded_names_;
  JsonError error_ = JsonError::kNone;
  std::size_t error_offset_ = 0;
};

// Validates `text` as one JSON value of any kind (same rules as JsonObject,
// the top-level value counting as one level when it is a container) and
// returns its kind; nullopt if it is not valid.
std::optional<JsonKind> JsonValueKind(std::string_view text);

// The elements of `array`, the text of a valid array value (as produced by
// JsonObject or checked by JsonValueKind), appended to `out`.
void JsonArrayElements(std::string_view array,
                       absl::InlinedVector<JsonValue, 8>& out);

// Appends the decoded content of `string`, the text of a valid string value,
// to `out`.
void AppendJsonString(std::string_view string, std::string& out);

// The value of `number`, the text of a valid number: the nearest double (0
// for a magnitude below the smallest subnormal).
double JsonNumber(std::string_view number);

// Appends `value`, the text of a valid value (surrounding whitespace
// allowed), in keel's compact form:
//   - whitespace outside strings removed; member and element order kept;
//   - numbers and literals exactly as written;
//   - every string (member names included) re-escaped canonically: `"` and
//     `\` as \" and \\, U+0008 U+0009 U+000A U+000C U+000D as \b \t \n \f \r,
//     the other characters below U+0020 as \u00xx (lowercase hex), and every
//     other character, `/`, U+007F and non-ASCII included, as its UTF-8
//     bytes.
// Two texts that differ only in whitespace or in how their strings are
// escaped have the same compact form.
void AppendCompactJson(std::string_view value, std::string& out);

// Parses `text` as one JSON object with nlohmann_json after JsonObject has
// accepted it, so that the rules above hold for key sets too. Fails with
// kInvalidArgument ("<what>: ...").
absl::StatusOr<nlohmann::json> ParseJsonObject(std::string_view text,
                                               std::string_view what);

// The string member `name` of `object`: nullopt if absent; an error if
// present but not a string.
absl::StatusOr<std::optional<std::string>> OptionalString(
    const nlohmann::json& object, std::string_view name, std::string_view what);

}  // namespace keel::security_internal

#endif  // KEEL_SRC_SECURITY_JOSE_JSON_H_
