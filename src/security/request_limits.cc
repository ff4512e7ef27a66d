#include "keel/security/request_limits.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "base/hex_digit.h"
#include "keel/security/http_fields.h"
#include "text.h"

namespace keel {
namespace security {
namespace {

// Tracks path segments to detect a `..` that climbs above the root.
class SegmentWalker {
 public:
  // Feeds one decoded byte; false once the path has escaped the root.
  bool Feed(char c) {
    if (c == '/' || c == '\\') return EndSegment();
    if (c == '.') {
      ++dots_;
    } else {
      other_ = true;
    }
    return true;
  }
  bool EndSegment() {
    if (!other_ && dots_ == 2) {
      if (depth_ == 0) return false;
      --depth_;
    } else if (other_ || dots_ > 2) {
      ++depth_;
    }
    dots_ = 0;
    other_ = false;
    return true;
  }

 private:
  std::size_t depth_ = 0;
  int dots_ = 0;
  bool other_ = false;
};

}  // namespace

std::string_view LimitReasonName(LimitReason reason) {
  switch (reason) {
    case LimitReason::kOk:
      return "ok";
    case LimitReason::kMethodNotAllowed:
      return "method_not_allowed";
    case LimitReason::kUriTooLong:
      return "uri_too_long";
    case LimitReason::kTooManyHeaders:
      return "too_many_headers";
    case LimitReason::kHeaderTooLarge:
      return "header_too_large";
    case LimitReason::kHeadersTooLarge:
      return "headers_too_large";
    case LimitReason::kBodyTooLarge:
      return "body_too_large";
    case LimitReason::kInvalidHeaderName:
      return "invalid_header_name";
    case LimitReason::kInvalidHeaderValue:
      return "invalid_header_value";
    case LimitReason::kInvalidTarget:
      return "invalid_target";
    case LimitReason::kMalformedPercentEncoding:
      return "malformed_percent_encoding";
    case LimitReason::kPathTraversal:
      return "path_traversal";
  }
  return "unknown";
}

int LimitReasonStatus(LimitReason reason) {
  switch (reason) {
    case LimitReason::kOk:
      return 200;
    case LimitReason::kMethodNotAllowed:
      return 405;
    case LimitReason::kUriTooLong:
      return 414;
    case LimitReason::kTooManyHeaders:
    case LimitReason::kHeaderTooLarge:
    case LimitReason::kHeadersTooLarge:
      return 431;
    case LimitReason::kBodyTooLarge:
      return 413;
    case LimitReason::kInvalidHeaderName:
    case LimitReason::kInvalidHeaderValue:
    case LimitReason::kInvalidTarget:
    case LimitReason::kMalformedPercentEncoding:
    case LimitReason::kPathTraversal:
      return 400;
  }
  return 400;
}

LimitReason CheckRequestTarget(std::string_view method,
                               std::string_view target) {
  if (target.empty()) return LimitReason::kInvalidTarget;
  if (target == "*") {
    return method == "OPTIONS" ? LimitReason::kOk : LimitReason::kInvalidTarget;
  }
  std::string_view rest = target;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (rest.size() >= scheme.size() &&
        EqualsIgnoreCase(rest.substr(0, scheme.size()), scheme)) {
      // Absolute-form (to proxies): the path starts after the authority.
      rest.remove_prefix(scheme.size());
      const std::size_t path = rest.find_first_of("/?");
      if (path == 0) return LimitReason::kInvalidTarget;  // no authority
      for (char c : rest.substr(0, path)) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || c == '\\' || c == '#') {
          return LimitReason::kInvalidTarget;
        }
      }
      rest.remove_prefix(path == std::string_view::npos ? rest.size() : path);
      if (rest.empty()) return LimitReason::kOk;
      break;
    }
  }
  if (rest.front() != '/' && rest.front() != '?') {
    return LimitReason::kInvalidTarget;
  }
  SegmentWalker walker;
  bool in_query = false;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    char c = rest[i];
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '#') return LimitReason::kInvalidTarget;
    if (c == '?' && !in_query) {
      if (!walker.EndSegment()) return LimitReason::kPathTraversal;
      in_query = true;
      continue;
    }
    if (c == '%') {
      const int byte = base_internal::PercentEscapeAt(rest, i);
      if (byte < 0) return LimitReason::kMalformedPercentEncoding;
      c = static_cast<char>(byte);
      if (c == '\0') return LimitReason::kInvalidTarget;
      i += 2;
    }
    if (!in_query && !walker.Feed(c)) return LimitReason::kPathTraversal;
  }
  if (!in_query && !walker.EndSegment()) return LimitReason::kPathTraversal;
  return LimitReason::kOk;
}

absl::StatusOr<std::unique_ptr<RequestLimits>> RequestLimits::Create(
    RequestLimitsOptions options) {
  if (options.allowed_methods.empty()) {
    return absl::InvalidArgumentError(
        "RequestLimitsOptions.allowed_methods is empty");
  }
  for (const auto& method : options.allowed_methods) {
    if (!security_internal::IsToken(method)) {
      return absl::InvalidArgumentError(
          absl::StrCat("RequestLimitsOptions.allowed_methods: \"", method,
                       "\" is not a token"));
    }
  }
  struct Limit {
    const char* field;
    std::uint64_t value;
  };
  for (const Limit& limit :
       {Limit{"max_target_length", options.max_target_length},
        Limit{"max_header_count", options.max_header_count},
        Limit{"max_header_bytes", options.max_header_bytes},
        Limit{"max_total_header_bytes", options.max_total_header_bytes}}) {
    if (limit.value == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("RequestLimitsOptions.", limit.field, " must be > 0"));
    }
  }
  std::unique_ptr<RequestLimits> limits(new RequestLimits());
  for (const auto& method : options.allowed_methods) {
    absl::StrAppend(&limits->allow_value_,
                    limits->allow_value_.empty() ? "" : ", ", method);
  }
  if (options.metrics != nullptr) {
    auto family = options.metrics->AddCounter(
        "keel_request_limits_rejections_total",
        "Requests refused by keel::security::RequestLimits, by reason.",
        {"reason"});
    if (!family.ok()) return family.status();
    for (std::size_t i = 1; i < kLimitReasonCount; ++i) {
      limits->rejections_[i] =
          (*family)->WithLabels({LimitReasonName(static_cast<LimitReason>(i))});
    }
  }
  limits->options_ = std::move(options);
  return limits;
}

LimitVerdict RequestLimits::Reject(LimitReason reason) const {
  rejections_[static_cast<std::size_t>(reason)].Inc();
  LimitVerdict verdict;
  verdict.reason = reason;
  verdict.status = LimitReasonStatus(reason);
  return verdict;
}

LimitVerdict RequestLimits::Check(const RequestView& request) const {
  if (std::find(options_.allowed_methods.begin(),
                options_.allowed_methods.end(),
                request.method) == options_.allowed_methods.end()) {
    return Reject(LimitReason::kMethodNotAllowed);
  }
  if (request.target.size() > options_.max_target_length) {
    return Reject(LimitReason::kUriTooLong);
  }
  if (const LimitReason r = CheckRequestTarget(request.method, request.target);
      r != LimitReason::kOk) {
    return Reject(r);
  }
  if (request.field_count > options_.max_header_count) {
    return Reject(LimitReason::kTooManyHeaders);
  }
  std::size_t total = 0;
  for (std::size_t i = 0; i < request.field_count; ++i) {
    const FieldView& field = request.fields[i];
    const std::size_t size = field.name.size() + field.value.size();
    if (size > options_.max_header_bytes) {
      return Reject(LimitReason::kHeaderTooLarge);
    }
    total += size;
    if (total > options_.max_total_header_bytes) {
      return Reject(LimitReason::kHeadersTooLarge);
    }
    if (!security_internal::IsToken(field.name)) {
      return Reject(LimitReason::kInvalidHeaderName);
    }
    if (!security_internal::IsFieldValue(field.value)) {
      return Reject(LimitReason::kInvalidHeaderValue);
    }
  }
  if (request.body_length) return CheckBodyLength(*request.body_length);
  return LimitVerdict();
}

LimitVerdict RequestLimits::CheckBodyLength(std::uint64_t bytes) const {
  if (bytes > options_.max_body_bytes) {
    return Reject(LimitReason::kBodyTooLarge);
  }
  return LimitVerdict();
}

}  // namespace security
}  // namespace keel
