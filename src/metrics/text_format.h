// Text helpers shared by metric registration and exposition: name checks,
// UTF-8 repair, escaping and number formatting in the form Prometheus' own Go
// client writes.

#ifndef KEEL_SRC_METRICS_TEXT_FORMAT_H_
#define KEEL_SRC_METRICS_TEXT_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace keel {
namespace metrics_internal {

// `[a-zA-Z_:][a-zA-Z0-9_:]*`
bool IsValidMetricName(std::string_view name);

// `[a-zA-Z_][a-zA-Z0-9_]*`; names starting with `__` are reserved by
// Prometheus and rejected by the caller separately for a clearer message.
bool IsValidLabelName(std::string_view name);

// True if `text` is well-formed UTF-8 (no overlongs, surrogates or code points
// above U+10FFFF).
bool IsValidUtf8(std::string_view text);

// `text` with every ill-formed UTF-8 sequence replaced by U+FFFD: Prometheus
// rejects a whole scrape that carries one invalid label value.
std::string SanitizeUtf8(std::string_view text);

// Appends `text` escaping `\` as `\\` and a newline as `\n`, and `"` as `\"`
// when `escape_quote` (label values in both formats, HELP in OpenMetrics).
void AppendEscaped(std::string_view text, bool escape_quote, std::string* out);

// Appends `v` as Go's strconv.FormatFloat(v, 'g', -1, 64) would, which is what
// Prometheus clients write: the shortest text that parses back to the same
// double, exponent form outside [1e-4, 1e6), and `+Inf`, `-Inf`, `NaN`.
void AppendDouble(double v, std::string* out);

// Appends `v` in decimal.
void AppendUint(std::uint64_t v, std::string* out);

}  // namespace metrics_internal
}  // namespace keel

#endif  // KEEL_SRC_METRICS_TEXT_FORMAT_H_
