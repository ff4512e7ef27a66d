#include "keel/trace/traceparent.h"

#include <string>

namespace keel::trace {
namespace {

constexpr int HexValue(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Offsets inside a version-00 value: "vv-<32>-<16>-ff".
constexpr std::size_t kTraceIdOffset = 3;
constexpr std::size_t kSpanIdOffset = 36;
constexpr std::size_t kFlagsOffset = 53;

bool IsOws(char c) { return c == ' ' || c == '\t'; }

}  // namespace

std::optional<SpanContext> ParseTraceparent(std::string_view header) noexcept {
  while (!header.empty() && IsOws(header.front())) header.remove_prefix(1);
  while (!header.empty() && IsOws(header.back())) header.remove_suffix(1);
  if (header.size() < kTraceparentSize) return std::nullopt;

  const int version_hi = HexValue(header[0]);
  const int version_lo = HexValue(header[1]);
  if ((version_hi | version_lo) < 0) return std::nullopt;
  const int version = version_hi * 16 + version_lo;
  if (version == 0xff) return std::nullopt;
  if (version == 0 && header.size() != kTraceparentSize) return std::nullopt;
  // A future version may append fields, each introduced by '-'.
  if (header.size() > kTraceparentSize && header[kTraceparentSize] != '-') {
    return std::nullopt;
  }
  if (header[2] != '-' || header[kSpanIdOffset - 1] != '-' ||
      header[kFlagsOffset - 1] != '-') {
    return std::nullopt;
  }

  const auto trace_id =
      TraceId::FromHex(header.substr(kTraceIdOffset, TraceId::kHexSize));
  const auto span_id =
      SpanId::FromHex(header.substr(kSpanIdOffset, SpanId::kHexSize));
  const int flags_hi = HexValue(header[kFlagsOffset]);
  const int flags_lo = HexValue(header[kFlagsOffset + 1]);
  if (!trace_id || !span_id || (flags_hi | flags_lo) < 0) return std::nullopt;
  if (!trace_id->IsValid() || !span_id->IsValid()) return std::nullopt;

  const auto flags =
      static_cast<std::uint8_t>((flags_hi * 16 + flags_lo) & kKnownTraceFlags);
  return SpanContext(*trace_id, *span_id, flags, /*is_remote=*/true);
}

void FormatTraceparent(const SpanContext& context, char* out) noexcept {
  constexpr char kDigits[] = "0123456789abcdef";
  out[0] = '0';
  out[1] = '0';
  out[2] = '-';
  context.trace_id().ToHex(out + kTraceIdOffset);
  out[kSpanIdOffset - 1] = '-';
  context.span_id().ToHex(out + kSpanIdOffset);
  out[kFlagsOffset - 1] = '-';
  const std::uint8_t flags = context.trace_flags() & kKnownTraceFlags;
  out[kFlagsOffset] = kDigits[flags >> 4];
  out[kFlagsOffset + 1] = kDigits[flags & 0xf];
}

std::string FormatTraceparent(const SpanContext& context) {
  std::string out(kTraceparentSize, '0');
  FormatTraceparent(context, out.data());
  return out;
}

}  // namespace keel::trace
