#include "keel/security/csp.h"

#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace keel {
namespace security {
namespace {

using ::testing::HasSubstr;

void ExpectInvalid(std::string_view text, std::string_view message_part,
                   CspOptions options = {}) {
  auto policy = ContentSecurityPolicy::Parse(text, options);
  ASSERT_FALSE(policy.ok()) << text;
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(policy.status().message()),
              HasSubstr(std::string(message_part)))
      << text;
}

TEST(CspTest, ParsesAndSerializes) {
  auto policy = ContentSecurityPolicy::Parse(
      "  default-src 'self' ;img-src  data: https://cdn.example.com;;"
      "upgrade-insecure-requests");
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->value(),
            "default-src 'self'; img-src data: https://cdn.example.com; "
            "upgrade-insecure-requests");
  ASSERT_EQ(policy->directives().size(), 3u);
  EXPECT_EQ(policy->directives()[1].sources,
            (std::vector<std::string>{"data:", "https://cdn.example.com"}));
}

TEST(CspTest, NamesAreCaseInsensitiveAndLowerCased) {
  auto policy = ContentSecurityPolicy::Parse("Default-Src 'SELF'");
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ(policy->value(), "default-src 'SELF'");
}

TEST(CspTest, HelmetSeparator) {
  CspOptions options;
  options.separator = ";";
  auto policy = ContentSecurityPolicy::Parse(
      "default-src 'self'; object-src 'none'", options);
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->value(), "default-src 'self';object-src 'none'");
  options.separator = ", ";
  EXPECT_FALSE(
      ContentSecurityPolicy::Parse("default-src 'self'", options).ok());
}

TEST(CspTest, RejectsUnknownDirective) {
  ExpectInvalid("default-src 'self'; scrpt-src 'self'", "unknown directive");
  ExpectInvalid("default-src 'self'; img_src 'self'", "unknown directive");
}

TEST(CspTest, RejectsDuplicateDirective) {
  ExpectInvalid("default-src 'self'; img-src a.com; IMG-SRC b.com",
                "more than once");
}

TEST(CspTest, RejectsUnquotedKeywords) {
  for (const char* keyword :
       {"self", "none", "unsafe-inline", "unsafe-eval", "strict-dynamic",
        "unsafe-hashes", "report-sample", "wasm-unsafe-eval"}) {
    ExpectInvalid(std::string("default-src ") + keyword, "single-quoted");
  }
  ExpectInvalid("default-src 'self'; script-src nonce-abc123", "single-quoted");
  ExpectInvalid("default-src 'self'; script-src sha256-abc=", "single-quoted");
  ExpectInvalid("default-src 'self'; script-src SHA384-abc=", "single-quoted");
}

TEST(CspTest, RejectsBadQuotedSources) {
  ExpectInvalid("default-src 'selfish'", "unknown quoted source");
  ExpectInvalid("default-src 'self", "badly quoted");
  ExpectInvalid("default-src 'self'; script-src 'nonce-'", "not base64");
  ExpectInvalid("default-src 'self'; script-src 'sha256-a*b'", "not base64");
}

TEST(CspTest, RejectsSemicolonOrCommaInSource) {
  CspDirective d{"default-src", {"'self'", "a.com;script-src"}};
  auto policy = ContentSecurityPolicy::Create({d});
  ASSERT_FALSE(policy.ok());
  EXPECT_THAT(std::string(policy.status().message()), HasSubstr("';' or ','"));
  d.sources = {"a.com,b.com"};
  EXPECT_FALSE(ContentSecurityPolicy::Create({d}).ok());
}

TEST(CspTest, RejectsControlCharactersAndSpacesInSource) {
  for (const std::string& bad : std::vector<std::string>{
           "a.com\r\nSet-Cookie: x", std::string("a\0b", 3), "a b",
           "caf\xc3\xa9.com"}) {
    CspDirective d{"default-src", {bad}};
    EXPECT_FALSE(ContentSecurityPolicy::Create({d}).ok()) << bad;
  }
}

TEST(CspTest, RequiresDefaultSrc) {
  ExpectInvalid("script-src 'self'; object-src 'none'", "default-src");
  ExpectInvalid("", "default-src");
}

TEST(CspTest, NoneMustBeAlone) {
  ExpectInvalid("default-src 'none' 'self'", "'none' must be the only");
}

TEST(CspTest, ValueShapes) {
  ExpectInvalid("default-src", "at least one source");
  ExpectInvalid("default-src 'self'; upgrade-insecure-requests 1", "no value");
  ExpectInvalid("default-src 'self'; report-to a b", "exactly one");
  ExpectInvalid("default-src 'self'; report-to", "exactly one");
  ExpectInvalid("default-src 'self'; report-uri", "at least one URI");
  EXPECT_TRUE(ContentSecurityPolicy::Parse("default-src 'self'; sandbox").ok());
  EXPECT_TRUE(ContentSecurityPolicy::Parse(
                  "default-src 'self'; sandbox allow-scripts allow-forms")
                  .ok());
}

TEST(CspTest, StrictDynamicNeedsNonceOrHash) {
  ExpectInvalid("default-src 'self'; script-src 'strict-dynamic' https:",
                "'strict-dynamic' needs a nonce or a hash");
  EXPECT_TRUE(ContentSecurityPolicy::Parse(
                  "default-src 'self'; script-src 'strict-dynamic' "
                  "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='")
                  .ok());
  CspOptions options;
  options.nonce_directives = {"script-src"};
  EXPECT_TRUE(ContentSecurityPolicy::Parse(
                  "default-src 'self'; script-src 'strict-dynamic'", options)
                  .ok());
  // The nonce of another directive does not count.
  options.nonce_directives = {"style-src"};
  ExpectInvalid(
      "default-src 'self'; style-src 'self'; script-src 'strict-dynamic'",
      "'strict-dynamic'", options);
}

TEST(CspTest, NonceDirectivesMustExist) {
  CspOptions options;
  options.nonce_directives = {"script-src"};
  ExpectInvalid("default-src 'self'", "not in the policy", options);
  options.nonce_directives = {"report-to"};
  ExpectInvalid("default-src 'self'; report-to x", "not a source-list",
                options);
}

TEST(CspTest, WithNonceAppendsToNonceDirectives) {
  CspOptions options;
  options.nonce_directives = {"script-src", "style-src"};
  auto policy = ContentSecurityPolicy::Parse(
      "default-src 'self'; script-src 'strict-dynamic'; style-src 'self'; "
      "img-src 'self'",
      options);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_TRUE(policy->uses_nonce());
  EXPECT_EQ(policy->WithNonce("abc="),
            "default-src 'self'; script-src 'strict-dynamic' 'nonce-abc='; "
            "style-src 'self' 'nonce-abc='; img-src 'self'");
  EXPECT_EQ(policy->value(),
            "default-src 'self'; script-src 'strict-dynamic'; style-src "
            "'self'; img-src 'self'");
}

TEST(CspTest, ReportTo) {
  auto policy =
      ContentSecurityPolicy::Parse("default-src 'self'; report-to csp-ep");
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->report_to(), "csp-ep");
}

TEST(CspNonceTest, Is128BitBase64AndFresh) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto nonce = GenerateCspNonce();
    ASSERT_TRUE(nonce.ok());
    ASSERT_EQ(nonce->size(), 24u);  // 16 bytes -> 22 chars + "=="
    EXPECT_EQ(nonce->substr(22), "==");
    EXPECT_EQ(nonce->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
                                       "nopqrstuvwxyz0123456789+/="),
              std::string::npos);
    seen.insert(*nonce);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(CspHashTest, KnownDigests) {
  // printf 'alert(1)' | openssl dgst -sha256 -binary | base64
  EXPECT_EQ(CspHashSource("alert(1)"),
            "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='");
  // printf '' | openssl dgst -sha384 -binary | base64
  EXPECT_EQ(CspHashSource("", CspHashAlgorithm::kSha384),
            "'sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/"
            "529l+9Ua0vFImLlb'");
  const std::string sha512 = CspHashSource("x", CspHashAlgorithm::kSha512);
  EXPECT_EQ(sha512.substr(0, 8), "'sha512-");
  EXPECT_EQ(sha512.size(), 8u + 88u + 1u);
  // A hash source is accepted by the validator.
  EXPECT_TRUE(
      ContentSecurityPolicy::Parse("default-src 'self'; script-src " + sha512)
          .ok());
}

}  // namespace
}  // namespace security
}  // namespace keel
