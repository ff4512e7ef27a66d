#include "keel/security/client_ip.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "keel/security/http_fields.h"
#include "text.h"

namespace keel {
namespace security {
namespace {

using security_internal::IsTchar;

constexpr std::size_t kMaxHopsLimit = 64;

// A cursor over a Forwarded field value that yields one element at a time,
// without allocating.
class ForwardedCursor {
 public:
  explicit ForwardedCursor(std::string_view value) : rest_(value) {}

  // Reads the next element into `out`. Returns false at the end or on a
  // syntax error (then error() is true).
  bool Next(ForwardedElement* out) {
    *out = ForwardedElement();
    while (true) {
      SkipOws();
      if (rest_.empty()) return false;
      if (rest_.front() != ',') break;
      rest_.remove_prefix(1);  // empty list element
    }
    bool any = false;
    while (!rest_.empty() && rest_.front() != ',') {
      if (rest_.front() == ';') {
        rest_.remove_prefix(1);
        SkipOws();
        continue;
      }
      std::size_t n = 0;
      while (n < rest_.size() && IsTchar(rest_[n])) ++n;
      if (n == 0 || n == rest_.size() || rest_[n] != '=') return Fail();
      const std::string_view name = rest_.substr(0, n);
      rest_.remove_prefix(n + 1);
      std::string_view value;
      if (!rest_.empty() && rest_.front() == '"') {
        const std::size_t close = rest_.find('"', 1);
        if (close == std::string_view::npos) return Fail();
        value = rest_.substr(1, close - 1);
        // Escapes never occur in node, host or proto values; refusing them
        // keeps the views exact.
        if (value.find('\\') != std::string_view::npos) return Fail();
        if (!security_internal::IsFieldValue(value)) return Fail();
        rest_.remove_prefix(close + 1);
      } else {
        std::size_t m = 0;
        while (m < rest_.size() && IsTchar(rest_[m])) ++m;
        if (m == 0) return Fail();
        value = rest_.substr(0, m);
        rest_.remove_prefix(m);
      }
      std::string_view* slot = nullptr;
      if (EqualsIgnoreCase(name, "for")) slot = &out->for_node;
      if (EqualsIgnoreCase(name, "by")) slot = &out->by_node;
      if (EqualsIgnoreCase(name, "host")) slot = &out->host;
      if (EqualsIgnoreCase(name, "proto")) slot = &out->proto;
      if (slot != nullptr) {
        if (slot->data() != nullptr) return Fail();  // repeated parameter
        // An empty quoted value still marks the parameter as present.
        *slot = value.empty() ? std::string_view(rest_.data(), 0) : value;
      }
      any = true;
      SkipOws();
      if (!rest_.empty() && rest_.front() != ';' && rest_.front() != ',') {
        return Fail();
      }
    }
    if (!rest_.empty()) rest_.remove_prefix(1);  // the ','
    if (!any) return Fail();
    return true;
  }

  bool error() const { return error_; }

 private:
  void SkipOws() {
    while (!rest_.empty() && (rest_.front() == ' ' || rest_.front() == '\t')) {
      rest_.remove_prefix(1);
    }
  }
  bool Fail() {
    error_ = true;
    return false;
  }

  std::string_view rest_;
  bool error_ = false;
};

// The last `capacity` hops of a forwarded chain, oldest first.
struct Hop {
  std::string_view node;
  std::string_view proto;
};

class HopWindow {
 public:
  explicit HopWindow(std::size_t capacity) : capacity_(capacity) {}

  void Push(std::string_view node, std::string_view proto) {
    hops_[(start_ + size_) % kMaxHopsLimit] = Hop{node, proto};
    if (size_ < capacity_) {
      ++size_;
    } else {
      start_ = (start_ + 1) % kMaxHopsLimit;
    }
  }
  std::size_t size() const { return size_; }
  // i = 0 is the oldest kept hop.
  const Hop& at(std::size_t i) const {
    return hops_[(start_ + i) % kMaxHopsLimit];
  }

 private:
  std::array<Hop, kMaxHopsLimit> hops_{};
  std::size_t capacity_;
  std::size_t start_ = 0;
  std::size_t size_ = 0;
};

// An X-Forwarded-For entry: a bare address, or a Forwarded-style node.
std::optional<IpAddress> ParseXffEntry(std::string_view entry) {
  if (auto ip = IpAddress::Parse(entry)) return ip;
  return ParseForwardedNode(entry);
}

}  // namespace

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  char buffer[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof(buffer)) return std::nullopt;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  IpAddress address;
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buffer, address.bytes_.data()) != 1) {
      return std::nullopt;
    }
    return address;
  }
  std::array<std::uint8_t, 16> raw{};
  if (inet_pton(AF_INET6, buffer, raw.data()) != 1) return std::nullopt;
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0,    0,
                                               0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(raw.data(), kMapped, sizeof(kMapped)) == 0) {
    std::memcpy(address.bytes_.data(), raw.data() + 12, 4);
    return address;
  }
  address.v4_ = false;
  address.bytes_ = raw;
  return address;
}

std::string IpAddress::ToString() const {
  char buffer[INET6_ADDRSTRLEN];
  inet_ntop(v4_ ? AF_INET : AF_INET6, bytes_.data(), buffer, sizeof(buffer));
  return buffer;
}

absl::StatusOr<IpNetwork> IpNetwork::Parse(std::string_view text) {
  const std::size_t slash = text.find('/');
  const std::optional<IpAddress> base = IpAddress::Parse(text.substr(0, slash));
  if (!base) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", std::string(text), "\" does not start with an IP address"));
  }
  const int bits = base->is_v4() ? 32 : 128;
  int prefix = bits;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", std::string(text), "\" has a bad prefix length"));
    }
    prefix = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') {
        return absl::InvalidArgumentError(absl::StrCat(
            "\"", std::string(text), "\" has a bad prefix length"));
      }
      prefix = prefix * 10 + (c - '0');
    }
    // An IPv4-mapped base is stored as IPv4: shift its prefix accordingly.
    if (base->is_v4() && text.find(':') != std::string_view::npos) {
      prefix -= 96;
    }
    if (prefix < 0 || prefix > bits) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", std::string(text), "\" has a prefix length out of range"));
    }
  }
  for (int bit = prefix; bit < bits; ++bit) {
    if (base->bytes()[bit / 8] & (0x80 >> (bit % 8))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", std::string(text), "\" has host bits set beyond the prefix"));
    }
  }
  IpNetwork network;
  network.base_ = *base;
  network.prefix_ = prefix;
  return network;
}

bool IpNetwork::Contains(const IpAddress& address) const {
  if (address.is_v4() != base_.is_v4()) return false;
  const auto& a = address.bytes();
  const auto& b = base_.bytes();
  const int full = prefix_ / 8;
  if (std::memcmp(a.data(), b.data(), static_cast<std::size_t>(full)) != 0) {
    return false;
  }
  const int rest = prefix_ % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

absl::StatusOr<std::unique_ptr<ClientIpResolver>> ClientIpResolver::Create(
    ClientIpOptions options) {
  if (options.max_hops < 1 || options.max_hops > kMaxHopsLimit) {
    return absl::InvalidArgumentError(
        "ClientIpOptions.max_hops must be in 1..64");
  }
  std::unique_ptr<ClientIpResolver> resolver(new ClientIpResolver());
  for (const auto& cidr : options.trusted_proxies) {
    auto network = IpNetwork::Parse(cidr);
    if (!network.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ClientIpOptions.trusted_proxies: ", network.status().message()));
    }
    resolver->trusted_.push_back(*network);
  }
  resolver->options_ = std::move(options);
  return resolver;
}

bool ClientIpResolver::IsTrusted(const IpAddress& address) const {
  for (const auto& network : trusted_) {
    if (network.Contains(address)) return true;
  }
  return false;
}

ClientInfo ClientIpResolver::Resolve(const RequestView& request) const {
  ClientInfo info;
  info.https = request.tls;
  const std::optional<IpAddress> peer = IpAddress::Parse(request.peer_address);
  if (!peer) {
    info.valid = false;
    return info;
  }
  info.address = *peer;
  if (!IsTrusted(*peer)) return info;

  HopWindow hops(options_.max_hops);
  std::string_view xfp;
  const bool use_forwarded = options_.header == ForwardedHeader::kForwarded;
  for (std::size_t i = 0; i < request.field_count; ++i) {
    const FieldView& field = request.fields[i];
    if (use_forwarded && EqualsIgnoreCase(field.name, "Forwarded")) {
      // Validate the whole field before taking anything from it.
      ForwardedCursor check(field.value);
      ForwardedElement element;
      while (check.Next(&element)) {
      }
      if (check.error()) return info;
      ForwardedCursor cursor(field.value);
      while (cursor.Next(&element)) hops.Push(element.for_node, element.proto);
    } else if (!use_forwarded &&
               EqualsIgnoreCase(field.name, "X-Forwarded-For")) {
      std::string_view rest = field.value;
      while (true) {
        const std::size_t comma = rest.find(',');
        const std::string_view entry =
            security_internal::TrimOws(rest.substr(0, comma));
        if (!entry.empty()) hops.Push(entry, {});
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    } else if (!use_forwarded &&
               EqualsIgnoreCase(field.name, "X-Forwarded-Proto")) {
      const std::size_t comma = field.value.rfind(',');
      xfp = security_internal::TrimOws(comma == std::string_view::npos
                                           ? field.value
                                           : field.value.substr(comma + 1));
    }
  }
  if (!use_forwarded && !xfp.empty()) {
    info.https = EqualsIgnoreCase(xfp, "https");
  }
  for (std::size_t i = hops.size(); i-- > 0;) {
    const Hop& hop = hops.at(i);
    const std::optional<IpAddress> address =
        use_forwarded ? ParseForwardedNode(hop.node) : ParseXffEntry(hop.node);
    if (!address) break;
    info.address = *address;
    info.forwarded = true;
    if (use_forwarded && hop.proto.data() != nullptr) {
      info.https = EqualsIgnoreCase(hop.proto, "https");
    }
    if (!IsTrusted(*address)) break;
  }
  return info;
}

absl::StatusOr<std::vector<ForwardedElement>> ParseForwarded(
    std::string_view value) {
  std::vector<ForwardedElement> elements;
  ForwardedCursor cursor(value);
  ForwardedElement element;
  while (cursor.Next(&element)) elements.push_back(element);
  if (cursor.error()) {
    return absl::InvalidArgumentError("malformed Forwarded field");
  }
  return elements;
}

std::optional<IpAddress> ParseForwardedNode(std::string_view node) {
  if (node.empty()) return std::nullopt;
  if (node.front() == '[') {
    const std::size_t close = node.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view port = node.substr(close + 1);
    if (!port.empty()) {
      if (port.size() < 2 || port.front() != ':') return std::nullopt;
    }
    std::optional<IpAddress> ip = IpAddress::Parse(node.substr(1, close - 1));
    if (!ip || ip->is_v4()) {
      // Brackets are for IPv6 only (an IPv4-mapped address is fine).
      if (!ip || node.substr(1, close - 1).find(':') == std::string_view::npos)
        return std::nullopt;
    }
    return ip;
  }
  const std::size_t colon = node.find(':');
  if (colon != std::string_view::npos &&
      node.find(':', colon + 1) != std::string_view::npos) {
    return std::nullopt;  // bare IPv6 must be bracketed in Forwarded
  }
  return IpAddress::Parse(node.substr(0, colon));
}

}  // namespace security
}  // namespace keel
