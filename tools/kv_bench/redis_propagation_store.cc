#include "tools/kv_bench/redis_propagation_store.h"

namespace kv::bench {

absl::StatusOr<uint64_t> RedisPropagationStore::Write(const std::string& key,
                                                      const std::string& value) {
  if (absl::Status s = client_->Set(key, value); !s.ok()) return s;
  return 0;
}

absl::StatusOr<bool> RedisPropagationStore::IsVisible(const std::string& key) {
  absl::StatusOr<std::optional<std::string>> got =
      hash_.empty() ? client_->Get(key) : client_->HGet(hash_, key);
  if (!got.ok()) return got.status();
  return got->has_value();
}

}  // namespace kv::bench
