// Arbitrary Policy and Decision values through the rate-limit header helpers.
// Invariants: every field name and value is printable ASCII (no CR, LF or
// other control byte), every integer parses back to the value it came from,
// the policy name's sf-string decodes back to the name (non-printable bytes
// as '?'), and Retry-After appears exactly for enforced rate-limited
// refusals.
//
// Input: 8 bytes each of quota, window, remaining, limit, retry_after and
// reset_after (little endian), one flags byte (allowed, reason, style), then
// the policy name.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "keel/ratelimit/headers.h"
#include "keel/ratelimit/rate_limiter.h"

namespace {

using keel::ratelimit::Decision;
using keel::ratelimit::DecisionReason;
using keel::ratelimit::HeaderField;
using keel::ratelimit::HeaderStyle;
using keel::ratelimit::Policy;

void Check(bool ok) {
  if (!ok) std::abort();
}

class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size)
      : data_(data), size_(size) {}
  std::int64_t Int64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= std::uint64_t{Byte()} << (8 * i);
    return static_cast<std::int64_t>(v);
  }
  std::uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::string Rest() {
    std::string rest(reinterpret_cast<const char*>(data_) + pos_, size_ - pos_);
    pos_ = size_;
    return rest;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

bool Printable(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// Parses an optionally negative decimal integer that is all of `s`.
std::int64_t ParseInt(std::string_view s) {
  Check(!s.empty());
  bool negative = false;
  if (s.front() == '-') {
    negative = true;
    s.remove_prefix(1);
    Check(!s.empty());
  }
  std::uint64_t v = 0;
  for (char c : s) {
    Check(c >= '0' && c <= '9');
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return negative ? static_cast<std::int64_t>(0 - v)
                  : static_cast<std::int64_t>(v);
}

// Decodes the leading sf-string of `s` into *out; returns the rest.
std::string_view TakeSfString(std::string_view s, std::string* out) {
  Check(!s.empty() && s.front() == '"');
  s.remove_prefix(1);
  out->clear();
  for (;;) {
    Check(!s.empty());
    char c = s.front();
    s.remove_prefix(1);
    if (c == '"') return s;
    if (c == '\\') {
      Check(!s.empty() && (s.front() == '"' || s.front() == '\\'));
      c = s.front();
      s.remove_prefix(1);
    }
    out->push_back(c);
  }
}

// The name as it must come back: non-printable bytes as '?'.
std::string Expected(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

// Checks `s` == `"<name>";<k1>=<v1>;<k2>=<v2>` and returns v1, v2.
void CheckItem(std::string_view s, std::string_view name, char k1,
               std::int64_t v1, char k2, std::int64_t v2) {
  std::string decoded;
  s = TakeSfString(s, &decoded);
  Check(decoded == Expected(name));
  const std::string prefix1 = std::string(";") + k1 + "=";
  Check(s.substr(0, prefix1.size()) == prefix1);
  s.remove_prefix(prefix1.size());
  const std::size_t semi = s.find(';');
  Check(semi != std::string_view::npos);
  Check(ParseInt(s.substr(0, semi)) == v1);
  s.remove_prefix(semi);
  const std::string prefix2 = std::string(";") + k2 + "=";
  Check(s.substr(0, prefix2.size()) == prefix2);
  s.remove_prefix(prefix2.size());
  Check(ParseInt(s) == v2);
}

}  // namespace

// Declared for -Wmissing-declarations; libFuzzer calls it.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  Reader in(data, size);
  Policy policy;
  policy.quota = in.Int64();
  policy.window = std::chrono::nanoseconds(in.Int64());
  Decision d;
  d.remaining = in.Int64();
  d.limit = in.Int64();
  d.retry_after = std::chrono::nanoseconds(in.Int64());
  d.reset_after = std::chrono::nanoseconds(in.Int64());
  const std::uint8_t flags = in.Byte();
  d.allowed = (flags & 1) != 0;
  d.reason = static_cast<DecisionReason>((flags >> 1) & 3);
  const HeaderStyle style = static_cast<HeaderStyle>(((flags >> 3) & 3) % 3);
  policy.name = in.Rest();

  for (const std::chrono::nanoseconds t : {d.retry_after, d.reset_after}) {
    const std::int64_t s = keel::ratelimit::CeilSeconds(t);
    Check(s >= 0 && s <= 2147483647);
    // Rounded up: waiting `s` seconds is never early (unless saturated).
    if (s < 2147483647) Check(s * 1'000'000'000 >= t.count());
  }

  const std::vector<HeaderField> fields =
      keel::ratelimit::RateLimitHeaders(policy, d, style);
  bool saw_retry_after = false;
  for (const HeaderField& field : fields) {
    Check(!field.name.empty() && Printable(field.name));
    Check(Printable(field.value));
    const std::int64_t reset = keel::ratelimit::CeilSeconds(d.reset_after);
    if (field.name == "RateLimit-Policy") {
      const std::int64_t w = keel::ratelimit::CeilSeconds(policy.window);
      CheckItem(field.value, policy.name, 'q', policy.quota, 'w',
                w < 1 ? 1 : w);
    } else if (field.name == "RateLimit") {
      CheckItem(field.value, policy.name, 'r', d.remaining, 't', reset);
    } else if (field.name == "X-RateLimit-Limit") {
      Check(ParseInt(field.value) == d.limit);
    } else if (field.name == "X-RateLimit-Remaining") {
      Check(ParseInt(field.value) == d.remaining);
    } else if (field.name == "X-RateLimit-Reset") {
      Check(ParseInt(field.value) == reset);
    } else if (field.name == "Retry-After") {
      saw_retry_after = true;
      Check(field.value.front() != '-');
      Check(ParseInt(field.value) ==
            keel::ratelimit::CeilSeconds(d.retry_after));
    } else {
      Check(false);
    }
  }
  Check(saw_retry_after ==
        (!d.allowed && d.reason == DecisionReason::kRateLimited));
  const std::size_t expected_fields = (style == HeaderStyle::kIetf     ? 2
                                       : style == HeaderStyle::kLegacy ? 3
                                                                       : 5) +
                                      (saw_retry_after ? 1 : 0);
  Check(fields.size() == expected_fields);
  return 0;
}
