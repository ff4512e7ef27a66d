// keel/resilience/retry_after.h
//
// How a `Retry-After` hint travels inside an `absl::Status`. A rate limiter, an
// open circuit breaker or an HTTP client that received `Retry-After: 3`
// attaches the delay to the error it returns; `keel::resilience::Retry` (and
// anything else) reads it back without parsing messages.
//
// Encoding (stable, part of keel's contract): a payload under the type URL
// `kRetryAfterTypeUrl` whose value is the delay in whole nanoseconds, written
// as ASCII decimal digits without sign or padding ("3000000000" for 3 s).
//
// Example:
//   absl::Status status = absl::ResourceExhaustedError("rate limited");
//   keel::resilience::SetRetryAfter(status, std::chrono::seconds(3));
//   ...
//   if (auto delay = keel::resilience::GetRetryAfter(status)) Wait(*delay);
//
// Thread safety: pure functions over the status passed in.

#ifndef KEEL_RESILIENCE_RETRY_AFTER_H_
#define KEEL_RESILIENCE_RETRY_AFTER_H_

#include <chrono>
#include <optional>
#include <string_view>

#include "absl/status/status.h"

namespace keel::resilience {

// The payload type URL that carries a Retry-After delay.
inline constexpr std::string_view kRetryAfterTypeUrl =
    "type.keel.dev/keel.resilience.RetryAfter";

// Attaches `delay` to `status`, replacing any earlier hint. Negative delays are
// stored as zero. Does nothing on an OK status (Abseil drops payloads of OK).
void SetRetryAfter(absl::Status& status, std::chrono::nanoseconds delay);

// Returns the delay attached by SetRetryAfter(), or nullopt when `status` has
// none or the payload is malformed (not 1-19 decimal digits).
std::optional<std::chrono::nanoseconds> GetRetryAfter(
    const absl::Status& status);

}  // namespace keel::resilience

#endif  // KEEL_RESILIENCE_RETRY_AFTER_H_
