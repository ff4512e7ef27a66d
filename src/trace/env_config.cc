#include "keel/trace/env_config.h"

#include <cstdlib>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/hex_digit.h"

namespace keel::trace {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// Percent-decodes an OTEL_RESOURCE_ATTRIBUTES value (W3C baggage encoding).
std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    const int byte = base_internal::PercentEscapeAt(s, i);
    if (byte < 0) return std::nullopt;
    out.push_back(static_cast<char>(byte));
    i += 2;
  }
  return out;
}

std::optional<std::string> NonEmpty(const EnvLookup& lookup,
                                    std::string_view name) {
  std::optional<std::string> value = lookup(name);
  if (value && Trim(*value).empty()) return std::nullopt;
  if (value) return std::string(Trim(*value));
  return value;
}

void SetAttribute(Resource& resource, std::string key, std::string value) {
  for (KeyValue& kv : resource.attributes) {
    if (kv.key == key) {
      kv.value = std::move(value);
      return;
    }
  }
  resource.attributes.push_back(KeyValue{std::move(key), std::move(value)});
}

absl::Status ParseResourceAttributes(std::string_view text,
                                     Resource& resource) {
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view member = Trim(text.substr(0, comma));
    if (!member.empty()) {
      const std::size_t eq = member.find('=');
      const std::string_view key =
          Trim(member.substr(0, eq == std::string_view::npos ? 0 : eq));
      if (eq == std::string_view::npos || key.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("OTEL_RESOURCE_ATTRIBUTES: member \"",
                         std::string(member), "\" is not key=value"));
      }
      std::optional<std::string> value =
          PercentDecode(Trim(member.substr(eq + 1)));
      if (!value) {
        return absl::InvalidArgumentError(
            absl::StrCat("OTEL_RESOURCE_ATTRIBUTES: bad percent-encoding in "
                         "the value of \"",
                         std::string(key), "\""));
      }
      SetAttribute(resource, std::string(key), std::move(*value));
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return absl::OkStatus();
}

absl::StatusOr<double> SamplerRatio(const EnvLookup& lookup) {
  std::optional<std::string> arg = NonEmpty(lookup, "OTEL_TRACES_SAMPLER_ARG");
  if (!arg) return 1.0;
  double ratio;
  if (!absl::SimpleAtod(*arg, &ratio) || !(ratio >= 0.0 && ratio <= 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "OTEL_TRACES_SAMPLER_ARG must be a number in [0, 1], got \"", *arg,
        "\""));
  }
  return ratio;
}

absl::StatusOr<std::shared_ptr<const Sampler>> SamplerFromEnv(
    const EnvLookup& lookup) {
  const std::string name =
      NonEmpty(lookup, "OTEL_TRACES_SAMPLER").value_or("parentbased_always_on");
  if (name == "always_on") return Sampler::AlwaysOn();
  if (name == "always_off") return Sampler::AlwaysOff();
  if (name == "parentbased_always_on") {
    return Sampler::ParentBased(Sampler::AlwaysOn());
  }
  if (name == "parentbased_always_off") {
    return Sampler::ParentBased(Sampler::AlwaysOff());
  }
  if (name == "traceidratio" || name == "parentbased_traceidratio") {
    absl::StatusOr<double> ratio = SamplerRatio(lookup);
    if (!ratio.ok()) return ratio.status();
    absl::StatusOr<std::shared_ptr<const Sampler>> sampler =
        Sampler::TraceIdRatio(*ratio);
    if (!sampler.ok()) return sampler.status();
    if (name == "traceidratio") return sampler;
    return Sampler::ParentBased(*std::move(sampler));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("OTEL_TRACES_SAMPLER: unknown sampler \"", name, "\""));
}

}  // namespace

std::optional<std::string> SystemEnv(std::string_view name) {
  const char* value = std::getenv(std::string(name).c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

absl::StatusOr<TracingEnvConfig> TracingConfigFromEnv(const EnvLookup& lookup) {
  TracingEnvConfig config;
  SetAttribute(config.resource, "service.name", "unknown_service");
  SetAttribute(config.resource, "telemetry.sdk.name", "keel");
  SetAttribute(config.resource, "telemetry.sdk.language", "cpp");
  if (auto attributes = NonEmpty(lookup, "OTEL_RESOURCE_ATTRIBUTES")) {
    absl::Status status = ParseResourceAttributes(*attributes, config.resource);
    if (!status.ok()) return status;
  }
  if (auto service = NonEmpty(lookup, "OTEL_SERVICE_NAME")) {
    SetAttribute(config.resource, "service.name", *service);
  }

  absl::StatusOr<std::shared_ptr<const Sampler>> sampler =
      SamplerFromEnv(lookup);
  if (!sampler.ok()) return sampler.status();
  config.sampler = *std::move(sampler);

  if (auto traces = NonEmpty(lookup, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) {
    config.traces_endpoint = *traces;
  } else if (auto base = NonEmpty(lookup, "OTEL_EXPORTER_OTLP_ENDPOINT")) {
    std::string endpoint = *base;
    if (endpoint.back() != '/') endpoint.push_back('/');
    config.traces_endpoint = endpoint + "v1/traces";
  } else {
    config.traces_endpoint = "http://localhost:4318/v1/traces";
  }
  return config;
}

}  // namespace keel::trace
