#include "keel/security/security_headers.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/security/csp.h"
#include "keel/security/http_fields.h"

namespace keel {
namespace security {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using Fields = std::vector<std::pair<std::string, std::string>>;

Fields ApplyTo(const SecurityHeaders& headers, bool https, Fields response) {
  FieldVectorSink sink(&response);
  headers.Apply(https, &sink);
  return response;
}

std::string CreateError(SecurityHeadersOptions options) {
  auto headers = SecurityHeaders::Create(std::move(options));
  if (headers.ok()) return "ok";
  EXPECT_EQ(headers.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(headers.status().message());
}

TEST(SecurityHeadersTest, HelmetPresetMatchesHelmet8Exactly) {
  auto headers = SecurityHeaders::Create(SecurityHeadersOptions::Helmet());
  ASSERT_TRUE(headers.ok()) << headers.status();
  const Fields out =
      ApplyTo(**headers, true,
              {{"Content-Type", "text/html"}, {"X-Powered-By", "Express"}});
  EXPECT_THAT(
      out, ElementsAre(
               Pair("Content-Type", "text/html"),
               Pair("Content-Security-Policy",
                    "default-src 'self';base-uri 'self';font-src 'self' https: "
                    "data:;form-action 'self';frame-ancestors 'self';img-src "
                    "'self' data:;object-src 'none';script-src "
                    "'self';script-src-attr 'none';style-src 'self' https: "
                    "'unsafe-inline';upgrade-insecure-requests"),
               Pair("Cross-Origin-Opener-Policy", "same-origin"),
               Pair("Cross-Origin-Resource-Policy", "same-origin"),
               Pair("Origin-Agent-Cluster", "?1"),
               Pair("Referrer-Policy", "no-referrer"),
               Pair("Strict-Transport-Security",
                    "max-age=31536000; includeSubDomains"),
               Pair("X-Content-Type-Options", "nosniff"),
               Pair("X-DNS-Prefetch-Control", "off"),
               Pair("X-Download-Options", "noopen"),
               Pair("X-Frame-Options", "SAMEORIGIN"),
               Pair("X-Permitted-Cross-Domain-Policies", "none"),
               Pair("X-XSS-Protection", "0")));
}

TEST(SecurityHeadersTest, StrictApiPreset) {
  auto headers = SecurityHeaders::Create(SecurityHeadersOptions::StrictApi());
  ASSERT_TRUE(headers.ok()) << headers.status();
  const Fields out = ApplyTo(**headers, true,
                             {{"Server", "nginx/1.25"},
                              {"X-AspNet-Version", "4.0"},
                              {"Content-Type", "application/json"}});
  EXPECT_THAT(out,
              ElementsAre(Pair("Content-Type", "application/json"),
                          Pair("Content-Security-Policy",
                               "default-src 'none'; frame-ancestors 'none'"),
                          Pair("Cache-Control", "no-store"),
                          Pair("Cross-Origin-Opener-Policy", "same-origin"),
                          Pair("Cross-Origin-Resource-Policy", "same-origin"),
                          Pair("Referrer-Policy", "no-referrer"),
                          Pair("Strict-Transport-Security",
                               "max-age=31536000; includeSubDomains"),
                          Pair("X-Content-Type-Options", "nosniff"),
                          Pair("X-Frame-Options", "DENY")));
}

TEST(SecurityHeadersTest, OwaspPreset) {
  auto headers = SecurityHeaders::Create(SecurityHeadersOptions::Owasp());
  ASSERT_TRUE(headers.ok()) << headers.status();
  const Fields out = ApplyTo(**headers, true, {{"x-powered-by", "PHP/8"}});
  ASSERT_EQ(out.size(), 11u);
  EXPECT_THAT(
      out,
      ElementsAre(
          Pair("Content-Security-Policy",
               "default-src 'self'; form-action 'self'; object-src 'none'; "
               "frame-ancestors 'none'; upgrade-insecure-requests; "
               "block-all-mixed-content"),
          Pair("Cache-Control", "no-store, max-age=0"),
          Pair("Cross-Origin-Embedder-Policy", "require-corp"),
          Pair("Cross-Origin-Opener-Policy", "same-origin"),
          Pair("Cross-Origin-Resource-Policy", "same-origin"),
          Pair("Permissions-Policy",
               "accelerometer=(), autoplay=(), camera=(), "
               "cross-origin-isolated=(), display-capture=(), "
               "encrypted-media=(), fullscreen=(), geolocation=(), "
               "gyroscope=(), keyboard-map=(), magnetometer=(), "
               "microphone=(), midi=(), payment=(), picture-in-picture=(), "
               "publickey-credentials-get=(), screen-wake-lock=(), "
               "sync-xhr=(self), usb=(), web-share=(), "
               "xr-spatial-tracking=(), clipboard-read=(), "
               "clipboard-write=(), gamepad=(), hid=(), idle-detection=(), "
               "interest-cohort=(), serial=(), unload=()"),
          Pair("Referrer-Policy", "no-referrer"),
          Pair("Strict-Transport-Security",
               "max-age=31536000; includeSubDomains"),
          Pair("X-Content-Type-Options", "nosniff"),
          Pair("X-Frame-Options", "DENY"),
          Pair("X-Permitted-Cross-Domain-Policies", "none")));
  EXPECT_EQ(OwaspStripList().size(), 68u);
}

TEST(SecurityHeadersTest, PrecomputedBlockBytes) {
  auto headers = SecurityHeaders::Create(SecurityHeadersOptions::StrictApi());
  ASSERT_TRUE(headers.ok());
  EXPECT_EQ((*headers)->Block(true),
            "Content-Security-Policy: default-src 'none'; frame-ancestors "
            "'none'\r\n"
            "Cache-Control: no-store\r\n"
            "Cross-Origin-Opener-Policy: same-origin\r\n"
            "Cross-Origin-Resource-Policy: same-origin\r\n"
            "Referrer-Policy: no-referrer\r\n"
            "Strict-Transport-Security: max-age=31536000; "
            "includeSubDomains\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "X-Frame-Options: DENY\r\n");
  EXPECT_EQ((*headers)->Block(false),
            "Content-Security-Policy: default-src 'none'; frame-ancestors "
            "'none'\r\n"
            "Cache-Control: no-store\r\n"
            "Cross-Origin-Opener-Policy: same-origin\r\n"
            "Cross-Origin-Resource-Policy: same-origin\r\n"
            "Referrer-Policy: no-referrer\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "X-Frame-Options: DENY\r\n");
}

TEST(SecurityHeadersTest, HstsOnlyOverHttps) {
  auto headers = SecurityHeaders::Create(SecurityHeadersOptions::Helmet());
  ASSERT_TRUE(headers.ok());
  // A handler's own HSTS is removed from plain-HTTP answers too.
  const Fields out =
      ApplyTo(**headers, false, {{"strict-transport-security", "max-age=1"}});
  for (const auto& field : out) {
    EXPECT_FALSE(EqualsIgnoreCase(field.first, "Strict-Transport-Security"));
  }
  EXPECT_EQ(out.size(), 11u);
}

TEST(SecurityHeadersTest, ExactlyOneInstanceOfEachHeader) {
  auto headers = SecurityHeaders::Create(SecurityHeadersOptions::Helmet());
  ASSERT_TRUE(headers.ok());
  const Fields out = ApplyTo(**headers, true,
                             {{"x-frame-options", "ALLOWALL"},
                              {"X-Frame-Options", "DENY"},
                              {"Referrer-Policy", "unsafe-url"}});
  int frame = 0;
  for (const auto& [name, value] : out) {
    if (EqualsIgnoreCase(name, "X-Frame-Options")) {
      ++frame;
      EXPECT_EQ(value, "SAMEORIGIN");
    }
    if (name == "Referrer-Policy") {
      EXPECT_EQ(value, "no-referrer");
    }
  }
  EXPECT_EQ(frame, 1);
  // Applying twice changes nothing.
  EXPECT_EQ(ApplyTo(**headers, true, out), out);
}

TEST(SecurityHeadersTest, HeadersAreConfigurableAndRemovable) {
  auto options = SecurityHeadersOptions::Helmet();
  options.SetHeader("x-frame-options", "DENY");
  options.SetHeader("Permissions-Policy", "geolocation=()");
  options.RemoveHeader("X-XSS-Protection");
  options.RemoveHeader("Content-Security-Policy");
  options.hsts->preload = true;
  auto headers = SecurityHeaders::Create(options);
  ASSERT_TRUE(headers.ok()) << headers.status();
  const Fields out = ApplyTo(**headers, true, {});
  Fields expected_subset = {{"X-Frame-Options", "DENY"},
                            {"Permissions-Policy", "geolocation=()"},
                            {"Strict-Transport-Security",
                             "max-age=31536000; includeSubDomains; preload"}};
  for (const auto& field : expected_subset) {
    EXPECT_THAT(out, ::testing::Contains(field));
  }
  for (const auto& field : out) {
    EXPECT_NE(field.first, "X-XSS-Protection");
    EXPECT_NE(field.first, "Content-Security-Policy");
  }
  options.RemoveHeader("Strict-Transport-Security");
  headers = SecurityHeaders::Create(options);
  ASSERT_TRUE(headers.ok());
  EXPECT_EQ((*headers)->Block(true), (*headers)->Block(false));
}

TEST(SecurityHeadersTest, ValidatesHsts) {
  auto options = SecurityHeadersOptions::Helmet();
  options.hsts->max_age = std::chrono::hours(24 * 179);
  EXPECT_THAT(CreateError(options), HasSubstr("at least 180 days"));
  options.hsts->max_age = std::chrono::hours(24 * 180);
  EXPECT_EQ(CreateError(options), "ok");
  options.hsts->preload = true;
  EXPECT_THAT(CreateError(options), HasSubstr("preload"));
  options.hsts->max_age = std::chrono::hours(24 * 365);
  options.hsts->include_subdomains = false;
  EXPECT_THAT(CreateError(options), HasSubstr("preload"));
}

TEST(SecurityHeadersTest, RejectsCrLfAndControlCharacters) {
  for (const std::string& bad : std::vector<std::string>{
           "a\r\nSet-Cookie: x=1", "a\nb", std::string("a\0", 2), "a\x7f"}) {
    auto options = SecurityHeadersOptions::StrictApi();
    options.SetHeader("Permissions-Policy", bad);
    EXPECT_THAT(CreateError(options), HasSubstr("control character"));
  }
  auto options = SecurityHeadersOptions::StrictApi();
  options.SetHeader("Bad Name", "x");
  EXPECT_THAT(CreateError(options), HasSubstr("not an HTTP token"));
  options = SecurityHeadersOptions::StrictApi();
  options.SetHeader("X-Custom", " padded");
  EXPECT_THAT(CreateError(options), HasSubstr("whitespace"));
}

TEST(SecurityHeadersTest, ValidatesReferrerPolicyTokens) {
  auto options = SecurityHeadersOptions::Helmet();
  options.SetHeader("Referrer-Policy",
                    "no-referrer, strict-origin-when-cross-origin");
  EXPECT_EQ(CreateError(options), "ok");
  options.SetHeader("Referrer-Policy", "no-referer");
  EXPECT_THAT(CreateError(options), HasSubstr("not a referrer policy"));
  options.SetHeader("Referrer-Policy", "same-origin,");
  EXPECT_THAT(CreateError(options), HasSubstr("not a referrer policy"));
}

TEST(SecurityHeadersTest, ValidatesKnownHeaderValues) {
  const std::pair<const char*, const char*> bad[] = {
      {"X-Frame-Options", "ALLOW-FROM https://a.com"},
      {"X-Content-Type-Options", "sniff"},
      {"Cross-Origin-Opener-Policy", "same-site"},
      {"Cross-Origin-Embedder-Policy", "require-cors"},
      {"Cross-Origin-Resource-Policy", "same"},
      {"X-Permitted-Cross-Domain-Policies", "any"},
      {"X-XSS-Protection", "1; mode=block"},
  };
  for (const auto& [name, value] : bad) {
    auto options = SecurityHeadersOptions::Helmet();
    options.SetHeader(name, value);
    EXPECT_THAT(CreateError(options), HasSubstr("is not one of")) << name;
  }
}

TEST(SecurityHeadersTest, RejectsDuplicatesTypedHeadersAndStripConflicts) {
  auto options = SecurityHeadersOptions::StrictApi();
  options.headers.emplace_back("x-frame-options", "DENY");
  EXPECT_THAT(CreateError(options), HasSubstr("more than once"));

  options = SecurityHeadersOptions::StrictApi();
  options.headers.emplace_back("Content-Security-Policy", "default-src *");
  EXPECT_THAT(CreateError(options), HasSubstr("typed option"));

  options = SecurityHeadersOptions::StrictApi();
  options.strip.push_back("x-frame-options");
  EXPECT_THAT(CreateError(options), HasSubstr("also configured"));

  options = SecurityHeadersOptions::StrictApi();
  options.strip.push_back("Strict-Transport-Security");
  EXPECT_THAT(CreateError(options), HasSubstr("also configured"));

  options = SecurityHeadersOptions::StrictApi();
  options.strip.push_back("Server\r\nX-Evil");
  EXPECT_THAT(CreateError(options), HasSubstr("not a header name"));
}

TEST(SecurityHeadersTest, ReportOnlyAndReportingEndpoints) {
  auto options = SecurityHeadersOptions::StrictApi();
  options.content_security_policy_report_only =
      ContentSecurityPolicy::Parse(
          "default-src 'none'; frame-ancestors 'none'; report-to csp")
          .value();
  EXPECT_THAT(CreateError(options), HasSubstr("no endpoint \"csp\""));
  options.reporting_endpoints = {{"csp", "https://r.example.com/csp"}};
  auto headers = SecurityHeaders::Create(options);
  ASSERT_TRUE(headers.ok()) << headers.status();
  const Fields out = ApplyTo(**headers, true, {});
  EXPECT_THAT(out, ::testing::Contains(
                       Pair("Content-Security-Policy-Report-Only",
                            "default-src 'none'; frame-ancestors 'none'; "
                            "report-to csp")));
  EXPECT_THAT(out,
              ::testing::Contains(Pair("Reporting-Endpoints",
                                       "csp=\"https://r.example.com/csp\"")));
  EXPECT_THAT(out, ::testing::Contains(
                       Pair("Content-Security-Policy",
                            "default-src 'none'; frame-ancestors 'none'")));
  options.reporting_endpoints = {{"csp", "https://r\".example"}};
  EXPECT_THAT(CreateError(options), HasSubstr("reporting_endpoints"));
}

TEST(SecurityHeadersTest, PerRequestNonce) {
  auto options = SecurityHeadersOptions::Helmet();
  CspOptions csp_options;
  csp_options.nonce_directives = {"script-src"};
  options.content_security_policy =
      ContentSecurityPolicy::Parse(
          "default-src 'self'; script-src 'strict-dynamic'", csp_options)
          .value();
  auto headers = SecurityHeaders::Create(options);
  ASSERT_TRUE(headers.ok());
  Fields response;
  FieldVectorSink sink(&response);
  (*headers)->ApplyWithNonce(true, "bm9uY2U=", &sink);
  EXPECT_THAT(response, ::testing::Contains(Pair(
                            "Content-Security-Policy",
                            "default-src 'self'; script-src 'strict-dynamic' "
                            "'nonce-bm9uY2U='")));
}

TEST(FieldVectorSinkTest, SetAddRemove) {
  Fields fields = {{"a", "1"}, {"B", "2"}, {"A", "3"}, {"c", "4"}};
  FieldVectorSink sink(&fields);
  sink.Set("A", "x");
  EXPECT_THAT(fields,
              ElementsAre(Pair("a", "x"), Pair("B", "2"), Pair("c", "4")));
  sink.Add("Vary", "Origin");
  sink.Add("vary", "Accept");
  sink.Remove("VARY");
  sink.Remove("b");
  EXPECT_THAT(fields, ElementsAre(Pair("a", "x"), Pair("c", "4")));
  sink.Set("d", "5");
  EXPECT_THAT(fields.back(), Pair("d", "5"));
}

}  // namespace
}  // namespace security
}  // namespace keel
