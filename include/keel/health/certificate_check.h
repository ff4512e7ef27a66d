// keel/health/certificate_check.h
//
// A built-in health check that watches a PEM certificate file (a server's TLS
// certificate, a client certificate for a backend) and warns before it
// expires. The file is re-read on every execution so that rotated
// certificates are picked up; combine with CheckOptions::cache_interval to
// read it less often.
//
// Example:
//   keel::health::CertificateCheckOptions cert;
//   cert.path = "/etc/tls/server.crt";
//   cert.warn_before = std::chrono::hours(24 * 14);
//   keel::health::CheckOptions options;
//   options.name = "tls-cert";
//   options.cache_interval = std::chrono::minutes(10);
//   registry->Register(options,
//       keel::health::MakeCertificateExpiryCheck(cert).value()).IgnoreError();
//
// Result: pass while more than `warn_before` remains, warn inside that window,
// fail once notAfter has passed or before notBefore, and fail with a message
// naming the file when it cannot be read or holds no PEM certificate.
// observedValue is the number of seconds until notAfter (negative once
// expired), observedUnit "s", componentType "system", componentId the path.
// Only the first certificate of the file (the leaf of a chain) is checked.
//
// Thread safety: the returned function may be called from any thread.

#ifndef KEEL_HEALTH_CERTIFICATE_CHECK_H_
#define KEEL_HEALTH_CERTIFICATE_CHECK_H_

#include <chrono>
#include <string>

#include "absl/status/statusor.h"
#include "keel/base/clock.h"
#include "keel/health/check.h"

namespace keel::health {

struct CertificateCheckOptions {
  // Path of the PEM file. Required.
  std::string path;
  // Warn when less than this remains before notAfter. Must be >= 0. Default:
  // 30 days.
  std::chrono::seconds warn_before = std::chrono::hours(24 * 30);
  // Source of the current wall time (WallNow()). Default: the system clock.
  // Must outlive the returned function.
  Clock* clock = &Clock::System();
};

// Builds the check. Fails with kInvalidArgument naming the bad field (empty
// path, negative warn_before, null clock). A missing or invalid file is not an
// error here: the check reports it as a failure each time it runs.
absl::StatusOr<CheckFunction> MakeCertificateExpiryCheck(
    CertificateCheckOptions options);

}  // namespace keel::health

#endif  // KEEL_HEALTH_CERTIFICATE_CHECK_H_
