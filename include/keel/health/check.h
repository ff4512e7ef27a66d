// keel/health/check.h
//
// The vocabulary of keel health checks: the three-state `Status` of the
// "Health Check Response Format for HTTP APIs" draft (draft-inadarei-api-
// health-check), the Kubernetes-style probes a check can answer, and the
// `CheckResult` a user check returns.
//
// Example:
//   keel::health::CheckFunction disk = [] {
//     keel::health::CheckResult result =
//         keel::health::CheckResult::Warn("disk 91% full");
//     result.observed_value = 91.0;
//     result.observed_unit = "percent";
//     result.component_type = "system";
//     return result;
//   };
//
// Thread safety: plain value types.

#ifndef KEEL_HEALTH_CHECK_H_
#define KEEL_HEALTH_CHECK_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace keel::health {

// Health of one check or of the whole service. Ordered by severity so that the
// aggregate is the maximum of its parts.
enum class Status : std::uint8_t {
  kPass = 0,  // healthy; "pass" in JSON
  kWarn = 1,  // healthy with concerns; still served with HTTP 200
  kFail = 2,  // unhealthy; served with HTTP 503
};

// "pass", "warn" or "fail".
std::string_view StatusName(Status status);

// The probe a request asks about (Kubernetes semantics):
//   kLiveness  - /livez: is the process able to make progress at all? A failing
//                liveness probe gets the process restarted, so by convention
//                liveness checks never depend on downstream services (a
//                database outage must not restart every replica). Backends
//                register readiness checks only.
//   kReadiness - /readyz: should this replica receive traffic now? Fails while
//                dependencies are down and while draining.
//   kStartup   - /startupz: has initialisation finished (caches warmed,
//                migrations checked)?
enum class Probe : std::uint8_t { kLiveness, kReadiness, kStartup };

// "liveness", "readiness" or "startup".
std::string_view ProbeName(Probe probe);

// Any JSON value a check may report as its observation.
using ObservedValue = std::variant<std::int64_t, double, bool, std::string>;

// What one execution of a check found. Fields map one to one onto the draft's
// check object; empty strings and an empty optional are omitted from the JSON.
struct CheckResult {
  // Outcome of the check.
  Status status = Status::kPass;
  // Human-readable detail, typically the error on warn/fail ("output").
  std::string output;
  // The measured value ("observedValue"), e.g. a latency or a fill ratio.
  std::optional<ObservedValue> observed_value;
  // Unit of `observed_value` ("observedUnit"), e.g. "ms", "percent".
  std::string observed_unit;
  // Overrides the check's registered componentType / componentId when set.
  std::string component_type;
  std::string component_id;

  // Shorthands for the common results.
  static CheckResult Pass(std::string output = {}) {
    return Make(Status::kPass, std::move(output));
  }
  static CheckResult Warn(std::string output) {
    return Make(Status::kWarn, std::move(output));
  }
  static CheckResult Fail(std::string output) {
    return Make(Status::kFail, std::move(output));
  }

 private:
  static CheckResult Make(Status status, std::string output) {
    CheckResult result;
    result.status = status;
    result.output = std::move(output);
    return result;
  }
};

// A user check. It may block (it runs on the registry's worker threads and the
// probe stops waiting at its timeout). It is never called concurrently with
// itself: while one execution runs, even one that already timed out, probes
// wait for or report on that execution instead of starting another. An
// exception escaping it is caught and reported as a failed check.
using CheckFunction = std::function<CheckResult()>;

}  // namespace keel::health

#endif  // KEEL_HEALTH_CHECK_H_
