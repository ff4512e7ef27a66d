#include "keel/health/trace_export_check.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"

namespace keel::health {

CheckResult TraceExportResult(const trace::ExportHealth& health) {
  if (health.consecutive_failures == 0) {
    CheckResult result = CheckResult::Pass();
    result.observed_value = std::int64_t{0};
    result.observed_unit = "consecutive failed exports";
    return result;
  }
  CheckResult result = CheckResult::Warn(
      absl::StrCat("span export failing (", health.consecutive_failures,
                   " in a row): ", health.last_error.ToString()));
  result.observed_value =
      static_cast<std::int64_t>(health.consecutive_failures);
  result.observed_unit = "consecutive failed exports";
  return result;
}

CheckFunction TraceExportCheck(const trace::BatchSpanProcessor& processor) {
  return [&processor] { return TraceExportResult(processor.export_health()); };
}

}  // namespace keel::health
