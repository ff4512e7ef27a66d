// Strict base64url (RFC 4648 section 5, unpadded, as JWS requires in RFC 7515
// section 2) for keel's JOSE code.

#ifndef KEEL_SRC_SECURITY_JOSE_BASE64URL_H_
#define KEEL_SRC_SECURITY_JOSE_BASE64URL_H_

#include <string>
#include <string_view>

namespace keel::security_internal {

// Decodes `in` into `out` (replacing its content). False for padding,
// characters outside [A-Za-z0-9_-], an impossible length (4n+1) or non-zero
// unused trailing bits, so that every token has exactly one encoding.
bool Base64UrlDecode(std::string_view in, std::string& out);

// Encodes without padding.
std::string Base64UrlEncode(std::string_view in);

}  // namespace keel::security_internal

#endif  // KEEL_SRC_SECURITY_JOSE_BASE64URL_H_
