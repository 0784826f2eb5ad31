#ifndef KV_NODE_SWEEPER_H_
#define KV_NODE_SWEEPER_H_

#include <functional>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/hybrid_clock.h"
#include "storage/store.h"

namespace kv::node {

struct SweeperOptions {
  // How often the background thread sweeps; zero disables the thread (tests call
  // RunOnce). Expired keys are invisible at once either way; the sweep reclaims space.
  absl::Duration interval = absl::Seconds(1);
  // Keys handled per store call, bounding each commit job.
  int batch = 1000;
  // Keys handled per RunOnce, bounding how long one pass keeps the committer busy.
  int max_per_run = 100000;
  // Replication log entries kept for replicas catching up; older ones are deleted. A
  // replica further behind is repaired instead (anti-entropy).
  int64_t log_retention_entries = 1'000'000;
  // Returns the timestamp at or below which tombstones may be dropped (every member has
  // applied past it), or nullopt while that is not known. Unset: tombstones are kept.
  std::function<std::optional<HlcTimestamp>()> tombstone_watermark;
};

// Reclaims expired keys, the keys of deleted namespaces and replication log entries past
// retention, and writes out an idle edge's held log records, in the background.
// RunOnce runs on one thread at a time: the sweeper's own, or a test's with the thread off.
class Sweeper {
 public:
  // `store` and `clock` must outlive the sweeper. Starts the thread if interval > 0.
  Sweeper(storage::Store* store, const Clock* clock, SweeperOptions options);
  // Stops the thread.
  ~Sweeper();

  // Runs one pass; returns the number of keys removed. A pass first writes out the log
  // records an edge's store holds if its applied sequence has not moved since the previous
  // pass (Store::SyncHeldLogIfQuiet).
  absl::StatusOr<int> RunOnce();

 private:
  void Loop();

  storage::Store* const store_;
  const Clock* const clock_;
  const SweeperOptions options_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace kv::node

#endif  // KV_NODE_SWEEPER_H_
