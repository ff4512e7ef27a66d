// keel/trace/baggage.h
//
// `Baggage`: the W3C `baggage` header, application key/value pairs that travel
// with a request across services (W3C Baggage, section 3):
//
//   baggage: userId=alice,serverNode=DF%2028,isProduction=false;sensitive
//
//   * key       an RFC 9110 token;
//   * value     percent-decoded on Parse() (invalid UTF-8 after decoding is
//               replaced by U+FFFD) and percent-encoded by ToHeader() for every
//               octet outside the `baggage-octet` range and for `%` itself;
//   * properties the `;`-separated metadata after the value, kept verbatim
//               (normalised to `k=v;k2` without whitespace);
//   * limits    at most 64 members and 8192 bytes: a header over either
//               limit is invalid as a whole, and ToHeader() drops whole members
//               from the right rather than send a partial list.
// A duplicate key keeps its last value, at the position of that last member.
//
// Example:
//   keel::trace::Baggage baggage;
//   baggage.Set("tenant", "acme corp").IgnoreError();
//   headers["baggage"] = baggage.ToHeader();        // "tenant=acme%20corp"
//   auto received = keel::trace::Baggage::Parse(headers["baggage"]);
//
// Thread safety: a plain value type; const methods may be called
// concurrently, mutation needs external synchronisation.

#ifndef KEEL_TRACE_BAGGAGE_H_
#define KEEL_TRACE_BAGGAGE_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace keel::trace {

class Baggage {
 public:
  // One list member.
  struct Entry {
    std::string key;
    std::string value;       // decoded
    std::string properties;  // e.g. "p1=v1;p2", empty if none
    friend bool operator==(const Entry& a, const Entry& b) {
      return a.key == b.key && a.value == b.value &&
             a.properties == b.properties;
    }
  };

  // W3C limits.
  static constexpr std::size_t kMaxMembers = 64;
  static constexpr std::size_t kMaxBytes = 8192;

  // Empty baggage.
  Baggage() = default;

  // Parses a baggage header value. Returns nullopt if any member is malformed
  // (bad key token, bad value octet, bad property) or the header exceeds 64
  // members or 8192 bytes. Empty members (`a=1,,b=2`) are tolerated.
  static std::optional<Baggage> Parse(std::string_view header);

  // Parses a header that arrived as several field lines by joining them with
  // `,`. Same failure rules as Parse().
  static std::optional<Baggage> ParseLines(
      const std::vector<std::string_view>& lines);

  // Formats the members, percent-encoding values. Members that would push the
  // result past 64 members or 8192 bytes are dropped, together with every
  // member after them (the output is the longest prefix that fits).
  std::string ToHeader() const;

  // The decoded value of `key`, if present.
  std::optional<std::string_view> Get(std::string_view key) const;

  // Adds or replaces `key`. `value` may be any bytes (it is encoded on
  // output). Fails with kInvalidArgument if `key` is not a token or
  // `properties` is not `prop(;prop)*` with `prop = token [= octets]`.
  absl::Status Set(std::string_view key, std::string_view value,
                   std::string_view properties = {});

  // Removes `key` if present.
  void Remove(std::string_view key);

  // The members in header order.
  const std::vector<Entry>& entries() const { return entries_; }
  // Number of members.
  std::size_t size() const { return entries_.size(); }
  // True if there are no members.
  bool empty() const { return entries_.empty(); }

  // Equal when the members and their order are equal.
  friend bool operator==(const Baggage& a, const Baggage& b) {
    return a.entries_ == b.entries_;
  }
  friend bool operator!=(const Baggage& a, const Baggage& b) {
    return !(a == b);
  }

 private:
  std::vector<Entry> entries_;
};

}  // namespace keel::trace

#endif  // KEEL_TRACE_BAGGAGE_H_
