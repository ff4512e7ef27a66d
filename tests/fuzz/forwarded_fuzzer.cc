// Fuzzes the Forwarded (RFC 7239) parser, node parser, IP address parser and
// the client-IP walk. Invariants: a parsed Forwarded value, serialized again
// with every value quoted, parses to the same elements; an address that
// parses prints to text that parses back to it; the walk never answers an
// address that is neither the peer nor one named in the headers, and never
// believes headers from an untrusted peer.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "keel/security/client_ip.h"
#include "keel/security/http_fields.h"

namespace {

using keel::security::ClientInfo;
using keel::security::ClientIpOptions;
using keel::security::ClientIpResolver;
using keel::security::FieldView;
using keel::security::ForwardedElement;
using keel::security::ForwardedHeader;
using keel::security::IpAddress;
using keel::security::RequestView;

void Check(bool condition) {
  if (!condition) std::abort();
}

void AppendParam(std::string* out, const char* name, std::string_view value) {
  if (value.data() == nullptr) return;
  if (!out->empty() && out->back() != ',') out->push_back(';');
  out->append(name);
  out->append("=\"");
  out->append(value.data(), value.size());
  out->push_back('"');
}

bool SameElement(const ForwardedElement& a, const ForwardedElement& b) {
  return a.for_node == b.for_node && a.by_node == b.by_node &&
         a.host == b.host && a.proto == b.proto;
}

void CheckRoundTrip(std::string_view input) {
  auto elements = keel::security::ParseForwarded(input);
  if (!elements.ok()) return;
  std::string again;
  bool any_param = true;
  for (const auto& e : *elements) {
    if (!again.empty()) again.push_back(',');
    const std::size_t before = again.size();
    AppendParam(&again, "for", e.for_node);
    AppendParam(&again, "by", e.by_node);
    AppendParam(&again, "host", e.host);
    AppendParam(&again, "proto", e.proto);
    // Elements with only extension parameters have nothing to re-serialize.
    any_param = any_param && again.size() != before;
  }
  if (!any_param) return;
  auto reparsed = keel::security::ParseForwarded(again);
  Check(reparsed.ok());
  Check(reparsed->size() == elements->size());
  for (std::size_t i = 0; i < elements->size(); ++i) {
    Check(SameElement((*elements)[i], (*reparsed)[i]));
  }
}

void CheckAddress(std::string_view input) {
  auto ip = IpAddress::Parse(input);
  if (ip) {
    auto again = IpAddress::Parse(ip->ToString());
    Check(again.has_value() && *again == *ip);
  }
  auto node = keel::security::ParseForwardedNode(input);
  if (node) Check(IpAddress::Parse(node->ToString()).has_value());
}

void CheckWalk(std::string_view input) {
  static const auto* xff = [] {
    ClientIpOptions options;
    options.trusted_proxies = {"10.0.0.0/8", "::1/128", "fd00::/8"};
    options.max_hops = 8;
    return ClientIpResolver::Create(options).value().release();
  }();
  static const auto* forwarded = [] {
    ClientIpOptions options;
    options.trusted_proxies = {"10.0.0.0/8", "::1/128", "fd00::/8"};
    options.header = ForwardedHeader::kForwarded;
    return ClientIpResolver::Create(options).value().release();
  }();
  const FieldView fields[] = {
      {"Forwarded", input},
      {"X-Forwarded-For", input},
      {"X-Forwarded-Proto", input},
  };
  RequestView request;
  request.fields = fields;
  request.field_count = 3;
  for (std::string_view peer : {"10.1.1.1", "203.0.113.1", "::1"}) {
    request.peer_address = peer;
    for (const ClientIpResolver* resolver : {xff, forwarded}) {
      const ClientInfo info = resolver->Resolve(request);
      Check(info.valid);
      const bool peer_trusted =
          resolver->IsTrusted(IpAddress::Parse(peer).value());
      if (!info.forwarded) {
        Check(info.address == IpAddress::Parse(peer).value());
      }
      if (!peer_trusted) {
        // Only a trusted proxy may vouch for the address or the scheme; a
        // trusted one may vouch for the scheme alone (X-Forwarded-Proto with
        // an unusable X-Forwarded-For).
        Check(!info.forwarded);
        Check(!info.https);
      }
      if (info.forwarded && input.size() <= 512) {
        // Whatever was chosen must appear in the input.
        const IpAddress& a = info.address;
        bool named = false;
        std::string_view rest = input;
        for (std::size_t i = 0; i < rest.size() && !named; ++i) {
          for (std::size_t n = 1; n <= 48 && i + n <= rest.size(); ++n) {
            const std::string_view piece = rest.substr(i, n);
            auto ip = IpAddress::Parse(piece);
            if (ip && *ip == a) {
              named = true;
              break;
            }
          }
        }
        Check(named);
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  if (size > 4096) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckRoundTrip(input);
  CheckAddress(input);
  CheckWalk(input);
  return 0;
}
