#ifndef KV_STORAGE_MUTATION_APPLIER_H_
#define KV_STORAGE_MUTATION_APPLIER_H_

// Turns mutations into staged LevelDB writes under last-writer-wins.
//
// Invariants
// - A data key holds at most one record; the record with the greater (hlc, origin)
//   wins, so applying mutations in any order, any number of times, leaves the same state.
// - A record's expiry-index entry ('x') and blob chunks ('c') exist exactly as long as
//   the record that names them: replacing or deleting a record frees both in the same
//   batch.
// - A rejected or superseded put frees the blob it carried.
// Thread safety: used only on the committer thread.

#include <string>

#include "absl/status/status.h"
#include "common/hybrid_clock.h"
#include "storage/mutation.h"
#include "storage/namespace_catalog.h"
#include "storage/txn.h"

namespace kv::storage {

class MutationApplier {
 public:
  // `catalog` and `clock` must outlive the applier. `node_id` stamps local mutations.
  MutationApplier(NamespaceCatalog* catalog, HybridClock* clock, std::string node_id)
      : catalog_(catalog), clock_(clock), node_id_(std::move(node_id)) {}

  // Applies `m` in `txn`, stamping it first when m.hlc == 0. Returns OK when applied or
  // superseded by a newer write; NOT_FOUND (unknown namespace) or ALREADY_EXISTS (title
  // taken) when rejected with nothing staged; another code for a storage failure.
  absl::Status Apply(Txn& txn, Mutation& m);

  // Replaces the record of (ns_id, key) with a tombstone if it expired at or before
  // `now_seconds`, and drops the index entry `expiry_key` either way.
  absl::Status Expire(Txn& txn, absl::string_view ns_id, absl::string_view key,
                      int64_t now_seconds, absl::string_view expiry_key);

  // Removes (ns_id, key) of a deleted namespace with everything it refers to.
  absl::Status Purge(Txn& txn, absl::string_view ns_id, absl::string_view key);

  // Stages the deletion of a blob's chunks and upload marker.
  static void FreeBlob(Txn& txn, const BlobRef& blob);

 private:
  absl::Status ApplyPut(Txn& txn, const Mutation& m, PutValue& put);
  absl::Status ApplyDelete(Txn& txn, const Mutation& m, const DeleteValue& del);
  absl::Status ApplyNamespace(Txn& txn, const Mutation& m);
  // Frees what the current record of `data_key` refers to, unless it is `keep_blob`.
  static void FreeReferences(Txn& txn, const RecordView& old, absl::string_view ns_id,
                             absl::string_view key, const std::optional<BlobRef>& keep_blob);

  NamespaceCatalog* const catalog_;
  HybridClock* const clock_;
  const std::string node_id_;
};

}  // namespace kv::storage

#endif  // KV_STORAGE_MUTATION_APPLIER_H_
