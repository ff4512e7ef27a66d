// keel quickstart: each component a service gets from keel, in a few lines.
// Everything runs in-process; no servers are needed.
//
// Build and run (see README.md):
//   cmake --preset release && cmake --build --preset release --target
//   quickstart
//   ./build/release/examples/quickstart/quickstart

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/base/clock.h"
#include "keel/base/hash.h"
#include "keel/base/scheduler.h"
#include "keel/base/status_macros.h"
#include "keel/cache/cache.h"
#include "keel/flags/client.h"
#include "keel/flags/provider.h"
#include "keel/flags/source.h"
#include "keel/health/registry.h"
#include "keel/log/logger.h"
#include "keel/log/sink.h"
#include "keel/metrics/exposition.h"
#include "keel/metrics/registry.h"
#include "keel/ratelimit/token_bucket.h"
#include "keel/resilience/circuit_breaker.h"
#include "keel/trace/context.h"
#include "keel/trace/traceparent.h"
#include "keel/trace/tracer.h"

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Base: injected time, stable and fast hashes, one shared background thread.
absl::Status Base() {
  keel::ManualClock test_clock;  // tests advance time instead of sleeping
  test_clock.Advance(seconds(5));
  std::printf("[base] manual clock after Advance(5s): %lld ns\n",
              static_cast<long long>(test_clock.Now().count()));
  std::printf(
      "[base] murmur3(\"checkout-v2user-42\") = %u, shard of tenant-7: "
      "%llu/16\n",
      keel::Murmur3X86_32("checkout-v2user-42"),
      static_cast<unsigned long long>(keel::Hash64("tenant-7") % 16));

  KEEL_ASSIGN_OR_RETURN(std::unique_ptr<keel::Scheduler> scheduler,
                        keel::Scheduler::Create());
  std::atomic<int> ticks{0};
  KEEL_ASSIGN_OR_RETURN(
      keel::Scheduler::TaskId tick,
      scheduler->ScheduleEvery(milliseconds(10), [&] { ++ticks; }));
  std::this_thread::sleep_for(milliseconds(55));
  scheduler->Cancel(tick);
  std::printf("[base] a 10 ms periodic task ran %d times in 55 ms\n",
              ticks.load());
  return absl::OkStatus();
}

// Rate limiting and a circuit breaker, both reporting to `metrics`.
absl::Status Traffic(keel::metrics::Registry& metrics) {
  keel::ratelimit::TokenBucketOptions limit;
  limit.name = "api";
  limit.rate = 5;
  limit.period = seconds(1);
  limit.burst = 3;
  limit.metrics = &metrics;
  KEEL_ASSIGN_OR_RETURN(auto bucket,
                        keel::ratelimit::TokenBucket::Create(limit));
  int admitted = 0;
  for (int i = 0; i < 5; ++i) admitted += bucket->TryAcquire().allowed ? 1 : 0;
  std::printf("[ratelimit] burst 3: admitted %d of 5 requests at once\n",
              admitted);

  keel::resilience::CircuitBreakerOptions breaker_options;
  breaker_options.name = "payments";
  breaker_options.minimum_calls = 4;
  breaker_options.failure_rate_threshold = 50;
  breaker_options.metrics = &metrics;
  KEEL_ASSIGN_OR_RETURN(
      auto breaker, keel::resilience::CircuitBreaker::Create(breaker_options));
  for (int i = 0; i < 6; ++i) {
    absl::Status call = breaker->Execute(
        [] { return absl::UnavailableError("payments backend down"); });
    if (absl::IsUnavailable(call) &&
        call.message() != "payments backend down") {
      std::printf(
          "[resilience] call %d rejected without reaching the backend: %s\n",
          i + 1, std::string(call.message()).c_str());
      break;
    }
  }
  return absl::OkStatus();
}

// A W-TinyLFU cache with single-flight loading.
absl::Status Caching() {
  keel::cache::CacheOptions<std::string, std::string> options;
  options.max_entries = 1000;
  options.expire_after_write = std::chrono::minutes(5);
  KEEL_ASSIGN_OR_RETURN(
      auto cache,
      (keel::cache::Cache<std::string, std::string>::Create(options)));
  int loads = 0;
  auto load = [&](const std::string& key) -> absl::StatusOr<std::string> {
    ++loads;
    return "profile of " + key;
  };
  KEEL_ASSIGN_OR_RETURN(std::string first, cache->GetOrLoad("ada", load));
  KEEL_ASSIGN_OR_RETURN(std::string second, cache->GetOrLoad("ada", load));
  std::printf("[cache] '%s' twice, loader ran %d time(s)\n", second.c_str(),
              loads);
  return absl::OkStatus();
}

// Feature flags from a flagd definition, evaluated OpenFeature-style.
absl::Status Flags() {
  keel::flags::FlagProviderOptions options;
  options.source = std::make_unique<keel::flags::InMemoryFlagSource>(R"({
    "flags": {
      "new-checkout": {
        "state": "ENABLED",
        "variants": {"on": true, "off": false},
        "defaultVariant": "off",
        "targeting": {"if": [{"==": [{"var": "plan"}, "pro"]}, "on", "off"]}
      }
    }
  })");
  KEEL_ASSIGN_OR_RETURN(auto provider,
                        keel::flags::FlagProvider::Create(std::move(options)));
  keel::flags::FlagClient client(provider.get(), "quickstart");
  keel::flags::EvaluationContext pro("user-1");
  pro.Set("plan", "pro");
  keel::flags::EvaluationContext free("user-2");
  free.Set("plan", "free");
  std::printf("[flags] new-checkout: pro=%s free=%s\n",
              client.BooleanValue("new-checkout", false, pro) ? "on" : "off",
              client.BooleanValue("new-checkout", false, free) ? "on" : "off");
  return absl::OkStatus();
}

// Tracing, structured logs that carry the trace ids, and health probes.
absl::Status Observability() {
  keel::trace::TracerOptions tracer_options;  // no processor: spans are dropped
  KEEL_ASSIGN_OR_RETURN(auto tracer,
                        keel::trace::Tracer::Create(std::move(tracer_options)));
  auto incoming = keel::trace::ParseTraceparent(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  keel::trace::StartSpanOptions span_options;
  if (incoming) span_options.parent = *incoming;
  keel::trace::Span span = tracer->StartSpan("GET /orders", span_options);
  keel::trace::ContextScope scope(span.context());

  keel::log::LoggerOptions log_options;
  log_options.sink = keel::log::FileSink::ForStream(stdout);
  KEEL_ASSIGN_OR_RETURN(auto logger,
                        keel::log::Logger::Create(std::move(log_options)));
  logger->Info("order listed", {{"orders", 3}, {"cached", true}});
  span.End();

  KEEL_ASSIGN_OR_RETURN(auto health,
                        keel::health::HealthRegistry::Create(
                            keel::health::HealthRegistryOptions()));
  keel::health::CheckOptions check;
  check.name = "orders-db";
  check.component_type = "datastore";
  KEEL_RETURN_IF_ERROR(health->Register(check, [] {
    return keel::health::CheckResult::Pass("3 connections idle");
  }));
  keel::health::HealthResponse ready =
      health->HandleProbe(keel::health::Probe::kReadiness, "");
  health->SetShuttingDown();
  keel::health::HealthResponse draining =
      health->HandleProbe(keel::health::Probe::kReadiness, "");
  std::printf("[health] /readyz %d %s, after SetShuttingDown() %d\n",
              ready.http_status, ready.body.c_str(), draining.http_status);
  return absl::OkStatus();
}

}  // namespace

int main() {
  keel::metrics::Registry metrics;
  for (absl::Status status :
       {Base(), Traffic(metrics), Caching(), Flags(), Observability()}) {
    if (!status.ok()) {
      std::fprintf(stderr, "quickstart failed: %s\n",
                   status.ToString().c_str());
      return 1;
    }
  }
  std::string exposition;
  keel::metrics::WriteExposition(
      metrics, keel::metrics::ExpositionFormat::kPrometheusText, &exposition);
  std::printf("[metrics] GET /metrics:\n%s", exposition.c_str());
  return 0;
}
