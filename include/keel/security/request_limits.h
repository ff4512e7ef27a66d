// keel/security/request_limits.h
//
// Cheap checks that run before any handler: method allow-list, URL length,
// header count and size, body size, forbidden characters in header fields,
// malformed percent-encoding and path traversal.
//
//   keel::security::RequestLimitsOptions options;
//   options.max_body_bytes = 4 << 20;
//   options.metrics = &registry;    // keel_request_limits_rejections_total
//   auto limits = keel::security::RequestLimits::Create(options);
//   ...
//   keel::security::LimitVerdict v = (*limits)->Check(request);
//   if (!v.ok()) return Respond(v.status);   // 400, 405, 413, 414 or 431
//   // (send `Allow: (*limits)->allow_value()` with a 405)
//
// | reason                      | status | when |
// |-----------------------------|--------|---------------------------------------|
// | kMethodNotAllowed           | 405    | method not in allowed_methods | |
// kUriTooLong                 | 414    | target longer than max_target_length |
// | kTooManyHeaders             | 431    | more than max_header_count fields |
// | kHeaderTooLarge             | 431    | one name + value over
// max_header_bytes| | kHeadersTooLarge            | 431    | all fields over
// max_total_header_bytes| | kBodyTooLarge               | 413    | body_length
// over max_body_bytes       | | kInvalidHeaderName          | 400    | a name
// that is not an HTTP token      | | kInvalidHeaderValue         | 400    |
// NUL, CR, LF or another control char   | | kInvalidTarget              | 400
// | not origin-form (or `*` for OPTIONS), | |                             | |
// raw control chars/space, encoded NUL  | | kMalformedPercentEncoding   | 400
// | '%' not followed by two hex digits    | | kPathTraversal              | 400
// | a `..` segment that climbs above the  | |                             | |
// root once the path is percent-decoded | |                             | | and
// `\` is read as `/`                |
//
// The checks run in the order of the table's statuses that a server would
// hit first (method, target, headers, body). The traversal check decodes
// `%2e` and `%2f`/`%5c` before splitting segments, so `/%2e%2e/etc/passwd`
// and `/a/..%2f..%2fb` are refused while `/a/../b` (which stays below the
// root) is allowed.
//
// Thread safety: immutable after Create; Check is thread-safe and allocates
// nothing.

#ifndef KEEL_SECURITY_REQUEST_LIMITS_H_
#define KEEL_SECURITY_REQUEST_LIMITS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "keel/metrics/instruments.h"
#include "keel/metrics/registry.h"
#include "keel/security/http_fields.h"

namespace keel {
namespace security {

// Why a request was refused.
enum class LimitReason : std::uint8_t {
  kOk,
  kMethodNotAllowed,
  kUriTooLong,
  kTooManyHeaders,
  kHeaderTooLarge,
  kHeadersTooLarge,
  kBodyTooLarge,
  kInvalidHeaderName,
  kInvalidHeaderValue,
  kInvalidTarget,
  kMalformedPercentEncoding,
  kPathTraversal,
};

// Number of LimitReason values.
inline constexpr std::size_t kLimitReasonCount = 12;

// snake_case name of a reason ("path_traversal"), used as the metric label.
std::string_view LimitReasonName(LimitReason reason);

// The HTTP status for a reason (200 for kOk).
int LimitReasonStatus(LimitReason reason);

// The result of a check.
struct LimitVerdict {
  LimitReason reason = LimitReason::kOk;
  int status = 200;

  bool ok() const { return reason == LimitReason::kOk; }
};

// Options of RequestLimits.
struct RequestLimitsOptions {
  // Methods accepted (exact, case-sensitive).
  std::vector<std::string> allowed_methods = {
      "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  // Longest request-target, in bytes.
  std::size_t max_target_length = 8192;
  // Most header fields.
  std::size_t max_header_count = 100;
  // Largest single field (name + value), in bytes.
  std::size_t max_header_bytes = 8192;
  // Largest sum of all fields (names + values), in bytes.
  std::size_t max_total_header_bytes = 64 * 1024;
  // Largest body, in bytes (checked against RequestView::body_length and
  // through CheckBodyLength for streamed bodies).
  std::uint64_t max_body_bytes = 1024 * 1024;
  // When set, rejections are counted in
  // keel_request_limits_rejections_total{reason="..."}.
  metrics::Registry* metrics = nullptr;
};

// Applies request limits.
//
// Thread safety: immutable; Check is thread-safe.
class RequestLimits {
 public:
  // Fails with kInvalidArgument naming a zero limit, an empty or non-token
  // method, or a metrics registration failure.
  static absl::StatusOr<std::unique_ptr<RequestLimits>> Create(
      RequestLimitsOptions options);

  // The first violated limit, or kOk.
  LimitVerdict Check(const RequestView& request) const;

  // For bodies without a known length: call with the bytes read so far.
  LimitVerdict CheckBodyLength(std::uint64_t bytes) const;

  // The `Allow` value for 405 answers ("GET, HEAD, ...").
  const std::string& allow_value() const { return allow_value_; }

 private:
  RequestLimits() = default;
  LimitVerdict Reject(LimitReason reason) const;

  RequestLimitsOptions options_;
  std::string allow_value_;
  std::array<metrics::Counter, kLimitReasonCount> rejections_;
};

// The target check alone (kOk, kInvalidTarget, kMalformedPercentEncoding or
// kPathTraversal) for a request-target; `method` decides whether `*` is
// accepted (OPTIONS only).
LimitReason CheckRequestTarget(std::string_view method,
                               std::string_view target);

}  // namespace security
}  // namespace keel

#endif  // KEEL_SECURITY_REQUEST_LIMITS_H_
