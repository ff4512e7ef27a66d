// keel/metrics/buckets.h
//
// Helpers that build histogram bucket bounds for
// `Registry::AddHistogram()`. Bounds are the finite upper bounds of the
// buckets, strictly increasing; the +Inf bucket is implicit.
//
// Example:
//   // 1 ms, 2 ms, 4 ms, ... 8.192 s: request latencies.
//   auto bounds = keel::metrics::ExponentialBuckets(0.001, 2, 14);
//   if (!bounds.ok()) return bounds.status();
//   auto family = registry.AddHistogram("keel_http_request_seconds",
//                                       "Request latency.", {"route"},
//                                       *bounds);
//
// Thread safety: pure functions.

#ifndef KEEL_METRICS_BUCKETS_H_
#define KEEL_METRICS_BUCKETS_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace keel {
namespace metrics {

// `count` bounds start, start*factor, start*factor^2, ...
// Fails with kInvalidArgument unless start > 0, factor > 1, count >= 1, and
// every bound is finite.
absl::StatusOr<std::vector<double>> ExponentialBuckets(double start,
                                                       double factor,
                                                       int count);

// `count` bounds start, start+width, start+2*width, ...
// Fails with kInvalidArgument unless start is finite, width > 0, count >= 1,
// and every bound is finite and strictly greater than the previous one.
absl::StatusOr<std::vector<double>> LinearBuckets(double start, double width,
                                                  int count);

// Bounds suited to request latencies in seconds, 5 ms to 10 s (the bounds
// other Prometheus clients default to).
std::vector<double> DefaultLatencyBuckets();

// Checks that `bounds` is non-empty, finite and strictly increasing; the error
// names the offending index. AddHistogram() applies the same check.
absl::Status ValidateBuckets(const std::vector<double>& bounds);

}  // namespace metrics
}  // namespace keel

#endif  // KEEL_METRICS_BUCKETS_H_
