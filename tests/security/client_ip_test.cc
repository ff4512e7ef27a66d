#include "keel/security/client_ip.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keel/security/http_fields.h"

namespace keel {
namespace security {
namespace {

using ::testing::HasSubstr;

IpAddress Ip(std::string_view text) { return IpAddress::Parse(text).value(); }

ClientInfo Resolve(const ClientIpResolver& resolver, std::string_view peer,
                   std::vector<FieldView> fields, bool tls = false) {
  RequestView request;
  request.peer_address = peer;
  request.tls = tls;
  request.fields = fields.data();
  request.field_count = fields.size();
  return resolver.Resolve(request);
}

std::unique_ptr<ClientIpResolver> Make(ForwardedHeader header) {
  ClientIpOptions options;
  options.trusted_proxies = {"10.0.0.0/8", "fd00::/8", "192.0.2.1"};
  options.header = header;
  return ClientIpResolver::Create(options).value();
}

TEST(IpAddressTest, ParsesAndFormats) {
  EXPECT_EQ(Ip("192.0.2.1").ToString(), "192.0.2.1");
  EXPECT_EQ(Ip("2001:DB8:0:0::1").ToString(), "2001:db8::1");
  EXPECT_TRUE(Ip("::ffff:192.0.2.1").is_v4());
  EXPECT_EQ(Ip("::ffff:192.0.2.1"), Ip("192.0.2.1"));
  for (const char* bad :
       {"", "1.2.3", "1.2.3.256", "1.2.3.4 ", "fe80::1%eth0", "[::1]", "::1::2",
        "example.com", "1111:2222:3333:4444:5555:6666:7777:8888:9999"}) {
    EXPECT_FALSE(IpAddress::Parse(bad).has_value()) << bad;
  }
}

TEST(IpNetworkTest, ContainsAndValidation) {
  auto v4 = IpNetwork::Parse("10.1.0.0/16").value();
  EXPECT_TRUE(v4.Contains(Ip("10.1.255.3")));
  EXPECT_FALSE(v4.Contains(Ip("10.2.0.1")));
  EXPECT_TRUE(v4.Contains(Ip("::ffff:10.1.0.9")));
  EXPECT_FALSE(v4.Contains(Ip("2001:db8::1")));
  auto v6 = IpNetwork::Parse("2001:db8:80::/41").value();
  EXPECT_TRUE(v6.Contains(Ip("2001:db8:ff::1")));
  EXPECT_FALSE(v6.Contains(Ip("2001:db8:100::1")));
  auto odd = IpNetwork::Parse("172.16.0.0/12").value();
  EXPECT_TRUE(odd.Contains(Ip("172.31.255.255")));
  EXPECT_FALSE(odd.Contains(Ip("172.32.0.0")));
  EXPECT_TRUE(IpNetwork::Parse("0.0.0.0/0").value().Contains(Ip("8.8.8.8")));
  EXPECT_TRUE(
      IpNetwork::Parse("::ffff:10.0.0.0/104").value().Contains(Ip("10.9.9.9")));
  EXPECT_THAT(std::string(IpNetwork::Parse("10.0.0.1/8").status().message()),
              HasSubstr("host bits"));
  for (const char* bad : {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "::/129",
                          "host/8", "10.0.0.0/-1"}) {
    EXPECT_FALSE(IpNetwork::Parse(bad).ok()) << bad;
  }
}

TEST(ClientIpTest, UntrustedPeerHeadersIgnored) {
  auto resolver = Make(ForwardedHeader::kXForwardedFor);
  ClientInfo info =
      Resolve(*resolver, "203.0.113.9",
              {{"X-Forwarded-For", "1.1.1.1"}, {"X-Forwarded-Proto", "https"}});
  EXPECT_EQ(info.address, Ip("203.0.113.9"));
  EXPECT_FALSE(info.https);
  EXPECT_FALSE(info.forwarded);
}

TEST(ClientIpTest, XForwardedForRightToLeft) {
  auto resolver = Make(ForwardedHeader::kXForwardedFor);
  // The spoofed leftmost entry is never reached.
  ClientInfo info = Resolve(*resolver, "10.0.0.5",
                            {{"X-Forwarded-For", "6.6.6.6, 198.51.100.7"},
                             {"X-Forwarded-For", "10.0.0.9"},
                             {"X-Forwarded-Proto", "http, https"}});
  EXPECT_EQ(info.address, Ip("198.51.100.7"));
  EXPECT_TRUE(info.forwarded);
  EXPECT_TRUE(info.https);
}

TEST(ClientIpTest, AllTrustedGivesLeftmost) {
  auto resolver = Make(ForwardedHeader::kXForwardedFor);
  ClientInfo info = Resolve(*resolver, "10.0.0.5",
                            {{"X-Forwarded-For", "fd00::7, 10.3.3.3"}});
  EXPECT_EQ(info.address, Ip("fd00::7"));
}

TEST(ClientIpTest, GarbageStopsTheWalk) {
  auto resolver = Make(ForwardedHeader::kXForwardedFor);
  ClientInfo info =
      Resolve(*resolver, "10.0.0.5",
              {{"X-Forwarded-For", "1.2.3.4, unknown, 10.0.0.7"}});
  EXPECT_EQ(info.address, Ip("10.0.0.7"));
}

TEST(ClientIpTest, ForwardedHeader) {
  auto resolver = Make(ForwardedHeader::kForwarded);
  ClientInfo info =
      Resolve(*resolver, "192.0.2.1",
              {{"Forwarded", "for=6.6.6.6;proto=http"},
               {"Forwarded",
                "for=\"[2001:db8:cafe::17]:4711\";proto=https;by=10.0.0.1, "
                "for=10.0.0.2"},
               {"X-Forwarded-For", "9.9.9.9"}});
  EXPECT_EQ(info.address, Ip("2001:db8:cafe::17"));
  EXPECT_TRUE(info.https);
  EXPECT_TRUE(info.forwarded);
}

TEST(ClientIpTest, MalformedForwardedIgnored) {
  auto resolver = Make(ForwardedHeader::kForwarded);
  ClientInfo info = Resolve(*resolver, "10.0.0.1",
                            {{"Forwarded", "for=1.2.3.4;for=5.6.7.8"}}, true);
  EXPECT_EQ(info.address, Ip("10.0.0.1"));
  EXPECT_TRUE(info.https);
  EXPECT_FALSE(info.forwarded);
}

TEST(ClientIpTest, MaxHopsBoundsTheWalk) {
  ClientIpOptions options;
  options.trusted_proxies = {"10.0.0.0/8"};
  options.max_hops = 2;
  auto resolver = ClientIpResolver::Create(options).value();
  ClientInfo info =
      Resolve(*resolver, "10.0.0.1",
              {{"X-Forwarded-For", "1.1.1.1, 10.0.0.3, 10.0.0.2"}});
  EXPECT_EQ(info.address, Ip("10.0.0.3"));
}

TEST(ClientIpTest, BadPeerIsInvalid) {
  auto resolver = Make(ForwardedHeader::kXForwardedFor);
  ClientInfo info = Resolve(*resolver, "not-an-ip", {});
  EXPECT_FALSE(info.valid);
}

TEST(ClientIpTest, CreateValidates) {
  ClientIpOptions options;
  options.trusted_proxies = {"10.0.0.0/8", "10.0.0.300"};
  EXPECT_THAT(std::string(ClientIpResolver::Create(options).status().message()),
              HasSubstr("trusted_proxies"));
  options.trusted_proxies = {};
  options.max_hops = 0;
  EXPECT_THAT(std::string(ClientIpResolver::Create(options).status().message()),
              HasSubstr("max_hops"));
  options.max_hops = 65;
  EXPECT_FALSE(ClientIpResolver::Create(options).ok());
}

TEST(ForwardedParserTest, Rfc7239Examples) {
  auto elements = ParseForwarded(
      "for=\"_gazonk\", For=\"[2001:db8:cafe::17]:4711\", "
      "for=192.0.2.60;proto=http;by=203.0.113.43, for=192.0.2.43, "
      "for=198.51.100.17;host=example.com");
  ASSERT_TRUE(elements.ok()) << elements.status();
  ASSERT_EQ(elements->size(), 5u);
  EXPECT_EQ((*elements)[0].for_node, "_gazonk");
  EXPECT_EQ((*elements)[1].for_node, "[2001:db8:cafe::17]:4711");
  EXPECT_EQ((*elements)[2].proto, "http");
  EXPECT_EQ((*elements)[2].by_node, "203.0.113.43");
  EXPECT_EQ((*elements)[4].host, "example.com");
  EXPECT_FALSE(ParseForwardedNode((*elements)[0].for_node).has_value());
  EXPECT_EQ(ParseForwardedNode((*elements)[1].for_node).value(),
            Ip("2001:db8:cafe::17"));
}

TEST(ForwardedParserTest, RejectsMalformed) {
  for (const char* bad :
       {"for", "for=", "=x", "for=\"unterminated", "for=a b", "for=a;for=b",
        "for=\"a\\\"b\"", "for=[::1]", "for=\"x\"y", ";", "for=a,;=b"}) {
    EXPECT_FALSE(ParseForwarded(bad).ok()) << bad;
  }
  EXPECT_TRUE(ParseForwarded("for=a, , for=b").ok());
  EXPECT_TRUE(ParseForwarded("ext=1;for=a").ok());
}

TEST(ForwardedParserTest, Nodes) {
  EXPECT_EQ(ParseForwardedNode("192.0.2.43:47011").value(), Ip("192.0.2.43"));
  EXPECT_EQ(ParseForwardedNode("[::1]").value(), Ip("::1"));
  for (const char* bad : {"unknown", "_hidden", "2001:db8::1", "[1.2.3.4]",
                          "[::1]x", "[::1]:", ""}) {
    EXPECT_FALSE(ParseForwardedNode(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace security
}  // namespace keel
