// Strict base64url (RFC 4648 section 5, unpadded, as JWS requires in RFC 7515
// section 2) for keel's JOSE code.

#ifndef KEEL_SRC_SECURITY_JOSE_BASE64URL_H_
#define KEEL_SRC_SECURITY_JOSE_BASE64URL_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace keel::security_internal {

// Decodes `in` into `out` (replacing its content). False for padding,
// characters outside [A-Za-z0-9_-], an impossible length (4n+1) or non-zero
// unused trailing bits, so that every token has exactly one encoding.
bool Base64UrlDecode(std::string_view in, std::string& out);

// An upper bound of the decoded size of `encoded_size` characters.
constexpr std::size_t Base64UrlMaxDecodedSize(std::size_t encoded_size) {
  return encoded_size / 4 * 3 + 2;
}

// As Base64UrlDecode, but into `out`, which has room for
// Base64UrlMaxDecodedSize(in.size()) bytes; `size` receives the decoded
// length. On failure the content of `out` is unspecified.
bool Base64UrlDecodeTo(std::string_view in, char* out, std::size_t& size);

// Encodes without padding.
std::string Base64UrlEncode(std::string_view in);

}  // namespace keel::security_internal

#endif  // KEEL_SRC_SECURITY_JOSE_BASE64URL_H_
