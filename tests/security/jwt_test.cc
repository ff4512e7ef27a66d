// Unit tests of JwtKey and JwtVerifier rules, with HS256 tokens written by
// hand so that each rule is exercised in isolation.

#include "keel/security/jwt.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "jwt_test_util.h"
#include "keel/base/clock.h"

namespace keel::security {
namespace {

using security_test::B64Url;
using security_test::SignHs256;

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";  // 32 bytes
constexpr char kIss[] = "https://issuer.example";
constexpr std::int64_t kNow = 1700000000;

std::optional<JwtFailure> FailureOf(const absl::StatusOr<VerifiedJwt>& jwt) {
  return jwt.ok() ? std::nullopt : GetJwtFailure(jwt.status());
}

class JwtVerifierTest : public ::testing::Test {
 protected:
  JwtVerifierOptions BaseOptions() {
    JwtVerifierOptions options;
    JwtIssuer issuer;
    issuer.issuer = kIss;
    issuer.keys.push_back(
        *JwtKey::FromHmacSecret(JwtAlgorithm::kHs256, kSecret, "k1"));
    options.issuers.push_back(std::move(issuer));
    options.algorithms = {JwtAlgorithm::kHs256};
    options.audiences = {"api"};
    options.clock = &clock_;
    return options;
  }

  std::unique_ptr<JwtVerifier> Make(JwtVerifierOptions options) {
    auto verifier = JwtVerifier::Create(std::move(options));
    EXPECT_TRUE(verifier.ok()) << verifier.status();
    return verifier.ok() ? std::move(*verifier) : nullptr;
  }

  static std::string Token(
      const std::string& claims,
      const std::string& header = R"({"alg":"HS256","kid":"k1"})") {
    return SignHs256(header, claims, kSecret);
  }

  static std::string Claims(const std::string& extra = "") {
    return std::string(R"({"iss":"https://issuer.example","aud":"api",)") +
           R"("sub":"u","exp":)" + std::to_string(kNow + 60) + extra + "}";
  }

  ManualClock clock_{std::chrono::seconds(1000), std::chrono::seconds(kNow)};
};

TEST_F(JwtVerifierTest, AcceptsAWellFormedToken) {
  auto verifier = Make(BaseOptions());
  absl::StatusOr<VerifiedJwt> jwt =
      verifier->Verify(Token(Claims(R"(,"n":2.5,"jti":"j")")));
  ASSERT_TRUE(jwt.ok()) << jwt.status();
  EXPECT_EQ(jwt->subject, "u");
  EXPECT_EQ(jwt->jwt_id, "j");
  EXPECT_EQ(jwt->NumberClaim("n"), 2.5);
  EXPECT_EQ(jwt->StringClaim("n"), std::nullopt);
  ASSERT_NE(jwt->ClaimJson("aud"), nullptr);
  EXPECT_EQ(*jwt->ClaimJson("aud"), "\"api\"");
  EXPECT_EQ(jwt->ClaimJson("missing"), nullptr);
}

TEST_F(JwtVerifierTest, ClaimsAreCompactTextWithCanonicalStrings) {
  auto verifier = Make(BaseOptions());
  const std::string payload =
      "{ \"iss\" : \"https:\\/\\/issuer.example\" ,\n\t\"aud\":\"api\","
      " \"exp\" : " +
      std::to_string(kNow + 60) +
      ", \"\\u0073ub\" : \"\\u00e9\\ud83d\\ude00\\u0001\\n\" ,"
      " \"big\" : 123456789012345678901234567890 , \"f\" : 1.50E+1 ,"
      " \"obj\" : { \"z\" : [ 1 , \"a\\/b\" ] , \"\\u0061\" : null } ,"
      " \"roles\" : [ \"r1\" , \"r\\u0032\" ] , \"t\" : true }";
  absl::StatusOr<VerifiedJwt> jwt = verifier->Verify(Token(payload));
  ASSERT_TRUE(jwt.ok()) << jwt.status();
  EXPECT_EQ(jwt->issuer, "https://issuer.example");
  EXPECT_EQ(jwt->subject, "\xC3\xA9\xF0\x9F\x98\x80\x01\n");
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"aud", R"("api")"},
      {"big", "123456789012345678901234567890"},
      {"exp", std::to_string(kNow + 60)},
      {"f", "1.50E+1"},
      {"iss", R"("https://issuer.example")"},
      {"obj", R"({"z":[1,"a/b"],"a":null})"},
      {"roles", R"(["r1","r2"])"},
      {"sub", "\"\xC3\xA9\xF0\x9F\x98\x80\\u0001\\n\""},
      {"t", "true"},
  };
  EXPECT_EQ(jwt->claims, expected);
  EXPECT_EQ(jwt->StringClaim("sub"), jwt->subject);
  EXPECT_EQ(jwt->NumberClaim("f"), 15.0);
  EXPECT_EQ(jwt->NumberClaim("big"), 1.2345678901234568e29);
  EXPECT_EQ(jwt->StringClaim("roles"), std::nullopt);
  EXPECT_EQ(jwt->NumberClaim("t"), std::nullopt);

  // A hand-built VerifiedJwt is re-validated, never trusted.
  VerifiedJwt manual;
  manual.claims = {{"n", "1 2"}, {"s", "\"unterminated"}};
  EXPECT_EQ(manual.NumberClaim("n"), std::nullopt);
  EXPECT_EQ(manual.StringClaim("s"), std::nullopt);
}

TEST_F(JwtVerifierTest, EscapedNamesCountAsTheirDecodedForm) {
  auto verifier = Make(BaseOptions());
  // "\u0069ss" is "iss": a second issuer claim under another spelling.
  EXPECT_EQ(FailureOf(verifier->Verify(Token(Claims(R"(,"\u0069ss":"x")")))),
            JwtFailure::kMalformed);
  // An escaped "alg" in the header still names the algorithm.
  EXPECT_TRUE(
      verifier->Verify(Token(Claims(), R"({"\u0061lg":"HS256","kid":"k1"})"))
          .ok());
  // An escaped header value is decoded before the algorithm look-up.
  EXPECT_TRUE(
      verifier->Verify(Token(Claims(), R"({"alg":"HS\u0032\u0035\u0036"})"))
          .ok());
}

TEST_F(JwtVerifierTest, StrictJsonInHeaderAndPayload) {
  auto verifier = Make(BaseOptions());
  const std::string claims = Claims();
  const std::string body = claims.substr(0, claims.size() - 1);
  for (const std::string& bad : {
           "\xEF\xBB\xBF" + claims,               // byte order mark
           claims + " x",                         // trailing text
           std::string(claims).append(1, '\0'),   // trailing NUL
           body + R"(,"s":"\ud800"})",            // lone surrogate
           body + ",\"s\":\"\xC0\xAF\"}",         // overlong UTF-8
           body + ",\"s\":\"\xED\xA0\x80\"}",     // encoded surrogate
           body + ",\"s\":\"a\tb\"}",             // raw control character
           body + R"(,"n":01})",                  // leading zero
           body + R"(,"n":1e400})",               // beyond double range
           body + R"(,"n":NaN})",                 // not a JSON number
           body + R"(,"x":{"y":1,"\u0079":2}})",  // nested duplicate
       }) {
    EXPECT_EQ(FailureOf(verifier->Verify(Token(bad))), JwtFailure::kMalformed)
        << bad;
  }
  EXPECT_EQ(FailureOf(verifier->Verify(
                Token(claims, "{\"alg\":\"HS256\"}\xEF\xBB\xBF"))),
            JwtFailure::kMalformed);
  // 32 levels (the payload object and 31 arrays) pass, 33 do not.
  for (int levels : {32, 33}) {
    std::string nested = body + ",\"x\":";
    nested.append(levels - 1, '[').append(levels - 1, ']').append("}");
    EXPECT_EQ(verifier->Verify(Token(nested)).ok(), levels == 32) << levels;
  }
}

TEST_F(JwtVerifierTest, ExpiryIsExclusiveAndHonoursLeeway) {
  auto verifier = Make(BaseOptions());
  const std::string token = Token(Claims());
  clock_.Advance(std::chrono::seconds(59));
  EXPECT_TRUE(verifier->Verify(token).ok());
  clock_.Advance(std::chrono::seconds(1));  // now == exp
  EXPECT_EQ(FailureOf(verifier->Verify(token)), JwtFailure::kExpired);

  JwtVerifierOptions options = BaseOptions();
  options.leeway = std::chrono::seconds(30);
  auto lenient = Make(std::move(options));
  EXPECT_TRUE(lenient->Verify(token).ok());
  clock_.Advance(std::chrono::seconds(30));  // now == exp + leeway
  EXPECT_EQ(FailureOf(lenient->Verify(token)), JwtFailure::kExpired);
}

TEST_F(JwtVerifierTest, NotBeforeAndIssuedAt) {
  auto verifier = Make(BaseOptions());
  const std::string nbf =
      Token(Claims(",\"nbf\":" + std::to_string(kNow + 10)));
  EXPECT_EQ(FailureOf(verifier->Verify(nbf)), JwtFailure::kNotYetValid);
  const std::string iat =
      Token(Claims(",\"iat\":" + std::to_string(kNow + 10)));
  EXPECT_EQ(FailureOf(verifier->Verify(iat)), JwtFailure::kIssuedInFuture);
  clock_.Advance(std::chrono::seconds(10));
  EXPECT_TRUE(verifier->Verify(nbf).ok());
  EXPECT_TRUE(verifier->Verify(iat).ok());
}

TEST_F(JwtVerifierTest, MaxTokenAgeRequiresIat) {
  JwtVerifierOptions options = BaseOptions();
  options.max_token_age = std::chrono::seconds(30);
  auto verifier = Make(std::move(options));
  EXPECT_EQ(FailureOf(verifier->Verify(Token(Claims()))),
            JwtFailure::kMissingClaim);
  const std::string token = Token(Claims(",\"iat\":" + std::to_string(kNow)));
  EXPECT_TRUE(verifier->Verify(token).ok());
  clock_.Advance(std::chrono::seconds(31));
  EXPECT_EQ(FailureOf(verifier->Verify(token)), JwtFailure::kExpired);
}

TEST_F(JwtVerifierTest, ExpIsRequiredUnlessDisabled) {
  const std::string token =
      Token(R"({"iss":"https://issuer.example","aud":"api"})");
  EXPECT_EQ(FailureOf(Make(BaseOptions())->Verify(token)),
            JwtFailure::kMissingClaim);
  JwtVerifierOptions options = BaseOptions();
  options.require_exp = false;
  EXPECT_TRUE(Make(std::move(options))->Verify(token).ok());
}

TEST_F(JwtVerifierTest, AudienceRules) {
  auto verifier = Make(BaseOptions());
  const std::string base =
      R"({"iss":"https://issuer.example","exp":)" + std::to_string(kNow + 60);
  EXPECT_TRUE(verifier->Verify(Token(base + R"(,"aud":["x","api"]})")).ok());
  EXPECT_EQ(FailureOf(verifier->Verify(Token(base + R"(,"aud":["x"]})"))),
            JwtFailure::kBadAudience);
  EXPECT_EQ(FailureOf(verifier->Verify(Token(base + "}"))),
            JwtFailure::kBadAudience);
  EXPECT_EQ(FailureOf(verifier->Verify(Token(base + R"(,"aud":[1]})"))),
            JwtFailure::kMalformed);
  JwtVerifierOptions options = BaseOptions();
  options.audiences.clear();
  auto no_audience = Make(std::move(options));
  EXPECT_TRUE(no_audience->Verify(Token(base + "}")).ok());
  EXPECT_EQ(FailureOf(no_audience->Verify(Token(base + R"(,"aud":"api"})"))),
            JwtFailure::kBadAudience);
}

TEST_F(JwtVerifierTest, IssuerSelectsItsOwnKeys) {
  JwtVerifierOptions options = BaseOptions();
  JwtIssuer other;
  other.issuer = "https://other.example";
  other.keys.push_back(*JwtKey::FromHmacSecret(
      JwtAlgorithm::kHs256, "another-secret-of-32-bytes-long!", "k1"));
  options.issuers.push_back(std::move(other));
  auto verifier = Make(std::move(options));
  // Signed with the first issuer's key but claiming the second issuer.
  const std::string token =
      Token(R"({"iss":"https://other.example","aud":"api","exp":)" +
            std::to_string(kNow + 60) + "}");
  EXPECT_EQ(FailureOf(verifier->Verify(token)), JwtFailure::kBadSignature);
  EXPECT_EQ(FailureOf(verifier->Verify(Token(R"({"aud":"api"})"))),
            JwtFailure::kMissingClaim);
  EXPECT_EQ(FailureOf(verifier->Verify(Token(R"({"iss":7})"))),
            JwtFailure::kMalformed);
}

TEST_F(JwtVerifierTest, HeaderRules) {
  auto verifier = Make(BaseOptions());
  const std::string claims = Claims();
  EXPECT_EQ(FailureOf(verifier->Verify(Token(claims, R"({"kid":"k1"})"))),
            JwtFailure::kAlgorithmRejected);
  EXPECT_EQ(FailureOf(verifier->Verify(
                Token(claims, R"({"alg":"none","kid":"k1"})"))),
            JwtFailure::kAlgorithmRejected);
  EXPECT_EQ(FailureOf(verifier->Verify(
                Token(claims, R"({"alg":"hs256","kid":"k1"})"))),
            JwtFailure::kAlgorithmRejected);
  // Allowed by name but not by this verifier.
  EXPECT_EQ(FailureOf(verifier->Verify(
                Token(claims, R"({"alg":"HS384","kid":"k1"})"))),
            JwtFailure::kAlgorithmRejected);
  EXPECT_EQ(FailureOf(verifier->Verify(
                Token(claims, R"({"alg":"HS256","kid":"other"})"))),
            JwtFailure::kUnknownKey);
  EXPECT_EQ(
      FailureOf(verifier->Verify(Token(claims, R"({"alg":"HS256","kid":5})"))),
      JwtFailure::kMalformed);
  // No kid: every HS256 key of the issuer is tried.
  EXPECT_TRUE(verifier->Verify(Token(claims, R"({"alg":"HS256"})")).ok());
  // Keys offered by the token itself are ignored.
  EXPECT_TRUE(verifier
                  ->Verify(Token(
                      claims, R"({"alg":"HS256","kid":"k1",)"
                              R"("jku":"https://evil/","x5u":"https://e/"})"))
                  .ok());
}

TEST_F(JwtVerifierTest, CriticalHeaders) {
  const std::string claims = Claims();
  const std::string crit =
      R"({"alg":"HS256","kid":"k1","crit":["tenant"],"tenant":"t"})";
  EXPECT_EQ(FailureOf(Make(BaseOptions())->Verify(Token(claims, crit))),
            JwtFailure::kUnsupportedCritical);
  JwtVerifierOptions options = BaseOptions();
  options.critical_headers = {"tenant"};
  auto verifier = Make(std::move(options));
  EXPECT_TRUE(verifier->Verify(Token(claims, crit)).ok());
  for (const char* header :
       {R"({"alg":"HS256","kid":"k1","crit":["tenant"]})",
        R"({"alg":"HS256","kid":"k1","crit":[]})",
        R"({"alg":"HS256","kid":"k1","crit":"tenant","tenant":1})",
        R"({"alg":"HS256","kid":"k1","crit":["kid"]})"}) {
    EXPECT_EQ(FailureOf(verifier->Verify(Token(claims, header))),
              JwtFailure::kUnsupportedCritical)
        << header;
  }
}

TEST_F(JwtVerifierTest, TypeCheck) {
  JwtVerifierOptions options = BaseOptions();
  options.typ = "at+jwt";
  auto verifier = Make(std::move(options));
  const std::string claims = Claims();
  EXPECT_TRUE(verifier
                  ->Verify(Token(
                      claims, R"({"alg":"HS256","typ":"application/AT+JWT"})"))
                  .ok());
  EXPECT_EQ(FailureOf(verifier->Verify(
                Token(claims, R"({"alg":"HS256","typ":"JWT"})"))),
            JwtFailure::kBadType);
  EXPECT_EQ(FailureOf(verifier->Verify(Token(claims, R"({"alg":"HS256"})"))),
            JwtFailure::kBadType);
}

TEST_F(JwtVerifierTest, RequiredClaimsAndValidators) {
  JwtVerifierOptions options = BaseOptions();
  options.required_claims = {"scope"};
  options.validators.push_back([](const VerifiedJwt& jwt) {
    return jwt.StringClaim("scope") == "admin"
               ? absl::OkStatus()
               : absl::PermissionDeniedError("scope must be admin");
  });
  auto verifier = Make(std::move(options));
  EXPECT_EQ(FailureOf(verifier->Verify(Token(Claims()))),
            JwtFailure::kMissingClaim);
  absl::StatusOr<VerifiedJwt> jwt =
      verifier->Verify(Token(Claims(R"(,"scope":"read")")));
  EXPECT_EQ(FailureOf(jwt), JwtFailure::kClaimRejected);
  EXPECT_EQ(jwt.status().message(), "scope must be admin");
  EXPECT_TRUE(verifier->Verify(Token(Claims(R"(,"scope":"admin")"))).ok());
}

TEST_F(JwtVerifierTest, MalformedInputs) {
  auto verifier = Make(BaseOptions());
  const std::string good = Token(Claims());
  EXPECT_TRUE(verifier->Verify(good).ok());
  for (const std::string& bad :
       {std::string(), std::string(".."), good + ".", "." + good,
        good.substr(0, good.rfind('.')), good + "=", good + " ",
        good.substr(0, good.find('.')) + "." + B64Url("not json") +
            good.substr(good.rfind('.')),
        Token(R"({"iss":"https://issuer.example","iss":"x"})"),
        Token(R"({"a":{"b":1,"b":2}})"),
        Token(R"({"iss":"https://issuer.example","exp":"soon"})"),
        Token(Claims(), R"(["HS256"])")}) {
    EXPECT_EQ(FailureOf(verifier->Verify(bad)), JwtFailure::kMalformed) << bad;
  }
  // Nesting beyond the limit.
  std::string deep = "{\"iss\":\"https://issuer.example\",\"x\":";
  for (int i = 0; i < 40; ++i) deep += "[";
  for (int i = 0; i < 40; ++i) deep += "]";
  EXPECT_EQ(FailureOf(verifier->Verify(Token(deep + "}"))),
            JwtFailure::kMalformed);
  // Non-zero trailing bits in the signature's last character.
  std::string tweaked = good;
  char& last = tweaked.back();
  last = last == 'A' ? 'B' : static_cast<char>(last ^ 1);
  EXPECT_FALSE(verifier->Verify(tweaked).ok());
}

TEST_F(JwtVerifierTest, SizeCap) {
  JwtVerifierOptions options = BaseOptions();
  options.max_token_bytes = 200;
  auto verifier = Make(std::move(options));
  const std::string big =
      Token(Claims(",\"pad\":\"" + std::string(300, 'x') + "\""));
  absl::StatusOr<VerifiedJwt> jwt = verifier->Verify(big);
  EXPECT_EQ(FailureOf(jwt), JwtFailure::kTooLarge);
  EXPECT_EQ(JwtHttpStatus(jwt.status()), 401);
}

TEST_F(JwtVerifierTest, CreateValidatesEveryOption) {
  auto expect_invalid = [](JwtVerifierOptions options, const char* field) {
    auto verifier = JwtVerifier::Create(std::move(options));
    ASSERT_FALSE(verifier.ok()) << field;
    EXPECT_EQ(verifier.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(verifier.status().message().find(field), std::string::npos)
        << verifier.status();
  };
  JwtVerifierOptions o = BaseOptions();
  o.algorithms.clear();
  expect_invalid(o, "algorithms");
  o = BaseOptions();
  o.algorithms = {JwtAlgorithm::kHs256, JwtAlgorithm::kHs256};
  expect_invalid(o, "algorithms");
  o = BaseOptions();
  o.algorithms = {JwtAlgorithm::kRs256};
  expect_invalid(o, "issuers[0].keys[0]");
  o = BaseOptions();
  o.issuers.clear();
  expect_invalid(o, "issuers");
  o = BaseOptions();
  o.issuers.push_back(o.issuers[0]);
  expect_invalid(o, "issuers[1].issuer");
  o = BaseOptions();
  o.issuers[0].keys.clear();
  expect_invalid(o, "issuers[0]");
  o = BaseOptions();
  o.issuers[0].issuer.clear();
  expect_invalid(o, "issuers[0].issuer");
  o = BaseOptions();
  o.leeway = std::chrono::seconds(301);
  expect_invalid(o, "leeway");
  o = BaseOptions();
  o.max_token_age = std::chrono::seconds(0);
  expect_invalid(o, "max_token_age");
  o = BaseOptions();
  o.max_token_bytes = 10;
  expect_invalid(o, "max_token_bytes");
  o = BaseOptions();
  o.critical_headers = {"alg"};
  expect_invalid(o, "critical_headers");
  o = BaseOptions();
  o.audiences = {""};
  expect_invalid(o, "audiences");
  o = BaseOptions();
  o.required_claims = {""};
  expect_invalid(o, "required_claims");
  o = BaseOptions();
  o.validators.emplace_back();
  expect_invalid(o, "validators");
  o = BaseOptions();
  o.clock = nullptr;
  expect_invalid(o, "clock");
}

TEST(JwtKeyTest, StrengthAndBindingRules) {
  EXPECT_FALSE(
      JwtKey::FromHmacSecret(JwtAlgorithm::kHs256, std::string(31, 'k')).ok());
  EXPECT_TRUE(
      JwtKey::FromHmacSecret(JwtAlgorithm::kHs256, std::string(32, 'k')).ok());
  EXPECT_FALSE(
      JwtKey::FromHmacSecret(JwtAlgorithm::kHs512, std::string(63, 'k')).ok());
  EXPECT_FALSE(
      JwtKey::FromHmacSecret(JwtAlgorithm::kRs256, std::string(64, 'k')).ok());
  EXPECT_FALSE(
      JwtKey::FromPublicKeyPem(JwtAlgorithm::kRs256, "not a pem").ok());
  EXPECT_EQ(ParseJwtAlgorithm("none"), std::nullopt);
  EXPECT_EQ(ParseJwtAlgorithm("EdDSA"), JwtAlgorithm::kEdDsa);
  for (int i = 0; i <= static_cast<int>(JwtAlgorithm::kEdDsa); ++i) {
    const auto alg = static_cast<JwtAlgorithm>(i);
    EXPECT_EQ(ParseJwtAlgorithm(JwtAlgorithmName(alg)), alg);
  }
}

TEST(JwtKeyTest, JwkRules) {
  const auto& jwks = security_test::Vectors()["jwks"]["keys"];
  nlohmann::json es256;
  nlohmann::json rs256;
  for (const auto& k : jwks) {
    if (k["kid"] == "es256") es256 = k;
    if (k["kid"] == "rs256") rs256 = k;
  }
  ASSERT_TRUE(JwtKey::FromJwk(es256.dump()).ok());
  auto invalid = [](nlohmann::json jwk, const char* why) {
    absl::StatusOr<JwtKey> key = JwtKey::FromJwk(jwk.dump());
    EXPECT_FALSE(key.ok()) << why;
    EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument) << why;
  };
  nlohmann::json k = es256;
  k["alg"] = "ES384";
  invalid(k, "curve and alg disagree");
  k = es256;
  k["use"] = "enc";
  invalid(k, "use enc");
  k = es256;
  k["key_ops"] = {"sign"};
  invalid(k, "key_ops without verify");
  k = es256;
  k["d"] = k["x"];
  invalid(k, "private key");
  k = es256;
  std::string x = k["x"].get<std::string>();
  x[5] = x[5] == 'A' ? 'B' : 'A';
  k["x"] = x;
  invalid(k, "point off the curve");
  k = es256;
  k["x"] = k["x"].get<std::string>() + "==";
  invalid(k, "padded base64");
  k = rs256;
  k["alg"] = "ES256";
  invalid(k, "RSA key with ES256");
  k = rs256;
  k.erase("alg");
  invalid(k, "RSA without alg and no default");
  EXPECT_TRUE(JwtKey::FromJwk(k.dump(), JwtAlgorithm::kPs256).ok());
  k = rs256;
  // A 1024-bit modulus: the first 128 bytes of the 2048-bit one, made odd.
  std::string n = k["n"].get<std::string>().substr(0, 171);
  n.back() = 'B';
  k["n"] = n;
  invalid(k, "short RSA modulus");
  invalid(nlohmann::json::parse(R"({"kty":"oct","k":"c2hvcnQ","alg":"HS256"})"),
          "short HMAC secret");
  invalid(nlohmann::json::parse(R"({"kty":"OKP","crv":"X25519","x":"AAAA"})"),
          "X25519 is not a signature curve");
  EXPECT_FALSE(JwtKey::FromJwk(R"({"kty":"EC","kty":"RSA"})").ok());
}

TEST(BearerTest, ParsesAuthorizationHeader) {
  EXPECT_EQ(BearerToken("Bearer abc.def-_~+/=="), "abc.def-_~+/==");
  EXPECT_EQ(BearerToken("bearer   abc "), "abc");
  EXPECT_EQ(BearerToken("Basic abc"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer a b"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer =abc"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearerabc"), std::nullopt);
}

TEST_F(JwtVerifierTest, ChallengeFollowsRfc6750) {
  EXPECT_EQ(BearerChallenge("api \"x\"\r\n"), R"(Bearer realm="api x")");
  clock_.Advance(std::chrono::hours(1));
  absl::StatusOr<VerifiedJwt> jwt =
      Make(BaseOptions())->Verify(Token(Claims()));
  ASSERT_FALSE(jwt.ok());
  EXPECT_EQ(BearerChallenge("api", jwt.status()),
            R"(Bearer realm="api", error="invalid_token", )"
            R"(error_description="The token has expired")");
  EXPECT_EQ(BearerChallenge("api", absl::UnauthenticatedError("x")),
            R"(Bearer realm="api", error="invalid_token", )"
            R"(error_description="The token is invalid")");
  EXPECT_EQ(JwtHttpStatus(absl::UnavailableError("keys")), 503);
}

}  // namespace
}  // namespace keel::security
