// keel/health/report.h
//
// The outcome of a health probe and its HTTP form: `HealthReport` (what a
// `HealthRegistry` evaluation found), the parsing of a probe's query string
// (Kubernetes conventions: `?verbose`, `?exclude=a,b`), and the rendering of a
// report as `application/health+json` following the IETF draft "Health Check
// Response Format for HTTP APIs" (draft-inadarei-api-health-check-06).
//
// Example (what the HTTP facade does for GET /readyz?verbose):
//   keel::health::ProbeQuery query = keel::health::ParseProbeQuery("verbose");
//   keel::health::HealthReport report =
//       registry.Evaluate(keel::health::Probe::kReadiness, query.exclude);
//   std::string body = keel::health::RenderHealthJson(report, query.verbose);
//   int code = keel::health::HttpStatusFor(report.status);   // 200 or 503
//
// Verbose body shape:
//   {"status":"warn","version":"1","releaseId":"1.2.0","serviceId":"...",
//    "description":"...","output":"...","notes":["..."],
//    "checks":{"db:connections":[{"componentId":"primary",
//      "componentType":"datastore","observedValue":7,"observedUnit":"count",
//      "status":"warn","time":"2023-11-14T22:13:20.000Z","output":"...",
//      "affectedEndpoints":["/orders"]}]}}
// Non-verbose bodies carry only "status" (and "output" when set, e.g. while
// draining), so an unauthenticated probe endpoint reveals nothing more.
//
// Thread safety: plain value types and pure functions.

#ifndef KEEL_HEALTH_REPORT_H_
#define KEEL_HEALTH_REPORT_H_

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "keel/health/check.h"

namespace keel::health {

// Service-level fields of the response, all optional (empty = omitted).
struct ServiceInfo {
  std::string version;      // "version": public version of the service
  std::string release_id;   // "releaseId": release / build identifier
  std::string service_id;   // "serviceId": unique id of the service
  std::string description;  // "description": human-friendly description
};

// One check's contribution to a report.
struct CheckReport {
  // The registered check name (what `exclude` matches).
  std::string name;
  // The key of the "checks" object, "<component>[:<measurement>]". Several
  // checks may share a key (e.g. one per database replica); their entries are
  // grouped in that key's array.
  std::string key;
  // The result as reported: a failing non-critical check appears as kWarn here,
  // a timed-out check as kFail, and the registered component type/id fill in
  // what the check left empty.
  CheckResult result;
  // Endpoints that depend on this check ("affectedEndpoints").
  std::vector<std::string> affected_endpoints;
  // Wall time at which the result was measured (Unix epoch), for "time".
  std::chrono::nanoseconds time{0};
  // How long the execution took on the registry's clock; for a timed-out
  // execution, how long the probe waited.
  std::chrono::nanoseconds duration{0};
  // True when the result was served from the cache without a new execution.
  bool cached = false;
  // True when the probe gave up waiting for the execution.
  bool timed_out = false;
};

// The outcome of one probe.
struct HealthReport {
  // Worst status over the checks (kPass when there are none).
  Status status = Status::kPass;
  // Service-level detail, e.g. why readiness fails while draining.
  std::string output;
  // Notes such as excluded names that matched no check.
  std::vector<std::string> notes;
  // Copied from the registry options.
  ServiceInfo service;
  // One entry per evaluated check, sorted by key then name.
  std::vector<CheckReport> checks;
};

// The parameters of a probe request that keel understands.
struct ProbeQuery {
  // `verbose` present (with no value or any value other than "false"/"0").
  bool verbose = false;
  // Check names from every `exclude` parameter, comma-separated lists split,
  // percent-decoded, empty items dropped.
  std::vector<std::string> exclude;
};

// Parses a raw query string ("verbose&exclude=db,cache", with or without the
// leading '?'; a '#fragment' is ignored). Never fails: parameters other than
// `verbose` and `exclude` are ignored, `+` decodes to a space, and malformed
// percent escapes are kept literally.
ProbeQuery ParseProbeQuery(std::string_view query);

// HTTP status for a probe result: pass/warn -> 200, fail -> 503 (the draft maps
// pass and warn to 2xx-3xx and fail to 4xx-5xx).
int HttpStatusFor(Status status);

// The media type of RenderHealthJson's output.
inline constexpr std::string_view kHealthContentType =
    "application/health+json";

// Renders `report` as application/health+json (shape above). Always valid JSON:
// every string goes through keel::AppendJsonString.
std::string RenderHealthJson(const HealthReport& report, bool verbose);

// A complete HTTP answer to a probe.
struct HealthResponse {
  int http_status = 200;
  std::string content_type{kHealthContentType};
  std::string body;
};

}  // namespace keel::health

#endif  // KEEL_HEALTH_REPORT_H_
