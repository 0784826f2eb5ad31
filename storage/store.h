#ifndef KV_STORAGE_STORE_H_
#define KV_STORAGE_STORE_H_

// Invariants / thread safety
// - Store is thread-safe. Reads go straight to LevelDB from the caller's thread; every
//   write goes through the GroupCommitter's single thread, which applies mutations under
//   last-writer-wins and acknowledges them only after a synced write.
// - The applied sequence, the HLC high-water mark and the data they describe are written
//   in the same batch, so after a crash they agree.
// - A key is visible only while live: deleted (tombstone), expired (expiration <= now)
//   and deleted-namespace keys are never returned, whether or not the background sweep
//   has removed them yet.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/base/thread_annotations.h"
#include "absl/random/bit_gen_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/hybrid_clock.h"
#include "leveldb/cache.h"
#include "leveldb/db.h"
#include "leveldb/env.h"
#include "leveldb/filter_policy.h"
#include "storage/blob.h"
#include "storage/bucket_hashes.h"
#include "storage/fingerprint.h"
#include "storage/group_committer.h"
#include "storage/log_entry.h"
#include "storage/mutation.h"
#include "storage/mutation_applier.h"
#include "storage/namespace_catalog.h"
#include "storage/sequence_waiters.h"

namespace prometheus {
class Registry;
}

namespace kv::storage {

// Returns `base` scaled by a factor drawn uniformly from [1 - jitter, 1 + jitter]
// (StoreOptions::write_buffer_jitter). REQUIRES: 0 <= jitter <= 0.5.
size_t JitteredWriteBuffer(size_t base, double jitter, absl::BitGenRef gen);

struct StoreOptions {
  // Directory of the LevelDB database; created if missing.
  std::string path;
  // File system to use; nullptr means the real one. Tests pass leveldb::NewMemEnv().
  leveldb::Env* env = nullptr;
  // How the write-ahead logs are written when env == nullptr (storage/preallocating_env.h):
  // - kPreallocated: into space zero-filled ahead, so synced commits do not grow the file
  //   (an origin's);
  // - kHeld: unsynced commits' records stay in memory until 64 KiB have gathered, the
  //   oldest is a second old at the next commit, or a commit is synced (see
  //   SyncHeldLogIfQuiet), saving a write() per commit; a killed process then loses its
  //   last unsynced commits, as a lost machine would (a replica's, an edge's, which pulls
  //   them again);
  // - kPlain: as LevelDB writes them.
  enum class LogWrites { kPreallocated, kHeld, kPlain };
  LogWrites log_writes = LogWrites::kPreallocated;
  // Stamped as the origin of mutations this node commits.
  std::string node_id;
  // LevelDB block cache. Larger keeps more hot records in memory.
  size_t block_cache_bytes = 32 << 20;
  // LevelDB memtable size. Up to twice this is held in memory while one is flushed;
  // larger means fewer, bigger compactions.
  size_t write_buffer_bytes = 16 << 20;
  // Each store draws its memtable size at random from write_buffer_bytes x [1 - j, 1 + j]
  // (0 <= j <= 0.5; 0: exactly write_buffer_bytes). Replicas apply the same writes, so
  // equal memtables fill, and flush, in lockstep: nodes that share a host all flushed
  // at once (9 nodes on 2 cores at 1,000 writes/s: writes then took up to 105-132 ms to
  // reach every edge, against 32-50 ms with the jitter; doc/storage.md).
  double write_buffer_jitter = 0.25;
  // Values up to this size are stored inside their record (one read to get them);
  // larger ones are split into chunks so no single read or write holds them whole.
  int64_t inline_value_limit = 64 << 10;
  // Size of each stored chunk of a large value.
  int64_t blob_chunk_bytes = 1 << 20;
  GroupCommitterOptions commit;
};

// A value as read: everything but the bytes of a large value, which `blob` reads
// chunk by chunk from a consistent snapshot.
struct StoredValue {
  int64_t expiration = 0;
  std::optional<std::string> metadata;
  HlcTimestamp hlc = 0;
  std::string origin;
  int64_t size = 0;
  std::string inline_value;             // the value, when blob is null
  std::unique_ptr<BlobReader> blob;     // set for chunked values
};

struct ListedKey {
  std::string name;
  int64_t expiration = 0;
  std::optional<std::string> metadata;
};

struct ListPage {
  std::vector<ListedKey> keys;
  // True when no live key follows the last one returned.
  bool complete = true;
  // When !complete: the last key examined; the next page starts strictly after it.
  std::string resume_after;
};

// A record as stored, for shipping to another replica: its version and, unless it is a
// tombstone, its value (inline, or chunked through `blob` at a snapshot).
struct ShippedRecord {
  std::string ns_id;
  std::string key;
  HlcTimestamp hlc = 0;
  std::string origin;
  bool tombstone = false;
  int64_t expiration = 0;
  std::optional<std::string> metadata;
  int64_t size = 0;
  std::string inline_value;
  std::unique_ptr<BlobReader> blob;
};

// One replication log entry with what to ship for it.
struct ShippedEntry {
  uint64_t seq = 0;
  LogEntry entry;
  // kPut/kDelete: the key's current record (it may be newer than the entry: last-writer-
  // wins makes that harmless); nullopt when the key is gone (EntryToProto ships a
  // tombstone at the entry's version then: replication/shipping.cc).
  std::optional<ShippedRecord> record;
};

// A version as listed for anti-entropy (no value).
struct VersionInfo {
  std::string ns_id;
  std::string key;
  HlcTimestamp hlc = 0;
  std::string origin;
  bool tombstone = false;
};

// What a replica tells peers about itself.
struct ReplicaSummary {
  uint64_t epoch = 0;            // lineage of its log
  uint64_t applied_sequence = 0;
  uint64_t log_start = 1;        // first retained log entry
  uint64_t hash = 0;             // BucketHashes::Total()
};

// The outcome of Commit: `status` is a failure of the whole batch (storage error or
// shutdown); otherwise `items[i]` is the outcome of mutation i.
struct CommitResult {
  absl::Status status;
  std::vector<absl::Status> items;
  // Once committed: the applied sequence right after this batch (its last log entry's
  // sequence; later batches of the same group commit may already be applied too).
  uint64_t sequence = 0;

  // Returns `status` if it failed, else the first failed item, else OK.
  absl::Status FirstError() const;
};

class Store {
 public:
  using CommitDone = absl::AnyInvocable<void(CommitResult)>;

  // Opens (creating if needed) the store at options.path: recovers the namespace catalog,
  // the applied sequence and the HLC high-water mark, and frees uploads a crash left
  // behind. `clock` must outlive the store. `registry` may be null (no metrics).
  static absl::StatusOr<std::unique_ptr<Store>> Open(const StoreOptions& options,
                                                     const Clock* clock,
                                                     prometheus::Registry* registry);
  // Commits every queued write, then closes the database.
  ~Store();

  // --- Namespaces ---------------------------------------------------------------
  std::vector<NamespaceInfo> ListNamespaces() const { return catalog_.ListLive(); }
  // Returns the live namespace `ns_id`, or NOT_FOUND.
  absl::StatusOr<NamespaceInfo> GetNamespace(absl::string_view ns_id) const;
  // Returns OK if `ns_id` names a live namespace, else NOT_FOUND "namespace not found".
  absl::Status CheckNamespace(absl::string_view ns_id) const;

  // --- Reads ----------------------------------------------------------------------
  // Returns the live value of `key` at `now`, nullopt if absent, NOT_FOUND if the
  // namespace does not exist, DATA_LOSS if the record is corrupt.
  absl::StatusOr<std::optional<StoredValue>> Get(absl::string_view ns_id, absl::string_view key,
                                                 absl::Time now) const;

  // Returns up to `limit` live keys of `ns_id` starting with `prefix`, strictly after
  // `start_after` (if set), in byte order. Examines at most `scan_budget` records, so a
  // page over many deleted or expired keys may come back short but incomplete.
  absl::StatusOr<ListPage> List(absl::string_view ns_id, absl::string_view prefix,
                                std::optional<absl::string_view> start_after, int limit,
                                absl::Time now, int scan_budget = 0) const;

  // --- Writes ---------------------------------------------------------------------
  // Applies `mutations` atomically as one job (group-committed with concurrent jobs) and
  // calls `done` once durable. Mutations with hlc == 0 are stamped here. Only writes
  // committed here (Sequencing::kAssign) wait for fsync: a replica's copy of the
  // origin's log (kReplicated, kRepair) is durable at the origin already, and a replica
  // that loses its unsynced tail to a power cut re-fetches it (data and applied sequence
  // go in one batch, so they are lost together or not at all).
  void Commit(std::vector<Mutation> mutations, CommitDone done);
  // Commit and wait. Must not be called from a commit callback.
  CommitResult CommitAndWait(std::vector<Mutation> mutations);

  // Returns a builder for one large value; it must be destroyed before the store.
  // `durable` = false for a replica's copy of a value committed at the origin.
  std::unique_ptr<ValueBuilder> NewValueBuilder(bool durable = true);
  // Frees a blob that was built but will not be committed (asynchronous).
  void DiscardBlob(const BlobRef& blob);

  // --- Maintenance (the node's sweeper calls these; tests step them) ----------------
  // Turns up to `max_keys` keys that expired by `now` into tombstones, freeing their
  // values. Returns how many index entries it processed.
  absl::StatusOr<int> SweepExpired(absl::Time now, int max_keys);
  // Removes up to `max_keys` keys of deleted namespaces. Returns how many it removed.
  absl::StatusOr<int> PurgeDeletedNamespaces(int max_keys);
  // On a store that holds its unsynced log records (LogWrites::kHeld, an edge's): if the
  // applied sequence has not moved since the previous call and the last group written was
  // not synced, writes and syncs what the log holds, with one synced commit of
  // bookkeeping. Called periodically (the node's sweep, every second), so a replica that
  // went quiet does not keep its last commits only in memory, and a kill after that loses
  // none of them (while commits keep coming, the log writes what it holds at the first
  // commit after it is 64 KiB or a second old). Returns true if it synced; false
  // otherwise, and always on other stores. UNAVAILABLE while the store closes; a storage
  // error if the commit fails. One caller thread.
  absl::StatusOr<bool> SyncHeldLogIfQuiet();

  // --- Replication (store_replication.cc) -----------------------------------------
  // Returns up to `max_entries` log entries from `from` on (fewer when they pass
  // `max_bytes` of values), read at one snapshot. An entry whose record is chunked comes
  // alone, first in its batch. OUT_OF_RANGE if `from` is below LogStart().
  // Each entry carries its key's current record, which may be a later write's:
  // VersionHorizon(), called after, bounds them.
  absl::StatusOr<std::vector<ShippedEntry>> ReadLog(uint64_t from, int max_entries,
                                                    int64_t max_bytes) const;
  // Returns the current versions (tombstones included) of every data key whose bucket is
  // in `buckets` (all when empty), plus every namespace record, read at one snapshot, and
  // the applied sequence at that snapshot.
  absl::Status ScanVersions(const std::vector<uint32_t>& buckets,
                            std::vector<VersionInfo>* versions,
                            std::vector<std::pair<std::string, NamespaceRecord>>* namespaces,
                            uint64_t* applied_sequence) const;
  // Returns the current record of each key (skipping absent ones), values included.
  absl::StatusOr<std::vector<ShippedRecord>> ReadRecords(
      const std::vector<std::pair<std::string, std::string>>& keys) const;
  // Adopts another log's lineage after a repair: sets the epoch and applied sequence and
  // drops this replica's log entries (they belong to the old lineage).
  absl::Status ResetLog(uint64_t epoch, uint64_t applied_sequence);
  // Drops up to `max_keys` tombstones whose version is at or below `watermark` (a
  // timestamp every member of the cluster has applied past, so no replica can still hold
  // an older live version that needs the tombstone). Returns how many it dropped.
  absl::StatusOr<int> CollectTombstones(HlcTimestamp watermark, int max_keys);
  // Returns the timestamp of log entry `seq`, NOT_FOUND if it is not retained.
  absl::StatusOr<HlcTimestamp> LogEntryTimestamp(uint64_t seq) const;
  // Deletes log entries below `keep_from` (retention). Returns how many it deleted.
  absl::StatusOr<int> TrimLog(uint64_t keep_from, int max_entries);
  // Calls done(true) once AppliedSequence() >= seq, or done(false) at `deadline`.
  void WaitForSequence(uint64_t seq, absl::Time deadline, SequenceWaiters::Done done) {
    waiters_->Wait(seq, deadline, std::move(done));
  }
  // Calls `fn` with the new applied sequence after every durable group, on the thread
  // that committed it, after AppliedSequence() has moved and before the group's writers
  // (and WaitForSequence callbacks) are answered: the replication fan-out sends from here,
  // so an entry is on its way to every caught-up edge before its write is acknowledged.
  // `fn` must be quick, must not block, and must not add or remove listeners. Returns an
  // id for RemoveCommitListener.
  int AddCommitListener(std::function<void(uint64_t applied)> fn);
  // Returns once no call of listener `id` runs or will run.
  void RemoveCommitListener(int id);
  ReplicaSummary Summary() const;
  std::vector<uint64_t> BucketHashSnapshot() const { return hashes_.Snapshot(); }
  // Returns the fingerprint (fingerprint.h) as of applied sequence `sequence`, if its
  // point is still kept.
  std::optional<uint64_t> FingerprintAt(uint64_t sequence) const {
    return fingerprint_.At(sequence);
  }
  // After a repair that may have brought versions up to the peer's position `clean_from`:
  // the fingerprint is comparable again from there on.
  void ForgetFingerprints(uint64_t clean_from) { fingerprint_.Forget(clean_from); }
  // Before applying records read at a sender whose versions reach up to sequence
  // `horizon` (its VersionHorizon()): this replica's data matches a log position again
  // from there.
  void NoteVersionsUpTo(uint64_t horizon) { fingerprint_.RaiseCleanFrom(horizon); }
  // Returns the sequence number no version this replica holds is newer than: the last
  // sequence handed to a write (readers see a group's data before AppliedSequence()
  // moves), or more while it holds versions shipped ahead of their log entries. Call it
  // after reading records to bound what was read.
  uint64_t VersionHorizon() const {
    return std::max(written_sequence_.load(), fingerprint_.clean_from());
  }
  uint64_t Epoch() const { return epoch_.load(); }
  uint64_t LogStart() const { return log_start_.load(); }

  // Returns the number of mutations applied (the replication position).
  uint64_t AppliedSequence() const { return applied_sequence_.load(); }
  // Returns the number of write jobs waiting for the committer.
  size_t CommitQueueDepth() const { return committer_->QueueDepth(); }

  const StoreOptions& options() const { return options_; }

 private:
  // Commit and CommitAndWait: `wait` commits before returning (done runs on this thread).
  void CommitImpl(std::vector<Mutation> mutations, CommitDone done, bool wait);

  struct Metrics;

  Store(const StoreOptions& options, const Clock* clock);
  absl::Status Recover();

  const StoreOptions options_;
  const Clock* const clock_;
  std::unique_ptr<leveldb::Cache> block_cache_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_policy_;
  std::unique_ptr<leveldb::DB> db_;
  std::unique_ptr<Metrics> metrics_;

  // Reads one record at `snapshot` (nullptr: latest) into `out`; false when absent.
  absl::StatusOr<bool> ReadShippedRecord(absl::string_view ns_id, absl::string_view key,
                                         const leveldb::Snapshot* snapshot,
                                         ShippedRecord* out) const;

  NamespaceCatalog catalog_;
  BucketHashes hashes_;
  Fingerprint fingerprint_;
  std::unique_ptr<HybridClock> hlc_;
  std::unique_ptr<MutationApplier> applier_;
  std::unique_ptr<SequenceWaiters> waiters_;
  // Held while listeners run, so removing one waits for its running call.
  absl::Mutex listeners_mu_;
  int next_listener_id_ ABSL_GUARDED_BY(listeners_mu_) = 0;
  std::vector<std::pair<int, std::function<void(uint64_t)>>> listeners_
      ABSL_GUARDED_BY(listeners_mu_);
  std::atomic<uint64_t> applied_sequence_{0};
  // The sequence of the group being written or last written: set before its batch is,
  // so it is never below the data a reader can see.
  std::atomic<uint64_t> written_sequence_{0};
  // For SyncHeldLogIfQuiet: whether the last group written was unsynced, and the applied
  // sequence at its previous call (its thread only).
  std::atomic<bool> last_group_unsynced_{false};
  uint64_t applied_at_last_check_ = 0;
  std::atomic<uint64_t> epoch_{0};
  std::atomic<uint64_t> log_start_{1};
  std::atomic<uint64_t> next_blob_id_{1};
  // Declared last: destroyed (drained) first, while everything it uses still exists.
  std::unique_ptr<GroupCommitter> committer_;
};

}  // namespace kv::storage

#endif  // KV_STORAGE_STORE_H_
