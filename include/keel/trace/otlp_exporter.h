// keel/trace/otlp_exporter.h
//
// `OtlpExporter` sends span batches to an OpenTelemetry collector with
// OTLP/HTTP (`POST <endpoint>`, protobuf or JSON body, see otlp_encoding.h)
// through a pluggable `ExportTransport`. keel::core has no HTTP client: the
// default transport is keel::httplib::OtlpHttpTransport
// (keel/httplib/otlp_http_transport.h); tests and services may supply their
// own.
//
// Retries follow the OTLP/HTTP specification: responses 429, 502, 503 and 504
// and transport errors (kUnavailable, kDeadlineExceeded) are retried up to
// `max_attempts` times. The delay before a retry is the server's
// `Retry-After` when present (capped at `max_retry_after`), otherwise an
// exponential backoff (initial_backoff * 2^n, capped at `max_backoff`, with
// random jitter down to half of it). Other responses fail at once.
//
// Example (see tracer.h for the full pipeline):
//   keel::trace::OtlpExporterOptions options;
//   options.endpoint = "http://collector:4318/v1/traces";
//   options.transport = keel::httplib::OtlpHttpTransport::Create().value();
//   options.resource.attributes.push_back({"service.name",
//   std::string("api")}); auto exporter =
//   keel::trace::OtlpExporter::Create(std::move(options));
//
// Thread safety: Export() is called by one processor thread at a time;
// concurrent calls are safe as long as the transport is thread-safe.

#ifndef KEEL_TRACE_OTLP_EXPORTER_H_
#define KEEL_TRACE_OTLP_EXPORTER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "keel/trace/otlp_encoding.h"
#include "keel/trace/span_data.h"
#include "keel/trace/span_processor.h"

namespace keel::trace {

// One HTTP request: a POST for OTLP, a GET for fetches such as a JWKS
// (keel/security/jwks.h).
struct ExportRequest {
  // "POST" (the default, what OtlpExporter sends) or "GET". A GET carries no
  // body and no Content-Type: `content_type` and `body` must then be empty.
  // A transport refuses any other method with kInvalidArgument.
  std::string method = "POST";
  std::string url;  // e.g. "http://localhost:4318/v1/traces"
  std::string content_type;
  std::string body;
  // Extra request headers (authentication, tenant ids).
  std::vector<std::pair<std::string, std::string>> headers;
  // Bound on connecting, sending and receiving.
  std::chrono::nanoseconds timeout{0};
};

// What came back.
struct ExportResponse {
  int status_code = 0;
  // The parsed `Retry-After` header (delay-seconds or HTTP-date), if any.
  std::optional<std::chrono::nanoseconds> retry_after;
  std::string body;
};

// Sends OTLP requests.
//
// Thread safety: implementations must be safe to call from several threads.
class ExportTransport {
 public:
  virtual ~ExportTransport() = default;

  // Performs one request with `request.method` (despite the name, a GET
  // too). Returns the response whatever its status code; fails only when no
  // response arrived: kUnavailable (connection refused or reset),
  // kDeadlineExceeded (timeout) or kInvalidArgument (bad URL or method).
  virtual absl::StatusOr<ExportResponse> Post(const ExportRequest& request) = 0;
};

struct OtlpExporterOptions {
  // The full traces URL (OTLP/HTTP default path is /v1/traces).
  std::string endpoint = "http://localhost:4318/v1/traces";
  OtlpEncoding encoding = OtlpEncoding::kProtobuf;
  std::vector<std::pair<std::string, std::string>> headers;
  // Per-request timeout. Must be > 0. Default 10 s (the OTLP default).
  std::chrono::nanoseconds timeout = std::chrono::seconds(10);
  // Sent as the `resource` of every request.
  Resource resource;
  // Required.
  std::shared_ptr<ExportTransport> transport;
  // Attempts per batch including the first; must be >= 1. Default 5.
  int max_attempts = 5;
  // First backoff delay; must be > 0. Default 1 s.
  std::chrono::nanoseconds initial_backoff = std::chrono::seconds(1);
  // Cap on one backoff delay; must be >= initial_backoff. Default 5 s.
  std::chrono::nanoseconds max_backoff = std::chrono::seconds(5);
  // Cap on an honoured Retry-After; must be >= 0. Default 30 s.
  std::chrono::nanoseconds max_retry_after = std::chrono::seconds(30);
  // Waits between attempts. Default: std::this_thread::sleep_for. Tests pass
  // a function that records the delay (and advances a ManualClock).
  std::function<void(std::chrono::nanoseconds)> sleep;
};

class OtlpExporter final : public SpanExporter {
 public:
  // Fails with kInvalidArgument naming the bad field.
  static absl::StatusOr<std::unique_ptr<OtlpExporter>> Create(
      OtlpExporterOptions options);

  // Encodes and posts `batch`, retrying as described above. Returns OK on a
  // 2xx response; kUnavailable after the last retryable failure;
  // kInvalidArgument for 400 and kInternal for other unretryable responses,
  // each message carrying the status code and a prefix of the body.
  absl::Status Export(const SpanBatch& batch) override;

  // Number of retries performed so far (for tests and metrics).
  std::uint64_t retries() const { return retries_; }

 private:
  explicit OtlpExporter(OtlpExporterOptions options);
  std::chrono::nanoseconds Backoff(int retry) const;

  const OtlpExporterOptions options_;
  std::uint64_t retries_ = 0;
};

}  // namespace keel::trace

#endif  // KEEL_TRACE_OTLP_EXPORTER_H_
