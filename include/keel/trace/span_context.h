// keel/trace/span_context.h
//
// The identity of a span as it travels between services: `TraceId` (16 bytes),
// `SpanId` (8 bytes) and `SpanContext` (ids + W3C trace flags + tracestate +
// whether it came from another process). These are small value types; copying
// a SpanContext copies 26 bytes and bumps one reference count when a
// tracestate is present.
//
// Example:
//   auto trace_id = keel::trace::TraceId::FromHex(
//       "4bf92f3577b34da6a3ce929d0e0e4736");      // std::optional<TraceId>
//   keel::trace::SpanContext context = keel::trace::CurrentSpanContext();
//   if (context.IsValid()) log_record.trace_id = context.trace_id().ToHex();
//
// Thread safety: all types here are immutable values, safe to share between
// threads once constructed.

#ifndef KEEL_TRACE_SPAN_CONTEXT_H_
#define KEEL_TRACE_SPAN_CONTEXT_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "keel/trace/trace_state.h"

namespace keel::trace_internal {

// Shared implementation of the fixed-size, hex-encoded ids `TraceId` and
// `SpanId` (CRTP so that each is a distinct class that can be forward
// declared and never compares equal to the other).
template <std::size_t N, typename Derived>
class HexId {
 public:
  // Number of bytes of the id.
  static constexpr std::size_t kSize = N;
  // Number of characters of its lower-case hex form.
  static constexpr std::size_t kHexSize = 2 * N;

  // The invalid (all-zero) id.
  constexpr HexId() = default;
  // An id from its big-endian bytes (the order in which its hex is written).
  constexpr explicit HexId(const std::array<std::uint8_t, N>& bytes)
      : bytes_(bytes) {}

  // True unless every byte is zero (W3C: an all-zero id is invalid). Tested
  // a 64-bit word at a time: it runs on every span start.
  bool IsValid() const noexcept {
    static_assert(N % 8 == 0, "ids are whole 64-bit words");
    std::uint64_t any = 0;
    for (std::size_t i = 0; i < N; i += 8) {
      std::uint64_t word;
      std::memcpy(&word, bytes_.data() + i, sizeof(word));
      any |= word;
    }
    return any != 0;
  }

  // The 2*N lower-case hex characters of the id.
  std::string ToHex() const {
    std::string out(kHexSize, '0');
    ToHex(out.data());
    return out;
  }

  // Writes exactly 2*N lower-case hex characters to `out` (no terminator);
  // allocation-free form of ToHex() for encoders.
  void ToHex(char* out) const noexcept {
    constexpr char kDigits[] = "0123456789abcdef";
    for (std::size_t i = 0; i < N; ++i) {
      out[2 * i] = kDigits[bytes_[i] >> 4];
      out[2 * i + 1] = kDigits[bytes_[i] & 0xf];
    }
  }

  // Parses exactly 2*N lower-case hex characters. Returns nullopt for any
  // other length or character (upper-case hex is rejected, as W3C requires).
  // An all-zero id parses (it is well-formed) but is not IsValid().
  static std::optional<Derived> FromHex(std::string_view hex) noexcept {
    if (hex.size() != kHexSize) return std::nullopt;
    std::array<std::uint8_t, N> bytes;
    if (!DecodeHex(hex.data(), bytes.data())) return std::nullopt;
    return Derived(bytes);
  }

  // The raw big-endian bytes.
  constexpr const std::array<std::uint8_t, N>& bytes() const noexcept {
    return bytes_;
  }

  friend constexpr bool operator==(const Derived& a,
                                   const Derived& b) noexcept {
    for (std::size_t i = 0; i < N; ++i) {
      if (a.bytes_[i] != b.bytes_[i]) return false;
    }
    return true;
  }
  friend constexpr bool operator!=(const Derived& a,
                                   const Derived& b) noexcept {
    return !(a == b);
  }

 private:
  // Decodes 2*N lower-case hex characters into N bytes; false on a bad char.
  static bool DecodeHex(const char* in, std::uint8_t* out) noexcept {
    for (std::size_t i = 0; i < N; ++i) {
      const int hi = Nibble(in[2 * i]);
      const int lo = Nibble(in[2 * i + 1]);
      if ((hi | lo) < 0) return false;
      out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
    }
    return true;
  }
  static constexpr int Nibble(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  }

  std::array<std::uint8_t, N> bytes_{};
};

}  // namespace keel::trace_internal

namespace keel::trace {

// A 16-byte W3C trace id. `TraceId()` is the invalid all-zero id; see HexId
// for IsValid(), ToHex(), FromHex() and bytes().
class TraceId final : public trace_internal::HexId<16, TraceId> {
 public:
  using HexId::HexId;
};

// An 8-byte W3C span (parent) id. `SpanId()` is the invalid all-zero id; same
// API as TraceId with 16 hex characters.
class SpanId final : public trace_internal::HexId<8, SpanId> {
 public:
  using HexId::HexId;
};

// W3C trace-flags bit: the caller may have recorded this trace.
inline constexpr std::uint8_t kTraceFlagSampled = 0x01;
// W3C Trace Context Level 2 trace-flags bit: the right-most 7 bytes of the
// trace id were generated randomly. keel sets it on ids it generates and keeps
// it when propagating.
inline constexpr std::uint8_t kTraceFlagRandom = 0x02;

// The propagated part of a span: ids, flags, tracestate and whether it was
// received from another process. A default-constructed SpanContext is invalid
// (means "no span").
class SpanContext {
 public:
  // The invalid context.
  SpanContext() = default;

  // A context with the given fields. It is IsValid() only if both ids are.
  SpanContext(TraceId trace_id, SpanId span_id, std::uint8_t trace_flags,
              bool is_remote, TraceState trace_state = TraceState())
      : trace_id_(trace_id),
        span_id_(span_id),
        trace_flags_(trace_flags),
        is_remote_(is_remote),
        trace_state_(std::move(trace_state)) {}

  // The trace this span belongs to.
  const TraceId& trace_id() const noexcept { return trace_id_; }
  // This span's id (the `parent-id` when propagated).
  const SpanId& span_id() const noexcept { return span_id_; }
  // The W3C trace-flags byte (kTraceFlagSampled | kTraceFlagRandom).
  // ParseTraceparent keeps only the bits keel understands.
  std::uint8_t trace_flags() const noexcept { return trace_flags_; }
  // True if the sampled flag is set: the span is being recorded and exported.
  bool sampled() const noexcept {
    return (trace_flags_ & kTraceFlagSampled) != 0;
  }
  // True if the Level 2 random flag is set.
  bool random() const noexcept {
    return (trace_flags_ & kTraceFlagRandom) != 0;
  }
  // True if this context was extracted from an incoming request.
  bool is_remote() const noexcept { return is_remote_; }
  // True if both the trace id and the span id are valid (non-zero).
  bool IsValid() const noexcept {
    return trace_id_.IsValid() && span_id_.IsValid();
  }
  // Vendor-specific data carried in the `tracestate` header.
  const TraceState& trace_state() const noexcept { return trace_state_; }

  // Equal when every field, including the tracestate entries, is equal.
  friend bool operator==(const SpanContext& a, const SpanContext& b) {
    return a.trace_id_ == b.trace_id_ && a.span_id_ == b.span_id_ &&
           a.trace_flags_ == b.trace_flags_ && a.is_remote_ == b.is_remote_ &&
           a.trace_state_ == b.trace_state_;
  }
  friend bool operator!=(const SpanContext& a, const SpanContext& b) {
    return !(a == b);
  }

 private:
  TraceId trace_id_;
  SpanId span_id_;
  std::uint8_t trace_flags_ = 0;
  bool is_remote_ = false;
  TraceState trace_state_;
};

}  // namespace keel::trace

#endif  // KEEL_TRACE_SPAN_CONTEXT_H_
