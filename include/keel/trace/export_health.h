// keel/trace/export_health.h
//
// A keel/health check for span export: it passes while the exporter behind a
// BatchSpanProcessor succeeds and warns (never fails: losing traces should not
// take a replica out of rotation) while Export() calls fail, with the last
// error as output and the number of consecutive failed exports as observed
// value.
//
//   keel::health::CheckOptions check;
//   check.name = "trace-export";
//   health_registry->Register(check,
//   keel::trace::ExportHealthCheck(*processor));
//
// Thread safety: the returned function is thread-safe.

#ifndef KEEL_TRACE_EXPORT_HEALTH_H_
#define KEEL_TRACE_EXPORT_HEALTH_H_

#include "keel/health/check.h"
#include "keel/trace/batch_span_processor.h"

namespace keel::trace {

// Turns an ExportHealth snapshot into a check result: pass with no failures,
// else warn with "span export failing (<n> in a row): <last error>".
health::CheckResult ExportHealthResult(const ExportHealth& health);

// A check that reads `processor.export_health()` on every call. `processor`
// must outlive the registration.
health::CheckFunction ExportHealthCheck(const BatchSpanProcessor& processor);

}  // namespace keel::trace

#endif  // KEEL_TRACE_EXPORT_HEALTH_H_
