#include "keel/trace/otlp_exporter.h"

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "otlp_test_spans.h"

namespace keel::trace {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// Replies from a script; records requests.
class ScriptedTransport final : public ExportTransport {
 public:
  std::deque<absl::StatusOr<ExportResponse>> replies;
  std::vector<ExportRequest> requests;

  absl::StatusOr<ExportResponse> Post(const ExportRequest& request) override {
    requests.push_back(request);
    if (replies.empty()) return ExportResponse{200, std::nullopt, ""};
    auto reply = replies.front();
    replies.pop_front();
    return reply;
  }
};

ExportResponse Http(int code, std::optional<nanoseconds> retry_after = {}) {
  return ExportResponse{code, retry_after, "body"};
}

class OtlpExporterTest : public ::testing::Test {
 protected:
  OtlpExporterOptions Options() {
    OtlpExporterOptions options;
    options.endpoint = "http://collector:4318/v1/traces";
    options.transport = transport_;
    options.resource = TestResource();
    options.initial_backoff = seconds(1);
    options.max_backoff = seconds(4);
    options.max_retry_after = seconds(10);
    options.sleep = [this](nanoseconds d) { sleeps_.push_back(d); };
    return options;
  }

  std::shared_ptr<ScriptedTransport> transport_ =
      std::make_shared<ScriptedTransport>();
  std::vector<nanoseconds> sleeps_;
};

TEST_F(OtlpExporterTest, CreateValidatesOptions) {
  auto check = [](OtlpExporterOptions options, const char* field) {
    auto result = OtlpExporter::Create(std::move(options));
    ASSERT_FALSE(result.ok());
    EXPECT_NE(result.status().message().find(field), std::string::npos)
        << result.status();
  };
  auto o1 = Options();
  o1.transport = nullptr;
  check(std::move(o1), "transport");
  auto o2 = Options();
  o2.endpoint = "";
  check(std::move(o2), "endpoint");
  auto o3 = Options();
  o3.max_attempts = 0;
  check(std::move(o3), "max_attempts");
  auto o4 = Options();
  o4.max_backoff = milliseconds(1);
  check(std::move(o4), "max_backoff");
  auto o5 = Options();
  o5.timeout = nanoseconds(0);
  check(std::move(o5), "timeout");
}

TEST_F(OtlpExporterTest, SendsProtobufRequest) {
  auto exporter = OtlpExporter::Create(Options()).value();
  ASSERT_TRUE(exporter->Export(TestBatch()).ok());
  ASSERT_EQ(transport_->requests.size(), 1u);
  const ExportRequest& request = transport_->requests[0];
  EXPECT_EQ(request.url, "http://collector:4318/v1/traces");
  EXPECT_EQ(request.content_type, "application/x-protobuf");
  EXPECT_EQ(request.body, EncodeOtlpProtobuf(TestResource(), TestBatch()));
  EXPECT_EQ(request.timeout, seconds(10));
}

TEST_F(OtlpExporterTest, JsonEncodingOption) {
  auto options = Options();
  options.encoding = OtlpEncoding::kJson;
  auto exporter = OtlpExporter::Create(std::move(options)).value();
  ASSERT_TRUE(exporter->Export(TestBatch()).ok());
  EXPECT_EQ(transport_->requests[0].content_type, "application/json");
  EXPECT_EQ(transport_->requests[0].body.front(), '{');
}

TEST_F(OtlpExporterTest, EmptyBatchSendsNothing) {
  auto exporter = OtlpExporter::Create(Options()).value();
  ASSERT_TRUE(exporter->Export(SpanBatch()).ok());
  EXPECT_TRUE(transport_->requests.empty());
}

TEST_F(OtlpExporterTest, RetryAfterIsHonouredAndCapped) {
  transport_->replies = {Http(503, seconds(3)), Http(429, seconds(60)),
                         Http(200)};
  auto exporter = OtlpExporter::Create(Options()).value();
  ASSERT_TRUE(exporter->Export(TestBatch()).ok());
  EXPECT_EQ(sleeps_, (std::vector<nanoseconds>{seconds(3), seconds(10)}));
}

TEST_F(OtlpExporterTest, ExponentialBackoffWithJitterIsBounded) {
  transport_->replies = {Http(502), Http(504), Http(503), Http(503), Http(503)};
  auto exporter = OtlpExporter::Create(Options()).value();
  const absl::Status status = exporter->Export(TestBatch());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("5 attempts"), std::string::npos) << status;
  ASSERT_EQ(sleeps_.size(), 4u);
  const nanoseconds expected_max[] = {seconds(1), seconds(2), seconds(4),
                                      seconds(4)};
  for (std::size_t i = 0; i < sleeps_.size(); ++i) {
    EXPECT_LE(sleeps_[i], expected_max[i]) << i;
    EXPECT_GE(sleeps_[i], expected_max[i] / 2) << i;
  }
}

TEST_F(OtlpExporterTest, TransportErrorsAreRetried) {
  transport_->replies = {absl::UnavailableError("refused"),
                         absl::DeadlineExceededError("timeout"), Http(200)};
  auto exporter = OtlpExporter::Create(Options()).value();
  ASSERT_TRUE(exporter->Export(TestBatch()).ok());
  EXPECT_EQ(transport_->requests.size(), 3u);
  EXPECT_EQ(exporter->retries(), 2u);
}

TEST_F(OtlpExporterTest, NonRetryableFailuresReturnAtOnce) {
  transport_->replies = {Http(400)};
  auto exporter = OtlpExporter::Create(Options()).value();
  EXPECT_EQ(exporter->Export(TestBatch()).code(),
            absl::StatusCode::kInvalidArgument);
  transport_->replies = {Http(500)};
  EXPECT_EQ(exporter->Export(TestBatch()).code(), absl::StatusCode::kInternal);
  transport_->replies = {absl::InvalidArgumentError("bad url")};
  EXPECT_EQ(exporter->Export(TestBatch()).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(sleeps_.empty());
}

}  // namespace
}  // namespace keel::trace
