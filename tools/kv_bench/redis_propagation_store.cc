#include "tools/kv_bench/redis_propagation_store.h"

namespace kv::bench {

absl::Status RedisPropagationStore::Write(const std::string& key, const std::string& value) {
  return client_->Set(key, value);
}

absl::StatusOr<bool> RedisPropagationStore::IsVisible(const std::string& key) {
  absl::StatusOr<std::optional<std::string>> got = client_->Get(key);
  if (!got.ok()) return got.status();
  return got->has_value();
}

}  // namespace kv::bench
