// The prepared statements of one keel::postgres::Pool: an append-only list
// that every pooled connection catches up with before it is handed out, so a
// statement registered once is prepared on every connection, including ones
// opened later to replace broken, expired or evicted ones.
//
// Thread safety: thread-safe. Sync() is called with a connection owned by the
// calling thread.

#ifndef KEEL_SRC_POSTGRES_STATEMENT_REGISTRY_H_
#define KEEL_SRC_POSTGRES_STATEMENT_REGISTRY_H_

#include <atomic>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "keel/base/mutex.h"
#include "keel/postgres/connection.h"

namespace keel::postgres_internal {

class StatementRegistry {
 public:
  // Adds a statement. OK when `name` is new or already registered with the
  // same SQL (returns false in `*added` then); kAlreadyExists when it is
  // registered with other SQL.
  absl::Status Add(const std::string& name, const std::string& sql, bool* added)
      ABSL_LOCKS_EXCLUDED(mu_);
  // What Add() would say, without adding: OK with `*known` true when
  // registered with the same SQL, false when new; kAlreadyExists on a
  // conflict.
  absl::Status Check(const std::string& name, const std::string& sql,
                     bool* known) ABSL_LOCKS_EXCLUDED(mu_);

  // Prepares on `conn` the statements it lacks. The common case, nothing
  // new, is one atomic load. Errors: the first failed Prepare's status.
  absl::Status Sync(postgres::Connection& conn) ABSL_LOCKS_EXCLUDED(mu_) {
    if (conn.registry_synced_ == size_.load(std::memory_order_acquire)) {
      return absl::OkStatus();
    }
    return SyncSlow(conn);
  }

 private:
  absl::Status CheckLocked(const std::string& name, const std::string& sql,
                           bool* known) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status SyncSlow(postgres::Connection& conn) ABSL_LOCKS_EXCLUDED(mu_);

  Mutex mu_;
  std::vector<std::pair<std::string, std::string>> statements_
      ABSL_GUARDED_BY(mu_);
  std::atomic<std::size_t> size_{0};  // statements_.size()
};

}  // namespace keel::postgres_internal

#endif  // KEEL_SRC_POSTGRES_STATEMENT_REGISTRY_H_
