// Fuzzes keel's JSON string escaping and timestamp formatting: the escaped
// form of any bytes parses with nlohmann_json as one string, valid UTF-8
// round-trips exactly, invalid input yields valid UTF-8 with U+FFFD in place
// of the bad bytes, and RFC 3339 timestamps have a fixed shape.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "keel/base/json_writer.h"
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
  std::string escaped;
  keel::AppendJsonString(escaped, input);
  // Control characters never appear raw in the output.
  for (const char c : escaped) {
    Require(static_cast<unsigned char>(c) >= 0x20);
  }
  nlohmann::json parsed;
  try {
    parsed = nlohmann::json::parse(escaped);
  } catch (const nlohmann::json::exception&) {
    std::abort();
  }
  Require(parsed.is_string());
  const std::string decoded = parsed.get<std::string>();
  Require(IsValidUtf8(decoded));
  if (IsValidUtf8(input)) {
    Require(decoded == input);
  } else {
    Require(decoded.find("\xEF\xBF\xBD") != std::string::npos);
  }

  if (size >= 8) {
    std::int64_t ns = 0;
    std::memcpy(&ns, data, sizeof(ns));
    std::string ts;
    keel::AppendRfc3339(ts, std::chrono::nanoseconds(ns), 9);
    // YYYY-MM-DDTHH:MM:SS.fffffffffZ
    Require(ts.size() == 30);
    Require(ts[4] == '-' && ts[7] == '-' && ts[10] == 'T' && ts[13] == ':' &&
            ts[16] == ':' && ts[19] == '.' && ts[29] == 'Z');
    double number = 0;
    std::memcpy(&number, data, sizeof(number));
    std::string json_number;
    keel::AppendJsonDouble(json_number, number);
    const nlohmann::json n = nlohmann::json::parse(json_number);
    Require(n.is_null() || n.get<double>() == number);
  }
  return 0;
}
