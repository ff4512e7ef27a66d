#include "keel/resilience/retry_after.h"

#include <cstdint>
#include <string>

#include "absl/strings/cord.h"
#include "absl/types/optional.h"

namespace keel::resilience {
namespace {

// Abseil 20220623 takes its own string_view type for payload URLs.
absl::string_view TypeUrl() {
  return absl::string_view(kRetryAfterTypeUrl.data(),
                           kRetryAfterTypeUrl.size());
}

}  // namespace

void SetRetryAfter(absl::Status& status, std::chrono::nanoseconds delay) {
  if (status.ok()) return;
  const std::int64_t ns = delay.count() < 0 ? 0 : delay.count();
  status.SetPayload(TypeUrl(), absl::Cord(std::to_string(ns)));
}

std::optional<std::chrono::nanoseconds> GetRetryAfter(
    const absl::Status& status) {
  const absl::optional<absl::Cord> payload = status.GetPayload(TypeUrl());
  if (!payload.has_value()) return std::nullopt;
  const std::string text(*payload);
  // 19 digits always fit in int64 nanoseconds only up to 9.2e18; reject more.
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(value));
}

}  // namespace keel::resilience
