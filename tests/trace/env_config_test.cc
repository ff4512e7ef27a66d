#include "keel/trace/env_config.h"

#include <map>
#include <string>

#include "gtest/gtest.h"

namespace keel::trace {
namespace {

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](
             std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::optional<std::string> Attribute(const Resource& resource,
                                     const std::string& key) {
  for (const KeyValue& kv : resource.attributes) {
    if (kv.key == key) return std::get<std::string>(kv.value);
  }
  return std::nullopt;
}

TEST(EnvConfigTest, Defaults) {
  auto config = TracingConfigFromEnv(Env({})).value();
  EXPECT_EQ(Attribute(config.resource, "service.name"), "unknown_service");
  EXPECT_EQ(Attribute(config.resource, "telemetry.sdk.name"), "keel");
  EXPECT_EQ(config.traces_endpoint, "http://localhost:4318/v1/traces");
  EXPECT_NE(config.sampler->Description().find("ParentBased{root=AlwaysOn"),
            std::string::npos);
}

TEST(EnvConfigTest, ResourceAttributesAndServiceName) {
  auto config =
      TracingConfigFromEnv(
          Env({{"OTEL_RESOURCE_ATTRIBUTES",
                "service.name=from-attrs, deployment.environment=prod,"
                "team=a%2Cb"},
               {"OTEL_SERVICE_NAME", "checkout"}}))
          .value();
  EXPECT_EQ(Attribute(config.resource, "service.name"), "checkout");
  EXPECT_EQ(Attribute(config.resource, "deployment.environment"), "prod");
  EXPECT_EQ(Attribute(config.resource, "team"), "a,b");
}

TEST(EnvConfigTest, MalformedResourceAttributesNameTheVariable) {
  auto result =
      TracingConfigFromEnv(Env({{"OTEL_RESOURCE_ATTRIBUTES", "novalue"}}));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("OTEL_RESOURCE_ATTRIBUTES"),
            std::string::npos);
  EXPECT_FALSE(
      TracingConfigFromEnv(Env({{"OTEL_RESOURCE_ATTRIBUTES", "k=%zz"}})).ok());
}

TEST(EnvConfigTest, Samplers) {
  auto description = [](std::map<std::string, std::string> vars) {
    return TracingConfigFromEnv(Env(std::move(vars)))
        .value()
        .sampler->Description();
  };
  EXPECT_EQ(description({{"OTEL_TRACES_SAMPLER", "always_on"}}),
            "AlwaysOnSampler");
  EXPECT_EQ(description({{"OTEL_TRACES_SAMPLER", "always_off"}}),
            "AlwaysOffSampler");
  EXPECT_EQ(description({{"OTEL_TRACES_SAMPLER", "traceidratio"},
                         {"OTEL_TRACES_SAMPLER_ARG", "0.25"}}),
            "TraceIdRatioBased{0.25}");
  EXPECT_NE(description({{"OTEL_TRACES_SAMPLER", "parentbased_traceidratio"},
                         {"OTEL_TRACES_SAMPLER_ARG", "0.5"}})
                .find("ParentBased{root=TraceIdRatioBased{0.5}"),
            std::string::npos);
  EXPECT_NE(description({{"OTEL_TRACES_SAMPLER", "parentbased_always_off"}})
                .find("root=AlwaysOffSampler"),
            std::string::npos);
}

TEST(EnvConfigTest, BadSamplerSettingsNameTheVariable) {
  auto unknown =
      TracingConfigFromEnv(Env({{"OTEL_TRACES_SAMPLER", "sometimes"}}));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("OTEL_TRACES_SAMPLER"),
            std::string::npos);
  auto bad_arg =
      TracingConfigFromEnv(Env({{"OTEL_TRACES_SAMPLER", "traceidratio"},
                                {"OTEL_TRACES_SAMPLER_ARG", "2"}}));
  ASSERT_FALSE(bad_arg.ok());
  EXPECT_NE(bad_arg.status().message().find("OTEL_TRACES_SAMPLER_ARG"),
            std::string::npos);
}

TEST(EnvConfigTest, Endpoints) {
  EXPECT_EQ(TracingConfigFromEnv(
                Env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"}}))
                .value()
                .traces_endpoint,
            "http://collector:4318/v1/traces");
  EXPECT_EQ(TracingConfigFromEnv(
                Env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/base/"}}))
                .value()
                .traces_endpoint,
            "http://c:4318/base/v1/traces");
  EXPECT_EQ(TracingConfigFromEnv(
                Env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"},
                     {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:1/x"}}))
                .value()
                .traces_endpoint,
            "http://t:1/x");
}

TEST(EnvConfigTest, SystemEnvReadsProcessEnvironment) {
  ::setenv("KEEL_ENV_CONFIG_TEST_VAR", "yes", 1);
  EXPECT_EQ(SystemEnv("KEEL_ENV_CONFIG_TEST_VAR"), "yes");
  EXPECT_FALSE(SystemEnv("KEEL_ENV_CONFIG_TEST_UNSET_VAR").has_value());
}

}  // namespace
}  // namespace keel::trace
