#ifndef KV_STORAGE_MUTATION_APPLIER_H_
#define KV_STORAGE_MUTATION_APPLIER_H_

// Turns mutations into staged LevelDB writes under last-writer-wins.
//
// Invariants
// - A data key holds at most one record; the record with the greater (hlc, origin)
//   wins, so applying mutations in any order, any number of times, leaves the same state.
// - Every sequenced mutation (assigned here, or replicated) gets exactly the next
//   sequence number and a log entry in the same batch as its data, whether or not its
//   version won: the log stays dense and gap-free.
// - A record's expiry-index entry ('x') and blob chunks ('c') exist exactly as long as
//   the record that names them: replacing or deleting a record frees both in the same
//   batch. A rejected or superseded put frees the blob it carried.
// - The bucket hashes and the fingerprint change only once the batch holding the change
//   is durable; the fingerprint's point of each sequence number is recorded then too.
// Thread safety: used only on the committer thread.

#include <string>

#include "absl/status/status.h"
#include "common/hybrid_clock.h"
#include "storage/bucket_hashes.h"
#include "storage/fingerprint.h"
#include "storage/log_entry.h"
#include "storage/mutation.h"
#include "storage/namespace_catalog.h"
#include "storage/txn.h"

namespace kv::storage {

class MutationApplier {
 public:
  // Everything passed must outlive the applier. `node_id` stamps local mutations.
  MutationApplier(NamespaceCatalog* catalog, HybridClock* clock, BucketHashes* hashes,
                  Fingerprint* fingerprint, std::string node_id)
      : catalog_(catalog),
        clock_(clock),
        hashes_(hashes),
        fingerprint_(fingerprint),
        node_id_(std::move(node_id)) {}

  // Applies `m` in `txn` (stamping it first when it is kAssign with hlc == 0). Returns OK
  // when applied, superseded by a newer write, or a duplicate of an applied sequence
  // number; NOT_FOUND (unknown namespace) or ALREADY_EXISTS (title taken) when a kAssign
  // mutation is rejected with nothing staged; FAILED_PRECONDITION when a replicated
  // sequence number is not the next one; another code for a storage failure.
  absl::Status Apply(Txn& txn, Mutation& m);

  // Replaces the record of (ns_id, key) with a tombstone if it expired at or before
  // `now_seconds`, and drops the index entry `expiry_key` either way.
  absl::Status Expire(Txn& txn, absl::string_view ns_id, absl::string_view key,
                      int64_t now_seconds, absl::string_view expiry_key);

  // Drops the tombstone of (ns_id, key) if it is still the version `hlc` (garbage
  // collection), and the gc index entry `index_key` either way.
  absl::Status CollectTombstone(Txn& txn, absl::string_view ns_id, absl::string_view key,
                                HlcTimestamp hlc, absl::string_view index_key);

  // Removes (ns_id, key) of a deleted namespace with everything it refers to.
  absl::Status Purge(Txn& txn, absl::string_view ns_id, absl::string_view key);

  // Stages the deletion of a blob's chunks and upload marker.
  static void FreeBlob(Txn& txn, const BlobRef& blob);

 private:
  // Each fills `entry` (the log entry of a sequenced mutation).
  absl::Status ApplyPut(Txn& txn, const Mutation& m, PutValue& put, LogEntry* entry);
  absl::Status ApplyDelete(Txn& txn, const Mutation& m, const DeleteValue& del, LogEntry* entry);
  absl::Status ApplyNamespace(Txn& txn, const Mutation& m, LogEntry* entry);
  // Returns whether `ns_id` is live as seen by `txn`: a namespace record staged earlier in
  // the same job or group (replicated batches carry a namespace and its first keys
  // together) wins over the catalog, which only changes once a batch is durable.
  bool NamespaceLive(const Txn& txn, absl::string_view ns_id) const;
  // Writes `next` as the record of namespace `id`, published to the catalog (and, for a
  // deletion, to the fingerprint) when durable.
  void StageNamespace(Txn& txn, const std::string& id, const NamespaceRecord& next);
  // Frees what `old` refers to, unless it is `keep_blob`, and XORs it out of its bucket.
  void Retire(Txn& txn, const RecordView& old, absl::string_view ns_id, absl::string_view key,
              const std::optional<BlobRef>& keep_blob);
  // XORs a live version into (or out of) its bucket, and into the fingerprint unless it
  // has an expiration, once the batch is durable.
  void StageHash(Txn& txn, absl::string_view ns_id, absl::string_view key, HlcTimestamp hlc,
                 absl::string_view origin, int64_t expiration);

  NamespaceCatalog* const catalog_;
  HybridClock* const clock_;
  BucketHashes* const hashes_;
  Fingerprint* const fingerprint_;
  const std::string node_id_;
};

}  // namespace kv::storage

#endif  // KV_STORAGE_MUTATION_APPLIER_H_
