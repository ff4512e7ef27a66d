#include "keel/security/request_limits.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/metrics/exposition.h"
#include "keel/metrics/registry.h"
#include "keel/security/http_fields.h"
#include "testing/prometheus_text.h"

namespace keel {
namespace security {
namespace {

using ::testing::HasSubstr;

LimitVerdict Check(const RequestLimits& limits, std::string_view method,
                   std::string_view target, std::vector<FieldView> fields = {},
                   std::optional<std::uint64_t> body = std::nullopt) {
  RequestView request;
  request.method = method;
  request.target = target;
  request.fields = fields.data();
  request.field_count = fields.size();
  request.body_length = body;
  return limits.Check(request);
}

std::unique_ptr<RequestLimits> Small() {
  RequestLimitsOptions options;
  options.allowed_methods = {"GET", "POST", "OPTIONS"};
  options.max_target_length = 32;
  options.max_header_count = 3;
  options.max_header_bytes = 20;
  options.max_total_header_bytes = 40;
  options.max_body_bytes = 100;
  return RequestLimits::Create(options).value();
}

TEST(RequestLimitsTest, AcceptsOrdinaryRequests) {
  auto limits = Small();
  EXPECT_TRUE(Check(*limits, "GET", "/a/b?x=1%20y").ok());
  EXPECT_TRUE(Check(*limits, "POST", "/", {{"Host", "a.com"}}, 100).ok());
  EXPECT_TRUE(Check(*limits, "OPTIONS", "*").ok());
  EXPECT_TRUE(Check(*limits, "GET", "http://a.com/x").ok());
  EXPECT_TRUE(Check(*limits, "GET", "http://a.com").ok());
  EXPECT_TRUE(Check(*limits, "GET", "/a/../b").ok());
  EXPECT_TRUE(Check(*limits, "GET", "/a/./b/").ok());
  EXPECT_TRUE(Check(*limits, "GET", "/...").ok());
  EXPECT_TRUE(Check(*limits, "GET", "/x?../../etc").ok());
  EXPECT_TRUE(Check(*limits, "GET", "/", {{"X-Tab", "a\tb"}}).ok());
}

struct Case {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> fields;
  std::optional<std::uint64_t> body;
  LimitReason reason;
  int status;
};

TEST(RequestLimitsTest, EveryRejection) {
  auto limits = Small();
  const std::vector<Case> cases = {
      {"PUT", "/", {}, {}, LimitReason::kMethodNotAllowed, 405},
      {"get", "/", {}, {}, LimitReason::kMethodNotAllowed, 405},
      {"GET",
       "/" + std::string(32, 'a'),
       {},
       {},
       LimitReason::kUriTooLong,
       414},
      {"GET",
       "/",
       {{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}},
       {},
       LimitReason::kTooManyHeaders,
       431},
      {"GET",
       "/",
       {{"a", std::string(20, 'x')}},
       {},
       LimitReason::kHeaderTooLarge,
       431},
      {"GET",
       "/",
       {{"a", std::string(15, 'x')},
        {"b", std::string(15, 'x')},
        {"c", std::string(15, 'x')}},
       {},
       LimitReason::kHeadersTooLarge,
       431},
      {"POST", "/", {}, 101, LimitReason::kBodyTooLarge, 413},
      {"GET",
       "/",
       {{"Bad Name", "x"}},
       {},
       LimitReason::kInvalidHeaderName,
       400},
      {"GET", "/", {{"", "x"}}, {}, LimitReason::kInvalidHeaderName, 400},
      {"GET",
       "/",
       {{"X", std::string("a\0b", 3)}},
       {},
       LimitReason::kInvalidHeaderValue,
       400},
      {"GET", "/", {{"X", "a\rb"}}, {}, LimitReason::kInvalidHeaderValue, 400},
      {"GET", "/", {{"X", "a\nb"}}, {}, LimitReason::kInvalidHeaderValue, 400},
      {"GET", "", {}, {}, LimitReason::kInvalidTarget, 400},
      {"GET", "*", {}, {}, LimitReason::kInvalidTarget, 400},
      {"GET", "a/b", {}, {}, LimitReason::kInvalidTarget, 400},
      {"GET", "/a b", {}, {}, LimitReason::kInvalidTarget, 400},
      {"GET", "/a#f", {}, {}, LimitReason::kInvalidTarget, 400},
      {"GET", "/a%00", {}, {}, LimitReason::kInvalidTarget, 400},
      {"GET", "/caf\xc3\xa9", {}, {}, LimitReason::kInvalidTarget, 400},
      {"GET", "http:///x", {}, {}, LimitReason::kInvalidTarget, 400},
      {"GET", "/a%", {}, {}, LimitReason::kMalformedPercentEncoding, 400},
      {"GET", "/a%4", {}, {}, LimitReason::kMalformedPercentEncoding, 400},
      {"GET", "/a%zz", {}, {}, LimitReason::kMalformedPercentEncoding, 400},
      {"GET", "/?q=%g0", {}, {}, LimitReason::kMalformedPercentEncoding, 400},
      {"GET", "/..", {}, {}, LimitReason::kPathTraversal, 400},
      {"GET", "/../etc/passwd", {}, {}, LimitReason::kPathTraversal, 400},
      {"GET", "/a/../../b", {}, {}, LimitReason::kPathTraversal, 400},
      {"GET", "/%2e%2e/etc", {}, {}, LimitReason::kPathTraversal, 400},
      {"GET", "/%2E./etc", {}, {}, LimitReason::kPathTraversal, 400},
      {"GET", "/a/..%2f..%2fb", {}, {}, LimitReason::kPathTraversal, 400},
      {"GET", "/a\\..\\..\\b", {}, {}, LimitReason::kPathTraversal, 400},
      {"GET", "/a/%5c..%5c..", {}, {}, LimitReason::kPathTraversal, 400},
      {"GET", "/..?x", {}, {}, LimitReason::kPathTraversal, 400},
      {"GET", "http://a.com/../x", {}, {}, LimitReason::kPathTraversal, 400},
  };
  for (const Case& c : cases) {
    std::vector<FieldView> fields;
    for (const auto& [n, v] : c.fields) fields.push_back({n, v});
    const LimitVerdict v = Check(*limits, c.method, c.target, fields, c.body);
    EXPECT_EQ(v.reason, c.reason)
        << c.method << " " << c.target << ": got " << LimitReasonName(v.reason);
    EXPECT_EQ(v.status, c.status) << c.target;
    EXPECT_EQ(LimitReasonStatus(c.reason), c.status);
  }
}

TEST(RequestLimitsTest, StreamedBody) {
  auto limits = Small();
  EXPECT_TRUE(limits->CheckBodyLength(100).ok());
  EXPECT_EQ(limits->CheckBodyLength(101).status, 413);
}

TEST(RequestLimitsTest, AllowValue) {
  EXPECT_EQ(Small()->allow_value(), "GET, POST, OPTIONS");
}

TEST(RequestLimitsTest, CreateValidates) {
  RequestLimitsOptions options;
  options.allowed_methods = {};
  EXPECT_THAT(std::string(RequestLimits::Create(options).status().message()),
              HasSubstr("allowed_methods"));
  options.allowed_methods = {"GET", "BAD METHOD"};
  EXPECT_THAT(std::string(RequestLimits::Create(options).status().message()),
              HasSubstr("BAD METHOD"));
  options = RequestLimitsOptions();
  options.max_header_count = 0;
  EXPECT_THAT(std::string(RequestLimits::Create(options).status().message()),
              HasSubstr("max_header_count"));
}

TEST(RequestLimitsTest, CountsRejectionsByReason) {
  metrics::Registry registry;
  RequestLimitsOptions options;
  options.metrics = &registry;
  auto limits = RequestLimits::Create(options).value();
  Check(*limits, "TRACE", "/");
  Check(*limits, "GET", "/../x");
  Check(*limits, "GET", "/../y");
  Check(*limits, "GET", "/ok");
  std::string text = testing::PrometheusText(registry);
  EXPECT_THAT(text, HasSubstr("keel_request_limits_rejections_total{reason="
                              "\"path_traversal\"} 2"));
  EXPECT_THAT(text, HasSubstr("keel_request_limits_rejections_total{reason="
                              "\"method_not_allowed\"} 1"));
}

}  // namespace
}  // namespace security
}  // namespace keel
