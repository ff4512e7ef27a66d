#include "keel/metrics/buckets.h"

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"

namespace keel {
namespace metrics {

absl::StatusOr<std::vector<double>> ExponentialBuckets(double start,
                                                       double factor,
                                                       int count) {
  if (!(start > 0) || !std::isfinite(start)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ExponentialBuckets: start must be finite and > 0, got ", start));
  }
  if (!(factor > 1) || !std::isfinite(factor)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ExponentialBuckets: factor must be finite and > 1, got ", factor));
  }
  if (count < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("ExponentialBuckets: count must be >= 1, got ", count));
  }
  std::vector<double> bounds;
  bounds.reserve(static_cast<std::size_t>(count));
  double bound = start;
  for (int i = 0; i < count; ++i) {
    bounds.push_back(bound);
    bound *= factor;
  }
  if (!std::isfinite(bounds.back())) {
    return absl::InvalidArgumentError(
        absl::StrCat("ExponentialBuckets: bound ", count - 1,
                     " overflows to infinity; reduce factor or count"));
  }
  return bounds;
}

absl::StatusOr<std::vector<double>> LinearBuckets(double start, double width,
                                                  int count) {
  if (!std::isfinite(start)) {
    return absl::InvalidArgumentError(
        absl::StrCat("LinearBuckets: start must be finite, got ", start));
  }
  if (!(width > 0) || !std::isfinite(width)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "LinearBuckets: width must be finite and > 0, got ", width));
  }
  if (count < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("LinearBuckets: count must be >= 1, got ", count));
  }
  std::vector<double> bounds;
  bounds.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    // Multiplying (rather than accumulating) keeps rounding errors from
    // piling up across many buckets.
    bounds.push_back(start + width * i);
  }
  const absl::Status status = ValidateBuckets(bounds);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("LinearBuckets: ", status.message(),
                     " (width too small for start, or bounds overflow)"));
  }
  return bounds;
}

std::vector<double> DefaultLatencyBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

absl::Status ValidateBuckets(const std::vector<double>& bounds) {
  if (bounds.empty()) {
    return absl::InvalidArgumentError("buckets must not be empty");
  }
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("bucket bound [", i, "] must be finite, got ", bounds[i],
                       " (the +Inf bucket is implicit)"));
    }
    if (i > 0 && !(bounds[i] > bounds[i - 1])) {
      return absl::InvalidArgumentError(
          absl::StrCat("bucket bounds must be strictly increasing: bound [", i,
                       "] = ", bounds[i], " follows ", bounds[i - 1]));
    }
  }
  return absl::OkStatus();
}

}  // namespace metrics
}  // namespace keel
