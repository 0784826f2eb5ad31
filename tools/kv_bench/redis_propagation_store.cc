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

absl::Status RedisPropagationStore::StartIsVisible(const std::string& key) {
  if (hash_.empty()) return client_->SendCommand({"GET", key});
  return client_->SendCommand({"HGET", hash_, key});
}

absl::StatusOr<std::optional<bool>> RedisPropagationStore::TakeIsVisible() {
  absl::StatusOr<std::optional<RespReply>> reply = client_->TryTakeReply();
  if (!reply.ok()) return reply.status();
  if (!reply->has_value()) return std::optional<bool>();
  absl::StatusOr<std::optional<std::string>> value =
      ValueFromReply(std::move(**reply), hash_.empty() ? "GET" : "HGET");
  if (!value.ok()) return value.status();
  return std::optional<bool>(value->has_value());
}

}  // namespace kv::bench
