// Fuzzes the probe query-string parser and the health+json writer: whatever
// the query, parsing terminates with well-formed excludes, and a report built
// from the fuzzed strings renders to JSON that nlohmann_json parses back to
// the same values (exactly, when the input is valid UTF-8).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "keel/health/report.h"
#include "nlohmann/json.hpp"

namespace {

void Require(bool condition) {
  if (!condition) std::abort();
}

bool IsValidUtf8(const std::string& s) {
  try {
    (void)nlohmann::json(s).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const keel::health::ProbeQuery query = keel::health::ParseProbeQuery(input);
  for (const std::string& name : query.exclude) {
    Require(!name.empty());
    Require(name.find(',') == std::string::npos);
  }

  // Render a report whose every string comes from the input.
  keel::health::HealthReport report;
  report.status = keel::health::Status::kWarn;
  report.output = input;
  report.service.description = input;
  report.notes.push_back(input);
  for (const std::string& name : query.exclude) {
    keel::health::CheckReport check;
    check.name = name;
    check.key = name;
    check.result.output = input;
    check.result.observed_value = name;
    check.affected_endpoints.push_back(name);
    report.checks.push_back(check);
  }
  keel::health::CheckReport raw;
  raw.key = input;
  raw.result.component_id = input;
  report.checks.push_back(raw);

  for (const bool verbose : {false, true}) {
    const std::string body = keel::health::RenderHealthJson(report, verbose);
    nlohmann::json json;
    try {
      json = nlohmann::json::parse(body);
    } catch (const nlohmann::json::exception&) {
      std::abort();
    }
    Require(json["status"] == "warn");
    // Empty optional fields are omitted.
    Require(json.contains("output") == !input.empty());
    if (IsValidUtf8(input) && !input.empty()) {
      Require(json["output"] == input);
      if (verbose) {
        Require(json["description"] == input);
        Require(json["notes"][0] == input);
        Require(json["checks"].contains(input));
      }
    }
  }
  return 0;
}
