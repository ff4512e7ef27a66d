#include "keel/postgres/error.h"

#include <pqxx/except>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace keel::postgres {
namespace {

absl::StatusCode CodeForSqlState(std::string_view s) {
  if (s == "40001" || s == "40P01") return absl::StatusCode::kAborted;
  if (s == "57014") return absl::StatusCode::kDeadlineExceeded;
  if (s == "57P01" || s == "57P02" || s == "57P03")
    return absl::StatusCode::kUnavailable;
  if (s == "23505") return absl::StatusCode::kAlreadyExists;
  if (s == "42501") return absl::StatusCode::kPermissionDenied;
  const std::string_view cls = s.substr(0, 2);
  if (cls == "08") return absl::StatusCode::kUnavailable;
  if (cls == "23") return absl::StatusCode::kFailedPrecondition;
  if (cls == "42" || cls == "22") return absl::StatusCode::kInvalidArgument;
  if (cls == "28") return absl::StatusCode::kUnauthenticated;
  if (cls == "53") return absl::StatusCode::kResourceExhausted;
  return absl::StatusCode::kInternal;
}

absl::Status WithSqlState(absl::StatusCode code, std::string_view sqlstate,
                          std::string_view message) {
  std::string text = absl::StrCat("postgres: ", std::string(message));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  if (!sqlstate.empty())
    absl::StrAppend(&text, " (SQLSTATE ", std::string(sqlstate), ")");
  absl::Status status(code, text);
  if (!sqlstate.empty())
    status.SetPayload(kSqlStatePayloadUrl, absl::Cord(std::string(sqlstate)));
  return status;
}

}  // namespace

absl::Status StatusFromSqlState(std::string_view sqlstate,
                                std::string_view message) {
  return WithSqlState(CodeForSqlState(sqlstate), sqlstate, message);
}

absl::Status StatusFromException(const std::exception& e) {
  // Most specific first: on libpqxx 6.4 these derive from pqxx::failure, on 7.x
  // from pqxx::sql_error.
  if (dynamic_cast<const pqxx::serialization_failure*>(&e) != nullptr) {
    return WithSqlState(absl::StatusCode::kAborted, "40001", e.what());
  }
  if (dynamic_cast<const pqxx::deadlock_detected*>(&e) != nullptr) {
    return WithSqlState(absl::StatusCode::kAborted, "40P01", e.what());
  }
  if (dynamic_cast<const pqxx::statement_completion_unknown*>(&e) != nullptr ||
      dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    return WithSqlState(absl::StatusCode::kUnknown, "", e.what());
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string& state = sql->sqlstate();
    if (!state.empty()) return StatusFromSqlState(state, e.what());
    return WithSqlState(absl::StatusCode::kInternal, "", e.what());
  }
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return WithSqlState(absl::StatusCode::kUnavailable, "", e.what());
  }
  if (dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr) {
    return WithSqlState(absl::StatusCode::kAborted, "", e.what());
  }
  if (dynamic_cast<const pqxx::usage_error*>(&e) != nullptr) {
    return WithSqlState(absl::StatusCode::kFailedPrecondition, "", e.what());
  }
  return WithSqlState(absl::StatusCode::kInternal, "", e.what());
}

std::optional<std::string> SqlState(const absl::Status& status) {
  const auto payload =
      status.GetPayload(kSqlStatePayloadUrl);  // absl::optional here
  if (!payload) return std::nullopt;
  return std::string(*payload);
}

bool IsRetryableTransactionError(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kAborted) return false;
  std::optional<std::string> state = SqlState(status);
  return state && (*state == "40001" || *state == "40P01");
}

}  // namespace keel::postgres
