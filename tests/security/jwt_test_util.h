// Helpers for the JWT/JWKS tests: the committed jose vectors and an HS256
// signer for tokens with hand-written headers and payloads.

#ifndef KEEL_TESTS_SECURITY_JWT_TEST_UTIL_H_
#define KEEL_TESTS_SECURITY_JWT_TEST_UTIL_H_

#include <openssl/evp.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "nlohmann/json.hpp"

namespace keel::security_test {

inline std::string ReadTestFile(const std::string& name) {
  std::ifstream in(std::string(KEEL_JWT_TESTDATA_DIR) + "/" + name,
                   std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// tests/security/testdata/jwt_vectors.json, made by generate_vectors.mjs.
inline const nlohmann::json& Vectors() {
  static const nlohmann::json* const kVectors = new nlohmann::json(
      nlohmann::json::parse(ReadTestFile("jwt_vectors.json")));
  return *kVectors;
}

inline std::string B64Url(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned acc = 0;
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

// An HS256 token over the given JSON texts.
inline std::string SignHs256(std::string_view header_json,
                             std::string_view payload_json,
                             std::string_view secret) {
  std::string input = B64Url(header_json) + "." + B64Url(payload_json);
  unsigned char mac[EVP_MAX_MD_SIZE];
  std::size_t mac_len = 0;
  EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(),
            secret.size(), reinterpret_cast<const unsigned char*>(input.data()),
            input.size(), mac, sizeof(mac), &mac_len);
  return input + "." +
         B64Url(std::string_view(reinterpret_cast<char*>(mac), mac_len));
}

}  // namespace keel::security_test

#endif  // KEEL_TESTS_SECURITY_JWT_TEST_UTIL_H_
