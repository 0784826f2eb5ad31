#ifndef KV_GOSSIP_MEMBERSHIP_H_
#define KV_GOSSIP_MEMBERSHIP_H_

// Who is in the cluster, as this node believes: the static members of the cluster config,
// plus nodes that joined (Join) or that peers told us about (Merge). SWIM-style states:
//
// Invariants / thread safety
// - Between two descriptions of one member the higher incarnation wins; at equal
//   incarnations dead beats suspect beats alive. Only a node raises its own incarnation:
//   when it hears it is suspect or dead (refutation), so the news that it is alive wins.
// - A peer becomes suspect after `suspect_after` consecutive failed exchanges, and dead
//   once it has been suspect for `dead_after` of the injected clock. Any answer (or a
//   request from it) makes it alive again.
// - Members are never removed; self is always present, alive.
// Thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/channel_factory.h"
#include "common/clock.h"
#include "storage/store.h"

namespace kv::gossip {

inline constexpr char kRoleOrigin[] = "origin";
inline constexpr char kRoleEdge[] = "edge";

enum class MemberState { kAlive, kSuspect, kDead };

// A node as this one knows it. A node should start each life with an incarnation above
// any of its previous lives' (its start time in milliseconds does), so that peers take
// its new description (say, a new address) over what they remember.
struct Member {
  std::string id;
  std::string role;  // kRoleOrigin or kRoleEdge
  std::string region;
  std::string address;  // host:port of its gRPC server
  uint64_t incarnation = 0;
  MemberState state = MemberState::kAlive;
  // Local bookkeeping, never gossiped: when this node last heard from it directly, and
  // since when it has been suspect.
  absl::Time last_heard = absl::InfinitePast();
  absl::Time suspect_since = absl::InfinitePast();

  PeerAddress peer() const { return PeerAddress{id, region, address}; }
};

struct MembershipOptions {
  // Consecutive failed exchanges after which a peer is suspect. Lower notices failures
  // sooner; higher tolerates a lossy link.
  int suspect_after = 3;
  // Time a peer stays suspect before it is declared dead (and probed only rarely).
  absl::Duration dead_after = absl::Seconds(30);
};

class Membership {
 public:
  // `self` is this node; `static_members` come from the cluster config (self among them
  // is ignored). `clock` must outlive the membership.
  Membership(Member self, const std::vector<Member>& static_members, const Clock* clock,
             MembershipOptions options = {});

  // Returns this node's own description (alive, current incarnation).
  Member Self() const;
  // Returns every member, self included, ordered by id.
  std::vector<Member> Snapshot() const;
  // Returns the member named `id`, or nullopt.
  std::optional<Member> Find(const std::string& id) const;
  // Returns the peers (self excluded) in `state`, ordered by id.
  std::vector<Member> Peers(MemberState state) const;

  // Sets this node's address once its server listens (it may have asked for port 0), and
  // raises its incarnation so peers take the new address over the old.
  void SetSelfAddress(const std::string& address);

  // Merges a view received from a peer (see the class comment). Refutes suspicion or
  // death of self by raising its incarnation above the rumour's.
  void Merge(const std::vector<Member>& view);
  // Takes `member` as it describes itself (it asked to join, sent us a request, or
  // answered one): adds or updates it, keeps the higher incarnation, and marks it alive
  // and heard from now. Its count of failed exchanges is left alone: a link can fail one
  // way only.
  void Heard(const Member& member);
  // Records a successful exchange with `id` (or a request from it): alive, heard now.
  void RecordSuccess(const std::string& id);
  // Records a failed exchange with `id`; after suspect_after in a row it becomes suspect.
  void RecordFailure(const std::string& id);
  // Declares dead the peers suspect for dead_after or longer. Returns how many.
  int ExpireSuspects();

  // The log lineage (epoch) the origin holds, as this node knows it: 0 when unknown.
  uint64_t OriginEpoch() const;
  // Records the origin's epoch. A direct observation (from the origin itself) always
  // wins; a second-hand one (a peer's report) only fills an unknown value, so stale
  // reports cannot flip it back and forth.
  void LearnOriginEpoch(uint64_t epoch, bool direct);

 private:
  struct Entry {
    Member member;
    int failures = 0;  // consecutive failed exchanges
  };

  // Sets `entry` to `state` (keeping the suspect timer of an already-suspect member).
  void SetStateLocked(Entry& entry, MemberState state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MergeOneLocked(const Member& incoming) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Constant after construction.
  const std::string self_id_;
  const Clock* const clock_;
  const MembershipOptions options_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> members_ ABSL_GUARDED_BY(mu_);  // self included
  uint64_t origin_epoch_ ABSL_GUARDED_BY(mu_) = 0;
};

// Returns the origin's log epoch as this node knows it: its own store's when it is the
// origin, else what it learnt (from the origin, or relayed by peers).
inline uint64_t KnownOriginEpoch(const Membership& membership, const storage::Store& store) {
  if (membership.Self().role == kRoleOrigin) return store.Epoch();
  return membership.OriginEpoch();
}

}  // namespace kv::gossip

#endif  // KV_GOSSIP_MEMBERSHIP_H_
