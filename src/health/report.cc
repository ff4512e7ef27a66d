#include "keel/health/report.h"

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "base/hex_digit.h"
#include "keel/base/json_writer.h"
#include "keel/health/check.h"

namespace keel::health {
namespace {

// application/x-www-form-urlencoded decoding that never fails: a '%' not
// followed by two hex digits stays as it is.
std::string FormDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    const int byte = base_internal::PercentEscapeAt(in, i);
    if (c == '+') {
      out.push_back(' ');
    } else if (byte >= 0) {
      out.push_back(static_cast<char>(byte));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Splits `s` on `separator`, calling `fn` for every piece (empty ones too).
template <typename Fn>
void Split(std::string_view s, char separator, Fn fn) {
  for (;;) {
    const std::size_t end = s.find(separator);
    fn(s.substr(0, end));
    if (end == std::string_view::npos) return;
    s.remove_prefix(end + 1);
  }
}

void AppendField(std::string& out, std::string_view name,
                 std::string_view value) {
  out.push_back(',');
  AppendJsonString(out, name);
  out.push_back(':');
  AppendJsonString(out, value);
}

void AppendOptionalField(std::string& out, std::string_view name,
                         std::string_view value) {
  if (!value.empty()) AppendField(out, name, value);
}

void AppendStringArray(std::string& out, const std::vector<std::string>& v) {
  out.push_back('[');
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i != 0) out.push_back(',');
    AppendJsonString(out, v[i]);
  }
  out.push_back(']');
}

void AppendObservedValue(std::string& out, const ObservedValue& value) {
  std::visit(
      [&out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::int64_t>) {
          AppendJsonInt(out, v);
        } else if constexpr (std::is_same_v<T, double>) {
          AppendJsonDouble(out, v);
        } else if constexpr (std::is_same_v<T, bool>) {
          out.append(v ? "true" : "false");
        } else {
          AppendJsonString(out, v);
        }
      },
      value);
}

void AppendCheck(std::string& out, const CheckReport& check) {
  const CheckResult& r = check.result;
  out.append("{\"status\":");
  AppendJsonString(out, StatusName(r.status));
  AppendOptionalField(out, "componentId", r.component_id);
  AppendOptionalField(out, "componentType", r.component_type);
  if (r.observed_value.has_value()) {
    out.append(",\"observedValue\":");
    AppendObservedValue(out, *r.observed_value);
  }
  AppendOptionalField(out, "observedUnit", r.observed_unit);
  out.append(",\"time\":\"");
  AppendRfc3339(out, check.time, 3);
  out.push_back('"');
  AppendOptionalField(out, "output", r.output);
  if (!check.affected_endpoints.empty()) {
    out.append(",\"affectedEndpoints\":");
    AppendStringArray(out, check.affected_endpoints);
  }
  out.push_back('}');
}

}  // namespace

std::string_view StatusName(Status status) {
  switch (status) {
    case Status::kPass:
      return "pass";
    case Status::kWarn:
      return "warn";
    case Status::kFail:
      return "fail";
  }
  return "fail";
}

std::string_view ProbeName(Probe probe) {
  switch (probe) {
    case Probe::kLiveness:
      return "liveness";
    case Probe::kReadiness:
      return "readiness";
    case Probe::kStartup:
      return "startup";
  }
  return "unknown";
}

ProbeQuery ParseProbeQuery(std::string_view query) {
  ProbeQuery result;
  if (!query.empty() && query.front() == '?') query.remove_prefix(1);
  query = query.substr(0, query.find('#'));
  Split(query, '&', [&result](std::string_view param) {
    const std::size_t eq = param.find('=');
    const std::string name = FormDecode(param.substr(0, eq));
    const bool has_value = eq != std::string_view::npos;
    const std::string value =
        has_value ? FormDecode(param.substr(eq + 1)) : std::string();
    if (name == "verbose") {
      result.verbose = !has_value || (value != "false" && value != "0");
    } else if (name == "exclude") {
      Split(value, ',', [&result](std::string_view item) {
        if (!item.empty()) result.exclude.emplace_back(item);
      });
    }
  });
  return result;
}

int HttpStatusFor(Status status) { return status == Status::kFail ? 503 : 200; }

std::string RenderHealthJson(const HealthReport& report, bool verbose) {
  std::string out = "{\"status\":";
  AppendJsonString(out, StatusName(report.status));
  if (verbose) {
    AppendOptionalField(out, "version", report.service.version);
    AppendOptionalField(out, "releaseId", report.service.release_id);
    AppendOptionalField(out, "serviceId", report.service.service_id);
    AppendOptionalField(out, "description", report.service.description);
  }
  AppendOptionalField(out, "output", report.output);
  if (verbose) {
    if (!report.notes.empty()) {
      out.append(",\"notes\":");
      AppendStringArray(out, report.notes);
    }
    out.append(",\"checks\":{");
    // report.checks is sorted by key: each run of equal keys is one array.
    for (std::size_t i = 0; i < report.checks.size(); ++i) {
      const bool first_of_key =
          i == 0 || report.checks[i].key != report.checks[i - 1].key;
      if (first_of_key) {
        if (i != 0) out.append("],");
        AppendJsonString(out, report.checks[i].key);
        out.append(":[");
      } else {
        out.push_back(',');
      }
      AppendCheck(out, report.checks[i]);
    }
    if (!report.checks.empty()) out.push_back(']');
    out.push_back('}');
  }
  out.push_back('}');
  return out;
}

}  // namespace keel::health
