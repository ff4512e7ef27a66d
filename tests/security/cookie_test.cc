#include "keel/security/cookie.h"

#include <chrono>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/security/https_redirect.h"

namespace keel {
namespace security {
namespace {

using ::testing::HasSubstr;

std::string Error(std::string_view name, std::string_view value,
                  const CookieOptions& options) {
  auto cookie = BuildSetCookie(name, value, options);
  if (cookie.ok()) return "ok";
  EXPECT_EQ(cookie.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(cookie.status().message());
}

TEST(CookieTest, SecureDefaults) {
  CookieOptions options;
  options.max_age = std::chrono::hours(8);
  EXPECT_EQ(BuildSetCookie("session", "abc123", options).value(),
            "__Host-session=abc123; Path=/; Max-Age=28800; Secure; HttpOnly; "
            "SameSite=Lax");
}

TEST(CookieTest, AllAttributes) {
  CookieOptions options;
  options.prefix = CookiePrefix::kSecure;
  options.path = "/app";
  options.domain = "example.com";
  options.same_site = SameSite::kNone;
  options.partitioned = true;
  options.http_only = false;
  EXPECT_EQ(BuildSetCookie("id", "\"quoted\"", options).value(),
            "__Secure-id=\"quoted\"; Path=/app; Domain=example.com; Secure; "
            "SameSite=None; Partitioned");
  options.prefix = CookiePrefix::kNone;
  options.secure = false;
  options.same_site = SameSite::kStrict;
  options.partitioned = false;
  options.max_age = std::chrono::seconds(0);
  EXPECT_EQ(BuildSetCookie("x", "", options).value(),
            "x=; Path=/app; Domain=example.com; Max-Age=0; SameSite=Strict");
}

TEST(CookieTest, RejectsInvalidCombinations) {
  CookieOptions options;
  options.secure = false;
  EXPECT_THAT(Error("s", "v", options), HasSubstr("prefix needs"));
  options.prefix = CookiePrefix::kSecure;
  EXPECT_THAT(Error("s", "v", options), HasSubstr("prefix needs"));
  options.prefix = CookiePrefix::kNone;
  options.same_site = SameSite::kNone;
  EXPECT_THAT(Error("s", "v", options), HasSubstr("SameSite=None"));
  options.same_site = SameSite::kLax;
  options.partitioned = true;
  EXPECT_THAT(Error("s", "v", options), HasSubstr("partitioned"));

  CookieOptions host;
  host.path = "/app";
  EXPECT_THAT(Error("s", "v", host), HasSubstr("__Host- prefix needs"));
  host.path = "/";
  host.domain = "example.com";
  EXPECT_THAT(Error("s", "v", host), HasSubstr("__Host- prefix needs"));
}

TEST(CookieTest, RejectsBadNamesValuesAndAttributes) {
  CookieOptions options;
  EXPECT_THAT(Error("a b", "v", options), HasSubstr("not a token"));
  EXPECT_THAT(Error("a=b", "v", options), HasSubstr("not a token"));
  EXPECT_THAT(Error("__Host-s", "v", options), HasSubstr("prefix"));
  EXPECT_THAT(Error("__secure-s", "v", options), HasSubstr("prefix"));
  for (const char* bad : {"a;b", "a b", "a,b", "a\\b", "a\r\nb", "\"a"}) {
    EXPECT_THAT(Error("s", bad, options), HasSubstr("cookie-octet")) << bad;
  }
  options.prefix = CookiePrefix::kSecure;
  options.path = "/a;Domain=evil.com";
  EXPECT_THAT(Error("s", "v", options), HasSubstr("path"));
  options.path = "relative";
  EXPECT_THAT(Error("s", "v", options), HasSubstr("path"));
  options.path = "/";
  options.domain = "evil.com; Secure";
  EXPECT_THAT(Error("s", "v", options), HasSubstr("domain"));
  options.domain = "";
  options.max_age = std::chrono::seconds(-1);
  EXPECT_THAT(Error("s", "v", options), HasSubstr("negative"));
}

TEST(HttpsRedirectTest, RedirectsToSameHost) {
  auto redirect = HttpsRedirect::Create(HttpsRedirectOptions());
  ASSERT_TRUE(redirect.ok());
  auto r = (*redirect)->For("Example.COM:80", "/a/b?c=d");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 301);
  EXPECT_EQ(r->location, "https://example.com/a/b?c=d");
  r = (*redirect)->For("[2001:db8::1]:8080", "/");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->location, "https://[2001:db8::1]/");
}

TEST(HttpsRedirectTest, PortStatusAndAllowList) {
  HttpsRedirectOptions options;
  options.https_port = 8443;
  options.status = 308;
  options.allowed_hosts = {"api.example.com"};
  auto redirect = HttpsRedirect::Create(options);
  ASSERT_TRUE(redirect.ok());
  auto r = (*redirect)->For("API.example.com", "/v1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 308);
  EXPECT_EQ(r->location, "https://api.example.com:8443/v1");
  EXPECT_FALSE((*redirect)->For("evil.com", "/v1").ok());
}

TEST(HttpsRedirectTest, RejectsBadInput) {
  auto redirect = HttpsRedirect::Create(HttpsRedirectOptions());
  ASSERT_TRUE(redirect.ok());
  for (const char* host : {"", "a.com:", "a.com:x", "a b.com", "evil.com/x",
                           "[::1", "a.com\r\nX: y", "user@a.com"}) {
    EXPECT_FALSE((*redirect)->For(host, "/").ok()) << host;
  }
  for (const char* target : {"", "x", "http://evil.com/", "/a\r\nb", "/a b"}) {
    EXPECT_FALSE((*redirect)->For("a.com", target).ok()) << target;
  }
  HttpsRedirectOptions options;
  options.status = 302;
  EXPECT_FALSE(HttpsRedirect::Create(options).ok());
  options.status = 301;
  options.https_port = 0;
  EXPECT_FALSE(HttpsRedirect::Create(options).ok());
  options.https_port = 443;
  options.allowed_hosts = {"a.com:443"};
  EXPECT_FALSE(HttpsRedirect::Create(options).ok());
}

}  // namespace
}  // namespace security
}  // namespace keel
