// End-to-end export through cpp-httplib against a local server on a free
// loopback port.

#include "keel/httplib/otlp_http_transport.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "keel/base/mutex.h"
#include "keel/security/jwks.h"
#include "keel/trace/otlp_exporter.h"

namespace keel::httplib {
namespace {

using std::chrono::seconds;

// A collector stand-in: answers with the scripted statuses in order, then 200.
class FakeCollector {
 public:
  explicit FakeCollector(std::vector<int> statuses)
      : statuses_(std::move(statuses)) {
    server_.Post("/v1/traces", [this](const ::httplib::Request& req,
                                      ::httplib::Response& res) {
      MutexLock lock(mu_);
      bodies_.push_back(req.body);
      content_types_.push_back(req.get_header_value("Content-Type"));
      auth_.push_back(req.get_header_value("Authorization"));
      const std::size_t n = bodies_.size() - 1;
      res.status = n < statuses_.size() ? statuses_[n] : 200;
      if (res.status == 503) res.set_header("Retry-After", "1");
      if (res.status == 429) res.set_header("Retry-After", "2");
      res.set_content(res.status == 200 ? "{}" : "try later", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~FakeCollector() {
    server_.stop();
    thread_.join();
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/v1/traces";
  }
  std::vector<std::string> bodies() {
    MutexLock lock(mu_);
    return bodies_;
  }
  std::vector<std::string> content_types() {
    MutexLock lock(mu_);
    return content_types_;
  }
  std::vector<std::string> auth() {
    MutexLock lock(mu_);
    return auth_;
  }

 private:
  ::httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  Mutex mu_;
  const std::vector<int> statuses_;
  std::vector<std::string> bodies_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> content_types_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> auth_ ABSL_GUARDED_BY(mu_);
};

trace::SpanBatch OneSpan() {
  trace::SpanBatch batch;
  auto span = std::make_unique<trace::SpanData>();
  span->context = trace::SpanContext(
      *trace::TraceId::FromHex("4bf92f3577b34da6a3ce929d0e0e4736"),
      *trace::SpanId::FromHex("00f067aa0ba902b7"), trace::kTraceFlagSampled,
      false);
  span->name = "GET /users";
  batch.push_back(std::move(span));
  return batch;
}

struct Harness {
  std::vector<std::chrono::nanoseconds> sleeps;
  std::unique_ptr<trace::OtlpExporter> exporter;

  Harness(const std::string& url, trace::OtlpEncoding encoding) {
    trace::OtlpExporterOptions options;
    options.endpoint = url;
    options.encoding = encoding;
    options.headers.emplace_back("Authorization", "Bearer t0ken");
    options.timeout = seconds(5);
    options.transport = OtlpHttpTransport::Create().value();
    options.max_attempts = 3;
    options.sleep = [this](std::chrono::nanoseconds d) { sleeps.push_back(d); };
    exporter = trace::OtlpExporter::Create(std::move(options)).value();
  }
};

TEST(OtlpHttpTransportTest, ExportsProtobufWithHeaders) {
  FakeCollector collector({});
  Harness harness(collector.url(), trace::OtlpEncoding::kProtobuf);
  ASSERT_TRUE(harness.exporter->Export(OneSpan()).ok());
  ASSERT_EQ(collector.bodies().size(), 1u);
  EXPECT_EQ(collector.content_types()[0], "application/x-protobuf");
  EXPECT_EQ(collector.auth()[0], "Bearer t0ken");
  // ExportTraceServiceRequest starts with field 1 (resource_spans), LEN.
  EXPECT_EQ(collector.bodies()[0][0], '\x0a');
  EXPECT_NE(collector.bodies()[0].find("GET /users"), std::string::npos);
}

TEST(OtlpHttpTransportTest, ExportsJson) {
  FakeCollector collector({});
  Harness harness(collector.url(), trace::OtlpEncoding::kJson);
  ASSERT_TRUE(harness.exporter->Export(OneSpan()).ok());
  EXPECT_EQ(collector.content_types()[0], "application/json");
  EXPECT_NE(collector.bodies()[0].find(
                "\"traceId\":\"4bf92f3577b34da6a3ce929d0e0e4736\""),
            std::string::npos);
}

TEST(OtlpHttpTransportTest, RetriesAfter503HonouringRetryAfter) {
  FakeCollector collector({503});
  Harness harness(collector.url(), trace::OtlpEncoding::kProtobuf);
  ASSERT_TRUE(harness.exporter->Export(OneSpan()).ok());
  ASSERT_EQ(collector.bodies().size(), 2u);
  EXPECT_EQ(collector.bodies()[0], collector.bodies()[1]);
  ASSERT_EQ(harness.sleeps.size(), 1u);
  EXPECT_EQ(harness.sleeps[0], seconds(1));
  EXPECT_EQ(harness.exporter->retries(), 1u);
}

TEST(OtlpHttpTransportTest, GivesUpAfterMaxAttempts) {
  FakeCollector collector({429, 429, 429, 429});
  Harness harness(collector.url(), trace::OtlpEncoding::kProtobuf);
  const absl::Status status = harness.exporter->Export(OneSpan());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("429"), std::string::npos) << status;
  EXPECT_EQ(collector.bodies().size(), 3u);
  EXPECT_EQ(harness.sleeps,
            (std::vector<std::chrono::nanoseconds>{seconds(2), seconds(2)}));
}

TEST(OtlpHttpTransportTest, DoesNotRetryBadRequest) {
  FakeCollector collector({400});
  Harness harness(collector.url(), trace::OtlpEncoding::kProtobuf);
  EXPECT_EQ(harness.exporter->Export(OneSpan()).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(collector.bodies().size(), 1u);
  EXPECT_TRUE(harness.sleeps.empty());
}

TEST(OtlpHttpTransportTest, ConnectionRefusedIsUnavailableAndRetried) {
  std::string url;
  {
    FakeCollector collector({});
    url = collector.url();
  }  // server gone: the port refuses connections
  Harness harness(url, trace::OtlpEncoding::kProtobuf);
  EXPECT_EQ(harness.exporter->Export(OneSpan()).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(harness.sleeps.size(), 2u);
}

// A JWKS endpoint that, like real ones, answers GET only (cpp-httplib sends
// 404 for a POST to a path with no POST handler).
class JwksServer {
 public:
  JwksServer() {
    server_.Get("/jwks", [this](const ::httplib::Request& req,
                                ::httplib::Response& res) {
      MutexLock lock(mu_);
      requests_.push_back(Seen{
          req.method, req.body, req.get_header_value("Content-Type"),
          req.get_header_value("Accept"), req.get_header_value("X-Api-Key")});
      res.set_content(kJwks, "application/jwk-set+json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~JwksServer() {
    server_.stop();
    thread_.join();
  }

  struct Seen {
    std::string method;
    std::string body;
    std::string content_type;
    std::string accept;
    std::string api_key;
  };

  // One P-256 public key (from tests/security/testdata/jwt_vectors.json).
  static constexpr char kJwks[] =
      R"({"keys":[{"kty":"EC","crv":"P-256","kid":"es256","alg":"ES256",)"
      R"("use":"sig","x":"NaW2VnDblEgJueBBTTCdR6m5K-sq1nimrWOT-7ur2dc",)"
      R"("y":"f_QODIwPoRaTzvq60wlKoc8iRlKLx6tq1XPz1JNYh70"}]})";

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/jwks";
  }
  std::vector<Seen> requests() {
    MutexLock lock(mu_);
    return requests_;
  }

 private:
  ::httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  Mutex mu_;
  std::vector<Seen> requests_ ABSL_GUARDED_BY(mu_);
};

TEST(OtlpHttpTransportTest, SendsGetWithoutBodyOrContentType) {
  JwksServer server;
  auto transport = OtlpHttpTransport::Create().value();
  trace::ExportRequest request;
  request.method = "GET";
  request.url = server.url();
  request.headers.emplace_back("Accept", "application/jwk-set+json");
  request.timeout = seconds(5);
  absl::StatusOr<trace::ExportResponse> response = transport->Post(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status_code, 200);
  EXPECT_EQ(response->body, JwksServer::kJwks);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].method, "GET");
  EXPECT_EQ(server.requests()[0].body, "");
  EXPECT_EQ(server.requests()[0].content_type, "");
  EXPECT_EQ(server.requests()[0].accept, "application/jwk-set+json");

  // The default method is still POST, which this endpoint does not serve.
  request.method = trace::ExportRequest().method;
  EXPECT_EQ(request.method, "POST");
  response = transport->Post(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status_code, 404);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(OtlpHttpTransportTest, RefusesOtherMethodsAndGetWithBody) {
  JwksServer server;
  auto transport = OtlpHttpTransport::Create().value();
  trace::ExportRequest request;
  request.url = server.url();
  request.timeout = seconds(1);
  request.method = "PUT";
  EXPECT_EQ(transport->Post(request).status().code(),
            absl::StatusCode::kInvalidArgument);
  request.method = "get";  // methods are case-sensitive (RFC 9110 9.1)
  EXPECT_EQ(transport->Post(request).status().code(),
            absl::StatusCode::kInvalidArgument);
  request.method = "GET";
  request.body = "x";
  EXPECT_EQ(transport->Post(request).status().code(),
            absl::StatusCode::kInvalidArgument);
  request.body.clear();
  request.content_type = "application/json";
  EXPECT_EQ(transport->Post(request).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(server.requests().empty());
}

TEST(OtlpHttpTransportTest, JwksFetcherUsesGet) {
  JwksServer server;
  security::HttpJwksFetcherOptions options;
  options.url = server.url();
  options.allow_insecure_http = true;
  options.transport = OtlpHttpTransport::Create().value();
  options.headers.emplace_back("X-Api-Key", "k1");
  auto fetcher = security::HttpJwksFetcher::Create(std::move(options));
  ASSERT_TRUE(fetcher.ok()) << fetcher.status();
  absl::StatusOr<std::string> body = (*fetcher)->Fetch();
  ASSERT_TRUE(body.ok()) << body.status();
  absl::StatusOr<security::JwkSet> set = security::ParseJwks(*body);
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ(set->keys.size(), 1u);
  EXPECT_EQ(set->keys[0].kid(), "es256");
  const std::vector<JwksServer::Seen> requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const JwksServer::Seen& seen = requests[0];
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.body, "");
  EXPECT_EQ(seen.content_type, "");
  EXPECT_EQ(seen.accept, "application/jwk-set+json, application/json");
  EXPECT_EQ(seen.api_key, "k1");
}

TEST(OtlpHttpTransportTest, RejectsNonHttpUrl) {
  auto transport = OtlpHttpTransport::Create().value();
  trace::ExportRequest request;
  request.url = "ftp://example/v1/traces";
  request.timeout = seconds(1);
  EXPECT_EQ(transport->Post(request).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(OtlpHttpTransportTest, ParsesRetryAfter) {
  const auto now = seconds(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(OtlpHttpTransport::ParseRetryAfter("120", now), seconds(120));
  EXPECT_EQ(
      OtlpHttpTransport::ParseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now),
      seconds(30));
  EXPECT_EQ(
      OtlpHttpTransport::ParseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", now),
      seconds(0));
  EXPECT_FALSE(OtlpHttpTransport::ParseRetryAfter("soon", now));
  EXPECT_FALSE(OtlpHttpTransport::ParseRetryAfter("-5", now));
  EXPECT_FALSE(OtlpHttpTransport::ParseRetryAfter("", now));
}

}  // namespace
}  // namespace keel::httplib
