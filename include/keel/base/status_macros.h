// keel/base/status_macros.h
//
// Early-return helpers for `absl::Status` / `absl::StatusOr`, which the Abseil
// release keel targets (20220623) does not ship.
//
// Example:
//   absl::StatusOr<Config> Load(std::string_view path) {
//     KEEL_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
//     KEEL_RETURN_IF_ERROR(Validate(text));
//     return Parse(text);
//   }
//
// Both macros evaluate their expression exactly once.

#ifndef KEEL_BASE_STATUS_MACROS_H_
#define KEEL_BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an `absl::Status`); returns it from the enclosing function
// if it is not OK.
#define KEEL_RETURN_IF_ERROR(expr)                     \
  do {                                                 \
    ::absl::Status keel_status_macro_status_ = (expr); \
    if (!keel_status_macro_status_.ok()) {             \
      return keel_status_macro_status_;                \
    }                                                  \
  } while (false)

// Evaluates `rexpr` (an `absl::StatusOr<T>`); on error returns its status from
// the enclosing function, otherwise moves the value into `lhs`, which may be a
// declaration (`auto x`, `std::string s`) or an existing lvalue. Because it
// expands to several statements it cannot be the sole body of an unbraced `if`.
#define KEEL_ASSIGN_OR_RETURN(lhs, rexpr) \
  KEEL_ASSIGN_OR_RETURN_IMPL_(            \
      KEEL_STATUS_MACROS_CONCAT_(keel_statusor_, __LINE__), lhs, rexpr)

#define KEEL_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                \
  if (!statusor.ok()) {                                   \
    return std::move(statusor).status();                  \
  }                                                       \
  lhs = *std::move(statusor)

#define KEEL_STATUS_MACROS_CONCAT_INNER_(a, b) a##b
#define KEEL_STATUS_MACROS_CONCAT_(a, b) KEEL_STATUS_MACROS_CONCAT_INNER_(a, b)

#endif  // KEEL_BASE_STATUS_MACROS_H_
