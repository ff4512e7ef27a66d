#include "flags/json_util.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "keel/base/json_writer.h"

namespace keel::flags_internal {

using flags::Value;

absl::StatusOr<Value> FromNlohmann(const nlohmann::json& json, int depth) {
  if (depth > Value::kMaxDepth) {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON nesting deeper than ", Value::kMaxDepth, " levels"));
  }
  switch (json.type()) {
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      return Value();
    case nlohmann::json::value_t::boolean:
      return Value(json.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value(static_cast<double>(json.get<std::int64_t>()));
    case nlohmann::json::value_t::number_unsigned:
      return Value(static_cast<double>(json.get<std::uint64_t>()));
    case nlohmann::json::value_t::number_float:
      return Value(json.get<double>());
    case nlohmann::json::value_t::string:
      return Value(json.get_ref<const std::string&>());
    case nlohmann::json::value_t::binary:
      return absl::InvalidArgumentError("binary JSON values are not supported");
    case nlohmann::json::value_t::array: {
      Value::ArrayType elements;
      elements.reserve(json.size());
      for (const auto& element : json) {
        auto converted = FromNlohmann(element, depth + 1);
        if (!converted.ok()) return converted.status();
        elements.push_back(*std::move(converted));
      }
      return Value::Array(std::move(elements));
    }
    case nlohmann::json::value_t::object: {
      Value::ObjectType members;
      members.reserve(json.size());
      for (auto it = json.begin(); it != json.end(); ++it) {
        auto converted = FromNlohmann(it.value(), depth + 1);
        if (!converted.ok()) return converted.status();
        members.emplace_back(it.key(), *std::move(converted));
      }
      return Value::Object(std::move(members));
    }
  }
  return Value();
}

void AppendJsNumber(double number, std::string* out) {
  if (std::isnan(number)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(number)) {
    out->append(number > 0 ? "Infinity" : "-Infinity");
    return;
  }
  if (number == 0) {
    out->push_back('0');
    return;
  }
  if (std::fabs(number) < 1e21 && number == std::trunc(number)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", number);
    out->append(buf);
    return;
  }
  // Shortest representation that round-trips, as JavaScript prints it.
  char buf[40];
  int precision = 1;
  for (; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, number);
    if (std::strtod(buf, nullptr) == number) break;
  }
  std::string text(buf);
  const auto e = text.find('e');
  if (e == std::string::npos) {
    out->append(text);
    return;
  }
  // "%g" writes 1e-07 / 1e+21; JavaScript writes 1e-7 / 1e+21.
  std::string mantissa = text.substr(0, e);
  char sign = text[e + 1];
  std::string exponent = text.substr(e + 2);
  while (exponent.size() > 1 && exponent[0] == '0') exponent.erase(0, 1);
  const int exp_value = std::atoi(exponent.c_str()) * (sign == '-' ? -1 : 1);
  if (exp_value >= -7 && exp_value < 21) {
    // JavaScript uses fixed notation in this range.
    std::snprintf(buf, sizeof buf, "%.*f",
                  exp_value < 0 ? precision - exp_value - 1 : 0, number);
    std::string fixed(buf);
    if (fixed.find('.') != std::string::npos) {
      while (!fixed.empty() && fixed.back() == '0') fixed.pop_back();
      if (!fixed.empty() && fixed.back() == '.') fixed.pop_back();
    }
    out->append(fixed);
    return;
  }
  out->append(mantissa);
  out->push_back('e');
  out->push_back(sign);
  out->append(exponent);
}

void AppendJson(const Value& value, std::string* out) {
  switch (value.kind()) {
    case Value::Kind::kNull:
      out->append("null");
      return;
    case Value::Kind::kBool:
      out->append(value.bool_value() ? "true" : "false");
      return;
    case Value::Kind::kNumber:
      if (!std::isfinite(value.number_value())) {
        out->append("null");
      } else {
        AppendJsNumber(value.number_value(), out);
      }
      return;
    case Value::Kind::kString:
      AppendJsonString(*out, value.string_value());
      return;
    case Value::Kind::kArray: {
      out->push_back('[');
      bool first = true;
      for (const Value& element : value.array_value()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJson(element, out);
      }
      out->push_back(']');
      return;
    }
    case Value::Kind::kObject: {
      out->push_back('{');
      bool first = true;
      for (const auto& [key, member] : value.object_value()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(*out, key);
        out->push_back(':');
        AppendJson(member, out);
      }
      out->push_back('}');
      return;
    }
  }
}

}  // namespace keel::flags_internal
