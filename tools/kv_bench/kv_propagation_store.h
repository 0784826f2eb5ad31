#ifndef KV_TOOLS_KV_BENCH_KV_PROPAGATION_STORE_H_
#define KV_TOOLS_KV_BENCH_KV_PROPAGATION_STORE_H_

// PropagationStore over the EdgeKV SDK: Write is Put, IsVisible is Get (a key is visible
// when Get returns a value), both in one namespace. The client should not retry
// (max_attempts = 1) so that a failed probe costs one call.
//
// Thread safety: as thread-safe as kv::Client, i.e. fully.

#include <string>

#include "client/client.h"
#include "tools/kv_bench/propagation_store.h"

namespace kv::bench {

class KvPropagationStore final : public PropagationStore {
 public:
  KvPropagationStore(kv::Client client, std::string namespace_id)
      : client_(std::move(client)), namespace_id_(std::move(namespace_id)) {}

  // Puts `value` at `key`; OK once durable at the origin.
  absl::Status Write(const std::string& key, const std::string& value) override;
  // Gets `key`: true if it has a value. NOT_FOUND means the namespace is unknown here
  // (not replicated yet).
  absl::StatusOr<bool> IsVisible(const std::string& key) override;

 private:
  const kv::Client client_;
  const std::string namespace_id_;
};

}  // namespace kv::bench

#endif  // KV_TOOLS_KV_BENCH_KV_PROPAGATION_STORE_H_
