#include "keel/security/cors.h"

#include <algorithm>
#include <cstddef>
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

struct OriginParts {
  std::string_view scheme;
  std::string_view host;
  std::string_view port;  // with the ':' or empty
};

bool IsLowerHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.';
}

// Splits a serialized origin; false when it is not `scheme://host[:port]` in
// canonical (lower-case) form.
bool SplitOrigin(std::string_view origin, OriginParts* parts) {
  const std::size_t sep = origin.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  parts->scheme = origin.substr(0, sep);
  for (char c : parts->scheme) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
          c == '-' || c == '.')) {
      return false;
    }
  }
  std::string_view authority = origin.substr(sep + 3);
  std::size_t host_end;
  if (!authority.empty() && authority.front() == '[') {
    host_end = authority.find(']');
    if (host_end == std::string_view::npos) return false;
    ++host_end;
    for (char c : authority.substr(1, host_end - 2)) {
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':' ||
            c == '.')) {
        return false;
      }
    }
  } else {
    host_end = authority.find(':');
    if (host_end == std::string_view::npos) host_end = authority.size();
    for (char c : authority.substr(0, host_end)) {
      if (!IsLowerHostChar(c) && c != '*') return false;
    }
  }
  parts->host = authority.substr(0, host_end);
  parts->port = authority.substr(host_end);
  if (parts->host.empty()) return false;
  if (!parts->port.empty()) {
    if (parts->port.size() < 2 || parts->port.size() > 6 ||
        parts->port.front() != ':') {
      return false;
    }
    for (char c : parts->port.substr(1)) {
      if (c < '0' || c > '9') return false;
    }
  }
  return true;
}

bool IsValidOrigin(std::string_view origin) {
  OriginParts parts;
  return SplitOrigin(origin, &parts) &&
         parts.host.find('*') == std::string_view::npos &&
         parts.host.front() != '.' && parts.host.back() != '.';
}

// `pattern` is "scheme://*.suffix[:port]", already validated.
bool MatchesPattern(std::string_view pattern, std::string_view origin) {
  OriginParts p;
  OriginParts o;
  if (!SplitOrigin(pattern, &p) || !SplitOrigin(origin, &o)) return false;
  if (p.scheme != o.scheme || p.port != o.port) return false;
  const std::string_view suffix = p.host.substr(1);  // ".example.com"
  if (o.host.size() <= suffix.size() ||
      o.host.substr(o.host.size() - suffix.size()) != suffix) {
    return false;
  }
  const std::string_view labels =
      o.host.substr(0, o.host.size() - suffix.size());
  if (labels.front() == '.' || labels.back() == '.' ||
      labels.find("..") != std::string_view::npos) {
    return false;
  }
  for (char c : labels) {
    if (!IsLowerHostChar(c)) return false;
  }
  return true;
}

absl::Status Bad(std::string_view field, std::string_view value,
                 std::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("CorsOptions.", std::string(field), ": \"",
                   std::string(value), "\" ", std::string(problem)));
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", item);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Cors>> Cors::Create(CorsOptions options) {
  for (const auto& origin : options.allowed_origins) {
    if (origin == "*") {
      return Bad("allowed_origins", origin,
                 "is not an origin; set allow_any_origin (never with "
                 "credentials)");
    }
    if (origin == "null") {
      return Bad("allowed_origins", origin,
                 "is shared by every sandboxed document and file: URL");
    }
    if (!IsValidOrigin(origin)) {
      return Bad("allowed_origins", origin,
                 "is not a lower-case scheme://host[:port] origin without a "
                 "path");
    }
  }
  for (const auto& pattern : options.allowed_origin_patterns) {
    OriginParts parts;
    if (!SplitOrigin(pattern, &parts) || parts.host.size() < 3 ||
        parts.host.substr(0, 2) != "*." ||
        parts.host.find('*', 1) != std::string_view::npos) {
      return Bad("allowed_origin_patterns", pattern,
                 "is not scheme://*.suffix[:port]");
    }
    const std::string_view suffix = parts.host.substr(2);
    if (suffix.find('.') == std::string_view::npos || suffix.front() == '.' ||
        suffix.back() == '.' || suffix.find("..") != std::string_view::npos) {
      return Bad("allowed_origin_patterns", pattern,
                 "needs a suffix of at least two labels (it would match a "
                 "whole top-level domain)");
    }
  }
  if (options.allow_any_origin && options.allow_credentials) {
    return absl::InvalidArgumentError(
        "CorsOptions: allow_any_origin together with allow_credentials would "
        "let every site read credentialed answers");
  }
  for (const auto& method : options.allowed_methods) {
    if (!security_internal::IsToken(method)) {
      return Bad("allowed_methods", method, "is not a token");
    }
  }
  for (const auto& header : options.allowed_headers) {
    if (header == "*" && options.allow_credentials) {
      return Bad("allowed_headers", header,
                 "is a literal header name with credentials; list them");
    }
    if (!security_internal::IsToken(header)) {
      return Bad("allowed_headers", header, "is not a token");
    }
  }
  for (const auto& header : options.exposed_headers) {
    if (!security_internal::IsToken(header)) {
      return Bad("exposed_headers", header, "is not a token");
    }
  }
  if (options.max_age && options.max_age->count() < 0) {
    return absl::InvalidArgumentError("CorsOptions.max_age is negative");
  }
  if (options.allowed_origins.empty() &&
      options.allowed_origin_patterns.empty() && !options.allow_any_origin) {
    return absl::InvalidArgumentError(
        "CorsOptions: no allowed_origins, allowed_origin_patterns or "
        "allow_any_origin");
  }
  std::unique_ptr<Cors> cors(new Cors());
  cors->methods_value_ = Join(options.allowed_methods);
  cors->exposed_value_ = Join(options.exposed_headers);
  if (options.max_age) {
    cors->max_age_value_ = absl::StrCat(options.max_age->count());
  }
  cors->options_ = std::move(options);
  return cors;
}

bool Cors::IsOriginAllowed(std::string_view origin) const {
  if (options_.allow_any_origin) return true;
  for (const auto& o : options_.allowed_origins) {
    if (o == origin) return true;
  }
  for (const auto& p : options_.allowed_origin_patterns) {
    if (MatchesPattern(p, origin)) return true;
  }
  return false;
}

CorsResult Cors::Handle(const RequestView& request,
                        HeaderSink* response) const {
  const bool wildcard = options_.allow_any_origin;
  const std::optional<std::string_view> origin = request.Field("Origin");
  const std::optional<std::string_view> requested_method =
      request.Field("Access-Control-Request-Method");
  const bool preflight =
      origin && requested_method && request.method == "OPTIONS";
  CorsResult result;
  if (preflight) {
    response->Add("Vary",
                  "Origin, Access-Control-Request-Method, "
                  "Access-Control-Request-Headers");
  } else if (!wildcard) {
    response->Add("Vary", "Origin");
  }
  if (!origin) return result;

  const bool allowed = IsOriginAllowed(*origin);
  if (!preflight) {
    if (!allowed) {
      result.outcome = CorsOutcome::kOriginNotAllowed;
      return result;
    }
    response->Set("Access-Control-Allow-Origin", wildcard ? "*" : *origin);
    if (options_.allow_credentials) {
      response->Set("Access-Control-Allow-Credentials", "true");
    }
    if (!exposed_value_.empty()) {
      response->Set("Access-Control-Expose-Headers", exposed_value_);
    }
    result.outcome = CorsOutcome::kAllowed;
    return result;
  }

  result.outcome = CorsOutcome::kRejectedPreflight;
  result.status = 403;
  if (!allowed) return result;
  const std::string_view method = security_internal::TrimOws(*requested_method);
  if (std::find(options_.allowed_methods.begin(),
                options_.allowed_methods.end(),
                method) == options_.allowed_methods.end()) {
    return result;
  }
  std::string_view rest =
      request.Field("Access-Control-Request-Headers").value_or("");
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view name =
        security_internal::TrimOws(rest.substr(0, comma));
    if (!name.empty()) {
      const bool ok = std::any_of(
          options_.allowed_headers.begin(), options_.allowed_headers.end(),
          [&](const std::string& h) {
            return (h == "*") || EqualsIgnoreCase(h, name);
          });
      if (!ok) return result;
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  response->Set("Access-Control-Allow-Origin", wildcard ? "*" : *origin);
  if (options_.allow_credentials) {
    response->Set("Access-Control-Allow-Credentials", "true");
  }
  response->Set("Access-Control-Allow-Methods", methods_value_);
  // Every requested header was checked above, so echoing the list grants
  // exactly those.
  const std::string_view requested_headers = security_internal::TrimOws(
      request.Field("Access-Control-Request-Headers").value_or(""));
  if (!requested_headers.empty()) {
    response->Set("Access-Control-Allow-Headers", requested_headers);
  }
  if (!max_age_value_.empty()) {
    response->Set("Access-Control-Max-Age", max_age_value_);
  }
  result.outcome = CorsOutcome::kPreflight;
  result.status = 204;
  return result;
}

}  // namespace security
}  // namespace keel
