#include "replication/log_cursor.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "replication/shipping.h"

namespace kv::replication {

namespace v1 = kv::replication::v1;

absl::StatusOr<uint64_t> FirstToSend(const storage::Store& store,
                                     const v1::SubscribeRequest& request) {
  if (request.epoch() != 0 && request.epoch() != store.Epoch()) {
    return absl::FailedPreconditionError(
        absl::StrCat("epoch mismatch: subscriber holds log lineage ", request.epoch(),
                     ", this node ", store.Epoch(), "; the subscriber must repair"));
  }
  const uint64_t next = std::max<uint64_t>(request.from_sequence(), 1);
  if (next < store.LogStart()) {
    return absl::OutOfRangeError(absl::StrCat("log entry ", next,
                                              " is no longer retained (the log starts at ",
                                              store.LogStart(), "); the subscriber must repair"));
  }
  return next;
}

LogCursor::LogCursor(storage::Store* store, ReplicationMetrics* metrics,
                     const ReplicationServiceOptions& options, uint64_t next)
    : store_(store), metrics_(metrics), options_(options), next_(next) {}

absl::StatusOr<bool> LogCursor::Fill(v1::LogBatch* batch) {
  batch->Clear();
  filled_bytes_ = 0;
  batch->set_epoch(store_->Epoch());
  batch->set_sender_applied_sequence(store_->AppliedSequence());
  if (blob_) {
    KV_ASSIGN_OR_RETURN(std::string chunk, blob_->ReadChunk(next_chunk_++));
    filled_bytes_ = static_cast<int64_t>(chunk.size());
    if (metrics_ != nullptr) metrics_->AddPushed(0, filled_bytes_);
    batch->set_continuation(std::move(chunk));
    batch->set_horizon(store_->VersionHorizon());
    if (next_chunk_ == blob_->ref().chunk_count()) blob_.reset();
    return true;
  }
  KV_ASSIGN_OR_RETURN(std::vector<storage::ShippedEntry> entries,
                      store_->ReadLog(next_, options_.batch_entries, options_.batch_bytes));
  if (entries.empty()) return false;
  // After the reads: a chunked record is read at a snapshot of its own, later than the log's.
  batch->set_horizon(store_->VersionHorizon());
  for (storage::ShippedEntry& e : entries) {
    v1::LogEntry* out = batch->add_entries();
    KV_RETURN_IF_ERROR(EntryToProto(e, out));
    if (out->has_record()) filled_bytes_ += static_cast<int64_t>(out->record().value_chunk().size());
    if (e.record && e.record->blob && e.record->blob->ref().chunk_count() > 1) {
      blob_ = std::move(e.record->blob);  // the rest follows as continuations
      next_chunk_ = 1;
    }
  }
  next_ = entries.back().seq + 1;
  if (metrics_ != nullptr) metrics_->AddPushed(static_cast<int64_t>(entries.size()), filled_bytes_);
  last_batch_ = absl::Now();
  return true;
}

std::optional<absl::Time> LogCursor::LingerUntil(absl::Time now) const {
  if (now >= last_batch_ + options_.min_batch_interval) return std::nullopt;
  // Never longer than a heartbeat: the subscriber must keep hearing from us.
  return std::min(last_batch_ + options_.min_batch_interval, now + options_.heartbeat);
}

}  // namespace kv::replication
