// keel/metrics/exposition.h
//
// Renders a `Registry` in the Prometheus text format 0.0.4 or OpenMetrics 1.0
// text, and picks between them from an HTTP `Accept` header, as a `/metrics`
// endpoint does:
//
//   std::string body;                                  // reused per scrape
//   keel::metrics::NegotiatedFormat f =
//       keel::metrics::NegotiateFormat(request.header("Accept"));
//   keel::metrics::WriteExposition(registry, f.format, &body);
//   response.set_header("Content-Type", std::string(f.content_type));
//
// Output rules (both formats): families sorted by name, series by label
// values, label names in registration order; families with no series are
// left out; HELP text escapes `\` and newline (OpenMetrics also `"`), label
// values escape `\`, `"` and newline; numbers are the shortest text that
// parses back to the same double (Go's 'g' format: `0.25`, `1e+06`, `+Inf`,
// `-Inf`, `NaN`). Counters are exposed as `<name>_total` samples (Prometheus
// text also names the family `<name>_total` in HELP/TYPE, OpenMetrics
// `<name>`); `_created` samples are not written. Histograms write cumulative
// `_bucket` samples ending with `le="+Inf"` (always equal to `_count`),
// `_sum` and `_count`. OpenMetrics output ends with `# EOF` and omits values
// the format forbids: counter callbacks returning a negative or NaN value,
// and a histogram `_sum` that is negative or NaN or whose buckets include
// negative bounds.
//
// Thread safety: thread-safe; may run concurrently with recording, which it
// never blocks. Callback series are evaluated during the call.

#ifndef KEEL_METRICS_EXPOSITION_H_
#define KEEL_METRICS_EXPOSITION_H_

#include <string>
#include <string_view>

#include "keel/metrics/registry.h"

namespace keel {
namespace metrics {

// The text formats a registry can be written in.
enum class ExpositionFormat : int {
  kPrometheusText,  // text/plain; version=0.0.4
  kOpenMetrics,     // application/openmetrics-text; version=1.0.0
};

// Content-Type of the Prometheus text format 0.0.4.
inline constexpr std::string_view kPrometheusTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Content-Type of OpenMetrics 1.0.0 text.
inline constexpr std::string_view kOpenMetricsContentType =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

// The Content-Type header value for `format`.
std::string_view ContentType(ExpositionFormat format);

// Result of content negotiation.
struct NegotiatedFormat {
  ExpositionFormat format = ExpositionFormat::kPrometheusText;
  // kPrometheusTextContentType or kOpenMetricsContentType (static storage).
  std::string_view content_type = kPrometheusTextContentType;
};

// Chooses the format for an `Accept` header value (RFC 9110 media ranges with
// q-values). OpenMetrics is offered as `application/openmetrics-text` with
// version 1.0.0 or no version; the Prometheus format as `text/plain` with
// version 0.0.4 or no version. Each is weighted by the most specific range
// matching it (`*/*` < `type/*` < `type/subtype` < with version); the higher
// weight wins, a tie goes to the range listed first, and when neither is
// acceptable (or the header is empty or malformed) the Prometheus format is
// returned, since a scraper that sent an odd header still wants data.
// Never fails; O(header length).
NegotiatedFormat NegotiateFormat(std::string_view accept);

// Replaces `*out` with the exposition of `registry` in `format`, reusing the
// string's capacity. Complexity: O(series x buckets) plus the callbacks' cost.
void WriteExposition(const Registry& registry, ExpositionFormat format,
                     std::string* out);

}  // namespace metrics
}  // namespace keel

#endif  // KEEL_METRICS_EXPOSITION_H_
