#ifndef KV_GOSSIP_REPAIRER_H_
#define KV_GOSSIP_REPAIRER_H_

// Brings the local replica level with one peer: by catching up on the peer's log
// (Replication.Subscribe, follow = false) or, when that cannot work, by anti-entropy
// repair (Gossip.BucketHashes / ListVersions / FetchRecords).
//
// Invariants
// - Repair only ever adds versions that supersede the local ones (last-writer-wins on
//   (hlc, origin)), tombstones included: it never deletes a key because the peer lacks it
//   and never replaces a newer write, so it cannot resurrect a deleted key.
// - Adopting the peer's lineage (ResetLog(epoch, S)) happens only after every version the
//   peer held at S is here. S is the applied sequence the peer reported with its bucket
//   hashes, which reflect at least every entry up to S; the buckets that differed are
//   listed at later snapshots and every newer version fetched, and the buckets that were
//   equal held the same live versions. Catch-up then continues from S + 1 (re-applying
//   what repair already brought is harmless).
// - Memory is bounded: buckets are compared a group at a time (local versions of one
//   group in memory), records are fetched `fetch_batch_keys` at a time, and values arrive
//   a chunk at a time.
// Thread-safe: one catch-up or repair runs at a time; a call made while another runs
// returns UNAVAILABLE.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/channel_factory.h"
#include "common/clock.h"
#include "gossip/call_tracker.h"
#include "gossip/gossip_metrics.h"
#include "replication/replication_metrics.h"
#include "storage/store.h"

namespace kv::gossip {

struct RepairOptions {
  // Deadline of a unary call (BucketHashes).
  absl::Duration rpc_timeout = absl::Seconds(2);
  // Deadline of one stream: a catch-up (which resumes next round if cut short), one group's
  // listing, one batch of records.
  absl::Duration stream_timeout = absl::Seconds(60);
  // Buckets compared per group: the local versions of a group are held in memory, and
  // each group costs the peer and this node one scan of their keys.
  int buckets_per_group = 64;
  // Keys per FetchRecords call.
  int fetch_batch_keys = 256;
  // When adopting a lineage, list every bucket, not only those whose hashes differ:
  // bucket hashes leave tombstones out, so only a full listing brings the tombstones of
  // keys this replica never had (deletes it missed), which it then passes on to peers
  // that still hold the key. Costs a listing of every key's version (no values).
  bool full_scan_on_adopt = true;
};

// What a repair did.
struct RepairResult {
  RepairKind kind = RepairKind::kDamage;
  int64_t keys_repaired = 0;  // records and namespace records applied
  bool adopted = false;       // the peer's lineage was adopted (ResetLog)
  uint64_t epoch = 0;         // the peer's epoch and applied sequence at its hash snapshot
  uint64_t sequence = 0;
};

class Repairer {
 public:
  // Everything passed must outlive the repairer; `replication_metrics` may be null.
  // `node_id` names this node in requests.
  Repairer(storage::Store* store, ChannelFactory* channels, const Clock* clock, CallTracker* calls,
           GossipMetrics* metrics, replication::ReplicationMetrics* replication_metrics,
           std::string node_id, RepairOptions options);

  // Pulls the peer's log from the local applied sequence + 1 to its head and applies it.
  // Returns the number of entries received. FAILED_PRECONDITION (other lineage) or
  // OUT_OF_RANGE (behind its retained log) when the peer refuses; UNAVAILABLE when busy or
  // the peer is unreachable. A stream cut short by its deadline after progress is OK.
  absl::StatusOr<int64_t> CatchUpFrom(const PeerAddress& peer);

  // Repairs from `peer`: fetches every version it holds newer than the local one (in the
  // buckets whose hashes differ, or all when this replica is empty or adopting with
  // full_scan_on_adopt) and applies it last-writer-wins; then, if `adopt_lineage`, adopts
  // the peer's epoch and position (unless already on that lineage at or past it).
  // UNAVAILABLE when busy, when the peer is unreachable or changed lineage meanwhile.
  absl::StatusOr<RepairResult> RepairFrom(const PeerAddress& peer, bool adopt_lineage);

 private:
  struct PeerHashes {
    uint64_t epoch = 0;
    uint64_t applied_sequence = 0;
    std::vector<uint64_t> hashes;
  };
  using KeyList = std::vector<std::pair<std::string, std::string>>;

  // Marks the repairer busy for a scope; false if it already was.
  bool Acquire();
  void Release();

  absl::StatusOr<PeerHashes> GetBucketHashes(const PeerAddress& peer);
  // Compares one group of buckets with the peer (only the namespace records when
  // `buckets` is empty) and fetches what the peer has newer.
  absl::Status RepairGroup(const PeerAddress& peer, uint64_t peer_epoch,
                           const std::vector<uint32_t>& buckets, int64_t* repaired);
  // Fetches `keys` from the peer and applies them (kRepair); clears `keys`.
  absl::Status Fetch(const PeerAddress& peer, KeyList* keys, int64_t* repaired);

  // Constant after construction.
  storage::Store* const store_;
  ChannelFactory* const channels_;
  const Clock* const clock_;
  CallTracker* const calls_;
  GossipMetrics* const metrics_;
  replication::ReplicationMetrics* const replication_metrics_;
  const std::string node_id_;
  const RepairOptions options_;

  absl::Mutex mu_;
  bool busy_ ABSL_GUARDED_BY(mu_) = false;
  // During a repair (only the holder of busy_ touches it): the highest horizon of the
  // records the peer sent (at least its position at the start), which bounds the
  // versions the repair brought.
  uint64_t peer_high_ = 0;
};

}  // namespace kv::gossip

#endif  // KV_GOSSIP_REPAIRER_H_
