// Verifies the tokens of testdata/jwt_vectors.json, produced by the `jose`
// npm package (an independent implementation), and checks that keel reaches
// the verdict recorded next to each token.

#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "gtest/gtest.h"
#include "jwt_test_util.h"
#include "keel/base/clock.h"
#include "keel/security/jwks.h"
#include "keel/security/jwt.h"

namespace keel::security {
namespace {

using security_test::Vectors;

// A fetcher serving a fixed document.
class StaticFetcher final : public JwksFetcher {
 public:
  explicit StaticFetcher(std::string document)
      : document_(std::move(document)) {}
  absl::StatusOr<std::string> Fetch() override { return document_; }

 private:
  const std::string document_;
};

std::vector<JwtAlgorithm> AllAlgorithms() {
  std::vector<JwtAlgorithm> all;
  for (int i = 0; i <= static_cast<int>(JwtAlgorithm::kEdDsa); ++i) {
    all.push_back(static_cast<JwtAlgorithm>(i));
  }
  return all;
}

class JwtVectorsTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    const nlohmann::json& v = Vectors();
    clock_ = std::make_unique<ManualClock>(
        std::chrono::seconds(1000),
        std::chrono::seconds(v["now"].get<std::int64_t>()));
    JwtIssuer issuer;
    issuer.issuer = v["issuer"].get<std::string>();
    for (const auto& oct : v["oct_keys"]["keys"]) {
      absl::StatusOr<JwtKey> key = JwtKey::FromJwk(oct.dump());
      ASSERT_TRUE(key.ok()) << key.status();
      issuer.keys.push_back(*key);
    }
    const std::string jwks = v["jwks"].dump();
    if (GetParam()) {
      // Asymmetric keys through a JwksProvider.
      JwksProviderOptions options;
      options.fetcher = std::make_shared<StaticFetcher>(jwks);
      options.clock = clock_.get();
      auto provider = JwksProvider::Create(std::move(options));
      ASSERT_TRUE(provider.ok()) << provider.status();
      issuer.jwks = std::move(*provider);
    } else {
      absl::StatusOr<JwkSet> set = ParseJwks(jwks);
      ASSERT_TRUE(set.ok()) << set.status();
      ASSERT_EQ(set->keys.size(), 10u);
      EXPECT_TRUE(set->skipped.empty());
      for (const JwtKey& key : set->keys) issuer.keys.push_back(key);
    }
    JwtVerifierOptions options;
    options.issuers.push_back(std::move(issuer));
    options.algorithms = AllAlgorithms();
    options.audiences = {v["audience"].get<std::string>()};
    options.clock = clock_.get();
    auto verifier = JwtVerifier::Create(std::move(options));
    ASSERT_TRUE(verifier.ok()) << verifier.status();
    verifier_ = std::move(*verifier);
  }

  std::unique_ptr<ManualClock> clock_;
  std::unique_ptr<JwtVerifier> verifier_;
};

TEST_P(JwtVectorsTest, EveryCaseReachesTheRecordedVerdict) {
  int checked = 0;
  for (const auto& c : Vectors()["cases"]) {
    const std::string name = c["name"].get<std::string>();
    const std::string expect = c["expect"].get<std::string>();
    SCOPED_TRACE(name);
    absl::StatusOr<VerifiedJwt> jwt =
        verifier_->Verify(c["token"].get<std::string>());
    if (expect == "ok") {
      ASSERT_TRUE(jwt.ok()) << jwt.status();
      EXPECT_EQ(jwt->issuer, Vectors()["issuer"].get<std::string>());
      EXPECT_EQ(jwt->subject, "user-1");
      EXPECT_EQ(jwt->StringClaim("scope").value_or(""), "read write");
    } else {
      ASSERT_FALSE(jwt.ok());
      std::optional<JwtFailure> failure = GetJwtFailure(jwt.status());
      ASSERT_TRUE(failure.has_value()) << jwt.status();
      EXPECT_EQ(JwtFailureName(*failure), expect) << jwt.status();
      EXPECT_EQ(jwt.status().code(), absl::StatusCode::kUnauthenticated);
    }
    ++checked;
  }
  EXPECT_GE(checked, 40);
}

TEST_P(JwtVectorsTest, ValidTokenOfEachAlgorithmCarriesItsAlgorithmAndKid) {
  for (const auto& c : Vectors()["cases"]) {
    const std::string name = c["name"].get<std::string>();
    if (name.rfind("valid_", 0) != 0) continue;
    absl::StatusOr<VerifiedJwt> jwt =
        verifier_->Verify(c["token"].get<std::string>());
    ASSERT_TRUE(jwt.ok()) << name << ": " << jwt.status();
    EXPECT_EQ(JwtAlgorithmName(jwt->algorithm), name.substr(6));
    EXPECT_EQ(jwt->kid, absl::AsciiStrToLower(name.substr(6)));
    EXPECT_EQ(jwt->typ, "JWT");
    ASSERT_EQ(jwt->audience.size(), 1u);
    EXPECT_EQ(jwt->expires_at, Vectors()["now"].get<std::int64_t>() + 3600);
  }
}

// One verifier shared by several threads: every thread must reach every
// recorded verdict. Exercises the per-key HMAC context pool (contexts pass
// between threads, valid and forged tokens interleave) and the shared
// DigestVerify templates.
TEST_P(JwtVectorsTest, ConcurrentVerificationsReachTheRecordedVerdicts) {
  std::vector<std::pair<std::string, bool>> cases;
  for (const auto& c : Vectors()["cases"]) {
    cases.emplace_back(c["token"].get<std::string>(), c["expect"] == "ok");
  }
  constexpr int kThreads = 4;
  constexpr int kRounds = 25;
  std::atomic<int> wrong{0};
  std::atomic<int> checked{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        for (std::size_t i = 0; i < cases.size(); ++i) {
          // Each thread walks the cases from a different start.
          const auto& [token, ok] = cases[(i + t * 7) % cases.size()];
          if (verifier_->Verify(token).ok() != ok) ++wrong;
          ++checked;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(checked.load(),
            kThreads * kRounds * static_cast<int>(cases.size()));
}

INSTANTIATE_TEST_SUITE_P(StaticKeysAndJwksProvider, JwtVectorsTest,
                         ::testing::Bool());

TEST(JwtVectorsKeyConfusionTest, RsaPublicKeyCannotBeAnHmacSecret) {
  const std::string pem = Vectors()["rs256_public_pem"].get<std::string>();
  // The PEM is an RS256 key and nothing else: it cannot be turned into an
  // HS256 key (the forged vector is refused in the test above).
  absl::StatusOr<JwtKey> as_rsa =
      JwtKey::FromPublicKeyPem(JwtAlgorithm::kRs256, pem, "rs256");
  ASSERT_TRUE(as_rsa.ok()) << as_rsa.status();
  EXPECT_FALSE(
      JwtKey::FromPublicKeyPem(JwtAlgorithm::kHs256, pem, "rs256").ok());
}

}  // namespace
}  // namespace keel::security
