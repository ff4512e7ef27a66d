// keel/postgres/error.h
//
// Turns libpqxx exceptions into `absl::Status` at the backend boundary, so no
// exception crosses keel's API and callers branch on codes, not on libpqxx's
// class hierarchy (which differs between libpqxx 6.4 and 7.x: on 6.4
// serialization and deadlock errors derive from `pqxx::failure`, on 7.x from
// `pqxx::sql_error`).
//
// Mapping (SQLSTATE in parentheses):
//   connection lost / cannot connect (08xxx, pqxx::broken_connection) ->
//   kUnavailable serialization failure (40001), deadlock (40P01) -> kAborted,
//   retryable query canceled, e.g. statement_timeout (57014) ->
//   kDeadlineExceeded admin shutdown / crash shutdown / cannot connect now
//   (57P01-57P03) -> kUnavailable unique violation (23505) -> kAlreadyExists
//   other integrity violations (23xxx)                                ->
//   kFailedPrecondition insufficient privilege (42501) -> kPermissionDenied
//   other syntax / access rule errors (42xxx), data exceptions (22xxx)->
//   kInvalidArgument invalid authorization (28xxx) -> kUnauthenticated
//   insufficient resources (53xxx)                                    ->
//   kResourceExhausted commit outcome unknown (pqxx::in_doubt_error,
//   statement_completion_unknown)
//                                                                     ->
//                                                                     kUnknown
//   anything else                                                     ->
//   kInternal
// Every status message starts with "postgres: " and carries the SQLSTATE; the
// SQLSTATE is also attached as a payload (see SqlState()).
//
// Thread safety: pure functions.

#ifndef KEEL_POSTGRES_ERROR_H_
#define KEEL_POSTGRES_ERROR_H_

#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace keel::postgres {

// The payload type URL under which the SQLSTATE is attached to a status.
inline constexpr char kSqlStatePayloadUrl[] = "type.keel.dev/postgres.SqlState";

// Status for a SQLSTATE code and server message (no exception needed).
absl::Status StatusFromSqlState(std::string_view sqlstate,
                                std::string_view message);

// Status for an exception thrown by libpqxx (or any std::exception).
absl::Status StatusFromException(const std::exception& e);

// The SQLSTATE carried by a status from this file, if any.
std::optional<std::string> SqlState(const absl::Status& status);

// True for errors after which re-running the whole transaction may succeed:
// serialization failures and deadlocks (kAborted with a SQLSTATE of class 40).
bool IsRetryableTransactionError(const absl::Status& status);

}  // namespace keel::postgres

#endif  // KEEL_POSTGRES_ERROR_H_
