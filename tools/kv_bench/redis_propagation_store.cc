#include "tools/kv_bench/redis_propagation_store.h"

#include "absl/strings/str_cat.h"

namespace kv::bench {

absl::StatusOr<uint64_t> RedisPropagationStore::Write(const std::string& key,
                                                      const std::string& value) {
  if (hash_.empty()) {
    if (absl::Status s = client_->Set(key, value); !s.ok()) return s;
    return 0;
  }
  absl::StatusOr<RespReply> reply = client_->Command({"KV.PUT", hash_, key, value});
  if (!reply.ok()) return reply.status();
  if (reply->type == RespReply::Type::kError) {
    return StatusFromRedisError(reply->text);
  }
  if (reply->type != RespReply::Type::kInteger || reply->integer <= 0) {
    return absl::InternalError(absl::StrCat("KV.PUT ", key, " was not answered with a sequence"));
  }
  return static_cast<uint64_t>(reply->integer);
}

absl::StatusOr<bool> RedisPropagationStore::IsVisible(const std::string& key) {
  absl::StatusOr<std::optional<std::string>> got =
      hash_.empty() ? client_->Get(key) : client_->HGet(hash_, key);
  if (!got.ok()) return got.status();
  return got->has_value();
}

}  // namespace kv::bench
