#ifndef KV_STORAGE_TXN_H_
#define KV_STORAGE_TXN_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "leveldb/db.h"
#include "leveldb/write_batch.h"

namespace kv::storage {

// Writes staged by the jobs of one commit group, readable by the group's later jobs
// before anything reaches LevelDB. nullopt marks a deletion.
using Overlay = absl::flat_hash_map<std::string, std::optional<std::string>>;

// The state one job builds on the committer thread: a write batch, the reads it needs
// (seeing earlier jobs of the same group), a sequence counter, and actions to run once
// the group is durable. A job that fails is discarded whole, so a job either lands
// completely or not at all. Not thread-safe: used only on the committer thread.
class Txn {
 public:
  // `db` and `group` must outlive the Txn. `sequence` is the last applied sequence.
  Txn(leveldb::DB* db, const Overlay* group, uint64_t sequence)
      : db_(db), group_(group), sequence_(sequence) {}

  // Returns the current value of `key`: this txn's writes, then the group's, then the DB.
  // The DB is read through one iterator per txn, not DB::Get: a Get that misses in one
  // table file and goes on to the next charges the first a "seek", and LevelDB compacts
  // a file once it has been charged about size / 16 KiB times. Every write of a new key
  // looks for an older version (last writer wins), so Gets would compact files for
  // misses their bloom filters had already answered, and since every replica applies
  // the same writes, all replicas would compact at the same moment. An iterator samples
  // about one read per MiB read instead. (The DB does not change under it: only the
  // committer writes, after its group's jobs.)
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key) const;

  // Returns the value this txn or its group staged for `key`: nullopt when nothing was
  // staged (look in the DB or a cache), an engaged nullopt for a staged deletion.
  std::optional<std::optional<std::string>> Staged(absl::string_view key) const {
    if (auto it = staged_.find(key); it != staged_.end()) return it->second;
    if (auto it = group_->find(key); it != group_->end()) return it->second;
    return std::nullopt;
  }

  // Stages a write. `readable` = false keeps bulky values (chunks) out of the overlay;
  // such keys must not be read back before the group commits.
  void Put(absl::string_view key, absl::string_view value, bool readable = true);
  void Delete(absl::string_view key);

  // Returns the next replication sequence number (dense, gap-free across committed jobs).
  uint64_t NextSequence() { return ++sequence_; }
  uint64_t sequence() const { return sequence_; }
  // Moves the sequence to `sequence` (a repair that adopts a peer's position).
  void SetSequence(uint64_t sequence) { sequence_ = sequence; }

  // Runs `action` on the committer thread after the group is durable, before callbacks.
  void OnDurable(absl::AnyInvocable<void()> action) {
    if (on_durable_.empty()) on_durable_.reserve(4);  // a put has two or three
    on_durable_.push_back(std::move(action));
  }

  leveldb::WriteBatch& batch() { return batch_; }
  Overlay& staged() { return staged_; }
  std::vector<absl::AnyInvocable<void()>>& on_durable() { return on_durable_; }

 private:
  leveldb::DB* const db_;
  const Overlay* const group_;
  mutable std::unique_ptr<leveldb::Iterator> reader_;  // made by the first Get
  uint64_t sequence_;
  leveldb::WriteBatch batch_;
  Overlay staged_;
  std::vector<absl::AnyInvocable<void()>> on_durable_;
};

}  // namespace kv::storage

#endif  // KV_STORAGE_TXN_H_
