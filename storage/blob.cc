#include "storage/blob.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/keys.h"
#include "storage/leveldb_status.h"
#include "storage/mutation_applier.h"

namespace kv::storage {

ValueBuilder::~ValueBuilder() {
  if (handed_off_ || chunks_written_ == 0) return;
  BlobRef written{blob_id_, static_cast<int64_t>(chunks_written_) * chunk_bytes_, chunk_bytes_};
  committer_->Submit(
      [written](Txn& txn) {
        MutationApplier::FreeBlob(txn, written);
        return absl::OkStatus();
      },
      [](absl::Status) {}, 64);
}

bool ValueBuilder::Append(absl::string_view data, Done done) {
  buffer_.append(data.data(), data.size());
  total_ += static_cast<int64_t>(data.size());
  if (static_cast<int64_t>(buffer_.size()) < chunk_bytes_) return true;
  const size_t full = buffer_.size() / chunk_bytes_ * chunk_bytes_;
  std::string chunks = buffer_.substr(0, full);
  buffer_.erase(0, full);
  WriteChunks(std::move(chunks), std::move(done));
  return false;
}

void ValueBuilder::Finish(absl::AnyInvocable<void(absl::StatusOr<ValueRef>)> done) {
  if (chunks_written_ == 0 && total_ <= inline_limit_) {
    ValueRef ref;
    ref.inline_value = std::move(buffer_);
    handed_off_ = true;
    done(std::move(ref));
    return;
  }
  auto hand_off = [this, done = std::move(done)](absl::Status s) mutable {
    if (!s.ok()) {
      done(s);
      return;
    }
    handed_off_ = true;
    ValueRef ref;
    ref.blob = BlobRef{blob_id_, total_, chunk_bytes_};
    done(std::move(ref));
  };
  if (buffer_.empty()) {
    hand_off(absl::OkStatus());
    return;
  }
  WriteChunks(std::exchange(buffer_, {}), std::move(hand_off));
}

void ValueBuilder::WriteChunks(std::string data, Done done) {
  if (chunks_written_ == 0) blob_id_ = next_blob_id_->fetch_add(1);
  const uint32_t first = chunks_written_;
  const uint32_t count =
      static_cast<uint32_t>((static_cast<int64_t>(data.size()) + chunk_bytes_ - 1) / chunk_bytes_);
  chunks_written_ += count;
  const size_t bytes = data.size();
  committer_->Submit(
      [id = blob_id_, first, count, chunk = chunk_bytes_, data = std::move(data)](Txn& txn) {
        if (first == 0) txn.Put(keys::Upload(id), "");
        for (uint32_t i = 0; i < count; ++i) {
          txn.Put(keys::Chunk(id, first + i),
                  absl::string_view(data).substr(static_cast<size_t>(i) * chunk, chunk),
                  /*readable=*/false);
        }
        return absl::OkStatus();
      },
      std::move(done), bytes, /*exclusive=*/false, durable_);
}

absl::StatusOr<std::string> BlobReader::ReadChunk(uint32_t index) const {
  leveldb::ReadOptions options;
  options.snapshot = snapshot_;
  options.fill_cache = false;  // one-pass bulk reads would evict the hot small records
  std::string value;
  leveldb::Status s = db_->Get(options, keys::Chunk(ref_.id, index), &value);
  if (s.IsNotFound()) {
    return absl::DataLossError(absl::StrCat("storage: chunk ", index, " of blob ", ref_.id,
                                            " is missing"));
  }
  if (!s.ok()) return FromLevelDbStatus(s);
  const int64_t expected =
      index + 1 < ref_.chunk_count()
          ? ref_.chunk_bytes
          : ref_.size - static_cast<int64_t>(index) * ref_.chunk_bytes;
  if (static_cast<int64_t>(value.size()) != expected) {
    return absl::DataLossError(absl::StrCat("storage: chunk ", index, " of blob ", ref_.id,
                                            " has ", value.size(), " bytes, expected ",
                                            expected));
  }
  return value;
}

}  // namespace kv::storage
