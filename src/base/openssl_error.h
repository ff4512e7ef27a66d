// base/openssl_error.h (private to keel's sources)
//
// TakeOpenSslError(): OpenSSL's oldest queued error on this thread as text,
// for status messages. It empties the queue, so that a stale error cannot
// surface in an unrelated OpenSSL call later on the same (worker) thread.

#ifndef KEEL_SRC_BASE_OPENSSL_ERROR_H_
#define KEEL_SRC_BASE_OPENSSL_ERROR_H_

#include <openssl/err.h>

#include <string>

namespace keel::base_internal {

inline std::string TakeOpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no OpenSSL error recorded";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

}  // namespace keel::base_internal

#endif  // KEEL_SRC_BASE_OPENSSL_ERROR_H_
