// The blocking side of the rate limiters: waiting on an injected clock, and
// the Acquire() loop built on Reserve().

#ifndef KEEL_SRC_RATELIMIT_BLOCKING_H_
#define KEEL_SRC_RATELIMIT_BLOCKING_H_

#include <cstdint>

#include "absl/status/status.h"
#include "keel/base/clock.h"
#include "keel/ratelimit/rate_limiter.h"

namespace keel {
namespace ratelimit_internal {

// Blocks until `clock.Now() >= until`. Real clocks are waited on in real
// time; a ManualClock wakes the waiter whenever a test moves it.
void SleepUntil(Clock& clock, MonoTime until);

// RateLimiter::Acquire for any limiter: reserve; if the reservation is ready
// by `deadline`, wait for it, otherwise cancel it and fail with
// kDeadlineExceeded. A refused reservation is retried after its retry_after
// when that still meets the deadline.
absl::Status AcquireByReserving(ratelimit::RateLimiter& limiter, Clock& clock,
                                std::int64_t permits, MonoTime deadline);

}  // namespace ratelimit_internal
}  // namespace keel

#endif  // KEEL_SRC_RATELIMIT_BLOCKING_H_
