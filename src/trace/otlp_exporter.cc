#include "keel/trace/otlp_exporter.h"

#include <algorithm>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "trace/random_ids.h"

namespace keel::trace {
namespace {

bool IsRetryableStatusCode(int code) {
  return code == 429 || code == 502 || code == 503 || code == 504;
}

bool IsRetryableTransportError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kDeadlineExceeded;
}

std::string BodyPrefix(const std::string& body) {
  constexpr std::size_t kMax = 200;
  return body.size() <= kMax ? body : body.substr(0, kMax) + "...";
}

}  // namespace

absl::StatusOr<std::unique_ptr<OtlpExporter>> OtlpExporter::Create(
    OtlpExporterOptions options) {
  if (options.endpoint.empty()) {
    return absl::InvalidArgumentError(
        "OtlpExporterOptions.endpoint must not be empty");
  }
  if (!options.transport) {
    return absl::InvalidArgumentError(
        "OtlpExporterOptions.transport must not be null");
  }
  if (options.timeout.count() <= 0) {
    return absl::InvalidArgumentError(
        "OtlpExporterOptions.timeout must be > 0");
  }
  if (options.max_attempts < 1) {
    return absl::InvalidArgumentError(
        "OtlpExporterOptions.max_attempts must be >= 1");
  }
  if (options.initial_backoff.count() <= 0) {
    return absl::InvalidArgumentError(
        "OtlpExporterOptions.initial_backoff must be > 0");
  }
  if (options.max_backoff < options.initial_backoff) {
    return absl::InvalidArgumentError(
        "OtlpExporterOptions.max_backoff must be >= initial_backoff");
  }
  if (options.max_retry_after.count() < 0) {
    return absl::InvalidArgumentError(
        "OtlpExporterOptions.max_retry_after must be >= 0");
  }
  if (!options.sleep) {
    options.sleep = [](std::chrono::nanoseconds d) {
      std::this_thread::sleep_for(d);
    };
  }
  return std::unique_ptr<OtlpExporter>(new OtlpExporter(std::move(options)));
}

OtlpExporter::OtlpExporter(OtlpExporterOptions options)
    : options_(std::move(options)) {}

std::chrono::nanoseconds OtlpExporter::Backoff(int retry) const {
  std::chrono::nanoseconds delay = options_.initial_backoff;
  for (int i = 1; i < retry && delay < options_.max_backoff; ++i) delay *= 2;
  delay = std::min(delay, options_.max_backoff);
  // Jitter in [delay/2, delay] so that replicas do not retry in lockstep.
  const auto half = delay.count() / 2;
  const auto jitter = static_cast<std::int64_t>(
      trace_internal::NextRandom64() % static_cast<std::uint64_t>(half + 1));
  return std::chrono::nanoseconds(delay.count() - half + jitter);
}

absl::Status OtlpExporter::Export(const SpanBatch& batch) {
  if (batch.empty()) return absl::OkStatus();
  ExportRequest request;
  request.url = options_.endpoint;
  request.content_type = std::string(OtlpContentType(options_.encoding));
  request.body = options_.encoding == OtlpEncoding::kJson
                     ? EncodeOtlpJson(options_.resource, batch)
                     : EncodeOtlpProtobuf(options_.resource, batch);
  request.headers = options_.headers;
  request.timeout = options_.timeout;

  absl::Status last_error;
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<ExportResponse> response = options_.transport->Post(request);
    std::optional<std::chrono::nanoseconds> retry_after;
    if (response.ok()) {
      const int code = response->status_code;
      if (code >= 200 && code < 300) return absl::OkStatus();
      const std::string message =
          absl::StrCat("OTLP export to ", options_.endpoint, " got HTTP ", code,
                       ": ", BodyPrefix(response->body));
      if (!IsRetryableStatusCode(code)) {
        return code == 400 ? absl::InvalidArgumentError(message)
                           : absl::InternalError(message);
      }
      last_error = absl::UnavailableError(message);
      retry_after = response->retry_after;
    } else {
      if (!IsRetryableTransportError(response.status())) {
        return response.status();
      }
      last_error = absl::UnavailableError(
          absl::StrCat("OTLP export to ", options_.endpoint,
                       " failed: ", response.status().message()));
    }
    if (attempt >= options_.max_attempts) {
      return absl::UnavailableError(absl::StrCat(
          last_error.message(), " (gave up after ", attempt, " attempts)"));
    }
    const std::chrono::nanoseconds delay =
        retry_after ? std::clamp(*retry_after, std::chrono::nanoseconds(0),
                                 options_.max_retry_after)
                    : Backoff(attempt);
    ++retries_;
    options_.sleep(delay);
  }
}

}  // namespace keel::trace
