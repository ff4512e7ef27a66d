// keel/security/client_ip.h
//
// The client's IP address and scheme, from the socket peer or — only when the
// peer is a configured trusted proxy — from `Forwarded` (RFC 7239) or
// `X-Forwarded-For`/`X-Forwarded-Proto`.
//
//   keel::security::ClientIpOptions options;
//   options.trusted_proxies = {"10.0.0.0/8", "fd00::/8"};
//   auto resolver = keel::security::ClientIpResolver::Create(options);
//   ...
//   keel::security::ClientInfo client = (*resolver)->Resolve(request);
//   // client.address.ToString() == "203.0.113.7", client.https == true
//
// The walk: if the peer is not trusted, the headers are ignored (anyone can
// send them) and the peer is the client. Otherwise the forwarded chain is
// read right to left — each trusted proxy appends the address it received
// from — and the first address that is not a trusted proxy is the client. If
// every hop is trusted, the leftmost is the client. An entry that is not an
// IP address (`unknown`, an obfuscated `_node`, garbage) stops the walk: the
// client is the last trusted hop, never something to the left of a value
// keel cannot vouch for. A malformed `Forwarded` field makes the resolver
// ignore the forwarding headers altogether (the peer is the client).
// At most `max_hops` entries from the right are examined.
//
// `https` is true for TLS connections; behind trusted proxies it comes from
// the `proto` parameter of the `Forwarded` element that named the client, or
// the rightmost `X-Forwarded-Proto` value.
//
// Thread safety: ClientIpResolver is immutable after Create; Resolve is
// thread-safe and allocates nothing.

#ifndef KEEL_SECURITY_CLIENT_IP_H_
#define KEEL_SECURITY_CLIENT_IP_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "keel/security/http_fields.h"

namespace keel {
namespace security {

// An IPv4 or IPv6 address. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are
// stored as IPv4 so that IPv4 CIDRs match them.
class IpAddress {
 public:
  // Parses dotted IPv4 or RFC 4291 IPv6 text (no brackets, port or zone).
  static std::optional<IpAddress> Parse(std::string_view text);

  // The unspecified IPv4 address 0.0.0.0.
  IpAddress() = default;

  bool is_v4() const { return v4_; }
  // Network-order bytes: the first 4 for IPv4, all 16 for IPv6.
  const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }
  // Canonical text (RFC 5952 for IPv6).
  std::string ToString() const;

  friend bool operator==(const IpAddress& a, const IpAddress& b) {
    return a.v4_ == b.v4_ && a.bytes_ == b.bytes_;
  }
  friend bool operator!=(const IpAddress& a, const IpAddress& b) {
    return !(a == b);
  }

 private:
  bool v4_ = true;
  std::array<std::uint8_t, 16> bytes_{};
};

// An address block such as 10.0.0.0/8 or 2001:db8::/32.
class IpNetwork {
 public:
  // Parses "address/prefix" or a bare address (a /32 or /128). Host bits
  // beyond the prefix must be zero, so a typo cannot widen the block
  // silently. Fails with kInvalidArgument.
  static absl::StatusOr<IpNetwork> Parse(std::string_view text);

  // True when `address` is in the block (same family).
  bool Contains(const IpAddress& address) const;

 private:
  IpAddress base_;
  int prefix_ = 0;
};

// Which forwarding headers a trusted proxy sets.
enum class ForwardedHeader {
  kForwarded,      // RFC 7239 Forwarded
  kXForwardedFor,  // X-Forwarded-For (+ X-Forwarded-Proto)
};

// Options of ClientIpResolver.
struct ClientIpOptions {
  // CIDRs (or single addresses) of proxies whose headers are believed.
  // Empty: headers are never used and the peer is always the client.
  std::vector<std::string> trusted_proxies;
  // The header the proxies write; the other one is ignored (a proxy that
  // appends only one of them cannot vouch for the other).
  ForwardedHeader header = ForwardedHeader::kXForwardedFor;
  // Entries examined from the right, 1..64.
  std::size_t max_hops = 16;
};

// The resolved client.
struct ClientInfo {
  IpAddress address;
  // TLS on the client's connection (directly or as reported by a trusted
  // proxy).
  bool https = false;
  // True when `address` came from a forwarding header.
  bool forwarded = false;
  // False when the socket peer address itself did not parse (then address
  // is 0.0.0.0 and nothing else is trusted).
  bool valid = true;
};

// Resolves the client address of requests.
//
// Thread safety: immutable; Resolve is thread-safe.
class ClientIpResolver {
 public:
  // Fails with kInvalidArgument naming a bad trusted_proxies entry or a
  // max_hops outside 1..64.
  static absl::StatusOr<std::unique_ptr<ClientIpResolver>> Create(
      ClientIpOptions options);

  // See the file comment.
  ClientInfo Resolve(const RequestView& request) const;

  // True when `address` is a trusted proxy.
  bool IsTrusted(const IpAddress& address) const;

 private:
  ClientIpResolver() = default;

  ClientIpOptions options_;
  std::vector<IpNetwork> trusted_;
};

// One element of a Forwarded field, with quoted-strings unquoted (views into
// the field value; a parameter with escapes is reported as malformed).
struct ForwardedElement {
  std::string_view for_node;
  std::string_view by_node;
  std::string_view host;
  std::string_view proto;
};

// Parses one Forwarded field value into its elements (RFC 7239 section 4:
// comma-separated elements of ';'-separated token=value pairs, values token
// or quoted-string, each parameter at most once per element). Fails with
// kInvalidArgument on any syntax error.
absl::StatusOr<std::vector<ForwardedElement>> ParseForwarded(
    std::string_view value);

// The IP address named by a Forwarded node ("192.0.2.1", "192.0.2.1:80",
// "[2001:db8::1]", "[2001:db8::1]:443"); nullopt for "unknown", obfuscated
// identifiers and anything else.
std::optional<IpAddress> ParseForwardedNode(std::string_view node);

}  // namespace security
}  // namespace keel

#endif  // KEEL_SECURITY_CLIENT_IP_H_
