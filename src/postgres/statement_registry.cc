#include "postgres/statement_registry.h"

#include "absl/strings/str_cat.h"

namespace keel::postgres_internal {

absl::Status StatementRegistry::CheckLocked(const std::string& name,
                                            const std::string& sql,
                                            bool* known) {
  *known = false;
  for (const auto& [known_name, known_sql] : statements_) {
    if (known_name != name) continue;
    if (known_sql != sql) {
      return absl::AlreadyExistsError(
          absl::StrCat("postgres: prepared statement '", name,
                       "' is already registered with different SQL"));
    }
    *known = true;
    break;
  }
  return absl::OkStatus();
}

absl::Status StatementRegistry::Check(const std::string& name,
                                      const std::string& sql, bool* known) {
  MutexLock lock(mu_);
  return CheckLocked(name, sql, known);
}

absl::Status StatementRegistry::Add(const std::string& name,
                                    const std::string& sql, bool* added) {
  MutexLock lock(mu_);
  bool known = false;
  *added = false;
  absl::Status status = CheckLocked(name, sql, &known);
  if (!status.ok() || known) return status;
  statements_.emplace_back(name, sql);
  size_.store(statements_.size(), std::memory_order_release);
  *added = true;
  return absl::OkStatus();
}

absl::Status StatementRegistry::SyncSlow(postgres::Connection& conn) {
  std::vector<std::pair<std::string, std::string>> missing;
  std::size_t target = 0;
  {
    MutexLock lock(mu_);
    target = statements_.size();
    missing.assign(statements_.begin() + conn.registry_synced_,
                   statements_.end());
  }
  for (const auto& [name, sql] : missing) {
    absl::Status status = conn.Prepare(name, sql);
    if (!status.ok()) return status;
  }
  conn.registry_synced_ = target;
  return absl::OkStatus();
}

}  // namespace keel::postgres_internal
