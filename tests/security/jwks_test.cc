// Tests of the JWKS parser, the file and HTTP fetchers and JwksProvider's
// caching rules (manual clock, scripted fetcher).

#include "keel/security/jwks.h"

#include <atomic>
#include <cstdio>
#include <deque>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "jwt_test_util.h"
#include "keel/base/clock.h"
#include "keel/metrics/exposition.h"
#include "keel/metrics/registry.h"
#include "testing/prometheus_text.h"

namespace keel::security {
namespace {

using security_test::Vectors;

std::string JwksWith(std::initializer_list<const char*> kids) {
  nlohmann::json doc = {{"keys", nlohmann::json::array()}};
  for (const auto& key : Vectors()["jwks"]["keys"]) {
    for (const char* kid : kids) {
      if (key["kid"] == kid) doc["keys"].push_back(key);
    }
  }
  return doc.dump();
}

TEST(ParseJwksTest, SkipsKeysItCannotUseAndKeepsTheRest) {
  nlohmann::json doc = Vectors()["jwks"];
  doc["keys"].push_back(Vectors()["oct_keys"]["keys"][0]);         // oct
  doc["keys"].push_back({{"kty", "RSA-OAEP"}, {"kid", "weird"}});  // unknown
  doc["keys"].push_back("not an object");
  nlohmann::json enc = doc["keys"][0];
  enc["use"] = "enc";
  doc["keys"].push_back(enc);
  absl::StatusOr<JwkSet> set = ParseJwks(doc.dump());
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->keys.size(), 10u);
  ASSERT_EQ(set->skipped.size(), 4u);
  EXPECT_NE(set->skipped[0].find("oct"), std::string::npos);
}

TEST(ParseJwksTest, RsaKeyWithoutAlgTakesTheConfiguredDefault) {
  nlohmann::json rsa = nlohmann::json::parse(JwksWith({"ps256"}))["keys"][0];
  rsa.erase("alg");
  const std::string doc = nlohmann::json{{"keys", {rsa}}}.dump();
  absl::StatusOr<JwkSet> set = ParseJwks(doc);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->keys[0].algorithm(), JwtAlgorithm::kRs256);
  JwksParseOptions options;
  options.rsa_default_algorithm = JwtAlgorithm::kPs256;
  set = ParseJwks(doc, options);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->keys[0].algorithm(), JwtAlgorithm::kPs256);
  options.rsa_default_algorithm = std::nullopt;
  EXPECT_FALSE(ParseJwks(doc, options).ok());
}

TEST(ParseJwksTest, RefusesBadDocuments) {
  EXPECT_FALSE(ParseJwks("").ok());
  EXPECT_FALSE(ParseJwks("[]").ok());
  EXPECT_FALSE(ParseJwks(R"({"keys":{}})").ok());
  EXPECT_FALSE(ParseJwks(R"({"keys":[]})").ok());
  EXPECT_FALSE(ParseJwks(R"({"keys":[],"keys":[]})").ok());
  const std::string good = Vectors()["jwks"].dump();
  JwksParseOptions options;
  options.max_keys = 3;
  EXPECT_FALSE(ParseJwks(good, options).ok());
  options = JwksParseOptions();
  options.max_bytes = 100;
  EXPECT_FALSE(ParseJwks(good, options).ok());
}

// Key sets follow the JWT's JSON rules (the same scanner runs first).
TEST(ParseJwksTest, AppliesTheStrictJsonRules) {
  std::string doc = JwksWith({"es256"});
  ASSERT_TRUE(ParseJwks(doc).ok());
  const std::string body = doc.substr(0, doc.size() - 1);
  // Escaped names are decoded, as any JSON parser must.
  std::string escaped = doc;
  escaped.replace(escaped.find("\"kty\""), 5, "\"\\u006bty\"");
  absl::StatusOr<JwkSet> set = ParseJwks(escaped);
  ASSERT_TRUE(set.ok()) << escaped << ": " << set.status();
  EXPECT_EQ(set->keys[0].kid(), "es256");
  for (const std::string& bad : {
           body + R"(,"meta":{"a":1,"\u0061":2}})",  // nested duplicate
           body + R"(,"meta":"\udc00"})",            // lone surrogate
           body + ",\"meta\":\"\xC0\xAF\"}",         // overlong UTF-8
           body + R"(,"meta":1e999})",               // beyond double range
           "\xEF\xBB\xBF" + doc,                     // byte order mark
           doc + std::string(1, '\0'),               // trailing NUL
       }) {
    absl::StatusOr<JwkSet> refused = ParseJwks(bad);
    EXPECT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(FileJwksFetcherTest, ReadsTheFileOnEveryFetch) {
  const std::string path =
      ::testing::TempDir() + "/keel_jwks_fetcher_test.json";
  std::remove(path.c_str());
  auto fetcher = FileJwksFetcher::Create(path, 64);
  ASSERT_TRUE(fetcher.ok());
  EXPECT_EQ((*fetcher)->Fetch().status().code(), absl::StatusCode::kNotFound);
  std::ofstream(path) << R"({"keys":[]})";
  EXPECT_EQ((*fetcher)->Fetch().value(), R"({"keys":[]})");
  std::ofstream(path) << std::string(65, ' ');
  EXPECT_EQ((*fetcher)->Fetch().status().code(),
            absl::StatusCode::kInvalidArgument);
  std::remove(path.c_str());
  EXPECT_FALSE(FileJwksFetcher::Create("").ok());
  EXPECT_FALSE(FileJwksFetcher::Create(path, 0).ok());
}

// Records requests and answers with a scripted response.
class FakeTransport final : public trace::ExportTransport {
 public:
  absl::StatusOr<trace::ExportResponse> Post(
      const trace::ExportRequest& request) override {
    last_request = request;
    return response;
  }
  trace::ExportRequest last_request;
  absl::StatusOr<trace::ExportResponse> response;
};

TEST(HttpJwksFetcherTest, SendsThroughTheTransport) {
  auto transport = std::make_shared<FakeTransport>();
  HttpJwksFetcherOptions options;
  options.url = "https://issuer.example/jwks";
  options.transport = transport;
  options.headers = {{"X-Api-Key", "k"}};
  options.max_bytes = 20;
  auto fetcher = HttpJwksFetcher::Create(options);
  ASSERT_TRUE(fetcher.ok()) << fetcher.status();
  trace::ExportResponse ok;
  ok.status_code = 200;
  ok.body = R"({"keys":[]})";
  transport->response = ok;
  EXPECT_EQ((*fetcher)->Fetch().value(), ok.body);
  EXPECT_EQ(transport->last_request.method, "GET");
  EXPECT_EQ(transport->last_request.url, options.url);
  EXPECT_TRUE(transport->last_request.body.empty());
  EXPECT_TRUE(transport->last_request.content_type.empty());
  ASSERT_EQ(transport->last_request.headers.size(), 2u);
  EXPECT_EQ(transport->last_request.headers[1].first, "Accept");
  EXPECT_EQ(transport->last_request.timeout, options.timeout);

  trace::ExportResponse not_found;
  not_found.status_code = 404;
  transport->response = not_found;
  EXPECT_EQ((*fetcher)->Fetch().status().code(),
            absl::StatusCode::kUnavailable);
  ok.body = std::string(21, ' ');
  transport->response = ok;
  EXPECT_EQ((*fetcher)->Fetch().status().code(),
            absl::StatusCode::kInvalidArgument);
  transport->response = absl::UnavailableError("connection refused");
  EXPECT_EQ((*fetcher)->Fetch().status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(HttpJwksFetcherTest, ValidatesOptions) {
  HttpJwksFetcherOptions options;
  options.url = "http://issuer.example/jwks";
  options.transport = std::make_shared<FakeTransport>();
  EXPECT_FALSE(HttpJwksFetcher::Create(options).ok());  // plain http
  options.allow_insecure_http = true;
  EXPECT_TRUE(HttpJwksFetcher::Create(options).ok());
  options.timeout = std::chrono::nanoseconds(0);
  EXPECT_FALSE(HttpJwksFetcher::Create(options).ok());
  options.timeout = std::chrono::seconds(1);
  options.transport = nullptr;
  EXPECT_FALSE(HttpJwksFetcher::Create(options).ok());
}

// Serves scripted results, then repeats the last one; counts fetches.
class ScriptedFetcher final : public JwksFetcher {
 public:
  absl::StatusOr<std::string> Fetch() override {
    ++fetches;
    MutexLock lock(mu_);
    if (script_.size() > 1) {
      auto next = script_.front();
      script_.pop_front();
      return next;
    }
    return script_.front();
  }
  void Push(absl::StatusOr<std::string> result) {
    MutexLock lock(mu_);
    script_.push_back(std::move(result));
  }
  std::atomic<int> fetches{0};

 private:
  Mutex mu_;
  std::deque<absl::StatusOr<std::string>> script_ ABSL_GUARDED_BY(mu_);
};

class JwksProviderTest : public ::testing::Test {
 protected:
  std::unique_ptr<JwksProvider> Make() {
    JwksProviderOptions options;
    options.fetcher = fetcher_;
    options.clock = &clock_;
    options.refresh_interval = std::chrono::minutes(10);
    options.max_age = std::chrono::hours(1);
    options.min_fetch_interval = std::chrono::seconds(30);
    options.metrics = &registry_;
    options.name = "idp";
    auto provider = JwksProvider::Create(std::move(options));
    EXPECT_TRUE(provider.ok()) << provider.status();
    return std::move(*provider);
  }

  ManualClock clock_;
  metrics::Registry registry_;
  std::shared_ptr<ScriptedFetcher> fetcher_ =
      std::make_shared<ScriptedFetcher>();
};

TEST_F(JwksProviderTest, CachesForTheRefreshInterval) {
  fetcher_->Push(JwksWith({"es256"}));
  auto provider = Make();
  EXPECT_EQ(fetcher_->fetches, 0);  // Create() does not fetch
  auto keys = provider->Keys();
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ((*keys)->keys.size(), 1u);
  clock_.Advance(std::chrono::minutes(9));
  ASSERT_TRUE(provider->Keys().ok());
  EXPECT_EQ(fetcher_->fetches, 1);
  clock_.Advance(std::chrono::minutes(1));
  ASSERT_TRUE(provider->Keys().ok());
  EXPECT_EQ(fetcher_->fetches, 2);
}

TEST_F(JwksProviderTest, UnknownKidRefetchesWithCooldown) {
  fetcher_->Push(JwksWith({"es256"}));
  fetcher_->Push(JwksWith({"es256", "rs256"}));
  auto provider = Make();
  ASSERT_TRUE(provider->Keys().ok());
  clock_.Advance(std::chrono::seconds(10));
  // Inside the cooldown: no fetch, the set in hand is served.
  auto keys = provider->KeysForKid("rs256");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ((*keys)->keys.size(), 1u);
  EXPECT_EQ(fetcher_->fetches, 1);
  clock_.Advance(std::chrono::seconds(20));
  keys = provider->KeysForKid("rs256");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ((*keys)->keys.size(), 2u);
  EXPECT_EQ(fetcher_->fetches, 2);
  // A flood of random kids costs one fetch per cooldown.
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(provider->KeysForKid("random-" + std::to_string(i)).ok());
  }
  EXPECT_EQ(fetcher_->fetches, 2);
  clock_.Advance(std::chrono::seconds(30));
  ASSERT_TRUE(provider->KeysForKid("nope").ok());
  EXPECT_EQ(fetcher_->fetches, 3);
  ASSERT_TRUE(provider->KeysForKid("es256").ok());
  EXPECT_EQ(fetcher_->fetches, 3);
}

TEST_F(JwksProviderTest, ServesLastGoodSetUntilMaxAge) {
  fetcher_->Push(JwksWith({"es256"}));
  fetcher_->Push(absl::UnavailableError("idp down"));
  auto provider = Make();
  auto health = provider->HealthCheck();
  EXPECT_EQ(health().status, health::Status::kFail);
  ASSERT_TRUE(provider->Refresh().ok());
  EXPECT_EQ(health().status, health::Status::kPass);
  clock_.Advance(std::chrono::minutes(10));
  EXPECT_TRUE(provider->Keys().ok());  // fetch fails, old set served
  EXPECT_EQ(fetcher_->fetches, 2);
  EXPECT_EQ(health().status, health::Status::kWarn);
  EXPECT_NE(health().output.find("idp down"), std::string::npos);
  clock_.Advance(std::chrono::minutes(50));
  auto keys = provider->Keys();
  EXPECT_EQ(keys.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(keys.status().message().find("idp down"), std::string::npos);
  EXPECT_EQ(health().status, health::Status::kFail);
  std::string text = testing::PrometheusText(registry_);
  EXPECT_NE(
      text.find(R"(keel_jwks_fetches_total{provider="idp",result="ok"} 1)"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find(R"(keel_jwks_fetches_total{provider="idp",result="error"} 2)"),
      std::string::npos)
      << text;
}

TEST_F(JwksProviderTest, AnUnusableDocumentDoesNotReplaceTheSet) {
  fetcher_->Push(JwksWith({"es256"}));
  fetcher_->Push(std::string(R"({"keys":[{"kty":"oct","k":"AAAA"}]})"));
  auto provider = Make();
  ASSERT_TRUE(provider->Refresh().ok());
  EXPECT_FALSE(provider->Refresh().ok());
  auto keys = provider->Keys();
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ((*keys)->keys[0].kid(), "es256");
}

TEST_F(JwksProviderTest, FirstFetchFailureIsUnavailable) {
  fetcher_->Push(absl::UnavailableError("idp down"));
  auto provider = Make();
  EXPECT_EQ(provider->Keys().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(provider->Keys().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(fetcher_->fetches, 1);  // the cooldown applies to failures too
}

TEST_F(JwksProviderTest, CreateValidatesOptions) {
  JwksProviderOptions options;
  EXPECT_FALSE(JwksProvider::Create(options).ok());  // fetcher
  options.fetcher = fetcher_;
  EXPECT_TRUE(JwksProvider::Create(options).ok());
  JwksProviderOptions bad = options;
  bad.name.clear();
  EXPECT_FALSE(JwksProvider::Create(bad).ok());
  bad = options;
  bad.max_age = bad.refresh_interval - std::chrono::seconds(1);
  EXPECT_FALSE(JwksProvider::Create(bad).ok());
  bad = options;
  bad.refresh_interval = std::chrono::seconds(0);
  EXPECT_FALSE(JwksProvider::Create(bad).ok());
  bad = options;
  bad.min_fetch_interval = std::chrono::seconds(-1);
  EXPECT_FALSE(JwksProvider::Create(bad).ok());
  bad = options;
  bad.clock = nullptr;
  EXPECT_FALSE(JwksProvider::Create(bad).ok());
}

// Blocks in Fetch() until released.
class GatedFetcher final : public JwksFetcher {
 public:
  explicit GatedFetcher(std::string document)
      : document_(std::move(document)) {}
  absl::StatusOr<std::string> Fetch() override {
    ++entered;
    while (!released.load()) std::this_thread::yield();
    return document_;
  }
  std::atomic<int> entered{0};
  std::atomic<bool> released{false};

 private:
  const std::string document_;
};

// A fixed clock that counts its readings, so the test can tell that a
// lookup has made its decision.
class CountingClock final : public Clock {
 public:
  MonoTime Now() const noexcept override {
    ++readings;
    return MonoTime(std::chrono::seconds(100));
  }
  std::chrono::nanoseconds WallNow() const noexcept override {
    return std::chrono::seconds(1700000000);
  }
  mutable std::atomic<int> readings{0};
};

TEST_F(JwksProviderTest, FirstLookupsWaitForTheFetchInFlight) {
  auto fetcher = std::make_shared<GatedFetcher>(JwksWith({"es256"}));
  CountingClock clock;
  JwksProviderOptions options;
  options.fetcher = fetcher;
  options.clock = &clock;
  options.min_fetch_interval = std::chrono::seconds(30);
  auto provider = JwksProvider::Create(std::move(options));
  ASSERT_TRUE(provider.ok());
  absl::Status first;
  std::thread fetching([&] { first = (*provider)->Keys().status(); });
  while (fetcher->entered.load() == 0) std::this_thread::yield();
  // The cooldown started with the fetch in flight: a second caller, with no
  // key set to serve, must wait for that fetch instead of reporting that
  // nothing was fetched. Its first clock reading is its decision.
  const int readings = clock.readings.load();
  absl::Status second;
  std::thread waiting([&] { second = (*provider)->Keys().status(); });
  while (clock.readings.load() == readings) std::this_thread::yield();
  fetcher->released = true;
  fetching.join();
  waiting.join();
  EXPECT_TRUE(first.ok()) << first;
  EXPECT_TRUE(second.ok()) << second;
  EXPECT_EQ(fetcher->entered.load(), 1);
}

TEST_F(JwksProviderTest, ConcurrentLookupsDuringRefetches) {
  fetcher_->Push(JwksWith({"es256", "rs256"}));
  JwksProviderOptions options;
  options.fetcher = fetcher_;
  options.clock = &clock_;
  options.min_fetch_interval = std::chrono::seconds(0);
  options.refresh_interval = std::chrono::seconds(1);
  auto provider = JwksProvider::Create(std::move(options));
  ASSERT_TRUE(provider.ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        auto keys = (t % 2 == 0) ? (*provider)->Keys()
                                 : (*provider)->KeysForKid("missing");
        if (!keys.ok() || (*keys)->keys.size() != 2) ++failures;
        if (t == 0 && i % 10 == 0) clock_.Advance(std::chrono::seconds(1));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  EXPECT_GE(fetcher_->fetches, 2);
}

}  // namespace
}  // namespace keel::security
