#ifndef KV_GOSSIP_GOSSIPER_H_
#define KV_GOSSIP_GOSSIPER_H_

// The calling side of gossip: each round exchanges digests with a few random peers
// (membership spreads both ways), then lets PlanSync (sync_planner.h) decide from their
// replica summaries whether this replica must catch up or repair, and does it through a
// Repairer.
//
// Invariants / thread safety
// - Tick() runs one round on the caller's thread; Start() runs rounds every `interval`
//   on a thread of its own until Stop(), which cancels the calls in flight.
// - RepairFrom may be called from another thread (the follower's): one sync runs at a
//   time, and a second returns UNAVAILABLE.
// - No lock is held across a call to a peer or a store write.
// Thread-safe; Start and Stop from one owner thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/channel_factory.h"
#include "common/clock.h"
#include "gossip/call_tracker.h"
#include "gossip/gossip_metrics.h"
#include "gossip/membership.h"
#include "gossip/repairer.h"
#include "gossip/sync_planner.h"
#include "replication/replication_metrics.h"
#include "storage/store.h"

namespace prometheus {
class Registry;
}

namespace kv::gossip {

struct GossiperOptions {
  // Time between rounds when Start()ed.
  absl::Duration interval = absl::Seconds(1);
  // Live (alive or suspect) peers contacted per round. More spreads news faster and costs
  // more calls.
  int fanout = 2;
  // Every this many rounds one dead peer is probed as well (0: never), so a node that
  // came back is noticed without paying for dead peers every round.
  int dead_probe_every = 10;
  // Deadline of a digest exchange.
  absl::Duration rpc_timeout = absl::Seconds(2);
  RepairOptions repair;
  // Seeds the choice of peers; 0 picks a random seed.
  uint64_t seed = 0;
};

class Gossiper {
 public:
  // Everything passed must outlive the gossiper; `replication_metrics` may be null (it
  // counts entries applied by catch-up). Metrics are registered on `registry`.
  Gossiper(storage::Store* store, Membership* membership, ChannelFactory* channels,
           const Clock* clock, prometheus::Registry& registry, GossiperOptions options,
           replication::ReplicationMetrics* replication_metrics = nullptr);
  // Stops the rounds.
  ~Gossiper();

  Gossiper(const Gossiper&) = delete;
  Gossiper& operator=(const Gossiper&) = delete;

  // Runs one round. Returns OK when the round ran, even if peers did not answer;
  // otherwise the error of the catch-up or repair it started.
  absl::Status Tick();

  // Repairs from `peer` and, if `adopt_lineage`, adopts its lineage and position (see
  // Repairer::RepairFrom). The node wires this to Follower::set_on_needs_repair with the
  // origin as the peer. UNAVAILABLE when another sync is running.
  absl::Status RepairFrom(const PeerAddress& peer, bool adopt_lineage);
  // Pulls the peer's log from this replica's applied sequence + 1 (Repairer::CatchUpFrom).
  absl::Status CatchUpFrom(const PeerAddress& peer);

  // Joins the cluster through the node serving at `seed_address`: announces this node,
  // and merges the seed's view. UNAVAILABLE (or another call error) if the seed does not
  // answer.
  absl::Status JoinThrough(const std::string& seed_address);

  // Runs Tick() every `interval` on a thread until Stop().
  void Start();
  // Cancels calls in flight, ends the rounds and joins the thread. Idempotent.
  void Stop();

  // Returns the number of rounds run.
  int64_t rounds() const;

  // Returns the smallest applied sequence of any member (self included) as last reported
  // to this node, if every member has reported on this replica's lineage; nullopt
  // otherwise (a member never answered, or holds another lineage). Reports only lag the
  // truth, so every member has applied at least this far, unless it has since lost
  // unwritten commits (a killed edge's held log tail, a power loss). Such a member pulls
  // them again, and an entry whose record was collected ships as a tombstone at its
  // version (replication/shipping.cc), so collecting below the floor stays safe. On the
  // origin, which gossips
  // with every member in turn, this is the watermark for Store::CollectTombstones (via
  // Store::LogEntryTimestamp). Members are never forgotten: one that never answers again
  // holds it down.
  std::optional<uint64_t> AppliedFloor() const;

 private:
  // Returns the peers to contact this round.
  std::vector<Member> PickTargets();
  // Exchanges digests with `peer`, recording its report; nullopt if it did not answer.
  std::optional<PeerReport> Exchange(const Member& peer);
  // Runs the sync `plan` calls for.
  absl::Status Run(const SyncPlan& plan);
  // Repairs from `peer` adopting its lineage, then catches up from it.
  absl::Status AdoptFrom(const PeerAddress& peer);
  // Runs a repair and logs its outcome.
  absl::StatusOr<RepairResult> Repair(const PeerAddress& peer, bool adopt_lineage);
  // A damage repair (no adoption). One that finds nothing to fetch (this replica holds
  // data its peers lack, e.g. keys they deleted and forgot, or the peer was the damaged
  // one) doubles a back-off, up to kMaxDamageBackoff rounds, during which damage repairs
  // are skipped; one that fetches something resets it.
  absl::Status RepairDamageFrom(const PeerAddress& peer);
  static constexpr int64_t kMaxDamageBackoff = 64;
  void UpdatePeerGauges();
  // The thread Start() runs.
  void Loop();

  // Constant after construction.
  storage::Store* const store_;
  Membership* const membership_;
  ChannelFactory* const channels_;
  const Clock* const clock_;
  const GossiperOptions options_;
  GossipMetrics metrics_;
  CallTracker calls_;
  Repairer repairer_;

  mutable absl::Mutex mu_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  int64_t rounds_ ABSL_GUARDED_BY(mu_) = 0;
  // Each peer's last report, and this replica's summary at the last round.
  absl::flat_hash_map<std::string, storage::ReplicaSummary> reports_ ABSL_GUARDED_BY(mu_);
  std::optional<storage::ReplicaSummary> last_summary_ ABSL_GUARDED_BY(mu_);
  int64_t damage_backoff_ ABSL_GUARDED_BY(mu_) = 0;      // rounds; 0: none
  int64_t damage_quiet_until_ ABSL_GUARDED_BY(mu_) = 0;  // round number
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace kv::gossip

#endif  // KV_GOSSIP_GOSSIPER_H_
