#include "jose_base64url.h"

#include <array>
#include <cstdint>

namespace keel::security_internal {
namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<std::int8_t, 256> MakeDecodeTable() {
  std::array<std::int8_t, 256> table{};
  for (auto& entry : table) entry = -1;
  for (int i = 0; i < 64; ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] =
        static_cast<std::int8_t>(i);
  }
  return table;
}

constexpr std::array<std::int8_t, 256> kDecode = MakeDecodeTable();

}  // namespace

bool Base64UrlDecode(std::string_view in, std::string& out) {
  out.resize(Base64UrlMaxDecodedSize(in.size()));
  std::size_t size = 0;
  const bool ok = Base64UrlDecodeTo(in, &out[0], size);
  out.resize(ok ? size : 0);
  return ok;
}

bool Base64UrlDecodeTo(std::string_view in, char* out, std::size_t& size) {
  if (in.size() % 4 == 1) return false;
  auto* dst = reinterpret_cast<unsigned char*>(out);
  const auto* src = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t full = in.size() / 4 * 4;
  // Four characters to three bytes at a time; one OR of the table entries
  // catches any invalid character in the group.
  std::int32_t invalid = 0;
  for (std::size_t i = 0; i < full; i += 4) {
    const std::int32_t a = kDecode[src[i]];
    const std::int32_t b = kDecode[src[i + 1]];
    const std::int32_t c = kDecode[src[i + 2]];
    const std::int32_t d = kDecode[src[i + 3]];
    invalid |= a | b | c | d;
    const std::uint32_t v = (static_cast<std::uint32_t>(a) << 18) |
                            (static_cast<std::uint32_t>(b) << 12) |
                            (static_cast<std::uint32_t>(c) << 6) |
                            static_cast<std::uint32_t>(d);
    *dst++ = static_cast<unsigned char>(v >> 16);
    *dst++ = static_cast<unsigned char>(v >> 8);
    *dst++ = static_cast<unsigned char>(v);
  }
  // The 2 or 3 characters left hold 1 or 2 bytes; their unused low bits must
  // be zero, otherwise several strings would decode to the same bytes (a
  // malleability RFC 7515 does not allow).
  bool ok = invalid >= 0;
  const std::size_t rest = in.size() - full;
  if (ok && rest > 0) {
    const std::int32_t a = kDecode[src[full]];
    const std::int32_t b = kDecode[src[full + 1]];
    const std::int32_t c = rest == 3 ? kDecode[src[full + 2]] : 0;
    if ((a | b | c) < 0) {
      ok = false;
    } else {
      const std::uint32_t v = (static_cast<std::uint32_t>(a) << 18) |
                              (static_cast<std::uint32_t>(b) << 12) |
                              (static_cast<std::uint32_t>(c) << 6);
      *dst++ = static_cast<unsigned char>(v >> 16);
      if (rest == 3) {
        *dst++ = static_cast<unsigned char>(v >> 8);
        ok = (v & 0xFF) == 0;
      } else {
        ok = (v & 0xFFFF) == 0;
      }
    }
  }
  size = static_cast<std::size_t>(dst - reinterpret_cast<unsigned char*>(out));
  return ok;
}

std::string Base64UrlEncode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    acc = (acc << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3F]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3F]);
  return out;
}

}  // namespace keel::security_internal
