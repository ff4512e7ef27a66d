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

using security_internal::JsonKind;
using security_internal::JsonMember;
using security_internal::JsonObject;
using security_internal::JsonValue;

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
absl::StatusOr<std::optional<std::int64_t>> NumericDate(
    const JsonObject& payload, const char* name) {
  const JsonMember* member = payload.Find(name);
  if (member == nullptr) return std::optional<std::int64_t>();
  if (member->value.kind != JsonKind::kNumber) {
    return Fail(JwtFailure::kMalformed,
                absl::StrCat("claim \"", name, "\" must be a number"));
  }
  // 2^53 seconds is far beyond any real date and keeps `exp + leeway` exact.
  constexpr double kLimit = 9007199254740992.0;
  const double value =
      std::floor(security_internal::JsonNumber(member->value.text));
  if (!(std::fabs(value) < kLimit)) {
    return Fail(JwtFailure::kMalformed,
                absl::StrCat("claim \"", name, "\" is out of range"));
  }
  return std::optional<std::int64_t>(static_cast<std::int64_t>(value));
}

// Room for the decoded parts of a token: inline for typical tokens, so that
// decoding allocates nothing.
class DecodeBuffer {
 public:
  explicit DecodeBuffer(std::size_t size) {
    if (size > sizeof(inline_)) {
      heap_.reset(new char[size]);
      data_ = heap_.get();
    }
  }
  DecodeBuffer(const DecodeBuffer&) = delete;
  DecodeBuffer& operator=(const DecodeBuffer&) = delete;
  char* data() { return data_; }

 private:
  char inline_[2048];
  std::unique_ptr<char[]> heap_;
  char* data_ = inline_;
};

// Decodes header, payload and signature back to back into `buffer`, which
// has room for Base64UrlMaxDecodedSize() of each, and points `decoded` at
// them.
absl::Status DecodeParts(const std::string_view (&parts)[3], char* buffer,
                         std::string_view (&decoded)[3]) {
  constexpr const char* kNames[] = {"header", "payload", "signature"};
  for (int i = 0; i < 3; ++i) {
    std::size_t size = 0;
    if (!security_internal::Base64UrlDecodeTo(parts[i], buffer, size)) {
      return Fail(JwtFailure::kMalformed,
                  absl::StrCat(kNames[i], " is not strict base64url"));
    }
    decoded[i] = std::string_view(buffer, size);
    buffer += size;
  }
  return absl::OkStatus();
}

absl::Status ParsePart(JsonObject& object, std::string_view text,
                       const char* what) {
  absl::Status status = object.Parse(text, what);
  if (!status.ok()) return Fail(JwtFailure::kMalformed, status.message());
  return absl::OkStatus();
}

// The string member `name`: nullopt if absent; kMalformed if not a string.
absl::StatusOr<std::optional<std::string>> StringMember(
    const JsonObject& object, std::string_view name, const char* what) {
  const JsonMember* member = object.Find(name);
  if (member == nullptr) return std::optional<std::string>();
  if (member->value.kind != JsonKind::kString) {
    return Fail(JwtFailure::kMalformed,
                absl::StrCat(what, ": \"", View(name), "\" must be a string"));
  }
  std::optional<std::string> value(std::in_place);
  security_internal::AppendJsonString(member->value.text, *value);
  return value;
}

absl::Status CheckCritical(const JsonObject& header,
                           const std::vector<std::string>& understood) {
  const JsonMember* crit = header.Find("crit");
  if (crit == nullptr) return absl::OkStatus();
  absl::InlinedVector<JsonValue, 8> entries;
  if (crit->value.kind == JsonKind::kArray) {
    security_internal::JsonArrayElements(crit->value.text, entries);
  }
  if (entries.empty()) {
    return Fail(JwtFailure::kUnsupportedCritical,
                "\"crit\" must be a non-empty array");
  }
  std::string name;
  for (const JsonValue& entry : entries) {
    if (entry.kind != JsonKind::kString) {
      return Fail(JwtFailure::kUnsupportedCritical,
                  "\"crit\" entries must be strings");
    }
    name.clear();
    security_internal::AppendJsonString(entry.text, name);
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
    if (header.Find(name) == nullptr) {
      return Fail(JwtFailure::kUnsupportedCritical,
                  absl::StrCat("critical header \"", name, "\" is absent"));
    }
  }
  return absl::OkStatus();
}

// Collects the audience claim; false if it is neither a string nor an array
// of strings.
bool ReadAudience(const JsonValue& aud, std::vector<std::string>& out) {
  if (aud.kind == JsonKind::kString) {
    security_internal::AppendJsonString(aud.text, out.emplace_back());
    return true;
  }
  if (aud.kind != JsonKind::kArray) return false;
  absl::InlinedVector<JsonValue, 8> entries;
  security_internal::JsonArrayElements(aud.text, entries);
  out.reserve(entries.size());
  for (const JsonValue& entry : entries) {
    if (entry.kind != JsonKind::kString) return false;
    security_internal::AppendJsonString(entry.text, out.emplace_back());
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

// Both re-validate the text: `claims` is a public member that need not come
// from Verify().
std::optional<std::string> VerifiedJwt::StringClaim(
    std::string_view name) const {
  const std::string* text = ClaimJson(name);
  if (text == nullptr ||
      security_internal::JsonValueKind(*text) != JsonKind::kString) {
    return std::nullopt;
  }
  std::string value;
  security_internal::AppendJsonString(*text, value);
  return value;
}

std::optional<double> VerifiedJwt::NumberClaim(std::string_view name) const {
  const std::string* text = ClaimJson(name);
  if (text == nullptr ||
      security_internal::JsonValueKind(*text) != JsonKind::kNumber) {
    return std::nullopt;
  }
  return security_internal::JsonNumber(*text);
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
  const std::string_view parts[3] = {token.substr(0, dot1),
                                     token.substr(dot1 + 1, dot2 - dot1 - 1),
                                     token.substr(dot2 + 1)};
  // Each part decodes to at most 3/4 of its length plus 2 bytes.
  DecodeBuffer buffer(token.size() + 6);
  std::string_view decoded[3];
  KEEL_RETURN_IF_ERROR(DecodeParts(parts, buffer.data(), decoded));
  const std::string_view header_text = decoded[0];
  const std::string_view payload_text = decoded[1];
  const std::string_view signature = decoded[2];
  JsonObject header;
  JsonObject payload;
  KEEL_RETURN_IF_ERROR(ParsePart(header, header_text, "header"));
  KEEL_RETURN_IF_ERROR(ParsePart(payload, payload_text, "payload"));

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
  if (typ.has_value()) result.typ = *std::move(typ);
  KEEL_ASSIGN_OR_RETURN(std::optional<std::string> kid,
                        StringMember(header, "kid", "header"));
  if (kid.has_value()) result.kid = *kid;

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
  const JsonMember* aud = payload.Find("aud");
  if (aud != nullptr) {
    if (!ReadAudience(aud->value, result.audience)) {
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
  if (sub.has_value()) result.subject = *std::move(sub);
  KEEL_ASSIGN_OR_RETURN(std::optional<std::string> jti,
                        StringMember(payload, "jti", "payload"));
  if (jti.has_value()) result.jwt_id = *std::move(jti);
  for (const std::string& name : options_.required_claims) {
    if (payload.Find(name) == nullptr) {
      return Fail(JwtFailure::kMissingClaim,
                  absl::StrCat("claim \"", name, "\" is required"));
    }
  }
  // Members come sorted by name from JsonObject.
  result.claims.reserve(payload.members().size());
  for (const JsonMember& member : payload.members()) {
    auto& claim = result.claims.emplace_back();
    claim.first.assign(member.name.data(), member.name.size());
    security_internal::AppendCompactJson(member.value.text, claim.second);
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
