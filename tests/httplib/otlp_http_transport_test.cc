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
