#include "keel/security/cors.h"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/security/http_fields.h"

namespace keel {
namespace security {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using Fields = std::vector<std::pair<std::string, std::string>>;

struct Answer {
  CorsResult result;
  Fields headers;
};

Answer HandleRequest(const Cors& cors, std::string_view method,
                     std::vector<FieldView> fields) {
  RequestView request;
  request.method = method;
  request.target = "/";
  request.fields = fields.data();
  request.field_count = fields.size();
  Answer answer;
  FieldVectorSink sink(&answer.headers);
  answer.result = cors.Handle(request, &sink);
  return answer;
}

CorsOptions Credentialed() {
  CorsOptions options;
  options.allowed_origins = {"https://app.example.com",
                             "http://localhost:8080"};
  options.allowed_origin_patterns = {"https://*.preview.example.com"};
  options.allowed_methods = {"GET", "POST", "DELETE"};
  options.allowed_headers = {"Content-Type", "Authorization"};
  options.exposed_headers = {"X-Request-Id"};
  options.allow_credentials = true;
  options.max_age = std::chrono::minutes(10);
  return options;
}

std::string CreateError(CorsOptions options) {
  auto cors = Cors::Create(std::move(options));
  if (cors.ok()) return "ok";
  EXPECT_EQ(cors.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(cors.status().message());
}

TEST(CorsTest, ActualRequestFromAllowedOrigin) {
  auto cors = Cors::Create(Credentialed()).value();
  Answer a =
      HandleRequest(*cors, "GET", {{"Origin", "https://app.example.com"}});
  EXPECT_EQ(a.result.outcome, CorsOutcome::kAllowed);
  EXPECT_THAT(
      a.headers,
      ElementsAre(
          Pair("Vary", "Origin"),
          Pair("Access-Control-Allow-Origin", "https://app.example.com"),
          Pair("Access-Control-Allow-Credentials", "true"),
          Pair("Access-Control-Expose-Headers", "X-Request-Id")));
}

TEST(CorsTest, DisallowedOriginGetsOnlyVary) {
  auto cors = Cors::Create(Credentialed()).value();
  for (const char* origin :
       {"https://evil.com", "https://app.example.com.evil.com",
        "http://app.example.com", "https://app.example.com:444", "null",
        "https://preview.example.com", "https://a.preview.example.com.evil",
        "https://x..preview.example.com"}) {
    Answer a = HandleRequest(*cors, "GET", {{"Origin", origin}});
    EXPECT_EQ(a.result.outcome, CorsOutcome::kOriginNotAllowed) << origin;
    EXPECT_THAT(a.headers, ElementsAre(Pair("Vary", "Origin"))) << origin;
  }
}

TEST(CorsTest, PatternMatchesSubdomains) {
  auto cors = Cors::Create(Credentialed()).value();
  EXPECT_TRUE(cors->IsOriginAllowed("https://pr-12.preview.example.com"));
  EXPECT_TRUE(cors->IsOriginAllowed("https://a.b.preview.example.com"));
  EXPECT_FALSE(cors->IsOriginAllowed("http://pr-12.preview.example.com"));
  EXPECT_FALSE(cors->IsOriginAllowed("https://pr-12.preview.example.com:8443"));
}

TEST(CorsTest, NoOriginStillVaries) {
  auto cors = Cors::Create(Credentialed()).value();
  Answer a = HandleRequest(*cors, "GET", {});
  EXPECT_EQ(a.result.outcome, CorsOutcome::kNotCors);
  EXPECT_THAT(a.headers, ElementsAre(Pair("Vary", "Origin")));
}

TEST(CorsTest, Preflight) {
  auto cors = Cors::Create(Credentialed()).value();
  Answer a = HandleRequest(
      *cors, "OPTIONS",
      {{"Origin", "https://app.example.com"},
       {"Access-Control-Request-Method", "DELETE"},
       {"Access-Control-Request-Headers", "content-type, authorization"}});
  EXPECT_EQ(a.result.outcome, CorsOutcome::kPreflight);
  EXPECT_EQ(a.result.status, 204);
  EXPECT_THAT(
      a.headers,
      ElementsAre(
          Pair("Vary",
               "Origin, Access-Control-Request-Method, "
               "Access-Control-Request-Headers"),
          Pair("Access-Control-Allow-Origin", "https://app.example.com"),
          Pair("Access-Control-Allow-Credentials", "true"),
          Pair("Access-Control-Allow-Methods", "GET, POST, DELETE"),
          Pair("Access-Control-Allow-Headers", "content-type, authorization"),
          Pair("Access-Control-Max-Age", "600")));
}

TEST(CorsTest, PreflightRejections) {
  auto cors = Cors::Create(Credentialed()).value();
  const std::vector<std::vector<FieldView>> cases = {
      {{"Origin", "https://evil.com"},
       {"Access-Control-Request-Method", "GET"}},
      {{"Origin", "https://app.example.com"},
       {"Access-Control-Request-Method", "PUT"}},
      {{"Origin", "https://app.example.com"},
       {"Access-Control-Request-Method", "get"}},
      {{"Origin", "https://app.example.com"},
       {"Access-Control-Request-Method", "POST"},
       {"Access-Control-Request-Headers", "Content-Type, X-Evil"}},
  };
  for (const auto& fields : cases) {
    Answer a = HandleRequest(*cors, "OPTIONS", fields);
    EXPECT_EQ(a.result.outcome, CorsOutcome::kRejectedPreflight);
    EXPECT_EQ(a.result.status, 403);
    ASSERT_EQ(a.headers.size(), 1u);
    EXPECT_EQ(a.headers[0].first, "Vary");
  }
  // OPTIONS without Access-Control-Request-Method is an actual request.
  Answer a =
      HandleRequest(*cors, "OPTIONS", {{"Origin", "https://app.example.com"}});
  EXPECT_EQ(a.result.outcome, CorsOutcome::kAllowed);
}

TEST(CorsTest, AnyOriginWithoutCredentials) {
  CorsOptions options;
  options.allow_any_origin = true;
  auto cors = Cors::Create(options).value();
  Answer a =
      HandleRequest(*cors, "GET", {{"Origin", "https://anyone.example"}});
  EXPECT_EQ(a.result.outcome, CorsOutcome::kAllowed);
  EXPECT_THAT(a.headers, ElementsAre(Pair("Access-Control-Allow-Origin", "*")));
  EXPECT_THAT(HandleRequest(*cors, "GET", {}).headers, IsEmpty());
}

TEST(CorsTest, RefusesUnsafeConfigurations) {
  CorsOptions options = Credentialed();
  options.allow_any_origin = true;
  EXPECT_THAT(CreateError(options), HasSubstr("allow_credentials"));
  options = Credentialed();
  options.allowed_origins = {"*"};
  EXPECT_THAT(CreateError(options), HasSubstr("allow_any_origin"));
  options.allowed_origins = {"null"};
  EXPECT_THAT(CreateError(options), HasSubstr("sandboxed"));
  for (const char* bad :
       {"https://App.example.com", "https://a.com/", "https://a.com/path",
        "a.com", "https://", "https://a.com:", "https://a.com:99999x"}) {
    options.allowed_origins = {bad};
    EXPECT_THAT(CreateError(options), HasSubstr("allowed_origins")) << bad;
  }
  options = Credentialed();
  for (const char* bad : {"https://*", "https://*.com", "https://*.*.a.com",
                          "https://a*.example.com", "*://*.example.com",
                          "https://x.*.example.com"}) {
    options.allowed_origin_patterns = {bad};
    EXPECT_THAT(CreateError(options), HasSubstr("allowed_origin_patterns"))
        << bad;
  }
  options = Credentialed();
  options.allowed_headers = {"*"};
  EXPECT_THAT(CreateError(options), HasSubstr("allowed_headers"));
  options = Credentialed();
  options.allowed_methods = {"GET POST"};
  EXPECT_THAT(CreateError(options), HasSubstr("allowed_methods"));
  options = Credentialed();
  options.exposed_headers = {"X:Y"};
  EXPECT_THAT(CreateError(options), HasSubstr("exposed_headers"));
  EXPECT_THAT(CreateError(CorsOptions()), HasSubstr("no allowed_origins"));
}

}  // namespace
}  // namespace security
}  // namespace keel
