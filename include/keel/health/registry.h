// keel/health/registry.h
//
// `HealthRegistry` runs named health checks for the liveness, readiness and
// startup probes: in parallel, each bounded by its own timeout, with optional
// per-check result caching, single-flight executions (a storm of concurrent
// probes runs each check once), per-check criticality, and a drain switch that
// fails readiness while the process shuts down.
//
// Example:
//   keel::health::HealthRegistryOptions options;
//   options.service.version = "1";
//   auto registry = keel::health::HealthRegistry::Create(options).value();
//
//   keel::health::CheckOptions db;
//   db.name = "postgres";
//   db.measurement = "connections";
//   db.component_type = "datastore";
//   db.probes = {keel::health::Probe::kReadiness};  // never liveness
//   db.timeout = std::chrono::milliseconds(500);
//   db.cache_interval = std::chrono::seconds(5);
//   registry->Register(db, [&pool] { return pool.HealthCheck();
//   }).IgnoreError();
//
//   // GET /readyz?verbose
//   keel::health::HealthResponse r =
//       registry->HandleProbe(keel::health::Probe::kReadiness, "verbose");
//
// Threads: the registry owns `worker_threads` threads (started by Create()) on
// which check functions run; a probe runs on the caller's thread, hands the
// checks it needs to the workers and waits for them, at most until the largest
// timeout among them (real time, since a stuck check does not respect a manual
// clock). No other thread is started and no scheduler is needed: caching is
// driven by probes.
//
// Timeouts: a check that overruns its timeout is reported as failed and is
// never waited on again, but its execution keeps its worker until it returns;
// as long as it runs, later probes report it as timed out instead of starting
// another copy (so at most one execution per check is ever stranded, and at
// most `worker_threads` in total). When the stuck execution eventually returns,
// its result is stored as the check's latest result and serves the cache as
// usual. Size `worker_threads` above the number of checks that may hang at
// once: checks queued behind stranded executions time out too.
//
// Caching: with `cache_interval` > 0 a result (from the injected clock's point
// of view) is reused for that long after the execution finished.
//
// Endpoints and Kubernetes probes: serve HandleProbe(kLiveness, query) at
// /livez, HandleProbe(kReadiness, query) at /readyz and
// HandleProbe(kStartup, query) at /startupz (the query string carries
// `verbose` and `exclude=`), with the returned status (200 for pass/warn, 503
// for fail) and content type. Register downstream dependencies (databases,
// caches, brokers) for readiness only, so an outage takes replicas out of the
// load balancer instead of restarting them all; liveness checks only what a
// restart can fix. A matching pod spec:
//
//   startupProbe:   {httpGet: {path: /startupz, port: 8080},
//                    periodSeconds: 2, failureThreshold: 30}
//   livenessProbe:  {httpGet: {path: /livez, port: 8080},
//                    periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3}
//   readinessProbe: {httpGet: {path: /readyz, port: 8080},
//                    periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 1}
//
// Keep each check's timeout below the probe's timeoutSeconds, and set
// cache_interval on expensive checks so frequent probes stay cheap. On
// SIGTERM call SetShuttingDown(), keep serving for at least one readiness
// period so the endpoint is removed, then drain.
//
// Thread safety: all methods are thread-safe. Check functions must not call
// back into the registry's Evaluate()/HandleProbe() (they would wait on
// themselves).

#ifndef KEEL_HEALTH_REGISTRY_H_
#define KEEL_HEALTH_REGISTRY_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/base/clock.h"
#include "keel/base/mutex.h"
#include "keel/health/check.h"
#include "keel/health/report.h"

namespace keel::health_internal {
class WorkerPool;
struct ExecutionState;
}  // namespace keel::health_internal

namespace keel::health {

// Registration parameters of one check.
struct CheckOptions {
  // Unique name; what `?exclude=` matches. Required: 1-128 characters from
  // [A-Za-z0-9_.-].
  std::string name;
  // "componentName" part of the JSON key. Default (empty): `name`. Same
  // character set as `name`.
  std::string component;
  // "measurementName" part of the JSON key ("<component>:<measurement>"), e.g.
  // "responseTime", "connections". Default: none (the key is the component).
  std::string measurement;
  // "componentType" (e.g. "datastore", "component", "system"); a result's own
  // component_type takes precedence. Default: none.
  std::string component_type;
  // "componentId" of the instance checked; a result's own component_id takes
  // precedence. Default: none.
  std::string component_id;
  // "affectedEndpoints": URI templates that fail with this dependency.
  std::vector<std::string> affected_endpoints;
  // Probes this check belongs to; must not be empty. Default: readiness only.
  std::vector<Probe> probes{Probe::kReadiness};
  // Free-form tags for grouping (reported by ListChecks()).
  std::vector<std::string> tags;
  // Longest a probe waits for an execution. Must be > 0. Default: 1 s.
  std::chrono::nanoseconds timeout = std::chrono::seconds(1);
  // How long a finished result is reused. Must be >= 0. Default: 0 (every probe
  // that does not join a running execution starts a new one).
  std::chrono::nanoseconds cache_interval{0};
  // A failing non-critical check is reported as kWarn and therefore does not
  // fail the probe. Default: critical.
  bool critical = true;
};

// Options of a HealthRegistry.
struct HealthRegistryOptions {
  // Time source for caching, durations and the "time" field. Default: the
  // system clock. Must outlive the registry.
  Clock* clock = &Clock::System();
  // Threads that run checks (1-256). Default: 4.
  std::size_t worker_threads = 4;
  // Service-level fields copied into every report.
  ServiceInfo service;
  // Output of a readiness probe after SetShuttingDown(). Default: "draining:
  // the service is shutting down".
  std::string draining_output = "draining: the service is shutting down";
  // How long the destructor waits for running checks before leaving them to
  // finish on their own (real time, >= 0). Default: 1 s.
  std::chrono::nanoseconds shutdown_grace = std::chrono::seconds(1);
};

// A registered check as listed by ListChecks().
struct CheckInfo {
  std::string name;
  std::vector<Probe> probes;
  std::vector<std::string> tags;
  bool critical = true;
};

class HealthRegistry {
 public:
  // Validates `options` and starts the worker threads. Fails with
  // kInvalidArgument naming the bad field (null clock, worker_threads out of
  // range, negative shutdown_grace).
  static absl::StatusOr<std::unique_ptr<HealthRegistry>> Create(
      HealthRegistryOptions options = {});

  // Waits up to `shutdown_grace` for running checks, then returns; executions
  // still running are abandoned (their threads exit when the check returns and
  // touch neither the registry nor its clock after this point).
  ~HealthRegistry();

  HealthRegistry(const HealthRegistry&) = delete;
  HealthRegistry& operator=(const HealthRegistry&) = delete;

  // Adds a check. Fails with kInvalidArgument naming the bad field (see
  // CheckOptions) or for an empty `check`, kAlreadyExists if the name is taken.
  absl::Status Register(CheckOptions options, CheckFunction check);

  // Removes a check; returns false if no check has that name. An execution in
  // progress finishes on its worker but is no longer reported.
  bool Unregister(std::string_view name);

  // The registered checks, sorted by name.
  std::vector<CheckInfo> ListChecks() const;

  // Runs (or reuses cached results of) every check registered for `probe`
  // whose name is not in `exclude`, and aggregates them. Blocks at most until
  // the largest timeout of those checks. After SetShuttingDown() a readiness
  // probe fails at once without running checks.
  HealthReport Evaluate(Probe probe,
                        const std::vector<std::string>& exclude = {});

  // Evaluate() + ParseProbeQuery() + RenderHealthJson() + HttpStatusFor(): the
  // whole answer to GET /livez, /readyz or /startupz with raw query `query`.
  HealthResponse HandleProbe(Probe probe, std::string_view query);

  // Starts draining: from now on readiness fails (output: draining_output)
  // while liveness and startup are unaffected. Irreversible.
  void SetShuttingDown();

  // Whether SetShuttingDown() was called.
  bool IsShuttingDown() const;

 private:
  struct Check;

  explicit HealthRegistry(HealthRegistryOptions options);

  const HealthRegistryOptions options_;
  std::unique_ptr<health_internal::WorkerPool> pool_;
  std::atomic<bool> shutting_down_{false};

  mutable Mutex mu_;
  std::map<std::string, std::shared_ptr<const Check>, std::less<>> checks_
      ABSL_GUARDED_BY(mu_);
  // Execution states of unregistered checks that may still be running.
  std::vector<std::weak_ptr<health_internal::ExecutionState>> retired_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace keel::health

#endif  // KEEL_HEALTH_REGISTRY_H_
