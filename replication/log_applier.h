#ifndef KV_REPLICATION_LOG_APPLIER_H_
#define KV_REPLICATION_LOG_APPLIER_H_

// Applies the messages of one replication stream (Subscribe batches, or repair records
// framed the same way) to the local store: reassembles values that continue over several
// messages (writing large ones chunk by chunk, never whole), turns entries into
// mutations and commits each message's complete entries as one job, waiting for it to be
// durable. Thread-compatible: one stream, one caller thread (which it blocks).

#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "common/clock.h"
#include "kv/replication/v1/replication.pb.h"
#include "replication/replication_metrics.h"
#include "storage/store.h"

namespace kv::replication {

class LogApplier {
 public:
  // `store`, `clock` and `metrics` must outlive the applier. `from_origin` labels metrics.
  LogApplier(storage::Store* store, storage::Sequencing sequencing, const Clock* clock,
             ReplicationMetrics* metrics, bool from_origin)
      : store_(store),
        sequencing_(sequencing),
        clock_(clock),
        metrics_(metrics),
        from_origin_(from_origin) {}
  // Frees the chunks of a value left incomplete.
  ~LogApplier();

  // Applies `batch`. INVALID_ARGUMENT for a malformed stream (continuation without a
  // pending value, more bytes than announced); FAILED_PRECONDITION for a sequence gap;
  // a storage error otherwise. After an error the applier must not be used again.
  absl::Status Apply(const kv::replication::v1::LogBatch& batch);

  // Returns the number of entries applied so far.
  int64_t applied() const { return applied_; }
  // Returns true while a value continues in the next messages.
  bool in_value() const { return pending_.has_value(); }

 private:
  // Adds `data` to the pending value; once complete, queues its mutation.
  absl::Status Feed(absl::string_view data);
  absl::Status Start(const kv::replication::v1::LogEntry& entry);
  // Queues the mutation of `entry`, whose value of `size` bytes is complete, for commit.
  void Queue(const kv::replication::v1::LogEntry& entry, storage::ValueRef value, int64_t size);

  storage::Store* const store_;
  const storage::Sequencing sequencing_;
  const Clock* const clock_;
  ReplicationMetrics* const metrics_;
  const bool from_origin_;

  // The entry whose value is still arriving.
  std::optional<kv::replication::v1::LogEntry> pending_;
  int64_t pending_size_ = 0;
  int64_t pending_received_ = 0;
  std::string pending_inline_;
  std::unique_ptr<storage::ValueBuilder> pending_builder_;

  std::vector<storage::Mutation> ready_;
  std::vector<uint64_t> ready_hlcs_;  // commit timestamps, for lag
  int64_t ready_bytes_ = 0;
  int64_t applied_ = 0;
};

}  // namespace kv::replication

#endif  // KV_REPLICATION_LOG_APPLIER_H_
