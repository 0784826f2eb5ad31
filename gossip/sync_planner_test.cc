#include "gossip/sync_planner.h"

#include <gtest/gtest.h>

namespace kv::gossip {
namespace {

constexpr uint64_t kOriginEpoch = 100;
constexpr uint64_t kOtherEpoch = 200;

storage::ReplicaSummary S(uint64_t epoch, uint64_t applied, uint64_t hash = 0,
                          uint64_t log_start = 1) {
  storage::ReplicaSummary s;
  s.epoch = epoch;
  s.applied_sequence = applied;
  s.log_start = log_start;
  s.hash = hash == 0 ? applied : hash;
  return s;
}

PeerReport P(const std::string& id, storage::ReplicaSummary now,
             std::optional<storage::ReplicaSummary> before) {
  PeerReport p;
  p.member.id = id;
  p.member.role = id == "origin" ? kRoleOrigin : kRoleEdge;
  p.member.address = id + ":1";
  p.now = now;
  p.before = before;
  return p;
}

// A peer that reported `s` twice in a row.
PeerReport Steady(const std::string& id, storage::ReplicaSummary s) { return P(id, s, s); }

LocalState Edge(storage::ReplicaSummary now, bool moved = false) {
  LocalState self;
  self.now = now;
  self.before = moved ? S(now.epoch, now.applied_sequence - 1) : now;
  self.origin_epoch = kOriginEpoch;
  return self;
}

TEST(SyncPlannerTest, NothingToDoWhenLevelWithEveryPeer) {
  const SyncPlan plan = PlanSync(Edge(S(kOriginEpoch, 10)), {Steady("origin", S(kOriginEpoch, 10)),
                                                             Steady("e2", S(kOriginEpoch, 10))});
  EXPECT_EQ(plan.action, SyncAction::kNone);
}

TEST(SyncPlannerTest, CatchesUpFromTheMostAdvancedPeerRetainingItsNextEntry) {
  const SyncPlan plan =
      PlanSync(Edge(S(kOriginEpoch, 10)),
               {Steady("origin", S(kOriginEpoch, 50, 0, /*log_start=*/40)),  // trimmed past 11
                Steady("e2", S(kOriginEpoch, 30, 0, 5)), Steady("e3", S(kOriginEpoch, 20, 0, 1))});
  EXPECT_EQ(plan.action, SyncAction::kCatchUp);
  EXPECT_EQ(plan.peer.id, "e2");
}

TEST(SyncPlannerTest, WaitsUntilAPeerWasAheadForAWholeRound) {
  // No previous report, or the previous one was not ahead of where this edge is now
  // (its follower is keeping up): nothing to pull.
  EXPECT_EQ(
      PlanSync(Edge(S(kOriginEpoch, 10)), {P("e2", S(kOriginEpoch, 30), std::nullopt)}).action,
      SyncAction::kNone);
  EXPECT_EQ(PlanSync(Edge(S(kOriginEpoch, 10)), {P("e2", S(kOriginEpoch, 30), S(kOriginEpoch, 9))})
                .action,
            SyncAction::kNone);
  EXPECT_EQ(PlanSync(Edge(S(kOriginEpoch, 10)), {P("e2", S(kOriginEpoch, 30), S(kOriginEpoch, 11))})
                .action,
            SyncAction::kCatchUp);
}

TEST(SyncPlannerTest, AdoptsThePositionOfTheOriginWhenNoPeerRetainsItsNextEntry) {
  const SyncPlan plan = PlanSync(
      Edge(S(kOriginEpoch, 10)),
      {Steady("e2", S(kOriginEpoch, 60, 0, 30)), Steady("origin", S(kOriginEpoch, 50, 0, 40))});
  EXPECT_EQ(plan.action, SyncAction::kAdopt);
  EXPECT_EQ(plan.peer.id, "origin");
}

TEST(SyncPlannerTest, AFreshEdgeAdoptsAnyLineageWithData) {
  const SyncPlan plan = PlanSync(Edge(S(kOtherEpoch, 0)),
                                 {Steady("e2", S(kOriginEpoch, 0)),  // nothing to give
                                  Steady("e3", S(kOriginEpoch, 7)), Steady("e4", S(999, 9))});
  EXPECT_EQ(plan.action, SyncAction::kAdopt);
  EXPECT_EQ(plan.peer.id, "e4");
}

TEST(SyncPlannerTest, AnEdgeOnAnotherLineageAdoptsTheOriginsFromAnyPeerHoldingIt) {
  EXPECT_EQ(PlanSync(Edge(S(kOtherEpoch, 500)), {Steady("e2", S(kOriginEpoch, 3))}).peer.id, "e2");
  EXPECT_EQ(PlanSync(Edge(S(kOtherEpoch, 500)),
                     {Steady("e2", S(kOriginEpoch, 3)), Steady("origin", S(kOriginEpoch, 2))})
                .peer.id,
            "origin");
  LocalState unknown = Edge(S(kOtherEpoch, 500));
  unknown.origin_epoch = 0;  // without knowing the origin's lineage, only the origin counts
  EXPECT_EQ(PlanSync(unknown, {Steady("e2", S(kOriginEpoch, 3))}).action, SyncAction::kNone);
}

TEST(SyncPlannerTest, AnEdgeOnTheOriginsLineageIgnoresOtherLineages) {
  const SyncPlan plan = PlanSync(Edge(S(kOriginEpoch, 5)), {Steady("e2", S(kOtherEpoch, 900))});
  EXPECT_EQ(plan.action, SyncAction::kNone);
}

TEST(SyncPlannerTest, ALineageChangeMustHoldForARound) {
  // The edge itself just changed lineage (its follower adopted the origin's): wait.
  LocalState self = Edge(S(kOtherEpoch, 0));
  self.before = S(7, 0);
  EXPECT_EQ(PlanSync(self, {Steady("origin", S(kOriginEpoch, 5))}).action, SyncAction::kNone);
  // The peer just changed lineage: wait.
  EXPECT_EQ(PlanSync(Edge(S(kOtherEpoch, 0)), {P("origin", S(kOriginEpoch, 5), S(3, 5))}).action,
            SyncAction::kNone);
}

TEST(SyncPlannerTest, RepairsDamageOnlyWhenNeitherReplicaMoved) {
  const SyncPlan plan =
      PlanSync(Edge(S(kOriginEpoch, 10, 1234)),
               {Steady("e2", S(kOriginEpoch, 10, 99)), Steady("origin", S(kOriginEpoch, 10, 98))});
  EXPECT_EQ(plan.action, SyncAction::kRepair);
  EXPECT_EQ(plan.peer.id, "origin");
  EXPECT_EQ(PlanSync(Edge(S(kOriginEpoch, 10, 1234), /*moved=*/true),
                     {Steady("e2", S(kOriginEpoch, 10, 99))})
                .action,
            SyncAction::kNone);
  EXPECT_EQ(PlanSync(Edge(S(kOriginEpoch, 10, 1234)),
                     {P("e2", S(kOriginEpoch, 10, 99), S(kOriginEpoch, 9, 98))})
                .action,
            SyncAction::kNone);
}

// A peer that moved since its previous report, whose fingerprint was compared with ours.
PeerReport Compared(const std::string& id, uint64_t applied, bool same) {
  PeerReport p = P(id, S(kOriginEpoch, applied), S(kOriginEpoch, applied - 5));
  p.same_fingerprint = same;
  return p;
}

TEST(SyncPlannerTest, RepairsDamageSeenAtACommonPositionWhileEveryoneMoves) {
  // Both replicas moved since the previous round (writes keep flowing), and this edge is
  // a whole round behind the origin: the damage comes first.
  LocalState self = Edge(S(kOriginEpoch, 10), /*moved=*/true);
  PeerReport origin = P("origin", S(kOriginEpoch, 30), S(kOriginEpoch, 20));
  origin.same_fingerprint = false;
  SyncPlan plan = PlanSync(self, {Compared("e2", 12, false), origin});
  EXPECT_EQ(plan.action, SyncAction::kRepair);
  EXPECT_EQ(plan.peer.id, "origin");
  // Without the mismatch, the same round catches up.
  origin.same_fingerprint = std::nullopt;
  EXPECT_EQ(PlanSync(self, {origin}).action, SyncAction::kCatchUp);
}

TEST(SyncPlannerTest, APeerThatAloneDiffersIsLeftToRepairItself) {
  const LocalState self = Edge(S(kOriginEpoch, 10), /*moved=*/true);
  EXPECT_EQ(PlanSync(self, {Compared("e2", 12, false), Compared("e3", 11, true)}).action,
            SyncAction::kNone);
  // Peers that could not be compared count for neither side.
  EXPECT_EQ(PlanSync(self, {Compared("e2", 12, false), P("e3", S(kOriginEpoch, 11), std::nullopt)})
                .action,
            SyncAction::kRepair);
}

TEST(SyncPlannerTest, TheOriginsVerdictSettlesItForAnEdge) {
  const LocalState self = Edge(S(kOriginEpoch, 10), /*moved=*/true);
  // Two edges damaged alike agree with each other; the origin does not.
  SyncPlan plan = PlanSync(self, {Compared("e2", 12, true), Compared("origin", 15, false)});
  EXPECT_EQ(plan.action, SyncAction::kRepair);
  EXPECT_EQ(plan.peer.id, "origin");
  // The origin agrees: the differing edge is the damaged one.
  EXPECT_EQ(PlanSync(self, {Compared("e2", 12, false), Compared("origin", 15, true)}).action,
            SyncAction::kNone);
}

TEST(SyncPlannerTest, AnEdgeRepairsOnlyFromAPeerAtOrAheadOfIt) {
  const LocalState self = Edge(S(kOriginEpoch, 10), /*moved=*/true);
  EXPECT_EQ(PlanSync(self, {Compared("e2", 9, false)}).action, SyncAction::kNone);
  SyncPlan plan = PlanSync(self, {Compared("e2", 9, false), Compared("e3", 10, false)});
  EXPECT_EQ(plan.action, SyncAction::kRepair);
  EXPECT_EQ(plan.peer.id, "e3");
}

TEST(SyncPlannerTest, TheOriginOnlyRepairsDamage) {
  LocalState origin = Edge(S(kOriginEpoch, 10, 1234));
  origin.is_origin = true;
  EXPECT_EQ(PlanSync(origin, {Steady("e2", S(kOriginEpoch, 90))}).action, SyncAction::kNone);
  EXPECT_EQ(PlanSync(origin, {Steady("e2", S(kOtherEpoch, 90))}).action, SyncAction::kNone);
  EXPECT_EQ(PlanSync(origin, {Steady("e2", S(kOriginEpoch, 10, 99))}).action, SyncAction::kRepair);
  LocalState moving = Edge(S(kOriginEpoch, 10), /*moved=*/true);
  moving.is_origin = true;
  EXPECT_EQ(PlanSync(moving, {Compared("e2", 8, false)}).action, SyncAction::kRepair);
}

}  // namespace
}  // namespace kv::gossip
