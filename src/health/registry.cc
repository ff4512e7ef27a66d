#include "keel/health/registry.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "health/worker_pool.h"
#include "keel/base/mutex.h"

namespace keel::health {
namespace {

constexpr std::size_t kMaxWorkerThreads = 256;
constexpr std::size_t kMaxNameLength = 128;

using SteadyTime = std::chrono::steady_clock::time_point;

absl::Status ValidateName(const std::string& field, const std::string& value,
                          bool required) {
  if (value.empty()) {
    return required ? absl::InvalidArgumentError(
                          absl::StrCat("CheckOptions.", field, " is empty"))
                    : absl::OkStatus();
  }
  if (value.size() > kMaxNameLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CheckOptions.", field, " is longer than ", kMaxNameLength));
  }
  for (const char c : value) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("CheckOptions.", field, " \"", value,
                       "\" may only contain [A-Za-z0-9_.-]"));
    }
  }
  return absl::OkStatus();
}

std::string FormatDuration(std::chrono::nanoseconds d) {
  using std::chrono::duration_cast;
  if (d % std::chrono::seconds(1) == std::chrono::nanoseconds(0)) {
    return absl::StrCat(duration_cast<std::chrono::seconds>(d).count(), "s");
  }
  if (d % std::chrono::milliseconds(1) == std::chrono::nanoseconds(0)) {
    return absl::StrCat(duration_cast<std::chrono::milliseconds>(d).count(),
                        "ms");
  }
  return absl::StrCat(duration_cast<std::chrono::microseconds>(d).count(),
                      "us");
}

}  // namespace
}  // namespace keel::health

namespace keel::health_internal {

// Execution state of one check, shared with the jobs running it so that a
// stranded execution outlives Unregister() and the registry itself safely.
struct ExecutionState {
  explicit ExecutionState(Clock* c) : clock(c) {}

  Clock* const clock;
  Mutex mu;
  CondVar finished_cv;
  // Set by the registry's destructor: from then on a late execution must not
  // touch `clock` (which may be gone) and nobody waits any more.
  bool closed ABSL_GUARDED_BY(mu) = false;
  bool running ABSL_GUARDED_BY(mu) = false;
  std::uint64_t started ABSL_GUARDED_BY(mu) = 0;   // executions started
  std::uint64_t finished ABSL_GUARDED_BY(mu) = 0;  // executions finished
  // Of the running execution: when probes stop waiting for it, and when it
  // started on `clock`.
  std::chrono::steady_clock::time_point deadline ABSL_GUARDED_BY(mu);
  MonoTime started_at ABSL_GUARDED_BY(mu){0};
  // Of the latest finished execution.
  bool has_result ABSL_GUARDED_BY(mu) = false;
  health::CheckResult result ABSL_GUARDED_BY(mu);
  MonoTime finished_at ABSL_GUARDED_BY(mu){0};
  std::chrono::nanoseconds wall_time ABSL_GUARDED_BY(mu){0};
  std::chrono::nanoseconds duration ABSL_GUARDED_BY(mu){0};
};

}  // namespace keel::health_internal

namespace keel::health {

using health_internal::ExecutionState;

struct HealthRegistry::Check {
  CheckOptions options;
  std::string key;
  // Shared with running jobs, which may outlive the registration.
  std::shared_ptr<const CheckFunction> function;
  std::shared_ptr<ExecutionState> state;
};

namespace {

// Runs one execution on a worker thread and publishes its result.
void Execute(const std::shared_ptr<const CheckFunction>& function,
             const std::shared_ptr<ExecutionState>& state) {
  CheckResult result;
  try {
    result = (*function)();
  } catch (const std::exception& e) {
    result = CheckResult::Fail(absl::StrCat("check threw: ", e.what()));
  } catch (...) {
    result = CheckResult::Fail("check threw a non-standard exception");
  }
  MutexLock lock(state->mu);
  state->running = false;
  ++state->finished;
  state->finished_cv.SignalAll();
  if (state->closed) return;
  const MonoTime now = state->clock->Now();
  state->has_result = true;
  state->result = std::move(result);
  state->finished_at = now;
  state->wall_time = state->clock->WallNow();
  state->duration = now - state->started_at;
}

// Fills `report` from the latest finished execution.
void ReportLatest(const ExecutionState& state, CheckReport& report)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(state.mu) {
  report.result = state.result;
  report.time = state.wall_time;
  report.duration = state.duration;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HealthRegistry>> HealthRegistry::Create(
    HealthRegistryOptions options) {
  if (options.clock == nullptr) {
    return absl::InvalidArgumentError("HealthRegistryOptions.clock is null");
  }
  if (options.worker_threads < 1 ||
      options.worker_threads > kMaxWorkerThreads) {
    return absl::InvalidArgumentError(
        absl::StrCat("HealthRegistryOptions.worker_threads must be in [1, ",
                     kMaxWorkerThreads, "], got ", options.worker_threads));
  }
  if (options.shutdown_grace < std::chrono::nanoseconds(0)) {
    return absl::InvalidArgumentError(
        "HealthRegistryOptions.shutdown_grace is negative");
  }
  std::unique_ptr<HealthRegistry> registry(
      new HealthRegistry(std::move(options)));
  auto pool = health_internal::WorkerPool::Start(
      registry->options_.worker_threads, "keel-health");
  if (!pool.ok()) return pool.status();
  registry->pool_ = *std::move(pool);
  return registry;
}

HealthRegistry::HealthRegistry(HealthRegistryOptions options)
    : options_(std::move(options)) {}

HealthRegistry::~HealthRegistry() {
  pool_->Shutdown(options_.shutdown_grace);
  MutexLock lock(mu_);
  const auto close = [](ExecutionState& state) {
    MutexLock state_lock(state.mu);
    state.closed = true;
  };
  for (const auto& entry : checks_) close(*entry.second->state);
  for (const auto& weak : retired_) {
    if (const auto state = weak.lock()) close(*state);
  }
}

absl::Status HealthRegistry::Register(CheckOptions options,
                                      CheckFunction check) {
  if (absl::Status s = ValidateName("name", options.name, true); !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateName("component", options.component, false);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateName("measurement", options.measurement, false);
      !s.ok()) {
    return s;
  }
  if (options.probes.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("CheckOptions.probes of \"", options.name,
                     "\" is empty: a check must belong to a probe"));
  }
  if (options.timeout <= std::chrono::nanoseconds(0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CheckOptions.timeout of \"", options.name, "\" must be > 0"));
  }
  if (options.cache_interval < std::chrono::nanoseconds(0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CheckOptions.cache_interval of \"", options.name, "\" is negative"));
  }
  if (!check) {
    return absl::InvalidArgumentError(
        absl::StrCat("check function of \"", options.name, "\" is empty"));
  }
  auto entry = std::make_shared<Check>();
  entry->key = options.component.empty() ? options.name : options.component;
  if (!options.measurement.empty()) {
    absl::StrAppend(&entry->key, ":", options.measurement);
  }
  std::sort(options.probes.begin(), options.probes.end());
  options.probes.erase(
      std::unique(options.probes.begin(), options.probes.end()),
      options.probes.end());
  entry->options = std::move(options);
  entry->function = std::make_shared<const CheckFunction>(std::move(check));
  entry->state = std::make_shared<ExecutionState>(options_.clock);

  MutexLock lock(mu_);
  const std::string& name = entry->options.name;
  if (checks_.count(name) != 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("a health check named \"", name, "\" is registered"));
  }
  checks_.emplace(name, std::move(entry));
  return absl::OkStatus();
}

bool HealthRegistry::Unregister(std::string_view name) {
  MutexLock lock(mu_);
  const auto it = checks_.find(name);
  if (it == checks_.end()) return false;
  // A running execution may outlive the registry: remember its state so that
  // the destructor can cut it off from the clock.
  retired_.erase(
      std::remove_if(retired_.begin(), retired_.end(),
                     [](const auto& weak) { return weak.expired(); }),
      retired_.end());
  retired_.push_back(it->second->state);
  checks_.erase(it);
  return true;
}

std::vector<CheckInfo> HealthRegistry::ListChecks() const {
  std::vector<CheckInfo> result;
  MutexLock lock(mu_);
  result.reserve(checks_.size());
  for (const auto& [name, check] : checks_) {
    CheckInfo info;
    info.name = name;
    info.probes = check->options.probes;
    info.tags = check->options.tags;
    info.critical = check->options.critical;
    result.push_back(std::move(info));
  }
  return result;
}

HealthReport HealthRegistry::Evaluate(Probe probe,
                                      const std::vector<std::string>& exclude) {
  HealthReport report;
  report.service = options_.service;
  if (probe == Probe::kReadiness && IsShuttingDown()) {
    report.status = Status::kFail;
    report.output = options_.draining_output;
    return report;
  }

  // Select the checks under the registry lock, run them without it.
  std::vector<std::shared_ptr<const Check>> selected;
  {
    MutexLock lock(mu_);
    for (const std::string& name : exclude) {
      const auto it = checks_.find(name);
      if (it == checks_.end() ||
          std::find(it->second->options.probes.begin(),
                    it->second->options.probes.end(),
                    probe) == it->second->options.probes.end()) {
        report.notes.push_back(absl::StrCat("exclude: no ",
                                            std::string(ProbeName(probe)),
                                            " check named \"", name, "\""));
      }
    }
    for (const auto& [name, check] : checks_) {
      const auto& probes = check->options.probes;
      if (std::find(probes.begin(), probes.end(), probe) == probes.end()) {
        continue;
      }
      if (std::find(exclude.begin(), exclude.end(), name) != exclude.end()) {
        continue;
      }
      selected.push_back(check);
    }
  }

  // Start (or join, or reuse) every execution first so that they run in
  // parallel; then wait for each until its own deadline.
  struct Pending {
    const Check* check;
    std::uint64_t execution;  // 0: served from the cache
    SteadyTime deadline;
  };
  std::vector<Pending> pending;
  pending.reserve(selected.size());
  report.checks.resize(selected.size());
  for (std::size_t i = 0; i < selected.size(); ++i) {
    const Check& check = *selected[i];
    ExecutionState& state = *check.state;
    CheckReport& out = report.checks[i];
    out.name = check.options.name;
    out.key = check.key;
    out.affected_endpoints = check.options.affected_endpoints;
    Pending p{&check, 0, SteadyTime()};
    MutexLock lock(state.mu);
    const MonoTime now = options_.clock->Now();
    if (state.running) {
      p.execution = state.started;
    } else if (state.has_result &&
               now - state.finished_at < check.options.cache_interval) {
      ReportLatest(state, out);
      out.cached = true;
    } else {
      state.running = true;
      p.execution = ++state.started;
      state.started_at = now;
      state.deadline = std::chrono::steady_clock::now() + check.options.timeout;
      pool_->Submit([function = check.function, state = check.state] {
        Execute(function, state);
      });
    }
    p.deadline = state.deadline;
    pending.push_back(p);
  }

  for (std::size_t i = 0; i < pending.size(); ++i) {
    const Pending& p = pending[i];
    if (p.execution == 0) continue;
    ExecutionState& state = *p.check->state;
    CheckReport& out = report.checks[i];
    MutexLock lock(state.mu);
    while (state.finished < p.execution) {
      const auto left = p.deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::nanoseconds(0)) break;
      state.finished_cv.WaitFor(state.mu, left);
    }
    if (state.finished >= p.execution && state.has_result) {
      ReportLatest(state, out);
      continue;
    }
    out.timed_out = true;
    out.result = CheckResult::Fail(absl::StrCat(
        "timed out after ", FormatDuration(p.check->options.timeout),
        " (the execution is still running)"));
    out.time = options_.clock->WallNow();
    out.duration = options_.clock->Now() - state.started_at;
  }

  for (std::size_t i = 0; i < pending.size(); ++i) {
    const CheckOptions& options = pending[i].check->options;
    CheckResult& result = report.checks[i].result;
    if (!options.critical && result.status == Status::kFail) {
      result.status = Status::kWarn;
    }
    if (result.component_type.empty()) {
      result.component_type = options.component_type;
    }
    if (result.component_id.empty()) result.component_id = options.component_id;
    report.status = std::max(report.status, result.status);
  }
  std::sort(report.checks.begin(), report.checks.end(),
            [](const CheckReport& a, const CheckReport& b) {
              return a.key != b.key ? a.key < b.key : a.name < b.name;
            });
  return report;
}

HealthResponse HealthRegistry::HandleProbe(Probe probe,
                                           std::string_view query) {
  const ProbeQuery parsed = ParseProbeQuery(query);
  const HealthReport report = Evaluate(probe, parsed.exclude);
  HealthResponse response;
  response.http_status = HttpStatusFor(report.status);
  response.body = RenderHealthJson(report, parsed.verbose);
  return response;
}

void HealthRegistry::SetShuttingDown() {
  shutting_down_.store(true, std::memory_order_release);
}

bool HealthRegistry::IsShuttingDown() const {
  return shutting_down_.load(std::memory_order_acquire);
}

}  // namespace keel::health
