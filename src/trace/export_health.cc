#include "keel/trace/export_health.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"

namespace keel::trace {

health::CheckResult ExportHealthResult(const ExportHealth& health) {
  if (health.consecutive_failures == 0) {
    health::CheckResult result = health::CheckResult::Pass();
    result.observed_value = std::int64_t{0};
    result.observed_unit = "consecutive failed exports";
    return result;
  }
  health::CheckResult result = health::CheckResult::Warn(
      absl::StrCat("span export failing (", health.consecutive_failures,
                   " in a row): ", health.last_error.ToString()));
  result.observed_value =
      static_cast<std::int64_t>(health.consecutive_failures);
  result.observed_unit = "consecutive failed exports";
  return result;
}

health::CheckFunction ExportHealthCheck(const BatchSpanProcessor& processor) {
  return [&processor] { return ExportHealthResult(processor.export_health()); };
}

}  // namespace keel::trace
