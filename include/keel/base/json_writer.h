// keel/base/json_writer.h
//
// The small JSON text primitives that keel's line-oriented writers share (log
// records, health responses): exact string escaping, numbers that are always
// valid JSON, and RFC 3339 UTC timestamps (also used by the OTLP JSON encoder).
// They append to a caller-owned std::string so a writer can reuse one buffer
// and allocate nothing per field once the buffer has grown.
//
// Example:
//   std::string line = "{\"msg\":";
//   keel::AppendJsonString(line, "said \"hi\"\n");   // "said \"hi\"\n"
//   line += ",\"ts\":\"";
//   keel::AppendRfc3339(line, clock.WallNow(), 6);  //
//   2023-11-14T22:13:20.000000Z line += "\"}";
//
// Escaping policy (the output is always valid UTF-8 and valid JSON):
//   * `"` and `\` are escaped; \b \f \n \r \t use their short forms, every
//   other
//     control character below U+0020 becomes \u00XX (lowercase hex);
//   * valid UTF-8 sequences (including U+007F and U+2028/U+2029) are copied
//     unchanged, so valid UTF-8 input round-trips exactly;
//   * each byte that is not part of a well-formed UTF-8 sequence (stray
//     continuation bytes, truncated sequences, overlong forms, surrogates,
//     code points above U+10FFFF) is replaced by U+FFFD, so one bad byte never
//     swallows the valid text after it.
//
// Thread safety: the functions are pure; concurrent calls on different strings
// are safe.

#ifndef KEEL_BASE_JSON_WRITER_H_
#define KEEL_BASE_JSON_WRITER_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace keel {

// Appends `value` as a quoted, escaped JSON string (see the policy above).
// Complexity: one pass over `value`; plain ASCII is copied in runs.
void AppendJsonString(std::string& out, std::string_view value);

// Appends the escape JSON requires for `c`, which must be a quote, a
// backslash or a control character below 0x20: the two-character form where
// JSON has one (\", \\, \b, \f, \n, \r, \t), else \u00xx (lower-case hex).
// AppendJsonString uses it; so do writers that re-escape decoded text.
void AppendJsonEscape(std::string& out, unsigned char c);

// Appends `value` as a JSON number in the shortest form that reads back to the
// same double. NaN and infinities have no JSON form and are written as `null`.
void AppendJsonDouble(std::string& out, double value);

// Appends `value` in decimal.
void AppendJsonInt(std::string& out, std::int64_t value);

// Appends `since_epoch` (Unix time) as an RFC 3339 UTC timestamp with
// `fractional_digits` digits after the seconds (clamped to 0..9; 0 omits the
// fraction), e.g. "2023-11-14T22:13:20.123456Z". The whole range of
// `std::chrono::nanoseconds` (years 1677-2262) is supported, including times
// before 1970; the fraction is truncated, never rounded into the next second.
void AppendRfc3339(std::string& out, std::chrono::nanoseconds since_epoch,
                   int fractional_digits);

}  // namespace keel

#endif  // KEEL_BASE_JSON_WRITER_H_
