#ifndef KV_TOOLS_KV_BENCH_PROPAGATION_STORE_H_
#define KV_TOOLS_KV_BENCH_PROPAGATION_STORE_H_

// The two operations the propagation benchmark needs from a store, so one runner measures
// EdgeKV (KvPropagationStore, over the SDK) and Redis (RedisPropagationStore) the same way,
// and its tests can use a fake. One instance per node and per thread: the writer owns the
// origin's, each edge poller owns its edge's.
//
// Thread safety: implementations need not be thread-safe.

#include <cstdint>
#include <optional>
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

  // IsVisible in two halves, for one poller thread serving every edge: StartIsVisible
  // sends the read of `key`; once poll_fd() polls readable, TakeIsVisible returns its
  // answer, or nullopt while the answer has not fully arrived (it never blocks). One
  // read in flight at a time. Stores that only read blocking keep the defaults
  // (poll_fd() -1: the runner gives each of their edges a thread).
  virtual int poll_fd() const { return -1; }
  virtual absl::Status StartIsVisible(const std::string& key) {
    return absl::UnimplementedError("this store reads blocking only");
  }
  virtual absl::StatusOr<std::optional<bool>> TakeIsVisible() {
    return absl::UnimplementedError("this store reads blocking only");
  }
};

}  // namespace kv::bench

#endif  // KV_TOOLS_KV_BENCH_PROPAGATION_STORE_H_
