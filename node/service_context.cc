#include "node/service_context.h"

#include "common/limits.h"
#include "common/status_macros.h"
#include "common/validation.h"

namespace kv::node {

absl::Status ServiceContext::CheckNamespace(absl::string_view ns_id) const {
  KV_RETURN_IF_ERROR(ValidateNamespaceId(ns_id));
  return store->CheckNamespace(ns_id);
}

absl::StatusOr<std::vector<std::optional<storage::StoredValue>>> ServiceContext::ReadMany(
    absl::string_view ns_id, absl::Span<const absl::string_view> keys,
    bool with_metadata) const {
  for (absl::string_view key : keys) KV_RETURN_IF_ERROR(ValidateKey(key));
  const absl::Time now = clock->Now();
  std::vector<std::optional<storage::StoredValue>> values;
  values.reserve(keys.size());
  int64_t total = 0;
  for (absl::string_view key : keys) {
    KV_ASSIGN_OR_RETURN(std::optional<storage::StoredValue> value, store->Get(ns_id, key, now));
    total += static_cast<int64_t>(key.size());
    if (value) {
      total += value->size;
      if (with_metadata && value->metadata) total += value->metadata->size();
    }
    values.push_back(std::move(value));
  }
  if (total > kMaxBulkGetResponseBytes) return BulkGetTooLargeError();
  return values;
}

}  // namespace kv::node
