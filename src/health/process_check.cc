#include "keel/health/process_check.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace keel::health {
namespace {

absl::Status ValidateThresholds(const std::string& owner,
                                const UsageThresholds& t) {
  // Negated comparisons also reject NaN.
  if (!(t.fail_ratio > 0.0 && t.fail_ratio <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat(owner, ".thresholds.fail_ratio must be in (0, 1]"));
  }
  if (!(t.warn_ratio > 0.0 && t.warn_ratio <= t.fail_ratio)) {
    return absl::InvalidArgumentError(absl::StrCat(
        owner, ".thresholds.warn_ratio must be in (0, fail_ratio]"));
  }
  return absl::OkStatus();
}

// Grades `used` of `limit` and describes it as "<used> of <limit> <what>".
CheckResult Grade(std::uint64_t used, std::uint64_t limit,
                  const UsageThresholds& t, const std::string& what) {
  const double ratio = static_cast<double>(used) / static_cast<double>(limit);
  CheckResult result;
  result.status = ratio >= t.fail_ratio   ? Status::kFail
                  : ratio >= t.warn_ratio ? Status::kWarn
                                          : Status::kPass;
  result.output =
      absl::StrFormat("%d of %d %s (%.1f%%)", used, limit, what, ratio * 100.0);
  result.observed_value = static_cast<std::int64_t>(used);
  result.component_type = "system";
  return result;
}

CheckResult Failure(std::string output) {
  CheckResult result = CheckResult::Fail(std::move(output));
  result.component_type = "system";
  return result;
}

CheckResult CheckOpenFiles(const OpenFilesCheckOptions& options) {
  std::uint64_t limit = 0;
  if (options.limit.has_value()) {
    limit = *options.limit;
  } else {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
      return Failure(
          absl::StrCat("getrlimit(RLIMIT_NOFILE): ", std::strerror(errno)));
    }
    limit = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
  }
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) {
    return Failure(
        absl::StrCat("cannot list /proc/self/fd: ", std::strerror(errno)));
  }
  // The listing's own descriptor is open only while we count: skip it.
  const std::string own_fd = std::to_string(dirfd(dir));
  std::uint64_t open_fds = 0;
  while (const dirent* entry = readdir(dir)) {
    const char* name = entry->d_name;
    if (name[0] == '.' || own_fd == name) continue;
    ++open_fds;
  }
  closedir(dir);
  CheckResult result =
      Grade(open_fds, limit, options.thresholds, "file descriptors open");
  result.observed_unit = "count";
  result.component_id = "open-files";
  return result;
}

CheckResult CheckMemory(const MemoryCheckOptions& options) {
  std::ifstream in(options.statm_path);
  std::uint64_t size_pages = 0;
  std::uint64_t resident_pages = 0;
  if (!in) {
    return Failure(absl::StrCat("cannot read ", options.statm_path));
  }
  if (!(in >> size_pages >> resident_pages)) {
    return Failure(absl::StrCat("cannot parse ", options.statm_path));
  }
  const long page = sysconf(_SC_PAGESIZE);
  const std::uint64_t rss =
      resident_pages * static_cast<std::uint64_t>(page > 0 ? page : 4096);
  CheckResult result =
      Grade(rss, options.limit_bytes, options.thresholds, "bytes resident");
  result.observed_unit = "bytes";
  result.component_id = "memory";
  return result;
}

}  // namespace

absl::StatusOr<CheckFunction> MakeOpenFilesCheck(
    OpenFilesCheckOptions options) {
  if (absl::Status s =
          ValidateThresholds("OpenFilesCheckOptions", options.thresholds);
      !s.ok()) {
    return s;
  }
  if (options.limit.has_value() && *options.limit == 0) {
    return absl::InvalidArgumentError("OpenFilesCheckOptions.limit is 0");
  }
  return CheckFunction([options] { return CheckOpenFiles(options); });
}

absl::StatusOr<CheckFunction> MakeMemoryCheck(MemoryCheckOptions options) {
  if (options.limit_bytes == 0) {
    return absl::InvalidArgumentError(
        "MemoryCheckOptions.limit_bytes must be > 0");
  }
  if (absl::Status s =
          ValidateThresholds("MemoryCheckOptions", options.thresholds);
      !s.ok()) {
    return s;
  }
  if (options.statm_path.empty()) {
    return absl::InvalidArgumentError("MemoryCheckOptions.statm_path is empty");
  }
  return CheckFunction(
      [options = std::move(options)] { return CheckMemory(options); });
}

}  // namespace keel::health
