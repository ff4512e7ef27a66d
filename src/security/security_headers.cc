#include "keel/security/security_headers.h"

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "keel/security/csp.h"
#include "keel/security/http_fields.h"
#include "text.h"

namespace keel {
namespace security {
namespace {

constexpr std::int64_t kMinHstsMaxAge = 180 * 24 * 3600;
constexpr std::int64_t kOneYear = 365 * 24 * 3600;

constexpr std::string_view kCsp = "Content-Security-Policy";
constexpr std::string_view kCspReportOnly =
    "Content-Security-Policy-Report-Only";
constexpr std::string_view kHsts = "Strict-Transport-Security";
constexpr std::string_view kReportingEndpoints = "Reporting-Endpoints";

ContentSecurityPolicy MustParse(std::string_view text, std::string separator) {
  CspOptions options;
  options.separator = std::move(separator);
  // The presets' policies are constants covered by tests.
  return ContentSecurityPolicy::Parse(text, std::move(options)).value();
}

absl::Status BadHeader(std::string_view name, std::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("SecurityHeadersOptions: header \"", std::string(name),
                   "\": ", std::string(problem)));
}

bool OneOf(std::string_view value,
           std::initializer_list<std::string_view> allowed) {
  for (auto a : allowed) {
    if (EqualsIgnoreCase(value, a)) return true;
  }
  return false;
}

absl::Status CheckReferrerPolicy(std::string_view value) {
  // A comma-separated list; browsers use the last token they understand.
  bool any = false;
  while (true) {
    const std::size_t comma = value.find(',');
    const std::string_view token =
        security_internal::TrimOws(value.substr(0, comma));
    if (!OneOf(token,
               {"no-referrer", "no-referrer-when-downgrade", "origin",
                "origin-when-cross-origin", "same-origin", "strict-origin",
                "strict-origin-when-cross-origin", "unsafe-url"})) {
      return BadHeader("Referrer-Policy",
                       absl::StrCat("\"", std::string(token),
                                    "\" is not a referrer policy"));
    }
    any = true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return any ? absl::OkStatus() : BadHeader("Referrer-Policy", "empty");
}

absl::Status CheckKnownValue(std::string_view name, std::string_view value) {
  if (EqualsIgnoreCase(name, "Referrer-Policy")) {
    return CheckReferrerPolicy(value);
  }
  struct Rule {
    std::string_view name;
    std::initializer_list<std::string_view> values;
  };
  static const Rule kRules[] = {
      {"X-Frame-Options", {"DENY", "SAMEORIGIN"}},
      {"X-Content-Type-Options", {"nosniff"}},
      {"Cross-Origin-Opener-Policy",
       {"same-origin", "same-origin-allow-popups", "unsafe-none",
        "noopener-allow-popups"}},
      {"Cross-Origin-Embedder-Policy",
       {"require-corp", "credentialless", "unsafe-none"}},
      {"Cross-Origin-Resource-Policy",
       {"same-origin", "same-site", "cross-origin"}},
      {"X-Permitted-Cross-Domain-Policies",
       {"none", "master-only", "by-content-type", "all"}},
      {"X-DNS-Prefetch-Control", {"on", "off"}},
      {"Origin-Agent-Cluster", {"?0", "?1"}},
      {"X-XSS-Protection", {"0"}},
      {"X-Download-Options", {"noopen"}},
  };
  for (const Rule& rule : kRules) {
    if (!EqualsIgnoreCase(name, rule.name)) continue;
    if (!OneOf(value, rule.values)) {
      std::string allowed;
      for (auto v : rule.values) {
        absl::StrAppend(&allowed, allowed.empty() ? "" : ", ", std::string(v));
      }
      return BadHeader(name, absl::StrCat("\"", std::string(value),
                                          "\" is not one of ", allowed));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckField(std::string_view name, std::string_view value) {
  if (!security_internal::IsToken(name)) {
    return BadHeader(name, "name is not an HTTP token");
  }
  if (!security_internal::IsFieldValue(value)) {
    return BadHeader(name,
                     "value contains CR, LF, NUL or another control "
                     "character");
  }
  if (security_internal::TrimOws(value).size() != value.size() ||
      value.empty()) {
    return BadHeader(name, "value is empty or has surrounding whitespace");
  }
  return CheckKnownValue(name, value);
}

absl::Status CheckReportTo(const ContentSecurityPolicy& policy,
                           const SecurityHeadersOptions& options) {
  const std::string_view endpoint = policy.report_to();
  if (endpoint.empty()) return absl::OkStatus();
  for (const auto& e : options.reporting_endpoints) {
    if (e.first == endpoint) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "SecurityHeadersOptions.reporting_endpoints has no endpoint \"",
      std::string(endpoint), "\" named by the policy's report-to"));
}

void AppendBlock(std::string* block, std::string_view name,
                 std::string_view value) {
  block->append(name.data(), name.size());
  block->append(": ");
  block->append(value.data(), value.size());
  block->append("\r\n");
}

}  // namespace

const std::vector<std::string>& OwaspStripList() {
  static const auto* list = new std::vector<std::string>{
      "$wsep",
      "Host-Header",
      "K-Proxy-Request",
      "Liferay-Portal",
      "OracleCommerceCloud-Version",
      "Pega-Host",
      "Powered-By",
      "Product",
      "Server",
      "SourceMap",
      "X-AspNet-Version",
      "X-AspNetMvc-Version",
      "X-Atmosphere-error",
      "X-Atmosphere-first-request",
      "X-Atmosphere-tracking-id",
      "X-B3-ParentSpanId",
      "X-B3-Sampled",
      "X-B3-SpanId",
      "X-B3-TraceId",
      "X-BEServer",
      "X-CF-Powered-By",
      "X-CMS",
      "X-CalculatedBETarget",
      "X-Cocoon-Version",
      "X-Content-Encoded-By",
      "X-DiagInfo",
      "X-Envoy-Attempt-Count",
      "X-Envoy-External-Address",
      "X-Envoy-Internal",
      "X-Envoy-Original-Dst-Host",
      "X-Envoy-Upstream-Service-Time",
      "X-FEServer",
      "X-Framework",
      "X-Generated-By",
      "X-Generator",
      "X-Jitsi-Release",
      "X-Kubernetes-PF-FlowSchema-UI",
      "X-Kubernetes-PF-PriorityLevel-UID",
      "X-LiteSpeed-Cache",
      "X-LiteSpeed-Purge",
      "X-LiteSpeed-Tag",
      "X-LiteSpeed-Vary",
      "X-Litespeed-Cache-Control",
      "X-Mod-Pagespeed",
      "X-Nextjs-Cache",
      "X-Nextjs-Matched-Path",
      "X-Nextjs-Page",
      "X-Nextjs-Redirect",
      "X-OWA-Version",
      "X-Old-Content-Length",
      "X-OneAgent-JS-Injection",
      "X-Page-Speed",
      "X-Php-Version",
      "X-Powered-By",
      "X-Powered-By-Plesk",
      "X-Powered-CMS",
      "X-Redirect-By",
      "X-Server-Powered-By",
      "X-SourceFiles",
      "X-SourceMap",
      "X-Turbo-Charged-By",
      "X-Umbraco-Version",
      "X-Varnish-Backend",
      "X-Varnish-Server",
      "X-dtAgentId",
      "X-dtHealthCheck",
      "X-dtInjectedServlet",
      "X-ruxit-JS-Agent",
  };
  return *list;
}

SecurityHeadersOptions SecurityHeadersOptions::Helmet() {
  SecurityHeadersOptions o;
  o.content_security_policy = MustParse(
      "default-src 'self';base-uri 'self';font-src 'self' https: data:;"
      "form-action 'self';frame-ancestors 'self';img-src 'self' data:;"
      "object-src 'none';script-src 'self';script-src-attr 'none';"
      "style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests",
      ";");
  o.headers = {
      {"Cross-Origin-Opener-Policy", "same-origin"},
      {"Cross-Origin-Resource-Policy", "same-origin"},
      {"Origin-Agent-Cluster", "?1"},
      {"Referrer-Policy", "no-referrer"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-DNS-Prefetch-Control", "off"},
      {"X-Download-Options", "noopen"},
      {"X-Frame-Options", "SAMEORIGIN"},
      {"X-Permitted-Cross-Domain-Policies", "none"},
      {"X-XSS-Protection", "0"},
  };
  o.strip = {"X-Powered-By"};
  return o;
}

SecurityHeadersOptions SecurityHeadersOptions::StrictApi() {
  SecurityHeadersOptions o;
  o.content_security_policy =
      MustParse("default-src 'none'; frame-ancestors 'none'", "; ");
  o.headers = {
      {"Cache-Control", "no-store"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
      {"Cross-Origin-Resource-Policy", "same-origin"},
      {"Referrer-Policy", "no-referrer"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
  };
  o.strip = OwaspStripList();
  return o;
}

SecurityHeadersOptions SecurityHeadersOptions::Owasp() {
  SecurityHeadersOptions o;
  o.content_security_policy = MustParse(
      "default-src 'self'; form-action 'self'; object-src 'none'; "
      "frame-ancestors 'none'; upgrade-insecure-requests; "
      "block-all-mixed-content",
      "; ");
  o.headers = {
      {"Cache-Control", "no-store, max-age=0"},
      {"Cross-Origin-Embedder-Policy", "require-corp"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
      {"Cross-Origin-Resource-Policy", "same-origin"},
      {"Permissions-Policy",
       "accelerometer=(), autoplay=(), camera=(), cross-origin-isolated=(), "
       "display-capture=(), encrypted-media=(), fullscreen=(), "
       "geolocation=(), gyroscope=(), keyboard-map=(), magnetometer=(), "
       "microphone=(), midi=(), payment=(), picture-in-picture=(), "
       "publickey-credentials-get=(), screen-wake-lock=(), sync-xhr=(self), "
       "usb=(), web-share=(), xr-spatial-tracking=(), clipboard-read=(), "
       "clipboard-write=(), gamepad=(), hid=(), idle-detection=(), "
       "interest-cohort=(), serial=(), unload=()"},
      {"Referrer-Policy", "no-referrer"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"X-Permitted-Cross-Domain-Policies", "none"},
  };
  o.strip = OwaspStripList();
  return o;
}

void SecurityHeadersOptions::SetHeader(std::string_view name,
                                       std::string_view value) {
  for (auto& h : headers) {
    if (EqualsIgnoreCase(h.first, name)) {
      h.second = std::string(value);
      return;
    }
  }
  headers.emplace_back(std::string(name), std::string(value));
}

void SecurityHeadersOptions::RemoveHeader(std::string_view name) {
  if (EqualsIgnoreCase(name, kCsp)) content_security_policy.reset();
  if (EqualsIgnoreCase(name, kCspReportOnly)) {
    content_security_policy_report_only.reset();
  }
  if (EqualsIgnoreCase(name, kHsts)) hsts.reset();
  if (EqualsIgnoreCase(name, kReportingEndpoints)) reporting_endpoints.clear();
  headers.erase(std::remove_if(headers.begin(), headers.end(),
                               [&](const auto& h) {
                                 return EqualsIgnoreCase(h.first, name);
                               }),
                headers.end());
}

std::string HstsValue(const HstsOptions& options) {
  std::string value = absl::StrCat("max-age=", options.max_age.count());
  if (options.include_subdomains) value.append("; includeSubDomains");
  if (options.preload) value.append("; preload");
  return value;
}

absl::StatusOr<std::unique_ptr<SecurityHeaders>> SecurityHeaders::Create(
    SecurityHeadersOptions options) {
  for (std::size_t i = 0; i < options.headers.size(); ++i) {
    const auto& [name, value] = options.headers[i];
    for (auto typed : {kCsp, kCspReportOnly, kHsts, kReportingEndpoints}) {
      if (EqualsIgnoreCase(name, typed)) {
        return BadHeader(name, "set it through its typed option field");
      }
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (EqualsIgnoreCase(options.headers[j].first, name)) {
        return BadHeader(name, "appears more than once");
      }
    }
    if (absl::Status s = CheckField(name, value); !s.ok()) return s;
  }
  if (options.hsts) {
    const std::int64_t max_age = options.hsts->max_age.count();
    if (max_age < kMinHstsMaxAge) {
      return absl::InvalidArgumentError(absl::StrCat(
          "SecurityHeadersOptions.hsts.max_age must be at least 180 days (",
          kMinHstsMaxAge, " s), got ", max_age));
    }
    if (options.hsts->preload &&
        (!options.hsts->include_subdomains || max_age < kOneYear)) {
      return absl::InvalidArgumentError(
          "SecurityHeadersOptions.hsts.preload needs include_subdomains and "
          "max_age of at least one year");
    }
  }
  for (const auto& [name, url] : options.reporting_endpoints) {
    if (!security_internal::IsToken(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("SecurityHeadersOptions.reporting_endpoints: \"", name,
                       "\" is not a token"));
    }
    if (url.empty() || !security_internal::IsFieldValue(url) ||
        url.find_first_of("\"\\ ") != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "SecurityHeadersOptions.reporting_endpoints: URL of \"", name,
          "\" is empty or contains a quote, backslash, space or control "
          "character"));
    }
  }
  for (const auto* policy : {&options.content_security_policy,
                             &options.content_security_policy_report_only}) {
    if (!policy->has_value()) continue;
    if (absl::Status s = CheckReportTo(**policy, options); !s.ok()) return s;
  }
  for (const auto& stripped : options.strip) {
    if (!security_internal::IsToken(stripped)) {
      return absl::InvalidArgumentError(
          absl::StrCat("SecurityHeadersOptions.strip: \"", stripped,
                       "\" is not a header name"));
    }
    bool sent = std::any_of(
        options.headers.begin(), options.headers.end(),
        [&](const auto& h) { return EqualsIgnoreCase(h.first, stripped); });
    sent =
        sent ||
        (options.content_security_policy && EqualsIgnoreCase(stripped, kCsp)) ||
        (options.content_security_policy_report_only &&
         EqualsIgnoreCase(stripped, kCspReportOnly)) ||
        (options.hsts && EqualsIgnoreCase(stripped, kHsts)) ||
        (!options.reporting_endpoints.empty() &&
         EqualsIgnoreCase(stripped, kReportingEndpoints));
    if (sent) {
      return absl::InvalidArgumentError(
          absl::StrCat("SecurityHeadersOptions.strip: \"", stripped,
                       "\" is also configured to be sent"));
    }
  }

  std::unique_ptr<SecurityHeaders> result(new SecurityHeaders());
  auto& https = result->https_fields_;
  if (options.content_security_policy) {
    https.emplace_back(std::string(kCsp),
                       options.content_security_policy->value());
  }
  if (options.content_security_policy_report_only) {
    https.emplace_back(std::string(kCspReportOnly),
                       options.content_security_policy_report_only->value());
  }
  if (!options.reporting_endpoints.empty()) {
    std::string value;
    for (const auto& [name, url] : options.reporting_endpoints) {
      absl::StrAppend(&value, value.empty() ? "" : ", ", name, "=\"", url,
                      "\"");
    }
    https.emplace_back(std::string(kReportingEndpoints), std::move(value));
  }
  // The order of the non-HSTS headers is the configured one; HSTS goes where
  // helmet sends it, after Referrer-Policy when present, else first.
  std::size_t hsts_at = https.size();
  for (const auto& h : options.headers) {
    https.push_back(h);
    if (EqualsIgnoreCase(h.first, "Referrer-Policy")) hsts_at = https.size();
  }
  result->http_fields_ = https;
  if (options.hsts) {
    https.insert(https.begin() + static_cast<std::ptrdiff_t>(hsts_at),
                 {std::string(kHsts), HstsValue(*options.hsts)});
  }
  for (const auto& [name, value] : result->https_fields_) {
    AppendBlock(&result->https_block_, name, value);
  }
  for (const auto& [name, value] : result->http_fields_) {
    AppendBlock(&result->http_block_, name, value);
  }
  result->options_ = std::move(options);
  return result;
}

void SecurityHeaders::Apply(bool https, HeaderSink* response) const {
  for (const auto& name : options_.strip) response->Remove(name);
  for (const auto& [name, value] : fields(https)) response->Set(name, value);
  // A plain-HTTP response must not carry an HSTS header a handler set.
  if (!https && options_.hsts) response->Remove(kHsts);
}

void SecurityHeaders::ApplyWithNonce(bool https, std::string_view nonce,
                                     HeaderSink* response) const {
  Apply(https, response);
  if (options_.content_security_policy &&
      options_.content_security_policy->uses_nonce()) {
    response->Set(kCsp, options_.content_security_policy->WithNonce(nonce));
  }
  if (options_.content_security_policy_report_only &&
      options_.content_security_policy_report_only->uses_nonce()) {
    response->Set(
        kCspReportOnly,
        options_.content_security_policy_report_only->WithNonce(nonce));
  }
}

}  // namespace security
}  // namespace keel
