#ifndef KV_TOOLS_KV_BENCH_PROPAGATION_STORE_H_
#define KV_TOOLS_KV_BENCH_PROPAGATION_STORE_H_

// The two operations the propagation benchmark needs from a store, so one runner measures
// EdgeKV (KvPropagationStore, over the SDK) and Redis (RedisPropagationStore) the same way,
// and its tests can use a fake. One instance per node and per thread: the writer owns the
// origin's, each edge poller owns its edge's.
//
// Thread safety: implementations need not be thread-safe.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kv::bench {

class PropagationStore {
 public:
  virtual ~PropagationStore() = default;

  // Writes `key` = `value` and returns once the node acknowledged it: the sequence the
  // write committed at, if the store reports one (EdgeKV: its replication sequence;
  // replicas apply writes in that order), else 0. Any error means the write may or may
  // not have happened. Never retried.
  virtual absl::StatusOr<uint64_t> Write(const std::string& key, const std::string& value) = 0;

  // Returns whether `key` is readable on this node now (an OK false when it is missing).
  // Errors are the read's (the poller counts them and retries). Never retried.
  virtual absl::StatusOr<bool> IsVisible(const std::string& key) = 0;
};

}  // namespace kv::bench

#endif  // KV_TOOLS_KV_BENCH_PROPAGATION_STORE_H_
