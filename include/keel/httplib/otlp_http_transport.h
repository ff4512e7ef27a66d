// keel/httplib/otlp_http_transport.h
//
// `OtlpHttpTransport`: the default `keel::trace::ExportTransport`, posting
// OTLP/HTTP requests with cpp-httplib's client (http and https), and sending
// the GET requests of keel::security::HttpJwksFetcher. It lives in
// keel::httplib so that keel::core carries no HTTP client.
//
//   keel::trace::OtlpExporterOptions options;
//   options.endpoint = "http://otel-collector:4318/v1/traces";
//   options.transport = keel::httplib::OtlpHttpTransport::Create().value();
//   auto exporter = keel::trace::OtlpExporter::Create(std::move(options));
//
// Connections are kept alive and reused per scheme://host:port; requests to
// the same origin are serialised (an exporter sends one batch at a time).
// `Retry-After` is parsed as delay-seconds or an HTTP-date (IMF-fixdate).
//
// Thread safety: Post() is thread-safe.

#ifndef KEEL_HTTPLIB_OTLP_HTTP_TRANSPORT_H_
#define KEEL_HTTPLIB_OTLP_HTTP_TRANSPORT_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "keel/base/clock.h"
#include "keel/base/mutex.h"
#include "keel/trace/otlp_exporter.h"

namespace keel::httplib {

struct OtlpHttpTransportOptions {
  // Wall clock used to turn an HTTP-date Retry-After into a delay. Must
  // outlive the transport.
  Clock* clock = &Clock::System();
};

class OtlpHttpTransport final : public trace::ExportTransport {
 public:
  // Fails with kInvalidArgument if `clock` is null.
  static absl::StatusOr<std::unique_ptr<OtlpHttpTransport>> Create(
      OtlpHttpTransportOptions options = {});

  ~OtlpHttpTransport() override;

  // Sends `request` as a POST (body and content type as given) or, when
  // `request.method` is "GET", as a GET without body or Content-Type. Fails
  // with kInvalidArgument for a URL that is not http(s)://host[:port][/path],
  // a method other than GET or POST, or a GET with a body or content type;
  // and kUnavailable for any connection error including timeouts (cpp-httplib
  // 0.11 reports them as read/write errors), which the exporter retries.
  absl::StatusOr<trace::ExportResponse> Post(
      const trace::ExportRequest& request) override;

  // Parses a Retry-After value (delay-seconds or IMF-fixdate, relative to
  // `now` since the Unix epoch). nullopt if malformed; a date in the past is
  // a zero delay.
  static std::optional<std::chrono::nanoseconds> ParseRetryAfter(
      std::string_view value, std::chrono::nanoseconds now);

 private:
  struct Connection;
  explicit OtlpHttpTransport(OtlpHttpTransportOptions options);

  const OtlpHttpTransportOptions options_;
  Mutex mu_;
  // The client of the last origin used; reused while the origin is the same.
  std::unique_ptr<Connection> connection_ ABSL_GUARDED_BY(mu_);
};

}  // namespace keel::httplib

#endif  // KEEL_HTTPLIB_OTLP_HTTP_TRANSPORT_H_
