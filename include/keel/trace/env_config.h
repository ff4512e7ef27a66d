// keel/trace/env_config.h
//
// Tracing settings from the standard OpenTelemetry environment variables:
//
//   OTEL_SERVICE_NAME                   resource `service.name` (wins over
//                                       the same key in the attributes)
//   OTEL_RESOURCE_ATTRIBUTES            `k1=v1,k2=v2`, values percent-decoded
//   OTEL_TRACES_SAMPLER                 always_on | always_off | traceidratio |
//                                       parentbased_always_on (default) |
//                                       parentbased_always_off |
//                                       parentbased_traceidratio
//   OTEL_TRACES_SAMPLER_ARG             the ratio for *traceidratio (default 1)
//   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT  full traces URL, used as is
//   OTEL_EXPORTER_OTLP_ENDPOINT         base URL; `/v1/traces` is appended
//
// Unset or empty variables take the defaults (service.name
// "unknown_service", endpoint "http://localhost:4318/v1/traces"). The resource
// also carries `telemetry.sdk.name=keel` and `telemetry.sdk.language=cpp`.
//
// Example:
//   auto config = keel::trace::TracingConfigFromEnv();   // real environment
//   // In tests:
//   std::map<std::string, std::string> env = {{"OTEL_SERVICE_NAME", "api"}};
//   auto config = keel::trace::TracingConfigFromEnv(
//       [&](std::string_view name) -> std::optional<std::string> {
//         auto it = env.find(std::string(name));
//         if (it == env.end()) return std::nullopt;
//         return it->second;
//       });
//
// Thread safety: TracingConfigFromEnv is reentrant; SystemEnv reads the
// process environment (do not call setenv concurrently).

#ifndef KEEL_TRACE_ENV_CONFIG_H_
#define KEEL_TRACE_ENV_CONFIG_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "keel/trace/sampler.h"
#include "keel/trace/span_data.h"

namespace keel::trace {

// Looks up one environment variable; nullopt if unset.
using EnvLookup =
    std::function<std::optional<std::string>(std::string_view name)>;

// Reads the process environment (getenv).
std::optional<std::string> SystemEnv(std::string_view name);

// The settings the variables above describe.
struct TracingEnvConfig {
  Resource resource;
  std::shared_ptr<const Sampler> sampler;
  std::string traces_endpoint;
};

// Builds the settings. Fails with kInvalidArgument naming the variable for an
// unknown sampler name, a ratio that is not a number in [0, 1], or a
// malformed OTEL_RESOURCE_ATTRIBUTES member.
absl::StatusOr<TracingEnvConfig> TracingConfigFromEnv(
    const EnvLookup& lookup = SystemEnv);

}  // namespace keel::trace

#endif  // KEEL_TRACE_ENV_CONFIG_H_
