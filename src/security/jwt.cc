#include "keel/security/jwt.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "jose_base64url.h"
#include "jose_json.h"
#include "keel/base/status_macros.h"

namespace keel::security {
namespace {

using nlohmann::json;

constexpr char kFailurePayloadUrl[] = "type.keel.dev/keel.security.JwtFailure";

constexpr std::string_view kFailureNames[] = {
    "malformed",          "too_large",
    "algorithm_rejected", "unsupported_critical",
    "bad_type",           "unknown_issuer",
    "unknown_key",        "keys_unavailable",
    "bad_signature",      "expired",
    "not_yet_valid",      "issued_in_future",
    "bad_audience",       "missing_claim",
    "claim_rejected"};

// error_description texts: fixed per failure so that nothing from the token
// is echoed back to the client.
constexpr std::string_view kFailureDescriptions[] = {
    "The token is malformed",
    "The token is too large",
    "The token algorithm is not accepted",
    "The token has an unsupported critical header",
    "The token type is not accepted",
    "The token issuer is not trusted",
    "No key matches the token",
    "The signing keys are unavailable",
    "The token signature is invalid",
    "The token has expired",
    "The token is not yet valid",
    "The token was issued in the future",
    "The token audience is not accepted",
    "The token lacks a required claim",
    "The token was rejected"};

// Header parameters registered by RFC 7515 section 4.1; `crit` must not
// list them (section 4.1.11).
constexpr std::string_view kRegisteredHeaders[] = {
    "alg", "jku",      "jwk", "kid", "x5u", "x5c",
    "x5t", "x5t#S256", "typ", "cty", "crit"};

absl::string_view View(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

absl::Status Fail(JwtFailure failure, absl::string_view message) {
  absl::Status status = failure == JwtFailure::kKeysUnavailable
                            ? absl::UnavailableError(message)
                            : absl::UnauthenticatedError(message);
  status.SetPayload(kFailurePayloadUrl,
                    absl::Cord(View(JwtFailureName(failure))));
  return status;
}

bool IsRegisteredHeader(std::string_view name) {
  return std::find(std::begin(kRegisteredHeaders), std::end(kRegisteredHeaders),
                   name) != std::end(kRegisteredHeaders);
}

// "at+jwt", "AT+JWT" and "application/at+jwt" name the same type (RFC 7515
// section 4.1.9).
std::string_view MediaTypeSuffix(std::string_view type) {
  constexpr std::string_view kPrefix = "application/";
  if (type.size() > kPrefix.size() &&
      absl::EqualsIgnoreCase(View(type.substr(0, kPrefix.size())),
                             View(kPrefix))) {
    type.remove_prefix(kPrefix.size());
  }
  return type;
}

// A NumericDate claim (RFC 7519 section 2), truncated to whole seconds.
absl::StatusOr<std::optional<std::int64_t>> NumericDate(const json& payload,
                                                        const char* name) {
  auto it = payload.find(name);
  if (it == payload.end()) return std::optional<std::int64_t>();
  // 2^53 seconds is far beyond any real date and keeps `exp + leeway` exact.
  constexpr double kLimit = 9007199254740992.0;
  double value = 0;
  if (it->is_number_integer() && !it->is_number_unsigned()) {
    value = static_cast<double>(it->get<std::int64_t>());
  } else if (it->is_number_unsigned()) {
    value = static_cast<double>(it->get<std::uint64_t>());
  } else if (it->is_number_float()) {
    value = std::floor(it->get<double>());
  } else {
    return Fail(JwtFailure::kMalformed,
                absl::StrCat("claim \"", name, "\" must be a number"));
  }
  if (!(std::fabs(value) < kLimit)) {
    return Fail(JwtFailure::kMalformed,
                absl::StrCat("claim \"", name, "\" is out of range"));
  }
  return std::optional<std::int64_t>(static_cast<std::int64_t>(value));
}

absl::Status DecodePart(std::string_view part, std::string& out,
                        const char* what) {
  if (!security_internal::Base64UrlDecode(part, out)) {
    return Fail(JwtFailure::kMalformed,
                absl::StrCat(what, " is not strict base64url"));
  }
  return absl::OkStatus();
}

absl::StatusOr<json> ParsePart(std::string_view text, const char* what) {
  absl::StatusOr<json> parsed = security_internal::ParseJsonObject(text, what);
  if (!parsed.ok()) {
    return Fail(JwtFailure::kMalformed, parsed.status().message());
  }
  return parsed;
}

absl::StatusOr<std::optional<std::string>> StringMember(const json& object,
                                                        std::string_view name,
                                                        const char* what) {
  absl::StatusOr<std::optional<std::string>> value =
      security_internal::OptionalString(object, name, what);
  if (!value.ok())
    return Fail(JwtFailure::kMalformed, value.status().message());
  return value;
}

absl::Status CheckCritical(const json& header,
                           const std::vector<std::string>& understood) {
  auto crit = header.find("crit");
  if (crit == header.end()) return absl::OkStatus();
  if (!crit->is_array() || crit->empty()) {
    return Fail(JwtFailure::kUnsupportedCritical,
                "\"crit\" must be a non-empty array");
  }
  for (const json& entry : *crit) {
    if (!entry.is_string()) {
      return Fail(JwtFailure::kUnsupportedCritical,
                  "\"crit\" entries must be strings");
    }
    const std::string& name = entry.get_ref<const std::string&>();
    if (IsRegisteredHeader(name)) {
      return Fail(
          JwtFailure::kUnsupportedCritical,
          absl::StrCat("\"crit\" lists registered header \"", name, "\""));
    }
    if (std::find(understood.begin(), understood.end(), name) ==
        understood.end()) {
      return Fail(
          JwtFailure::kUnsupportedCritical,
          absl::StrCat("critical header \"", name, "\" is not understood"));
    }
    if (!header.contains(name)) {
      return Fail(JwtFailure::kUnsupportedCritical,
                  absl::StrCat("critical header \"", name, "\" is absent"));
    }
  }
  return absl::OkStatus();
}

// Collects the audience claim; false if it is neither a string nor an array
// of strings.
bool ReadAudience(const json& aud, std::vector<std::string>& out) {
  if (aud.is_string()) {
    out.push_back(aud.get<std::string>());
    return true;
  }
  if (!aud.is_array()) return false;
  for (const json& entry : aud) {
    if (!entry.is_string()) return false;
    out.push_back(entry.get<std::string>());
  }
  return true;
}

std::string QuotedStringContent(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c >= 0x20 && c <= 0x7E && c != '"' && c != '\\') out.push_back(c);
  }
  return out;
}

}  // namespace

std::string_view JwtFailureName(JwtFailure failure) {
  return kFailureNames[static_cast<int>(failure)];
}

std::optional<JwtFailure> GetJwtFailure(const absl::Status& status) {
  auto payload = status.GetPayload(kFailurePayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  const std::string name(*payload);
  for (std::size_t i = 0; i < std::size(kFailureNames); ++i) {
    if (kFailureNames[i] == name) return static_cast<JwtFailure>(i);
  }
  return std::nullopt;
}

const std::string* VerifiedJwt::ClaimJson(std::string_view name) const {
  auto it =
      std::lower_bound(claims.begin(), claims.end(), name,
                       [](const std::pair<std::string, std::string>& claim,
                          std::string_view key) { return claim.first < key; });
  if (it == claims.end() || it->first != name) return nullptr;
  return &it->second;
}

std::optional<std::string> VerifiedJwt::StringClaim(
    std::string_view name) const {
  const std::string* text = ClaimJson(name);
  if (text == nullptr) return std::nullopt;
  json value = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!value.is_string()) return std::nullopt;
  return value.get<std::string>();
}

std::optional<double> VerifiedJwt::NumberClaim(std::string_view name) const {
  const std::string* text = ClaimJson(name);
  if (text == nullptr) return std::nullopt;
  json value = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!value.is_number()) return std::nullopt;
  return value.get<double>();
}

absl::StatusOr<std::unique_ptr<JwtVerifier>> JwtVerifier::Create(
    JwtVerifierOptions options) {
  if (options.clock == nullptr) {
    return absl::InvalidArgumentError("clock: required");
  }
  if (options.algorithms.empty()) {
    return absl::InvalidArgumentError("algorithms: empty allow-list");
  }
  std::uint32_t mask = 0;
  for (JwtAlgorithm alg : options.algorithms) {
    const std::uint32_t bit = 1u << static_cast<int>(alg);
    if ((mask & bit) != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "algorithms: ", View(JwtAlgorithmName(alg)), " listed twice"));
    }
    mask |= bit;
  }
  if (options.issuers.empty()) {
    return absl::InvalidArgumentError("issuers: at least one is required");
  }
  for (std::size_t i = 0; i < options.issuers.size(); ++i) {
    const JwtIssuer& issuer = options.issuers[i];
    const std::string field = absl::StrCat("issuers[", i, "]");
    if (issuer.issuer.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".issuer: empty"));
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (options.issuers[j].issuer == issuer.issuer) {
        return absl::InvalidArgumentError(absl::StrCat(
            field, ".issuer: \"", issuer.issuer, "\" is listed twice"));
      }
    }
    if (issuer.keys.empty() && issuer.jwks == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": needs keys or a jwks provider"));
    }
    for (std::size_t k = 0; k < issuer.keys.size(); ++k) {
      const JwtAlgorithm alg = issuer.keys[k].algorithm();
      if ((mask & (1u << static_cast<int>(alg))) == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ".keys[", k, "]: ", View(JwtAlgorithmName(alg)),
                         " is not in algorithms"));
      }
    }
  }
  for (const std::string& audience : options.audiences) {
    if (audience.empty()) {
      return absl::InvalidArgumentError("audiences: empty value");
    }
  }
  for (const std::string& name : options.critical_headers) {
    if (name.empty() || IsRegisteredHeader(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "critical_headers: \"", name, "\" is empty or a registered header"));
    }
  }
  for (const std::string& name : options.required_claims) {
    if (name.empty()) {
      return absl::InvalidArgumentError("required_claims: empty name");
    }
  }
  if (options.leeway < std::chrono::seconds(0) ||
      options.leeway > std::chrono::minutes(5)) {
    return absl::InvalidArgumentError("leeway: must be 0 to 5 minutes");
  }
  if (options.max_token_age.has_value() &&
      *options.max_token_age <= std::chrono::seconds(0)) {
    return absl::InvalidArgumentError("max_token_age: must be > 0");
  }
  if (options.max_token_bytes < 64 || options.max_token_bytes > (1u << 20)) {
    return absl::InvalidArgumentError(
        "max_token_bytes: must be 64 bytes to 1 MiB");
  }
  for (const JwtValidator& validator : options.validators) {
    if (!validator) return absl::InvalidArgumentError("validators: empty");
  }
  std::unique_ptr<JwtVerifier> verifier(new JwtVerifier(std::move(options)));
  verifier->allowed_mask_ = mask;
  return verifier;
}

JwtVerifier::JwtVerifier(JwtVerifierOptions options)
    : options_(std::move(options)) {}

absl::StatusOr<VerifiedJwt> JwtVerifier::Verify(std::string_view token) const {
  // 1. Size.
  if (token.size() > options_.max_token_bytes) {
    return Fail(JwtFailure::kTooLarge,
                absl::StrCat("token is ", token.size(), " bytes; the limit is ",
                             options_.max_token_bytes));
  }
  // 2. Shape.
  const std::size_t dot1 = token.find('.');
  const std::size_t dot2 =
      dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos ||
      token.find('.', dot2 + 1) != std::string_view::npos) {
    return Fail(JwtFailure::kMalformed, "token must have exactly three parts");
  }
  const std::string_view signing_input = token.substr(0, dot2);
  std::string header_text;
  std::string payload_text;
  std::string signature;
  KEEL_RETURN_IF_ERROR(
      DecodePart(token.substr(0, dot1), header_text, "header"));
  KEEL_RETURN_IF_ERROR(DecodePart(token.substr(dot1 + 1, dot2 - dot1 - 1),
                                  payload_text, "payload"));
  KEEL_RETURN_IF_ERROR(
      DecodePart(token.substr(dot2 + 1), signature, "signature"));
  KEEL_ASSIGN_OR_RETURN(const json header, ParsePart(header_text, "header"));
  KEEL_ASSIGN_OR_RETURN(const json payload, ParsePart(payload_text, "payload"));

  // 3. Header.
  VerifiedJwt result;
  KEEL_ASSIGN_OR_RETURN(std::optional<std::string> alg_name,
                        StringMember(header, "alg", "header"));
  if (!alg_name.has_value()) {
    return Fail(JwtFailure::kAlgorithmRejected, "header has no \"alg\"");
  }
  const std::optional<JwtAlgorithm> alg = ParseJwtAlgorithm(*alg_name);
  if (!alg.has_value() ||
      (allowed_mask_ & (1u << static_cast<int>(*alg))) == 0) {
    return Fail(JwtFailure::kAlgorithmRejected,
                absl::StrCat("alg \"", *alg_name, "\" is not accepted"));
  }
  result.algorithm = *alg;
  KEEL_RETURN_IF_ERROR(CheckCritical(header, options_.critical_headers));
  KEEL_ASSIGN_OR_RETURN(std::optional<std::string> typ,
                        StringMember(header, "typ", "header"));
  if (!options_.typ.empty() &&
      (!typ.has_value() ||
       !absl::EqualsIgnoreCase(View(MediaTypeSuffix(*typ)),
                               View(MediaTypeSuffix(options_.typ))))) {
    return Fail(JwtFailure::kBadType,
                absl::StrCat("typ must be \"", options_.typ, "\""));
  }
  result.typ = typ.value_or("");
  KEEL_ASSIGN_OR_RETURN(std::optional<std::string> kid,
                        StringMember(header, "kid", "header"));
  result.kid = kid.value_or("");

  // 4. Issuer.
  KEEL_ASSIGN_OR_RETURN(std::optional<std::string> iss,
                        StringMember(payload, "iss", "payload"));
  if (!iss.has_value()) {
    return Fail(JwtFailure::kMissingClaim, "claim \"iss\" is required");
  }
  const JwtIssuer* issuer = nullptr;
  for (const JwtIssuer& candidate : options_.issuers) {
    if (candidate.issuer == *iss) {
      issuer = &candidate;
      break;
    }
  }
  if (issuer == nullptr) {
    return Fail(JwtFailure::kUnknownIssuer, "issuer is not trusted");
  }
  result.issuer = *std::move(iss);

  // 5 and 6. Key and signature.
  auto matches = [&](const JwtKey& key) {
    return key.algorithm() == *alg && (!kid.has_value() || key.kid() == *kid);
  };
  bool candidate_found = false;
  bool verified = false;
  for (const JwtKey& key : issuer->keys) {
    if (!matches(key)) continue;
    candidate_found = true;
    if (key.Verify(signing_input, signature)) {
      verified = true;
      break;
    }
  }
  if (!verified && issuer->jwks != nullptr) {
    absl::StatusOr<std::shared_ptr<const JwkSet>> set =
        kid.has_value() ? issuer->jwks->KeysForKid(*kid) : issuer->jwks->Keys();
    if (!set.ok() && !candidate_found) {
      return Fail(JwtFailure::kKeysUnavailable, set.status().message());
    }
    if (set.ok()) {
      for (const JwtKey& key : (*set)->keys) {
        if (!matches(key)) continue;
        candidate_found = true;
        if (key.Verify(signing_input, signature)) {
          verified = true;
          break;
        }
      }
    }
  }
  if (!candidate_found) {
    return Fail(JwtFailure::kUnknownKey,
                absl::StrCat("no ", *alg_name, " key",
                             kid.has_value() ? " with this kid" : "",
                             " for the issuer"));
  }
  if (!verified) {
    return Fail(JwtFailure::kBadSignature, "signature does not verify");
  }

  // 7. Claims.
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               options_.clock->WallNow())
                               .count();
  const std::int64_t leeway = options_.leeway.count();
  KEEL_ASSIGN_OR_RETURN(result.expires_at, NumericDate(payload, "exp"));
  KEEL_ASSIGN_OR_RETURN(result.not_before, NumericDate(payload, "nbf"));
  KEEL_ASSIGN_OR_RETURN(result.issued_at, NumericDate(payload, "iat"));
  if (!result.expires_at.has_value() && options_.require_exp) {
    return Fail(JwtFailure::kMissingClaim, "claim \"exp\" is required");
  }
  if (result.expires_at.has_value() && now >= *result.expires_at + leeway) {
    return Fail(JwtFailure::kExpired, "token has expired");
  }
  if (result.not_before.has_value() && now + leeway < *result.not_before) {
    return Fail(JwtFailure::kNotYetValid, "token is not valid yet");
  }
  if (result.issued_at.has_value() && *result.issued_at > now + leeway) {
    return Fail(JwtFailure::kIssuedInFuture, "token is issued in the future");
  }
  if (options_.max_token_age.has_value()) {
    if (!result.issued_at.has_value()) {
      return Fail(JwtFailure::kMissingClaim, "claim \"iat\" is required");
    }
    if (now - leeway > *result.issued_at + options_.max_token_age->count()) {
      return Fail(JwtFailure::kExpired, "token is older than max_token_age");
    }
  }
  auto aud = payload.find("aud");
  if (aud != payload.end()) {
    if (!ReadAudience(*aud, result.audience)) {
      return Fail(JwtFailure::kMalformed,
                  "claim \"aud\" must be a string or an array of strings");
    }
    if (options_.audiences.empty()) {
      return Fail(JwtFailure::kBadAudience,
                  "token names an audience but none is configured");
    }
  }
  if (!options_.audiences.empty()) {
    bool match = false;
    for (const std::string& value : result.audience) {
      if (std::find(options_.audiences.begin(), options_.audiences.end(),
                    value) != options_.audiences.end()) {
        match = true;
        break;
      }
    }
    if (!match) {
      return Fail(JwtFailure::kBadAudience,
                  "token audience does not name this service");
    }
  }
  KEEL_ASSIGN_OR_RETURN(std::optional<std::string> sub,
                        StringMember(payload, "sub", "payload"));
  result.subject = sub.value_or("");
  KEEL_ASSIGN_OR_RETURN(std::optional<std::string> jti,
                        StringMember(payload, "jti", "payload"));
  result.jwt_id = jti.value_or("");
  for (const std::string& name : options_.required_claims) {
    if (!payload.contains(name)) {
      return Fail(JwtFailure::kMissingClaim,
                  absl::StrCat("claim \"", name, "\" is required"));
    }
  }
  result.claims.reserve(payload.size());
  for (auto it = payload.begin(); it != payload.end(); ++it) {
    result.claims.emplace_back(
        it.key(),
        it.value().dump(-1, ' ', false, json::error_handler_t::replace));
  }

  // 8. Custom validators.
  for (const JwtValidator& validator : options_.validators) {
    absl::Status status = validator(result);
    if (!status.ok()) {
      return Fail(JwtFailure::kClaimRejected, status.message());
    }
  }
  return result;
}

std::optional<std::string_view> BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(View(authorization.substr(0, kScheme.size())),
                              View(kScheme)) ||
      authorization[kScheme.size()] != ' ') {
    return std::nullopt;
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  // b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
  std::size_t i = 0;
  while (
      i < token.size() &&
      (absl::ascii_isalnum(static_cast<unsigned char>(token[i])) ||
       std::string_view("-._~+/").find(token[i]) != std::string_view::npos)) {
    ++i;
  }
  if (i == 0) return std::nullopt;
  while (i < token.size() && token[i] == '=') ++i;
  if (i != token.size()) return std::nullopt;
  return token;
}

int JwtHttpStatus(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

std::string BearerChallenge(std::string_view realm) {
  return absl::StrCat("Bearer realm=\"", QuotedStringContent(realm), "\"");
}

std::string BearerChallenge(std::string_view realm,
                            const absl::Status& status) {
  const std::optional<JwtFailure> failure = GetJwtFailure(status);
  const std::string_view description =
      failure.has_value() ? kFailureDescriptions[static_cast<int>(*failure)]
                          : std::string_view("The token is invalid");
  return absl::StrCat(BearerChallenge(realm),
                      ", error=\"invalid_token\", error_description=\"",
                      View(description), "\"");
}

}  // namespace keel::security
