#include "tools/kv_bench/kv_propagation_store.h"

namespace kv::bench {

absl::Status KvPropagationStore::Write(const std::string& key, const std::string& value) {
  return client_.Put(namespace_id_, key, value);
}

absl::StatusOr<bool> KvPropagationStore::IsVisible(const std::string& key) {
  absl::StatusOr<std::optional<std::string>> got = client_.Get(namespace_id_, key);
  if (!got.ok()) return got.status();
  return got->has_value();
}

}  // namespace kv::bench
