#ifndef KV_GOSSIP_GOSSIP_METRICS_H_
#define KV_GOSSIP_GOSSIP_METRICS_H_

// Gossip and anti-entropy metrics of one node (kv_gossip_*), registered on the node's
// registry. Thread-safe.

#include <array>
#include <cstdint>

#include "absl/time/time.h"

namespace prometheus {
class Counter;
class Gauge;
class Registry;
}  // namespace prometheus

namespace kv::gossip {

// Why a repair ran (the `kind` label of kv_gossip_repairs_total).
enum class RepairKind {
  kDamage,     // same lineage and position, different data
  kLineage,    // adopting another log lineage
  kBehindLog,  // behind the peer's retained log
};

// Returns "damage", "lineage" or "behind_log".
const char* RepairKindName(RepairKind kind);

// A call to a peer (the `rpc` label of kv_gossip_rpc_failures_total).
enum class PeerCall { kDigest, kBucketHashes, kListVersions, kFetchRecords, kSubscribe, kJoin };
inline constexpr int kPeerCallCount = 6;

class GossipMetrics {
 public:
  explicit GossipMetrics(prometheus::Registry& registry);

  void AddRound(absl::Duration took);
  void AddRpcFailure(PeerCall call);
  void AddCatchUpEntries(int64_t entries);
  void AddRepair(RepairKind kind);
  void AddKeysRepaired(int64_t keys);
  // A peer's fingerprint compared with this replica's at a common sequence.
  void AddFingerprintComparison(bool same);
  void SetPeers(int alive, int suspect, int dead);

 private:
  prometheus::Counter* rounds_;
  prometheus::Gauge* last_round_;
  std::array<prometheus::Counter*, kPeerCallCount> failures_;  // by PeerCall
  prometheus::Counter* catch_up_entries_;
  std::array<prometheus::Counter*, 3> repairs_;  // by RepairKind
  prometheus::Counter* keys_repaired_;
  prometheus::Counter* fingerprints_same_;
  prometheus::Counter* fingerprints_different_;
  prometheus::Gauge* peers_alive_;
  prometheus::Gauge* peers_suspect_;
  prometheus::Gauge* peers_dead_;
};

}  // namespace kv::gossip

#endif  // KV_GOSSIP_GOSSIP_METRICS_H_
