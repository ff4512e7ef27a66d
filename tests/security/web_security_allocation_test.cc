// Proves that applying a header preset to a response that already has room,
// resolving the client IP and checking request limits allocate nothing, by
// counting calls to the global operator new made by this thread.

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "keel/security/client_ip.h"
#include "keel/security/http_fields.h"
#include "keel/security/request_limits.h"
#include "keel/security/security_headers.h"
#include "testing/allocation_counter.h"

namespace keel {
namespace security {
namespace {

using testing::CountAllocations;

// A sink that only looks at the values, like a server writing them straight
// into its output buffer.
class ByteCountingSink final : public HeaderSink {
 public:
  void Set(std::string_view name, std::string_view value) override {
    bytes_ += name.size() + value.size();
  }
  void Add(std::string_view name, std::string_view value) override {
    Set(name, value);
  }
  void Remove(std::string_view) override {}
  std::size_t bytes() const { return bytes_; }

 private:
  std::size_t bytes_ = 0;
};

TEST(WebSecurityAllocationTest, CounterWorks) {
  // An explicit operator new call through a volatile pointer: unlike a
  // new-expression, the optimiser may not elide it.
  EXPECT_GE(CountAllocations([] {
              void* volatile p = ::operator new(16);
              ::operator delete(p);
            }),
            1u);
}

TEST(WebSecurityAllocationTest, ApplyPreset) {
  for (auto options :
       {SecurityHeadersOptions::Helmet(), SecurityHeadersOptions::StrictApi(),
        SecurityHeadersOptions::Owasp()}) {
    auto headers = SecurityHeaders::Create(std::move(options)).value();
    ByteCountingSink counting;
    EXPECT_EQ(CountAllocations([&] { headers->Apply(true, &counting); }), 0u);
    EXPECT_GT(counting.bytes(), 100u);

    std::vector<std::pair<std::string, std::string>> response = {
        {"Server", "x"}, {"Content-Type", "application/json"}};
    FieldVectorSink sink(&response);
    headers->Apply(true, &sink);  // first response: the vector grows
    EXPECT_EQ(CountAllocations([&] {
                for (int i = 0; i < 100; ++i) headers->Apply(true, &sink);
              }),
              0u);
  }
}

TEST(WebSecurityAllocationTest, ClientIpAndRequestLimits) {
  ClientIpOptions ip_options;
  ip_options.trusted_proxies = {"10.0.0.0/8", "fd00::/8"};
  auto resolver = ClientIpResolver::Create(ip_options).value();
  ip_options.header = ForwardedHeader::kForwarded;
  auto forwarded_resolver = ClientIpResolver::Create(ip_options).value();
  auto limits = RequestLimits::Create(RequestLimitsOptions()).value();
  const FieldView fields[] = {
      {"X-Forwarded-For", "6.6.6.6, 2001:db8::7, 10.1.2.3"},
      {"Forwarded", "for=\"[2001:db8::9]:1\";proto=https, for=10.0.0.8"},
  };
  RequestView request;
  request.method = "GET";
  request.target = "/a/%2e/b?q=1";
  request.peer_address = "10.0.0.5";
  request.fields = fields;
  request.field_count = 2;
  EXPECT_EQ(CountAllocations([&] {
              for (int i = 0; i < 100; ++i) {
                EXPECT_EQ(resolver->Resolve(request).address,
                          IpAddress::Parse("2001:db8::7").value());
                EXPECT_TRUE(forwarded_resolver->Resolve(request).https);
                EXPECT_TRUE(limits->Check(request).ok());
              }
            }),
            0u);
}

}  // namespace
}  // namespace security
}  // namespace keel
