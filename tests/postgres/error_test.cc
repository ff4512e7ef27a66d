#include "keel/postgres/error.h"

#include <pqxx/except>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "gtest/gtest.h"

namespace keel::postgres {
namespace {

// A transaction-rollback exception as libpqxx throws it: 6.4 builds these from
// the message alone, 7.10 also requires the failed query.
template <typename Error>
Error RollbackError(const std::string& message) {
  if constexpr (std::is_constructible_v<Error, std::string, std::string>) {
    return Error(message, "COMMIT");
  } else {
    return Error(message);
  }
}

TEST(StatusFromSqlStateTest, MapsClassesAndCarriesTheCode) {
  struct Case {
    const char* sqlstate;
    absl::StatusCode code;
  };
  const Case cases[] = {
      {"40001", absl::StatusCode::kAborted},
      {"40P01", absl::StatusCode::kAborted},
      {"57014", absl::StatusCode::kDeadlineExceeded},
      {"57P01", absl::StatusCode::kUnavailable},
      {"08006", absl::StatusCode::kUnavailable},
      {"23505", absl::StatusCode::kAlreadyExists},
      {"23503", absl::StatusCode::kFailedPrecondition},
      {"42501", absl::StatusCode::kPermissionDenied},
      {"42P01", absl::StatusCode::kInvalidArgument},
      {"22012", absl::StatusCode::kInvalidArgument},
      {"28P01", absl::StatusCode::kUnauthenticated},
      {"53300", absl::StatusCode::kResourceExhausted},
      {"XX000", absl::StatusCode::kInternal},
  };
  for (const Case& c : cases) {
    const absl::Status status =
        StatusFromSqlState(c.sqlstate, "ERROR:  something\n");
    EXPECT_EQ(status.code(), c.code) << c.sqlstate;
    EXPECT_EQ(SqlState(status), std::string(c.sqlstate));
    EXPECT_EQ(std::string(status.message()),
              std::string("postgres: ERROR:  something (SQLSTATE ") +
                  c.sqlstate + ")");
  }
}

TEST(StatusFromExceptionTest, MapsLibpqxxHierarchyOnEveryVersion) {
  const absl::Status serialization = StatusFromException(
      RollbackError<pqxx::serialization_failure>("could not serialize access"));
  EXPECT_EQ(serialization.code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(IsRetryableTransactionError(serialization));

  const absl::Status deadlock = StatusFromException(
      RollbackError<pqxx::deadlock_detected>("deadlock detected"));
  EXPECT_TRUE(IsRetryableTransactionError(deadlock));

  const absl::Status broken =
      StatusFromException(pqxx::broken_connection("server closed"));
  EXPECT_EQ(broken.code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(IsRetryableTransactionError(broken));

  const absl::Status unique = StatusFromException(
      pqxx::unique_violation("duplicate key", "INSERT ...", "23505"));
  EXPECT_EQ(unique.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(SqlState(unique), std::string("23505"));

  const absl::Status doubt =
      StatusFromException(pqxx::in_doubt_error("commit outcome unknown"));
  EXPECT_EQ(doubt.code(), absl::StatusCode::kUnknown);

  const absl::Status other = StatusFromException(std::runtime_error("boom"));
  EXPECT_EQ(other.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(other.message(), "postgres: boom");
  EXPECT_FALSE(SqlState(other).has_value());
}

}  // namespace
}  // namespace keel::postgres
