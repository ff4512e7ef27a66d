// keel/trace/trace_state.h
//
// `TraceState`: the W3C `tracestate` header, an ordered list of up to 32
// vendor `key=value` members (Trace Context Level 1/2, section 3.3).
//
// Parsing is all-or-nothing, as the Recommendation asks: any malformed member,
// a duplicate key or more than 32 members makes the whole header invalid and
// the caller discards it (the trace itself continues). Empty members
// (`a=1,,b=2`) and optional whitespace around commas are tolerated. Several
// header lines are combined by joining them with `,` (RFC 9110 field lines).
//
// Example:
//   auto state = keel::trace::TraceState::Parse("congo=t61rcWkgMzE,rojo=00f");
//   if (state) {
//     auto updated = state->Set("keel", "abc");   // moved to the front
//     headers["tracestate"] = updated->ToHeader();
//   }
//
// Thread safety: an immutable value; copies share one reference-counted list.

#ifndef KEEL_TRACE_TRACE_STATE_H_
#define KEEL_TRACE_TRACE_STATE_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace keel::trace {

class TraceState {
 public:
  // One `key=value` list member.
  struct Entry {
    std::string key;
    std::string value;
    friend bool operator==(const Entry& a, const Entry& b) {
      return a.key == b.key && a.value == b.value;
    }
  };

  // W3C: at most 32 list members.
  static constexpr std::size_t kMaxMembers = 32;
  // W3C: at most 256 characters in a value; a key is at most 256 characters
  // (simple key) or 241 + 1 + 14 (multi-tenant `tenant@system`).
  static constexpr std::size_t kMaxKeySize = 256;
  static constexpr std::size_t kMaxValueSize = 256;
  // W3C: propagators should keep at least 512 characters of tracestate; when
  // truncating, members longer than 128 characters go first.
  static constexpr std::size_t kDefaultMaxHeaderSize = 512;
  static constexpr std::size_t kLargeMemberSize = 128;

  // The empty tracestate.
  TraceState() = default;

  // Parses one `tracestate` header value. Returns nullopt if the header is
  // invalid (bad key or value grammar, duplicate key, more than 32 members, a
  // member without `=`); an empty or whitespace-only header is a valid empty
  // TraceState.
  static std::optional<TraceState> Parse(std::string_view header);

  // Parses a header that arrived as several field lines by joining them with
  // `,`. Same failure rules as Parse().
  static std::optional<TraceState> ParseLines(
      const std::vector<std::string_view>& lines);

  // Formats the members as `k1=v1,k2=v2`. If the result would exceed
  // `max_size` characters, members longer than 128 characters are dropped
  // first (from the right), then members from the right, as W3C recommends.
  std::string ToHeader(std::size_t max_size = kDefaultMaxHeaderSize) const;

  // The value of `key`, if present.
  std::optional<std::string_view> Get(std::string_view key) const;

  // Returns a copy with `key` set to `value` and moved to the front (W3C:
  // a modified member moves to the left). If the list is full the right-most
  // member is dropped. Fails with kInvalidArgument naming the bad key or value.
  absl::StatusOr<TraceState> Set(std::string_view key,
                                 std::string_view value) const;

  // Returns a copy without `key` (unchanged if absent).
  TraceState Delete(std::string_view key) const;

  // The members, left (most recent) to right.
  const std::vector<Entry>& entries() const;
  // Number of members.
  std::size_t size() const { return entries_ ? entries_->size() : 0; }
  // True if there are no members.
  bool empty() const { return size() == 0; }

  // W3C key grammar: `simple-key` (lcalpha first, then up to 255 of
  // lcalpha / DIGIT / `_-*/`) or `tenant@system` (tenant up to 241 chars
  // starting with lcalpha / DIGIT, system up to 14 starting with lcalpha).
  static bool IsValidKey(std::string_view key);
  // W3C value grammar: 1-256 printable ASCII characters except `,` and `=`,
  // spaces allowed inside but not at the end.
  static bool IsValidValue(std::string_view value);

  // Equal when the members and their order are equal.
  friend bool operator==(const TraceState& a, const TraceState& b) {
    return a.entries() == b.entries();
  }
  friend bool operator!=(const TraceState& a, const TraceState& b) {
    return !(a == b);
  }

 private:
  explicit TraceState(std::vector<Entry> entries);

  // Null for the empty state, so that copying an empty TraceState (the common
  // case on the span hot path) touches no reference count.
  std::shared_ptr<const std::vector<Entry>> entries_;
};

}  // namespace keel::trace

#endif  // KEEL_TRACE_TRACE_STATE_H_
