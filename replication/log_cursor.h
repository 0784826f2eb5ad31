#ifndef KV_REPLICATION_LOG_CURSOR_H_
#define KV_REPLICATION_LOG_CURSOR_H_

// One subscriber's position in a sender's log, and what its stream sends next. Shared by
// the two transports of the stream (replication_service.h: gRPC Subscribe;
// stream_server.h: plain TCP), so both send the same batches, continuations, heartbeats
// and lingers.
//
// Not thread-safe: one stream owns its cursor.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "kv/replication/v1/replication.pb.h"
#include "replication/replication_metrics.h"
#include "storage/store.h"

namespace kv::replication {

struct ReplicationServiceOptions {
  // An idle stream sends an empty batch this often, so subscribers notice a dead sender
  // quickly and learn the sender's position.
  absl::Duration heartbeat = absl::Seconds(1);
  // Entries per batch, and value bytes per batch (a chunked value travels alone).
  int batch_entries = 512;
  int64_t batch_bytes = 1 << 20;
  // Threads reading the log for all gRPC streams (TCP streams read on their own thread).
  int threads = 2;
  // Least time between two batches of entries on one stream. A commit arriving sooner
  // waits out the rest of it (or until a full batch has accumulated), so each message
  // carries several entries. 0 (the default) sends every commit group as it lands: the
  // origin's group commit already batches a busy stream, and caught-up TCP streams then
  // share one sender (`fanout`), so holding commits back cost latency without saving
  // measurable CPU. Above 0, every TCP stream sends on its own thread.
  absl::Duration min_batch_interval = absl::ZeroDuration();
  // A TCP stream whose subscriber takes no bytes for this long is closed (a frozen or
  // unreachable subscriber; it reconnects and resumes from its applied sequence). A slow
  // subscriber that keeps taking bytes is not.
  absl::Duration send_timeout = absl::Seconds(30);
  // TCP streams that are caught up share one sender (stream_server.h), when
  // min_batch_interval is 0. Off, each stream waits, reads and sends on its own thread.
  bool fanout = true;
};

// Returns the first log entry to send to `request`'s subscriber, or why it must not be
// served: FAILED_PRECONDITION when it holds another log lineage (epoch), OUT_OF_RANGE
// when it starts below the retained log. Either way it must repair.
absl::StatusOr<uint64_t> FirstToSend(const storage::Store& store,
                                     const kv::replication::v1::SubscribeRequest& request);

class LogCursor {
 public:
  // Starts at log entry `next`. `store` and `metrics` (null: count nothing) must outlive
  // the cursor.
  LogCursor(storage::Store* store, ReplicationMetrics* metrics,
            const ReplicationServiceOptions& options, uint64_t next);

  // Fills `batch` (cleared first, then stamped with the store's epoch and applied
  // sequence) with the next part of the stream: the rest of a chunked value, or up to a
  // batch of entries. Returns false if there was nothing to send (caught up): `batch`
  // is then a heartbeat. Counts what it fills in the pushed metrics.
  absl::StatusOr<bool> Fill(kv::replication::v1::LogBatch* batch);

  // The next log entry to send.
  uint64_t next() const { return next_; }
  // Value bytes the last Fill put in its batch (what the pushed metrics count).
  int64_t filled_bytes() const { return filled_bytes_; }
  // True while a chunked value is being sent: the next Fill continues it.
  bool in_value() const { return blob_ != nullptr; }
  // Moves to log entry `next`, dropping any value being sent.
  void Seek(uint64_t next) {
    next_ = next;
    blob_.reset();
  }

  // After a commit woke a caught-up stream at `now`: if entries went out less than
  // min_batch_interval ago, returns until when to wait (for the rest of the interval,
  // never beyond a heartbeat) before sending; the wait may end early once a full batch
  // has committed, i.e. the store reached LingerTarget(). nullopt: send now.
  std::optional<absl::Time> LingerUntil(absl::Time now) const;
  // When entries last went out on this stream (also by another sender of it).
  absl::Time last_batch() const { return last_batch_; }
  void NoteBatchSentAt(absl::Time t) { last_batch_ = std::max(last_batch_, t); }
  uint64_t LingerTarget() const {
    return next_ + static_cast<uint64_t>(options_.batch_entries) - 1;
  }

 private:
  storage::Store* const store_;
  ReplicationMetrics* const metrics_;
  const ReplicationServiceOptions options_;
  uint64_t next_;
  absl::Time last_batch_ = absl::InfinitePast();  // when entries last went out
  std::unique_ptr<storage::BlobReader> blob_;     // a chunked value being sent
  uint32_t next_chunk_ = 0;
  int64_t filled_bytes_ = 0;
};

}  // namespace kv::replication

#endif  // KV_REPLICATION_LOG_CURSOR_H_
