#include "keel/pool/options.h"

#include <chrono>
#include <numeric>
#include <string>

#include "absl/strings/str_cat.h"
#include "keel/pool/stats.h"

namespace keel::pool {
namespace {

absl::Status Bad(std::string message) {
  return absl::InvalidArgumentError(
      absl::StrCat("pool options: ", std::move(message)));
}

absl::Status CheckNonNegative(const char* field,
                              std::chrono::nanoseconds value) {
  if (value.count() < 0) {
    return Bad(absl::StrCat(field, " must be >= 0, got ", value.count(), "ns"));
  }
  return absl::OkStatus();
}

absl::Status CheckPositive(const char* field, std::chrono::nanoseconds value) {
  if (value.count() <= 0) {
    return Bad(absl::StrCat(field, " must be > 0, got ", value.count(), "ns"));
  }
  return absl::OkStatus();
}

// A jitter must leave a positive period when the period is enabled.
absl::Status CheckJitter(const char* field, std::chrono::nanoseconds jitter,
                         const char* period_field,
                         std::chrono::nanoseconds period) {
  if (absl::Status s = CheckNonNegative(field, jitter); !s.ok()) return s;
  if (period.count() > 0 && jitter >= period) {
    return Bad(absl::StrCat(field, " (", jitter.count(), "ns) must be below ",
                            period_field, " (", period.count(), "ns)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidatePoolOptions(const PoolOptions& options) {
  if (options.name.empty()) return Bad("name must not be empty");
  if (options.max_size == 0) return Bad("max_size must be >= 1");
  if (options.min_idle > options.max_size) {
    return Bad(absl::StrCat("min_idle (", options.min_idle,
                            ") exceeds max_size (", options.max_size, ")"));
  }
  const std::pair<const char*, std::chrono::nanoseconds> non_negative[] = {
      {"acquire_timeout", options.acquire_timeout},
      {"idle_timeout", options.idle_timeout},
      {"max_lifetime", options.max_lifetime},
      {"keepalive_interval", options.keepalive_interval},
      {"validation_idle_threshold", options.validation_idle_threshold},
      {"leak_detection_threshold", options.leak_detection_threshold},
  };
  for (const auto& [field, value] : non_negative) {
    if (absl::Status s = CheckNonNegative(field, value); !s.ok()) return s;
  }
  if (absl::Status s =
          CheckJitter("max_lifetime_jitter", options.max_lifetime_jitter,
                      "max_lifetime", options.max_lifetime);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          CheckJitter("keepalive_jitter", options.keepalive_jitter,
                      "keepalive_interval", options.keepalive_interval);
      !s.ok()) {
    return s;
  }
  if (options.max_concurrent_connects < 1 ||
      options.max_concurrent_connects > 64) {
    return Bad(absl::StrCat("max_concurrent_connects must be in [1, 64], got ",
                            options.max_concurrent_connects));
  }
  const std::pair<const char*, std::chrono::nanoseconds> positive[] = {
      {"connect_timeout", options.connect_timeout},
      {"connect_backoff_initial", options.connect_backoff_initial},
      {"startup_timeout", options.startup_timeout},
      {"maintenance_interval", options.maintenance_interval},
  };
  for (const auto& [field, value] : positive) {
    if (absl::Status s = CheckPositive(field, value); !s.ok()) return s;
  }
  if (options.connect_backoff_max < options.connect_backoff_initial) {
    return Bad(absl::StrCat("connect_backoff_max (",
                            options.connect_backoff_max.count(),
                            "ns) is below connect_backoff_initial (",
                            options.connect_backoff_initial.count(), "ns)"));
  }
  if (options.clock == nullptr) return Bad("clock must not be null");
  return absl::OkStatus();
}

std::string_view CloseReasonName(CloseReason reason) {
  switch (reason) {
    case CloseReason::kBroken:
      return "broken";
    case CloseReason::kValidationFailed:
      return "validation_failed";
    case CloseReason::kResetFailed:
      return "reset_failed";
    case CloseReason::kKeepaliveFailed:
      return "keepalive_failed";
    case CloseReason::kIdleTimeout:
      return "idle_timeout";
    case CloseReason::kMaxLifetime:
      return "max_lifetime";
    case CloseReason::kEvicted:
      return "evicted";
    case CloseReason::kLeakReclaimed:
      return "leak_reclaimed";
    case CloseReason::kShutdown:
      return "shutdown";
  }
  return "unknown";
}

std::uint64_t PoolStats::TotalCloses() const {
  return std::accumulate(closes.begin(), closes.end(), std::uint64_t{0});
}

}  // namespace keel::pool
