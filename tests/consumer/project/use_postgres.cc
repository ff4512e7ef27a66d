// keel::postgres from a consumer: option validation and SQLSTATE mapping need
// no server but pull in the libpqxx-backed code at link time.

#include <chrono>
#include <cstdio>

#include "absl/status/status.h"
#include "consumer.h"
#include "keel/postgres/connection.h"
#include "keel/postgres/error.h"

namespace keel_consumer {

bool UsePostgres() {
  keel::postgres::ConnectionOptions options;
  if (!keel::postgres::ValidateConnectionOptions(options).ok()) {
    std::fprintf(stderr, "postgres: default options rejected\n");
    return false;
  }
  options.connect_timeout = std::chrono::seconds(0);
  if (keel::postgres::ValidateConnectionOptions(options).code() !=
      absl::StatusCode::kInvalidArgument) {
    std::fprintf(stderr, "postgres: connect_timeout 0 accepted\n");
    return false;
  }
  // 40001 is serialization_failure: the transaction may be retried.
  const absl::Status status =
      keel::postgres::StatusFromSqlState("40001", "could not serialize");
  if (!keel::postgres::IsRetryableTransactionError(status)) {
    std::fprintf(stderr, "postgres: 40001 not retryable: %s\n",
                 status.ToString().c_str());
    return false;
  }
  return true;
}

}  // namespace keel_consumer
