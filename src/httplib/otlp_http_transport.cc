#include "keel/httplib/otlp_http_transport.h"

#include <httplib.h>
#include <time.h>

#include <cctype>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace keel::httplib {

// One cpp-httplib client for one origin.
struct OtlpHttpTransport::Connection {
  std::string origin;
  std::unique_ptr<::httplib::Client> client;
};

namespace {

// Splits "scheme://host[:port]/path" into origin and path.
bool SplitUrl(const std::string& url, std::string* origin, std::string* path) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return false;
  const std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return false;
  const std::size_t path_start = url.find('/', scheme_end + 3);
  *origin = url.substr(0, path_start);
  *path = path_start == std::string::npos ? "/" : url.substr(path_start);
  return origin->size() > scheme_end + 3;
}

void SetTimeouts(::httplib::Client& client, std::chrono::nanoseconds timeout) {
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
  const time_t sec = static_cast<time_t>(us / 1000000);
  const time_t usec = static_cast<time_t>(us % 1000000);
  client.set_connection_timeout(sec, usec);
  client.set_read_timeout(sec, usec);
  client.set_write_timeout(sec, usec);
}

}  // namespace

absl::StatusOr<std::unique_ptr<OtlpHttpTransport>> OtlpHttpTransport::Create(
    OtlpHttpTransportOptions options) {
  if (options.clock == nullptr) {
    return absl::InvalidArgumentError(
        "OtlpHttpTransportOptions.clock must not be null");
  }
  return std::unique_ptr<OtlpHttpTransport>(new OtlpHttpTransport(options));
}

OtlpHttpTransport::OtlpHttpTransport(OtlpHttpTransportOptions options)
    : options_(options) {}

OtlpHttpTransport::~OtlpHttpTransport() = default;

absl::StatusOr<trace::ExportResponse> OtlpHttpTransport::Post(
    const trace::ExportRequest& request) {
  const bool get = request.method == "GET";
  if (!get && request.method != "POST") {
    return absl::InvalidArgumentError(absl::StrCat(
        "HTTP method \"", request.method, "\" is not supported (GET or POST)"));
  }
  if (get && (!request.body.empty() || !request.content_type.empty())) {
    return absl::InvalidArgumentError(
        "a GET request carries no body and no content type");
  }
  std::string origin;
  std::string path;
  if (!SplitUrl(request.url, &origin, &path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("OTLP endpoint is not an http(s) URL: ", request.url));
  }
  ::httplib::Headers headers;
  for (const auto& [name, value] : request.headers) {
    headers.emplace(name, value);
  }

  MutexLock lock(mu_);
  if (!connection_ || connection_->origin != origin) {
    auto client = std::make_unique<::httplib::Client>(origin);
    if (!client->is_valid()) {
      return absl::InvalidArgumentError(
          absl::StrCat("OTLP endpoint cannot be used: ", request.url));
    }
    client->set_keep_alive(true);
    connection_.reset(new Connection{origin, std::move(client)});
  }
  ::httplib::Client& client = *connection_->client;
  SetTimeouts(client, request.timeout);
  ::httplib::Result result =
      get ? client.Get(path.c_str(), headers)
          : client.Post(path.c_str(), headers, request.body,
                        request.content_type.c_str());
  if (!result) {
    connection_.reset();  // start over with a fresh connection
    return absl::UnavailableError(
        absl::StrCat(request.method, " ", request.url, ": ",
                     ::httplib::to_string(result.error())));
  }
  trace::ExportResponse response;
  response.status_code = result->status;
  response.body = std::move(result->body);
  if (result->has_header("Retry-After")) {
    response.retry_after = ParseRetryAfter(
        result->get_header_value("Retry-After"), options_.clock->WallNow());
  }
  return response;
}

std::optional<std::chrono::nanoseconds> OtlpHttpTransport::ParseRetryAfter(
    std::string_view value, std::chrono::nanoseconds now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::isdigit(static_cast<unsigned char>(value.front()))) {
    std::int64_t seconds;
    if (!absl::SimpleAtoi(std::string(value), &seconds) || seconds < 0) {
      return std::nullopt;
    }
    return std::chrono::seconds(seconds);
  }
  // IMF-fixdate, e.g. "Wed, 21 Oct 2015 07:28:00 GMT".
  struct tm tm = {};
  const std::string text(value);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const std::chrono::nanoseconds at = std::chrono::seconds(timegm(&tm));
  return at > now ? at - now : std::chrono::nanoseconds(0);
}

}  // namespace keel::httplib
