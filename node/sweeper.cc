#include "node/sweeper.h"

#include "common/log.h"
#include "common/thread_name.h"

namespace kv::node {

Sweeper::Sweeper(storage::Store* store, const Clock* clock, SweeperOptions options)
    : store_(store), clock_(clock), options_(options) {
  if (options_.interval > absl::ZeroDuration()) thread_ = std::thread([this] {
      SetCurrentThreadName("kv-sweep");
      Loop();
    });
}

Sweeper::~Sweeper() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<int> Sweeper::RunOnce() {
  // First, so that no failure below keeps it from running; its own failure does not
  // keep the rest from running either.
  const absl::Status synced = store_->SyncHeldLogIfQuiet().status();
  int removed = 0;
  while (removed < options_.max_per_run) {
    absl::StatusOr<int> n = store_->SweepExpired(clock_->Now(), options_.batch);
    if (!n.ok()) return n.status();
    removed += *n;
    if (*n < options_.batch) break;
  }
  while (removed < options_.max_per_run) {
    absl::StatusOr<int> n = store_->PurgeDeletedNamespaces(options_.batch);
    if (!n.ok()) return n.status();
    removed += *n;
    if (*n < options_.batch) break;
  }
  if (options_.tombstone_watermark) {
    if (std::optional<HlcTimestamp> watermark = options_.tombstone_watermark()) {
      while (removed < options_.max_per_run) {
        absl::StatusOr<int> n = store_->CollectTombstones(*watermark, options_.batch);
        if (!n.ok()) return n.status();
        removed += *n;
        if (*n < options_.batch) break;
      }
    }
  }
  const uint64_t applied = store_->AppliedSequence();
  const uint64_t retention = static_cast<uint64_t>(std::max<int64_t>(options_.log_retention_entries, 1));
  if (applied > retention) {
    const uint64_t keep_from = applied - retention + 1;
    for (int i = 0; i < 100 && store_->LogStart() < keep_from; ++i) {
      absl::StatusOr<int> n = store_->TrimLog(keep_from, 10 * options_.batch);
      if (!n.ok()) return n.status();
      if (*n == 0) break;
    }
  }
  if (!synced.ok()) return synced;
  return removed;
}

void Sweeper::Loop() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.interval);
    if (stopping_) break;
    mu_.Unlock();
    absl::StatusOr<int> removed = RunOnce();
    if (!removed.ok()) KV_LOG_WARNING("sweep failed: ", removed.status().ToString());
    mu_.Lock();
  }
}

}  // namespace kv::node
