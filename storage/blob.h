#ifndef KV_STORAGE_BLOB_H_
#define KV_STORAGE_BLOB_H_

// Large values move through the store a chunk at a time, so memory stays bounded by the
// number of transfers in flight, not by value sizes.

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "leveldb/db.h"
#include "storage/group_committer.h"
#include "storage/record.h"

namespace kv::storage {

// The value of a put as the store holds it: inline bytes, or a blob of chunks.
struct ValueRef {
  std::string inline_value;
  std::optional<BlobRef> blob;

  int64_t size() const {
    return blob ? blob->size : static_cast<int64_t>(inline_value.size());
  }
};

// Receives one value in pieces of any size. Small values stay in memory and are stored
// inline; once more than `chunk_bytes` arrive, full chunks are written to the store
// (durably, under an upload marker that crash recovery uses to free abandoned uploads)
// and only the remainder is buffered. Memory held: < chunk_bytes + the last piece.
//
// Not thread-safe: call Append and Finish one at a time, each after the previous one's
// callback. Callbacks may run on the committer thread. Destroying a builder that was not
// finished frees what it wrote.
class ValueBuilder {
 public:
  using Done = absl::AnyInvocable<void(absl::Status)>;

  // `durable`: chunks are written with fsync (values committed here); a replica's copy
  // of a value committed elsewhere need not be.
  ValueBuilder(GroupCommitter* committer, std::atomic<uint64_t>* next_blob_id,
               int64_t chunk_bytes, int64_t inline_limit, bool durable)
      : committer_(committer),
        next_blob_id_(next_blob_id),
        chunk_bytes_(chunk_bytes),
        inline_limit_(inline_limit),
        durable_(durable) {}
  ~ValueBuilder();

  ValueBuilder(const ValueBuilder&) = delete;
  ValueBuilder& operator=(const ValueBuilder&) = delete;

  // Adds `data` to the value. Returns true when `data` was only buffered and the builder
  // can take more at once; `done` is then never called. Returns false when full chunks
  // are being written; `done` runs (on the committer thread) once they are stored.
  [[nodiscard]] bool Append(absl::string_view data, Done done);

  // Writes what is buffered and returns the value to put. The returned blob, if any, is
  // owned by whoever commits it (the store frees it if the put is rejected).
  void Finish(absl::AnyInvocable<void(absl::StatusOr<ValueRef>)> done);

  // Returns the number of bytes appended so far.
  int64_t size() const { return total_; }

 private:
  void WriteChunks(std::string data, Done done);

  GroupCommitter* const committer_;
  std::atomic<uint64_t>* const next_blob_id_;
  const int64_t chunk_bytes_;
  const int64_t inline_limit_;
  const bool durable_;

  std::string buffer_;
  int64_t total_ = 0;
  uint64_t blob_id_ = 0;
  uint32_t chunks_written_ = 0;
  bool handed_off_ = false;
};

// Reads a blob's chunks at a LevelDB snapshot, so an overwrite or delete committed
// meanwhile cannot tear the value. Thread-compatible.
class BlobReader {
 public:
  // Takes ownership of `snapshot` (released on destruction); `db` must outlive this.
  BlobReader(leveldb::DB* db, const leveldb::Snapshot* snapshot, BlobRef ref)
      : db_(db), snapshot_(snapshot), ref_(ref) {}
  ~BlobReader() { db_->ReleaseSnapshot(snapshot_); }

  BlobReader(const BlobReader&) = delete;
  BlobReader& operator=(const BlobReader&) = delete;

  const BlobRef& ref() const { return ref_; }

  // Returns chunk `index` (< ref().chunk_count()); DATA_LOSS if it is missing or short.
  absl::StatusOr<std::string> ReadChunk(uint32_t index) const;

 private:
  leveldb::DB* const db_;
  const leveldb::Snapshot* const snapshot_;
  const BlobRef ref_;
};

}  // namespace kv::storage

#endif  // KV_STORAGE_BLOB_H_
