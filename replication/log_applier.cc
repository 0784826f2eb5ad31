#include "replication/log_applier.h"

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/status_macros.h"
#include "replication/shipping.h"

namespace kv::replication {

namespace v1 = kv::replication::v1;

LogApplier::~LogApplier() = default;  // the builder frees unfinished chunks

absl::Status LogApplier::Apply(const v1::LogBatch& batch) {
  // Before anything of this batch commits: points below its horizon would not match.
  if (batch.horizon() != 0) store_->NoteVersionsUpTo(batch.horizon());
  if (!batch.continuation().empty()) {
    if (!pending_) {
      return absl::InvalidArgumentError("replication stream: continuation without a value");
    }
    KV_RETURN_IF_ERROR(Feed(batch.continuation()));
  }
  for (const v1::LogEntry& entry : batch.entries()) {
    if (pending_) {
      return absl::InvalidArgumentError(absl::StrCat(
          "replication stream: entry ", entry.sequence(), " arrived inside a value"));
    }
    KV_RETURN_IF_ERROR(Start(entry));
  }
  if (ready_.empty()) return absl::OkStatus();
  const int64_t count = static_cast<int64_t>(ready_.size());
  storage::CommitResult result = store_->CommitAndWait(std::move(ready_));
  ready_.clear();
  KV_RETURN_IF_ERROR(result.FirstError());
  applied_ += count;
  if (metrics_ != nullptr) {
    const absl::Time now = clock_->Now();
    for (uint64_t hlc : ready_hlcs_) {
      metrics_->ObserveLag(now - absl::FromUnixMillis(static_cast<int64_t>(HlcWallMillis(hlc))));
    }
    metrics_->AddApplied(count, ready_bytes_, from_origin_);
  }
  ready_hlcs_.clear();
  ready_bytes_ = 0;
  return absl::OkStatus();
}

absl::Status LogApplier::Start(const v1::LogEntry& entry) {
  const v1::Record* record = RecordOf(entry);
  const int64_t size = record != nullptr && !record->tombstone() ? record->value_size() : 0;
  if (size < 0) return absl::InvalidArgumentError("replication stream: bad value size");
  absl::string_view first;  // (not a ?: with "", which would view a temporary string)
  if (record != nullptr) first = record->value_chunk();
  if (size <= store_->options().inline_value_limit &&
      static_cast<int64_t>(first.size()) == size) {
    // The common case, a small value whole in its entry: queued without the pending copy.
    storage::ValueRef value;
    value.inline_value = std::string(first);
    Queue(entry, std::move(value), size);
    return absl::OkStatus();
  }
  pending_ = entry;
  pending_received_ = 0;
  pending_inline_.clear();
  pending_size_ = size;
  if (pending_size_ > store_->options().inline_value_limit) {
    pending_builder_ = store_->NewValueBuilder(/*durable=*/false);
  }
  // The pending copy of the first part is dropped: Feed keeps what it needs from the
  // batch's (`record` points into `entry`, alive for the whole call).
  if (record != nullptr) {
    if (pending_->has_record()) pending_->mutable_record()->clear_value_chunk();
    return Feed(record->value_chunk());
  }
  return Feed("");
}

absl::Status LogApplier::Feed(absl::string_view data) {
  pending_received_ += static_cast<int64_t>(data.size());
  if (pending_received_ > pending_size_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "replication stream: entry ", pending_->sequence(), " sent more than its value size"));
  }
  if (pending_builder_) {
    absl::Notification stored;
    absl::Status append_status;
    if (!pending_builder_->Append(data, [&](absl::Status s) {
          append_status = std::move(s);
          stored.Notify();
        })) {
      stored.WaitForNotification();
      KV_RETURN_IF_ERROR(append_status);
    }
  } else {
    pending_inline_.append(data.data(), data.size());
  }
  if (pending_received_ < pending_size_) return absl::OkStatus();

  storage::ValueRef value;
  if (pending_builder_) {
    absl::Notification finished;
    absl::StatusOr<storage::ValueRef> built;
    pending_builder_->Finish([&](absl::StatusOr<storage::ValueRef> r) {
      built = std::move(r);
      finished.Notify();
    });
    finished.WaitForNotification();
    KV_RETURN_IF_ERROR(built.status());
    value = std::move(*built);
    pending_builder_.reset();  // handed off: the store owns the blob now
  } else {
    value.inline_value = std::move(pending_inline_);
    pending_inline_.clear();
  }
  Queue(*pending_, std::move(value), pending_size_);
  pending_.reset();
  return absl::OkStatus();
}

void LogApplier::Queue(const v1::LogEntry& entry, storage::ValueRef value, int64_t size) {
  ready_bytes_ += size;
  ready_hlcs_.push_back(entry.hlc());
  ready_.push_back(EntryToMutation(entry, sequencing_, std::move(value)));
}

}  // namespace kv::replication
