#include "keel/security/https_redirect.h"

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "keel/security/http_fields.h"
#include "text.h"

namespace keel {
namespace security {
namespace {

bool IsRegName(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  for (char c : h) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok) return false;
  }
  return h.front() != '.' && h.front() != '-';
}

bool IsIpv6Literal(std::string_view h) {
  if (h.size() < 4 || h.front() != '[' || h.back() != ']') return false;
  for (char c : h.substr(1, h.size() - 2)) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                    (c >= 'A' && c <= 'F') || c == ':' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Splits "host[:port]" and returns the host, or empty when malformed.
std::string_view HostWithoutPort(std::string_view host) {
  std::string_view name = host;
  std::string_view port;
  if (!host.empty() && host.front() == '[') {
    const std::size_t close = host.find(']');
    if (close == std::string_view::npos) return {};
    name = host.substr(0, close + 1);
    if (close + 1 < host.size()) {
      if (host[close + 1] != ':') return {};
      port = host.substr(close + 2);
      if (port.empty()) return {};
    }
    if (!IsIpv6Literal(name)) return {};
  } else {
    const std::size_t colon = host.find(':');
    if (colon != std::string_view::npos) {
      name = host.substr(0, colon);
      port = host.substr(colon + 1);
      if (port.empty()) return {};
    }
    if (!IsRegName(name)) return {};
  }
  if (port.size() > 5) return {};
  for (char c : port) {
    if (c < '0' || c > '9') return {};
  }
  return name;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpsRedirect>> HttpsRedirect::Create(
    HttpsRedirectOptions options) {
  if (options.status != 301 && options.status != 308) {
    return absl::InvalidArgumentError(
        "HttpsRedirectOptions.status must be 301 or 308");
  }
  if (options.https_port == 0) {
    return absl::InvalidArgumentError(
        "HttpsRedirectOptions.https_port must not be 0");
  }
  for (const auto& host : options.allowed_hosts) {
    if (!IsRegName(host) && !IsIpv6Literal(host)) {
      return absl::InvalidArgumentError(
          absl::StrCat("HttpsRedirectOptions.allowed_hosts: \"", host,
                       "\" is not a host name (leave the port out)"));
    }
  }
  return std::unique_ptr<HttpsRedirect>(new HttpsRedirect(std::move(options)));
}

absl::StatusOr<RedirectResponse> HttpsRedirect::For(
    std::string_view host, std::string_view target) const {
  const std::string_view name = HostWithoutPort(host);
  if (name.empty()) {
    return absl::InvalidArgumentError("HttpsRedirect: malformed Host");
  }
  if (!options_.allowed_hosts.empty()) {
    bool allowed = false;
    for (const auto& h : options_.allowed_hosts) {
      allowed = allowed || EqualsIgnoreCase(h, name);
    }
    if (!allowed) {
      return absl::InvalidArgumentError(
          "HttpsRedirect: Host is not in allowed_hosts");
    }
  }
  if (target.empty() || target.front() != '/' ||
      !security_internal::IsFieldValue(target) ||
      target.find_first_of(" \t\\") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        "HttpsRedirect: request-target is not origin-form");
  }
  RedirectResponse response;
  response.status = options_.status;
  response.location =
      absl::StrCat("https://", security_internal::AsciiLowerCopy(name));
  if (options_.https_port != 443) {
    absl::StrAppend(&response.location, ":", options_.https_port);
  }
  response.location.append(target.data(), target.size());
  return response;
}

}  // namespace security
}  // namespace keel
