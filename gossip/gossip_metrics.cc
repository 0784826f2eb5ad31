#include "gossip/gossip_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace kv::gossip {

const char* RepairKindName(RepairKind kind) {
  switch (kind) {
    case RepairKind::kDamage:
      return "damage";
    case RepairKind::kLineage:
      return "lineage";
    case RepairKind::kBehindLog:
      return "behind_log";
  }
  return "unknown";
}

GossipMetrics::GossipMetrics(prometheus::Registry& r) {
  rounds_ = &prometheus::BuildCounter()
                 .Name("kv_gossip_rounds_total")
                 .Help("Gossip rounds run")
                 .Register(r)
                 .Add({});
  last_round_ = &prometheus::BuildGauge()
                     .Name("kv_gossip_last_round_duration_seconds")
                     .Help("How long the last gossip round took, catch-up and repair included")
                     .Register(r)
                     .Add({});
  auto& failures = prometheus::BuildCounter()
                       .Name("kv_gossip_rpc_failures_total")
                       .Help("Gossip, repair and catch-up calls to peers that failed, by call")
                       .Register(r);
  const char* const calls[kPeerCallCount] = {"digest",        "bucket_hashes", "list_versions",
                                             "fetch_records", "subscribe",     "join"};
  for (int i = 0; i < kPeerCallCount; ++i) failures_[i] = &failures.Add({{"rpc", calls[i]}});
  catch_up_entries_ = &prometheus::BuildCounter()
                           .Name("kv_gossip_catch_up_entries_total")
                           .Help("Log entries pulled from peers by catch-up")
                           .Register(r)
                           .Add({});
  auto& repairs = prometheus::BuildCounter()
                      .Name("kv_gossip_repairs_total")
                      .Help("Anti-entropy repairs run, by why")
                      .Register(r);
  for (RepairKind kind : {RepairKind::kDamage, RepairKind::kLineage, RepairKind::kBehindLog}) {
    repairs_[static_cast<int>(kind)] = &repairs.Add({{"kind", RepairKindName(kind)}});
  }
  keys_repaired_ = &prometheus::BuildCounter()
                        .Name("kv_gossip_keys_repaired_total")
                        .Help("Records (and namespace records) fetched and applied by repairs")
                        .Register(r)
                        .Add({});
  auto& fingerprints =
      prometheus::BuildCounter()
          .Name("kv_gossip_fingerprint_comparisons_total")
          .Help("Peers' fingerprints compared with this replica's at a common sequence, by "
                "result (different: one of the two replicas is damaged)")
          .Register(r);
  fingerprints_same_ = &fingerprints.Add({{"result", "same"}});
  fingerprints_different_ = &fingerprints.Add({{"result", "different"}});
  auto& peers = prometheus::BuildGauge()
                    .Name("kv_gossip_peers")
                    .Help("Peers known to this node, by state")
                    .Register(r);
  peers_alive_ = &peers.Add({{"state", "alive"}});
  peers_suspect_ = &peers.Add({{"state", "suspect"}});
  peers_dead_ = &peers.Add({{"state", "dead"}});
}

void GossipMetrics::AddRound(absl::Duration took) {
  rounds_->Increment();
  last_round_->Set(absl::ToDoubleSeconds(took));
}

void GossipMetrics::AddRpcFailure(PeerCall call) { failures_[static_cast<int>(call)]->Increment(); }

void GossipMetrics::AddCatchUpEntries(int64_t entries) {
  catch_up_entries_->Increment(static_cast<double>(entries));
}

void GossipMetrics::AddRepair(RepairKind kind) { repairs_[static_cast<int>(kind)]->Increment(); }

void GossipMetrics::AddFingerprintComparison(bool same) {
  (same ? fingerprints_same_ : fingerprints_different_)->Increment();
}

void GossipMetrics::AddKeysRepaired(int64_t keys) {
  keys_repaired_->Increment(static_cast<double>(keys));
}

void GossipMetrics::SetPeers(int alive, int suspect, int dead) {
  peers_alive_->Set(alive);
  peers_suspect_->Set(suspect);
  peers_dead_->Set(dead);
}

}  // namespace kv::gossip
