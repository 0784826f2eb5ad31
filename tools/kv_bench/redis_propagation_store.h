#ifndef KV_TOOLS_KV_BENCH_REDIS_PROPAGATION_STORE_H_
#define KV_TOOLS_KV_BENCH_REDIS_PROPAGATION_STORE_H_

// PropagationStore over one Redis connection: Write is SET (on the master), IsVisible is
// GET (on a replica; a key is visible when GET returns a value). Given a hash, it speaks
// to an EdgeKV node's RESP port with the hash as the namespace: Write is KV.PUT <hash>
// <key> <value> (on the origin; it answers with the commit's sequence), IsVisible is
// HGET <hash> <key>.
//
// Thread safety: not thread-safe (one RedisClient, one connection).

#include <memory>
#include <string>

#include "tools/kv_bench/propagation_store.h"
#include "tools/kv_bench/redis_client.h"

namespace kv::bench {

class RedisPropagationStore final : public PropagationStore {
 public:
  // REQUIRES: client != nullptr.
  explicit RedisPropagationStore(std::unique_ptr<RedisClient> client, std::string hash = "")
      : client_(std::move(client)), hash_(std::move(hash)) {}

  // SETs `key`; returns 0 (Redis reports no commit sequence) once the master answered
  // +OK (in memory: Redis acknowledges before any fsync, and the benchmark's servers run
  // without persistence). With a hash: KV.PUT, and the sequence the origin answered
  // once the write was durable.
  absl::StatusOr<uint64_t> Write(const std::string& key, const std::string& value) override;
  // GETs `key` (HGETs it from the hash, if given): true if it has a value.
  absl::StatusOr<bool> IsVisible(const std::string& key) override;
  // The same read, split (see PropagationStore). The descriptor is the connection's; it
  // changes when a failed connection is made again (by the next StartIsVisible).
  int poll_fd() const override { return client_->fd(); }
  absl::Status StartIsVisible(const std::string& key) override;
  absl::StatusOr<std::optional<bool>> TakeIsVisible() override;

 private:
  const std::unique_ptr<RedisClient> client_;
  const std::string hash_;
};

}  // namespace kv::bench

#endif  // KV_TOOLS_KV_BENCH_REDIS_PROPAGATION_STORE_H_
