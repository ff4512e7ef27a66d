// Fuzzes RequestLimits::Check. The first byte picks the method, the rest is
// split at the first '\n' into the request-target and one header value.
// Invariants: the status always matches the reason; a target accepted by the
// traversal check never climbs above the root when decoded and split by a
// separate, string-based implementation; loosening every limit never turns
// an accepted request into a rejected one.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "keel/security/http_fields.h"
#include "keel/security/request_limits.h"

namespace {

using keel::security::LimitReason;

void Check(bool condition) {
  if (!condition) std::abort();
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// True when the decoded path of an accepted target stays below the root.
bool StaysBelowRoot(std::string_view target) {
  std::size_t start = 0;
  if (target.rfind("http://", 0) == 0 || target.rfind("https://", 0) == 0 ||
      target.rfind("HTTP://", 0) == 0 || target.rfind("HTTPS://", 0) == 0) {
    start = target.find("://") + 3;
    start = target.find_first_of("/?", start);
    if (start == std::string_view::npos) return true;
  }
  std::string_view path = target.substr(start);
  path = path.substr(0, path.find('?'));
  std::string decoded;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size() && Hex(path[i + 1]) >= 0 &&
        Hex(path[i + 2]) >= 0) {
      decoded.push_back(
          static_cast<char>(Hex(path[i + 1]) * 16 + Hex(path[i + 2])));
      i += 2;
    } else {
      decoded.push_back(path[i] == '\\' ? '/' : path[i]);
    }
  }
  for (char& c : decoded) {
    if (c == '\\') c = '/';
  }
  std::vector<std::string> stack;
  std::size_t pos = 0;
  while (pos <= decoded.size()) {
    std::size_t slash = decoded.find('/', pos);
    if (slash == std::string::npos) slash = decoded.size();
    const std::string segment = decoded.substr(pos, slash - pos);
    if (segment == "..") {
      if (stack.empty()) return false;
      stack.pop_back();
    } else if (!segment.empty() && segment != ".") {
      stack.push_back(segment);
    }
    pos = slash + 1;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  if (size < 1 || size > 8192) return 0;
  static const char* const kMethods[] = {"GET", "OPTIONS", "TRACE", "post"};
  static const auto* tight = [] {
    keel::security::RequestLimitsOptions options;
    options.max_target_length = 64;
    options.max_header_count = 1;
    options.max_header_bytes = 32;
    options.max_total_header_bytes = 32;
    options.max_body_bytes = 16;
    return keel::security::RequestLimits::Create(options).value().release();
  }();
  static const auto* loose = [] {
    keel::security::RequestLimitsOptions options;
    options.allowed_methods = {"GET",  "OPTIONS", "TRACE", "post",  "HEAD",
                               "POST", "PUT",     "PATCH", "DELETE"};
    options.max_target_length = 1 << 20;
    options.max_header_count = 10;
    options.max_header_bytes = 1 << 20;
    options.max_total_header_bytes = 1 << 20;
    options.max_body_bytes = 1 << 20;
    return keel::security::RequestLimits::Create(options).value().release();
  }();
  const std::string_view input(reinterpret_cast<const char*>(data) + 1,
                               size - 1);
  const std::size_t newline = input.find('\n');
  keel::security::RequestView request;
  request.method = kMethods[data[0] % 4];
  request.target = input.substr(0, newline);
  const keel::security::FieldView field = {
      "X-Fuzz", newline == std::string_view::npos ? std::string_view()
                                                  : input.substr(newline + 1)};
  request.fields = &field;
  request.field_count = 1;
  request.body_length = data[0];

  for (const auto* limits : {tight, loose}) {
    const keel::security::LimitVerdict v = limits->Check(request);
    Check(v.status == keel::security::LimitReasonStatus(v.reason));
    Check(!keel::security::LimitReasonName(v.reason).empty());
  }
  if (tight->Check(request).ok()) Check(loose->Check(request).ok());
  if (keel::security::CheckRequestTarget(request.method, request.target) ==
      LimitReason::kOk) {
    Check(StaysBelowRoot(request.target));
  }
  return 0;
}
