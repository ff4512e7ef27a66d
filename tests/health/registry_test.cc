#include "keel/health/registry.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/base/clock.h"
#include "keel/base/mutex.h"
#include "nlohmann/json.hpp"

namespace keel::health {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A gate a check blocks on until the test opens it. Waits are real-time
// bounded so that a broken test fails instead of hanging.
class Gate {
 public:
  void Open() {
    MutexLock lock(mu_);
    open_ = true;
    cv_.SignalAll();
  }
  bool Wait() {
    MutexLock lock(mu_);
    const auto deadline = std::chrono::steady_clock::now() + seconds(30);
    while (!open_) {
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::nanoseconds(0)) return false;
      cv_.WaitFor(mu_, left);
    }
    return true;
  }

 private:
  Mutex mu_;
  CondVar cv_;
  bool open_ ABSL_GUARDED_BY(mu_) = false;
};

// Blocks until `count` reaches `target` (real-time bounded).
bool AwaitCount(const std::atomic<int>& count, int target) {
  const auto deadline = std::chrono::steady_clock::now() + seconds(30);
  while (count.load() < target) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

class HealthRegistryTest : public ::testing::Test {
 protected:
  std::unique_ptr<HealthRegistry> MakeRegistry(std::size_t workers = 4) {
    HealthRegistryOptions options;
    options.clock = &clock_;
    options.worker_threads = workers;
    options.service.version = "1";
    options.service.service_id = "orders";
    return HealthRegistry::Create(options).value();
  }

  static CheckOptions Options(std::string name,
                              std::vector<Probe> probes = {Probe::kReadiness}) {
    CheckOptions options;
    options.name = std::move(name);
    options.probes = std::move(probes);
    options.timeout = seconds(10);
    return options;
  }

  static CheckFunction Returning(CheckResult result) {
    return [result] { return result; };
  }

  ManualClock clock_;
};

TEST_F(HealthRegistryTest, CreateValidatesOptions) {
  HealthRegistryOptions options;
  options.clock = nullptr;
  EXPECT_THAT(HealthRegistry::Create(options).status().message(),
              HasSubstr("clock"));
  options = HealthRegistryOptions();
  options.worker_threads = 0;
  EXPECT_THAT(HealthRegistry::Create(options).status().message(),
              HasSubstr("worker_threads"));
  options.worker_threads = 1000;
  EXPECT_THAT(HealthRegistry::Create(options).status().message(),
              HasSubstr("worker_threads"));
  options = HealthRegistryOptions();
  options.shutdown_grace = milliseconds(-1);
  EXPECT_THAT(HealthRegistry::Create(options).status().message(),
              HasSubstr("shutdown_grace"));
}

TEST_F(HealthRegistryTest, RegisterValidatesOptions) {
  auto registry = MakeRegistry();
  const CheckFunction ok = Returning(CheckResult::Pass());
  struct Case {
    void (*mutate)(CheckOptions&);
    const char* field;
  };
  const Case cases[] = {
      {[](CheckOptions& o) { o.name.clear(); }, "name"},
      {[](CheckOptions& o) { o.name = "a,b"; }, "name"},
      {[](CheckOptions& o) { o.name = std::string(200, 'a'); }, "name"},
      {[](CheckOptions& o) { o.component = "a:b"; }, "component"},
      {[](CheckOptions& o) { o.measurement = "x y"; }, "measurement"},
      {[](CheckOptions& o) { o.probes.clear(); }, "probes"},
      {[](CheckOptions& o) { o.timeout = seconds(0); }, "timeout"},
      {[](CheckOptions& o) { o.cache_interval = seconds(-1); },
       "cache_interval"},
  };
  for (const Case& c : cases) {
    CheckOptions options = Options("db");
    c.mutate(options);
    const absl::Status status = registry->Register(options, ok);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_THAT(status.message(), HasSubstr(c.field));
  }
  EXPECT_EQ(registry->Register(Options("db"), nullptr).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(registry->Register(Options("db"), ok).ok());
  EXPECT_EQ(registry->Register(Options("db"), ok).code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(HealthRegistryTest, NoChecksPasses) {
  auto registry = MakeRegistry();
  const HealthReport report = registry->Evaluate(Probe::kReadiness);
  EXPECT_EQ(report.status, Status::kPass);
  EXPECT_THAT(report.checks, IsEmpty());
}

TEST_F(HealthRegistryTest, AggregatesWorstStatus) {
  auto registry = MakeRegistry();
  ASSERT_TRUE(
      registry->Register(Options("a"), Returning(CheckResult::Pass())).ok());
  ASSERT_TRUE(
      registry->Register(Options("b"), Returning(CheckResult::Warn("hm")))
          .ok());
  EXPECT_EQ(registry->Evaluate(Probe::kReadiness).status, Status::kWarn);
  ASSERT_TRUE(
      registry->Register(Options("c"), Returning(CheckResult::Fail("x"))).ok());
  const HealthReport report = registry->Evaluate(Probe::kReadiness);
  EXPECT_EQ(report.status, Status::kFail);
  ASSERT_EQ(report.checks.size(), 3u);
  EXPECT_EQ(report.checks[0].name, "a");
  EXPECT_EQ(report.checks[1].result.status, Status::kWarn);
  EXPECT_EQ(report.checks[2].result.output, "x");
  EXPECT_TRUE(registry->Unregister("c"));
  EXPECT_FALSE(registry->Unregister("c"));
  EXPECT_EQ(registry->Evaluate(Probe::kReadiness).status, Status::kWarn);
}

TEST_F(HealthRegistryTest, NonCriticalFailureDegradesToWarn) {
  auto registry = MakeRegistry();
  CheckOptions options = Options("cache");
  options.critical = false;
  ASSERT_TRUE(
      registry->Register(options, Returning(CheckResult::Fail("down"))).ok());
  const HealthReport report = registry->Evaluate(Probe::kReadiness);
  EXPECT_EQ(report.status, Status::kWarn);
  ASSERT_EQ(report.checks.size(), 1u);
  EXPECT_EQ(report.checks[0].result.status, Status::kWarn);
  EXPECT_EQ(report.checks[0].result.output, "down");
}

TEST_F(HealthRegistryTest, ChecksAnswerOnlyTheirProbes) {
  auto registry = MakeRegistry();
  ASSERT_TRUE(
      registry->Register(Options("db"), Returning(CheckResult::Fail("x")))
          .ok());
  ASSERT_TRUE(
      registry
          ->Register(Options("loop", {Probe::kLiveness, Probe::kReadiness}),
                     Returning(CheckResult::Pass()))
          .ok());
  ASSERT_TRUE(registry
                  ->Register(Options("warm", {Probe::kStartup}),
                             Returning(CheckResult::Warn("cold")))
                  .ok());
  const HealthReport live = registry->Evaluate(Probe::kLiveness);
  EXPECT_EQ(live.status, Status::kPass);
  ASSERT_EQ(live.checks.size(), 1u);
  EXPECT_EQ(live.checks[0].name, "loop");
  EXPECT_EQ(registry->Evaluate(Probe::kReadiness).status, Status::kFail);
  EXPECT_EQ(registry->Evaluate(Probe::kReadiness).checks.size(), 2u);
  EXPECT_EQ(registry->Evaluate(Probe::kStartup).status, Status::kWarn);

  const std::vector<CheckInfo> list = registry->ListChecks();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].name, "db");
  EXPECT_THAT(list[1].probes, ElementsAre(Probe::kLiveness, Probe::kReadiness));
}

TEST_F(HealthRegistryTest, ExcludeSkipsChecksAndNotesUnknownNames) {
  auto registry = MakeRegistry();
  ASSERT_TRUE(
      registry->Register(Options("db"), Returning(CheckResult::Fail("x")))
          .ok());
  ASSERT_TRUE(
      registry->Register(Options("api"), Returning(CheckResult::Pass())).ok());
  const HealthReport report =
      registry->Evaluate(Probe::kReadiness, {"db", "nope"});
  EXPECT_EQ(report.status, Status::kPass);
  ASSERT_EQ(report.checks.size(), 1u);
  EXPECT_EQ(report.checks[0].name, "api");
  EXPECT_THAT(report.notes,
              ElementsAre("exclude: no readiness check named \"nope\""));
}

TEST_F(HealthRegistryTest, ComponentFieldsAndKeys) {
  auto registry = MakeRegistry();
  CheckOptions a = Options("pg-primary");
  a.component = "postgres";
  a.measurement = "connections";
  a.component_type = "datastore";
  a.component_id = "primary";
  a.affected_endpoints = {"/orders"};
  CheckOptions b = a;
  b.name = "pg-replica";
  b.component_id = "replica";
  CheckResult overridden = CheckResult::Pass();
  overridden.component_id = "replica-2";
  ASSERT_TRUE(registry->Register(a, Returning(CheckResult::Pass())).ok());
  ASSERT_TRUE(registry->Register(b, Returning(overridden)).ok());
  const HealthReport report = registry->Evaluate(Probe::kReadiness);
  ASSERT_EQ(report.checks.size(), 2u);
  EXPECT_EQ(report.checks[0].key, "postgres:connections");
  EXPECT_EQ(report.checks[0].result.component_id, "primary");
  EXPECT_EQ(report.checks[0].result.component_type, "datastore");
  EXPECT_EQ(report.checks[1].result.component_id, "replica-2");
  EXPECT_THAT(report.checks[1].affected_endpoints, ElementsAre("/orders"));
}

TEST_F(HealthRegistryTest, HandleProbeProducesHealthJson) {
  auto registry = MakeRegistry();
  CheckOptions options = Options("db");
  options.measurement = "responseTime";
  options.component_type = "datastore";
  ASSERT_TRUE(registry
                  ->Register(options,
                             [] {
                               CheckResult r = CheckResult::Fail("refused");
                               r.observed_value = 12.5;
                               r.observed_unit = "ms";
                               return r;
                             })
                  .ok());
  ASSERT_TRUE(
      registry->Register(Options("api"), Returning(CheckResult::Pass())).ok());

  HealthResponse quiet = registry->HandleProbe(Probe::kReadiness, "");
  EXPECT_EQ(quiet.http_status, 503);
  EXPECT_EQ(quiet.content_type, "application/health+json");
  EXPECT_EQ(quiet.body, R"({"status":"fail"})");

  HealthResponse verbose = registry->HandleProbe(Probe::kReadiness, "?verbose");
  EXPECT_EQ(verbose.http_status, 503);
  const nlohmann::json json = nlohmann::json::parse(verbose.body);
  EXPECT_EQ(json["status"], "fail");
  EXPECT_EQ(json["version"], "1");
  EXPECT_EQ(json["serviceId"], "orders");
  const nlohmann::json& db = json["checks"]["db:responseTime"];
  ASSERT_EQ(db.size(), 1u);
  EXPECT_EQ(db[0]["status"], "fail");
  EXPECT_EQ(db[0]["componentType"], "datastore");
  EXPECT_EQ(db[0]["observedValue"], 12.5);
  EXPECT_EQ(db[0]["observedUnit"], "ms");
  EXPECT_EQ(db[0]["output"], "refused");
  EXPECT_EQ(db[0]["time"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(json["checks"]["api"][0]["status"], "pass");

  HealthResponse excluded =
      registry->HandleProbe(Probe::kReadiness, "verbose&exclude=db");
  EXPECT_EQ(excluded.http_status, 200);
  const nlohmann::json json2 = nlohmann::json::parse(excluded.body);
  EXPECT_EQ(json2["status"], "pass");
  EXPECT_FALSE(json2["checks"].contains("db:responseTime"));
}

TEST_F(HealthRegistryTest, ShuttingDownFailsReadinessOnly) {
  auto registry = MakeRegistry();
  std::atomic<int> runs{0};
  ASSERT_TRUE(
      registry
          ->Register(Options("core", {Probe::kLiveness, Probe::kReadiness}),
                     [&runs] {
                       ++runs;
                       return CheckResult::Pass();
                     })
          .ok());
  EXPECT_FALSE(registry->IsShuttingDown());
  registry->SetShuttingDown();
  EXPECT_TRUE(registry->IsShuttingDown());
  const HealthResponse ready =
      registry->HandleProbe(Probe::kReadiness, "verbose");
  EXPECT_EQ(ready.http_status, 503);
  const nlohmann::json json = nlohmann::json::parse(ready.body);
  EXPECT_EQ(json["status"], "fail");
  EXPECT_THAT(json["output"].get<std::string>(), HasSubstr("draining"));
  EXPECT_EQ(runs.load(), 0);  // readiness checks are not even run
  EXPECT_EQ(registry->HandleProbe(Probe::kLiveness, "").http_status, 200);
  EXPECT_EQ(runs.load(), 1);
}

TEST_F(HealthRegistryTest, ExceptionsBecomeFailures) {
  auto registry = MakeRegistry();
  ASSERT_TRUE(
      registry
          ->Register(Options("boom"),
                     []() -> CheckResult { throw std::runtime_error("kaput"); })
          .ok());
  const HealthReport report = registry->Evaluate(Probe::kReadiness);
  EXPECT_EQ(report.status, Status::kFail);
  ASSERT_EQ(report.checks.size(), 1u);
  EXPECT_THAT(report.checks[0].result.output, HasSubstr("kaput"));
}

TEST_F(HealthRegistryTest, RecordsDurationAndTimeFromTheClock) {
  auto registry = MakeRegistry();
  ASSERT_TRUE(registry
                  ->Register(Options("slow"),
                             [this] {
                               clock_.Advance(milliseconds(250));
                               return CheckResult::Pass();
                             })
                  .ok());
  const HealthReport report = registry->Evaluate(Probe::kReadiness);
  ASSERT_EQ(report.checks.size(), 1u);
  EXPECT_EQ(report.checks[0].duration, milliseconds(250));
  EXPECT_EQ(report.checks[0].time, seconds(1700000000) + milliseconds(250));
  EXPECT_FALSE(report.checks[0].cached);
}

TEST_F(HealthRegistryTest, CachesResultsForTheCacheInterval) {
  auto registry = MakeRegistry();
  std::atomic<int> runs{0};
  CheckOptions options = Options("db");
  options.cache_interval = seconds(5);
  ASSERT_TRUE(registry
                  ->Register(options,
                             [&runs] {
                               return ++runs == 1 ? CheckResult::Pass()
                                                  : CheckResult::Fail("down");
                             })
                  .ok());
  EXPECT_EQ(registry->Evaluate(Probe::kReadiness).status, Status::kPass);
  clock_.Advance(seconds(4));
  HealthReport report = registry->Evaluate(Probe::kReadiness);
  EXPECT_EQ(report.status, Status::kPass);
  EXPECT_TRUE(report.checks[0].cached);
  EXPECT_EQ(runs.load(), 1);
  clock_.Advance(seconds(1));
  report = registry->Evaluate(Probe::kReadiness);
  EXPECT_EQ(report.status, Status::kFail);
  EXPECT_FALSE(report.checks[0].cached);
  EXPECT_EQ(runs.load(), 2);
}

TEST_F(HealthRegistryTest, WithoutCachingEveryProbeRuns) {
  auto registry = MakeRegistry();
  std::atomic<int> runs{0};
  ASSERT_TRUE(registry
                  ->Register(Options("db"),
                             [&runs] {
                               ++runs;
                               return CheckResult::Pass();
                             })
                  .ok());
  for (int i = 0; i < 3; ++i) registry->Evaluate(Probe::kReadiness);
  EXPECT_EQ(runs.load(), 3);
}

TEST_F(HealthRegistryTest, ChecksRunInParallel) {
  auto registry = MakeRegistry(2);
  // Each check waits for the other to have started: this completes only if
  // both run at the same time.
  std::atomic<int> started{0};
  const CheckFunction rendezvous = [&started] {
    ++started;
    return AwaitCount(started, 2) ? CheckResult::Pass()
                                  : CheckResult::Fail("ran alone");
  };
  ASSERT_TRUE(registry->Register(Options("a"), rendezvous).ok());
  ASSERT_TRUE(registry->Register(Options("b"), rendezvous).ok());
  EXPECT_EQ(registry->Evaluate(Probe::kReadiness).status, Status::kPass);
}

TEST_F(HealthRegistryTest, TimedOutCheckIsFailedAndNotRestarted) {
  auto registry = MakeRegistry();
  auto gate = std::make_shared<Gate>();
  std::atomic<int> runs{0};
  CheckOptions options = Options("stuck");
  options.timeout = milliseconds(50);
  options.cache_interval = seconds(60);
  ASSERT_TRUE(registry
                  ->Register(options,
                             [gate, &runs] {
                               ++runs;
                               gate->Wait();
                               return CheckResult::Pass("late");
                             })
                  .ok());
  HealthReport report = registry->Evaluate(Probe::kReadiness);
  EXPECT_EQ(report.status, Status::kFail);
  ASSERT_EQ(report.checks.size(), 1u);
  EXPECT_TRUE(report.checks[0].timed_out);
  EXPECT_THAT(report.checks[0].result.output, HasSubstr("timed out"));

  // While the first execution is stuck, probes report it without starting
  // another one.
  report = registry->Evaluate(Probe::kReadiness);
  EXPECT_TRUE(report.checks[0].timed_out);
  EXPECT_EQ(runs.load(), 1);

  // The late result refreshes the cache.
  gate->Open();
  const auto deadline = std::chrono::steady_clock::now() + seconds(30);
  do {
    report = registry->Evaluate(Probe::kReadiness);
  } while (report.checks[0].timed_out &&
           std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(report.status, Status::kPass);
  EXPECT_EQ(report.checks[0].result.output, "late");
  // The probe that saw the late result may have joined the execution as it
  // finished (a fresh result); the next one is served from the cache.
  report = registry->Evaluate(Probe::kReadiness);
  EXPECT_EQ(report.checks[0].result.output, "late");
  EXPECT_TRUE(report.checks[0].cached);
  EXPECT_EQ(runs.load(), 1);
}

TEST_F(HealthRegistryTest, TimeoutDoesNotDelayOtherChecks) {
  auto registry = MakeRegistry();
  auto gate = std::make_shared<Gate>();
  CheckOptions stuck = Options("stuck");
  stuck.timeout = milliseconds(50);
  ASSERT_TRUE(registry
                  ->Register(stuck,
                             [gate] {
                               gate->Wait();
                               return CheckResult::Pass();
                             })
                  .ok());
  ASSERT_TRUE(
      registry->Register(Options("fine"), Returning(CheckResult::Pass())).ok());
  const HealthReport report = registry->Evaluate(Probe::kReadiness);
  EXPECT_EQ(report.status, Status::kFail);
  ASSERT_EQ(report.checks.size(), 2u);
  EXPECT_FALSE(report.checks[0].timed_out);  // "fine"
  EXPECT_EQ(report.checks[0].result.status, Status::kPass);
  EXPECT_TRUE(report.checks[1].timed_out);  // "stuck"
  gate->Open();
}

TEST_F(HealthRegistryTest, DestructorDoesNotWaitForStuckChecks) {
  auto gate = std::make_shared<Gate>();
  std::atomic<int> started{0};
  {
    HealthRegistryOptions options;
    options.clock = &clock_;
    options.worker_threads = 1;
    options.shutdown_grace = milliseconds(10);
    auto registry = HealthRegistry::Create(options).value();
    CheckOptions stuck = Options("stuck");
    stuck.timeout = milliseconds(20);
    ASSERT_TRUE(registry
                    ->Register(stuck,
                               [gate, &started] {
                                 ++started;
                                 gate->Wait();
                                 return CheckResult::Pass();
                               })
                    .ok());
    EXPECT_TRUE(registry->Evaluate(Probe::kReadiness).checks[0].timed_out);
    ASSERT_TRUE(AwaitCount(started, 1));
  }
  // The stranded execution finishes after the registry is gone without
  // touching it.
  gate->Open();
}

TEST_F(HealthRegistryTest, UnregisteredStuckCheckOutlivesTheRegistry) {
  auto gate = std::make_shared<Gate>();
  std::atomic<int> started{0};
  {
    HealthRegistryOptions options;
    options.clock = &clock_;
    options.shutdown_grace = milliseconds(10);
    auto registry = HealthRegistry::Create(options).value();
    CheckOptions stuck = Options("stuck");
    stuck.timeout = milliseconds(20);
    ASSERT_TRUE(registry
                    ->Register(stuck,
                               [gate, &started] {
                                 ++started;
                                 gate->Wait();
                                 return CheckResult::Pass();
                               })
                    .ok());
    EXPECT_TRUE(registry->Evaluate(Probe::kReadiness).checks[0].timed_out);
    ASSERT_TRUE(registry->Unregister("stuck"));
    EXPECT_THAT(registry->Evaluate(Probe::kReadiness).checks, IsEmpty());
    // The name is free again while the old execution still runs.
    ASSERT_TRUE(
        registry->Register(Options("stuck"), Returning(CheckResult::Pass()))
            .ok());
    EXPECT_EQ(registry->Evaluate(Probe::kReadiness).status, Status::kPass);
    ASSERT_TRUE(AwaitCount(started, 1));
  }
  gate->Open();
}

TEST_F(HealthRegistryTest, ProbeStormRunsEachCheckOnce) {
  auto registry = MakeRegistry();
  auto gate = std::make_shared<Gate>();
  std::atomic<int> runs_a{0};
  std::atomic<int> runs_b{0};
  CheckOptions a = Options("a");
  a.cache_interval = seconds(60);
  CheckOptions b = Options("b", {Probe::kLiveness, Probe::kReadiness});
  b.cache_interval = seconds(60);
  ASSERT_TRUE(registry
                  ->Register(a,
                             [gate, &runs_a] {
                               ++runs_a;
                               gate->Wait();
                               return CheckResult::Pass();
                             })
                  .ok());
  ASSERT_TRUE(registry
                  ->Register(b,
                             [gate, &runs_b] {
                               ++runs_b;
                               gate->Wait();
                               return CheckResult::Warn("meh");
                             })
                  .ok());
  constexpr int kThreads = 16;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&registry, &failures, t] {
      for (int i = 0; i < 20; ++i) {
        const Probe probe =
            (t + i) % 2 == 0 ? Probe::kReadiness : Probe::kLiveness;
        const HealthResponse r = registry->HandleProbe(probe, "verbose");
        const nlohmann::json json = nlohmann::json::parse(r.body);
        if (r.http_status != 200 || json["status"] != "warn") ++failures;
      }
    });
  }
  ASSERT_TRUE(AwaitCount(runs_a, 1));
  ASSERT_TRUE(AwaitCount(runs_b, 1));
  gate->Open();
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(runs_a.load(), 1);
  EXPECT_EQ(runs_b.load(), 1);
}

}  // namespace
}  // namespace keel::health
