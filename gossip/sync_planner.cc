#include "gossip/sync_planner.h"

namespace kv::gossip {
namespace {

bool IsOrigin(const PeerReport& p) { return p.member.role == kRoleOrigin; }

// Orders candidates: the origin first, then the most advanced.
bool Better(const PeerReport& a, const PeerReport* b) {
  if (b == nullptr) return true;
  if (IsOrigin(a) != IsOrigin(*b)) return IsOrigin(a);
  return a.now.applied_sequence > b->now.applied_sequence;
}

// Returns whether `a` and `b` describe the same data at the same position.
bool Same(const std::optional<storage::ReplicaSummary>& a, const storage::ReplicaSummary& b) {
  return a.has_value() && a->epoch == b.epoch && a->applied_sequence == b.applied_sequence &&
         a->hash == b.hash;
}

SyncPlan Plan(SyncAction action, const PeerReport* p) {
  return p == nullptr ? SyncPlan{} : SyncPlan{action, p->member.peer()};
}

// Rule 1: a peer of another lineage to adopt.
const PeerReport* LineageSource(const LocalState& self, const std::vector<PeerReport>& peers) {
  const storage::ReplicaSummary& mine = self.now;
  if (!self.before || self.before->epoch != mine.epoch) return nullptr;
  const PeerReport* best = nullptr;
  for (const PeerReport& p : peers) {
    if (p.now.epoch == mine.epoch || p.now.applied_sequence == 0 || !p.before ||
        p.before->epoch != p.now.epoch) {
      continue;
    }
    const bool follows_origin = self.origin_epoch != 0 && p.now.epoch == self.origin_epoch &&
                                mine.epoch != self.origin_epoch;
    if ((mine.applied_sequence == 0 || IsOrigin(p) || follows_origin) && Better(p, best)) {
      best = &p;
    }
  }
  return best;
}

// Rule 2: a peer whose fingerprint differed from mine. The origin's verdict settles it
// for an edge; otherwise any peer agreeing with me means the differing one is the odd one
// out. An edge repairs only from a peer at or ahead of it: one behind would give it older
// versions of what it lost.
const PeerReport* DamageWitness(const LocalState& self, const std::vector<PeerReport>& peers) {
  const PeerReport* differing = nullptr;
  for (const PeerReport& p : peers) {
    if (!p.same_fingerprint) continue;
    if (!self.is_origin && IsOrigin(p)) return *p.same_fingerprint ? nullptr : &p;
  }
  for (const PeerReport& p : peers) {
    if (!p.same_fingerprint) continue;
    if (*p.same_fingerprint) return nullptr;
    if ((self.is_origin || p.now.applied_sequence >= self.now.applied_sequence) &&
        Better(p, differing)) {
      differing = &p;
    }
  }
  return differing;
}

}  // namespace

SyncPlan PlanSync(const LocalState& self, const std::vector<PeerReport>& peers) {
  const storage::ReplicaSummary& mine = self.now;
  if (!self.is_origin) {
    if (const PeerReport* p = LineageSource(self, peers)) return Plan(SyncAction::kAdopt, p);
  }
  if (const PeerReport* p = DamageWitness(self, peers)) return Plan(SyncAction::kRepair, p);
  if (!self.is_origin) {
    // Rule 3: same lineage, ahead of me now and already at the previous report.
    const PeerReport* ahead = nullptr;
    const PeerReport* source = nullptr;  // ahead, and retaining what I need next
    for (const PeerReport& p : peers) {
      if (p.now.epoch != mine.epoch || p.now.applied_sequence <= mine.applied_sequence ||
          !p.before || p.before->epoch != mine.epoch ||
          p.before->applied_sequence <= mine.applied_sequence) {
        continue;
      }
      if (Better(p, ahead)) ahead = &p;
      if (p.now.log_start <= mine.applied_sequence + 1 &&
          (source == nullptr || p.now.applied_sequence > source->now.applied_sequence)) {
        source = &p;
      }
    }
    if (source != nullptr) return Plan(SyncAction::kCatchUp, source);
    if (ahead != nullptr) return Plan(SyncAction::kAdopt, ahead);
  }

  // Rule 4: same lineage and position, different data, and neither moved since.
  if (!Same(self.before, mine)) return SyncPlan{};
  const PeerReport* differing = nullptr;
  for (const PeerReport& p : peers) {
    if (p.now.epoch == mine.epoch && p.now.applied_sequence == mine.applied_sequence &&
        p.now.hash != mine.hash && Same(p.before, p.now) && Better(p, differing)) {
      differing = &p;
    }
  }
  return Plan(SyncAction::kRepair, differing);
}

}  // namespace kv::gossip
