// keel::httplib from a consumer: creating the OTLP transport and parsing a
// Retry-After value need no server but link the cpp-httplib-backed code.

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "consumer.h"
#include "keel/httplib/otlp_http_transport.h"

namespace keel_consumer {

bool UseHttplib() {
  absl::StatusOr<std::unique_ptr<keel::httplib::OtlpHttpTransport>> transport =
      keel::httplib::OtlpHttpTransport::Create();
  if (!transport.ok()) {
    std::fprintf(stderr, "httplib: Create: %s\n",
                 transport.status().ToString().c_str());
    return false;
  }
  const std::optional<std::chrono::nanoseconds> delay =
      keel::httplib::OtlpHttpTransport::ParseRetryAfter(
          "120", std::chrono::seconds(1700000000));
  if (!delay.has_value() || *delay != std::chrono::seconds(120)) {
    std::fprintf(stderr, "httplib: Retry-After 120 not parsed as 120 s\n");
    return false;
  }
  return true;
}

}  // namespace keel_consumer
