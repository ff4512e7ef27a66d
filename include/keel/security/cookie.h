// keel/security/cookie.h
//
// Builds `Set-Cookie` values with secure defaults and refuses combinations
// browsers would drop or that weaken the cookie.
//
//   keel::security::CookieOptions options;        // __Host-, Secure,
//   options.max_age = std::chrono::hours(8);      // HttpOnly, SameSite=Lax
//   auto cookie = keel::security::BuildSetCookie("session", token, options);
//   if (!cookie.ok()) return cookie.status();
//   sink.Add("Set-Cookie", *cookie);
//   // __Host-session=<token>; Path=/; Max-Age=28800; Secure; HttpOnly;
//   // SameSite=Lax
//
// Rules (RFC 6265bis): the name is a token and must not itself start with
// `__Host-` or `__Secure-` (use `prefix`); the value is cookie-octets
// (optionally in double quotes); `__Host-` needs Secure, Path=/ and no
// Domain; `__Secure-` needs Secure; SameSite=None needs Secure; Partitioned
// needs Secure; Path starts with '/' and Domain is a host name, neither with
// ';' or control characters; Max-Age is not negative (0 deletes).
//
// Thread safety: pure functions.

#ifndef KEEL_SECURITY_COOKIE_H_
#define KEEL_SECURITY_COOKIE_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace keel {
namespace security {

// The cookie name prefix that browsers enforce.
enum class CookiePrefix {
  kNone,
  kSecure,  // "__Secure-": Secure only
  kHost,    // "__Host-": Secure, Path=/, no Domain (bound to one host)
};

// The SameSite attribute.
enum class SameSite { kStrict, kLax, kNone };

// Attributes of a cookie; the defaults are the strictest usable ones.
struct CookieOptions {
  CookiePrefix prefix = CookiePrefix::kHost;
  // Must be "/" with kHost.
  std::string path = "/";
  // Empty: host-only cookie. Must be empty with kHost.
  std::string domain;
  // nullopt: a session cookie.
  std::optional<std::chrono::seconds> max_age;
  bool secure = true;
  bool http_only = true;
  SameSite same_site = SameSite::kLax;
  // CHIPS partitioned cookie; needs secure.
  bool partitioned = false;
};

// The Set-Cookie value for `name`=`value` (the prefix is prepended to
// `name`). Fails with kInvalidArgument naming the bad field or combination.
absl::StatusOr<std::string> BuildSetCookie(std::string_view name,
                                           std::string_view value,
                                           const CookieOptions& options);

}  // namespace security
}  // namespace keel

#endif  // KEEL_SECURITY_COOKIE_H_
