#ifndef KV_GOSSIP_SYNC_PLANNER_H_
#define KV_GOSSIP_SYNC_PLANNER_H_

// Decides, from the replica summaries peers reported in a gossip round, whether this
// replica must catch up or repair, and from whom. Pure functions; thread-safe.
//
// Rules, at most one sync per round, in this order:
// 1. Another lineage (epoch). An edge adopts the peer's lineage (repair, then catch-up)
//    when it has applied nothing, or the peer is the origin, or the peer holds the
//    origin's lineage (as last learned) while this edge does not.
// 2. Damage seen at a common position: a peer of the same lineage reported a fingerprint
//    (storage/fingerprint.h) different from this replica's at a sequence both applied.
//    For an edge the origin's verdict, when it was compared, settles it (two edges
//    damaged alike agree with each other). Otherwise it takes no peer of this round
//    agreeing with this replica (else the odd one out is the peer, which repairs itself
//    in its own round). Pull what the peer has newer, without adopting anything; an edge
//    only from a peer at or ahead of it. Before catch-up: a replica that is always a
//    round behind would otherwise never get to it. (The gossiper backs off when such
//    repairs keep finding nothing to fetch.)
// 3. Same lineage, peer ahead. Catch up from the most advanced peer whose retained log
//    starts at or before applied + 1; if none can serve it, adopt the position of the
//    most advanced one (repair, then catch-up).
// 4. Same lineage and position, different bucket hashes, neither moved since the previous
//    round: damage the fingerprint does not cover (versions with an expiration), found in
//    a quiet moment. Repair as in 2.
// The origin only ever does 2 and 4: it assigns the sequence, so it never takes another
// node's log or lineage (a wiped origin starts a new lineage that the edges adopt).
// Candidates are ordered origin first, then most advanced.
//
// Rules 1, 3 and 4 act only on what the previous report confirms, so that the fast path
// (the follower's stream from the origin) is not duplicated by work it is about to do
// anyway: a peer counts as ahead only if it was ahead of this replica's current position
// already in its previous report (this replica fell more than a round behind), a lineage
// differs only if both sides held theirs in the previous round too, and bucket hashes
// differ only if neither replica moved since. Rule 2 needs no confirmation: it compares
// the two replicas at one sequence number, where healthy ones agree exactly.

#include <cstdint>
#include <optional>
#include <vector>

#include "common/channel_factory.h"
#include "gossip/membership.h"
#include "storage/store.h"

namespace kv::gossip {

// What one peer reported in this round, and in its previous answer to this node.
struct PeerReport {
  Member member;
  storage::ReplicaSummary now;
  std::optional<storage::ReplicaSummary> before;
  // Whether its fingerprint equalled this replica's at a sequence both applied; unset
  // when they could not be compared.
  std::optional<bool> same_fingerprint;
};

// This replica, as the planner sees it.
struct LocalState {
  bool is_origin = false;
  storage::ReplicaSummary now;
  std::optional<storage::ReplicaSummary> before;  // at the previous round
  uint64_t origin_epoch = 0;                      // 0: unknown
};

enum class SyncAction {
  kNone,
  kCatchUp,  // Subscribe(follow = false) from applied + 1
  kAdopt,    // repair adopting the peer's lineage and position, then catch up
  kRepair,   // repair without adopting (damage)
};

struct SyncPlan {
  SyncAction action = SyncAction::kNone;
  PeerAddress peer;
};

// Returns the sync this round calls for.
SyncPlan PlanSync(const LocalState& self, const std::vector<PeerReport>& peers);

}  // namespace kv::gossip

#endif  // KV_GOSSIP_SYNC_PLANNER_H_
