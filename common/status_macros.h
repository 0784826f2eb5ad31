#ifndef KV_COMMON_STATUS_MACROS_H_
#define KV_COMMON_STATUS_MACROS_H_

// Debian's Abseil 20220623 ships no status macros; these are the two we need.

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define KV_RETURN_IF_ERROR(expr)                  \
  do {                                            \
    ::absl::Status kv_status_ = (expr);           \
    if (!kv_status_.ok()) return kv_status_;      \
  } while (0)

#define KV_STATUS_CONCAT_INNER_(a, b) a##b
#define KV_STATUS_CONCAT_(a, b) KV_STATUS_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::StatusOr<T>); returns its status if not OK, else moves the
// value into `lhs`, which may be a declaration: KV_ASSIGN_OR_RETURN(auto x, F());
#define KV_ASSIGN_OR_RETURN(lhs, expr) \
  KV_ASSIGN_OR_RETURN_IMPL_(KV_STATUS_CONCAT_(kv_statusor_, __LINE__), lhs, expr)

#define KV_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                              \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // KV_COMMON_STATUS_MACROS_H_
