// keel/health/process_check.h
//
// Built-in health checks on the process's own resources, read from Linux
// /proc: open file descriptors against RLIMIT_NOFILE (a process that runs out
// of descriptors cannot accept connections), and resident memory against a
// configured bound (e.g. the container's memory limit, before the OOM killer
// acts). Both warn, then fail, as usage crosses the configured fractions.
//
// Example:
//   keel::health::MemoryCheckOptions memory;
//   memory.limit_bytes = 512ull << 20;
//   keel::health::CheckOptions options;
//   options.name = "memory";
//   options.probes = {keel::health::Probe::kReadiness};
//   registry->Register(options,
//       keel::health::MakeMemoryCheck(memory).value()).IgnoreError();
//
// Thread safety: the returned functions may be called from any thread.

#ifndef KEEL_HEALTH_PROCESS_CHECK_H_
#define KEEL_HEALTH_PROCESS_CHECK_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "keel/health/check.h"

namespace keel::health {

// Usage fractions of a limit at which a check turns warn and fail.
struct UsageThresholds {
  // Warn at or above this fraction. In (0, 1], <= fail_ratio. Default: 0.8.
  double warn_ratio = 0.8;
  // Fail at or above this fraction. In (0, 1]. Default: 0.95.
  double fail_ratio = 0.95;
};

struct OpenFilesCheckOptions {
  UsageThresholds thresholds;
  // The descriptor limit to compare against. Default: the soft RLIMIT_NOFILE
  // read at each execution. Must be > 0 when set.
  std::optional<std::uint64_t> limit;
};

// Counts /proc/self/fd. Result: observedValue = open descriptors, observedUnit
// "count", componentType "system"; fails with a message when /proc/self/fd or
// the limit cannot be read. Fails with kInvalidArgument naming the bad field
// for invalid thresholds or a zero limit.
absl::StatusOr<CheckFunction> MakeOpenFilesCheck(
    OpenFilesCheckOptions options = {});

struct MemoryCheckOptions {
  // The bound resident memory is compared against, in bytes. Required (> 0).
  std::uint64_t limit_bytes = 0;
  UsageThresholds thresholds;
  // Where the statm line is read from (pages; the second field is resident).
  // Default: "/proc/self/statm"; other values serve tests and sandboxes.
  std::string statm_path = "/proc/self/statm";
};

// Reads resident memory. Result: observedValue = resident bytes, observedUnit
// "bytes", componentType "system"; fails with a message when the statm file
// cannot be read or parsed. Fails with kInvalidArgument naming the bad field
// for a zero limit, invalid thresholds or an empty statm_path.
absl::StatusOr<CheckFunction> MakeMemoryCheck(MemoryCheckOptions options);

}  // namespace keel::health

#endif  // KEEL_HEALTH_PROCESS_CHECK_H_
