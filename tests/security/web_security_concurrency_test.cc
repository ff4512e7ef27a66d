// Shares one SecurityHeaders, Cors, ClientIpResolver and RequestLimits between
// threads (they are documented as immutable and thread-safe) and checks every
// answer; the ThreadSanitizer run keeps this honest.

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "keel/security/client_ip.h"
#include "keel/security/cors.h"
#include "keel/security/csp.h"
#include "keel/security/http_fields.h"
#include "keel/security/request_limits.h"
#include "keel/security/security_headers.h"

namespace keel {
namespace security {
namespace {

TEST(WebSecurityConcurrencyTest, SharedComponentsGiveTheSameAnswers) {
  auto headers =
      SecurityHeaders::Create(SecurityHeadersOptions::Owasp()).value();
  CorsOptions cors_options;
  cors_options.allowed_origins = {"https://app.example.com"};
  cors_options.allow_credentials = true;
  auto cors = Cors::Create(cors_options).value();
  ClientIpOptions ip_options;
  ip_options.trusted_proxies = {"10.0.0.0/8"};
  auto resolver = ClientIpResolver::Create(ip_options).value();
  auto limits = RequestLimits::Create(RequestLimitsOptions()).value();

  const FieldView fields[] = {
      {"Origin", "https://app.example.com"},
      {"X-Forwarded-For", "198.51.100.7, 10.0.0.9"},
      {"X-Forwarded-Proto", "https"},
  };
  RequestView request;
  request.method = "GET";
  request.target = "/a/../b";
  request.peer_address = "10.0.0.5";
  request.fields = fields;
  request.field_count = 3;
  const IpAddress expected = IpAddress::Parse("198.51.100.7").value();

  constexpr int kThreads = 4;
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        std::vector<std::pair<std::string, std::string>> response;
        FieldVectorSink sink(&response);
        const ClientInfo client = resolver->Resolve(request);
        if (client.address != expected || !client.https) ++failures[t];
        if (!limits->Check(request).ok()) ++failures[t];
        if (cors->Handle(request, &sink).outcome != CorsOutcome::kAllowed) {
          ++failures[t];
        }
        auto nonce = GenerateCspNonce();
        if (!nonce.ok()) ++failures[t];
        headers->ApplyWithNonce(client.https, *nonce, &sink);
        if (response.size() != 3 + headers->fields(true).size()) {
          ++failures[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << t;
}

}  // namespace
}  // namespace security
}  // namespace keel
