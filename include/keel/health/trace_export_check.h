// keel/health/trace_export_check.h
//
// A health check for span export (in health/, which may depend on tracing,
// rather than in trace/, which may not depend on components): it passes while
// the exporter behind a BatchSpanProcessor succeeds and warns (never fails:
// losing traces should not take a replica out of rotation) while Export() calls
// fail, with the last error as output and the number of consecutive failed
// exports as observed value.
//
//   keel::health::CheckOptions check;
//   check.name = "trace-export";
//   health_registry->Register(check,
//   keel::health::TraceExportCheck(*processor));
//
// Thread safety: the returned function is thread-safe.

#ifndef KEEL_HEALTH_TRACE_EXPORT_CHECK_H_
#define KEEL_HEALTH_TRACE_EXPORT_CHECK_H_

#include "keel/health/check.h"
#include "keel/trace/batch_span_processor.h"

namespace keel::health {

// Turns an ExportHealth snapshot into a check result: pass with no failures,
// else warn with "span export failing (<n> in a row): <last error>".
CheckResult TraceExportResult(const trace::ExportHealth& health);

// A check that reads `processor.export_health()` on every call. `processor`
// must outlive the registration.
CheckFunction TraceExportCheck(const trace::BatchSpanProcessor& processor);

}  // namespace keel::health

#endif  // KEEL_HEALTH_TRACE_EXPORT_CHECK_H_
