// Gossip, catch-up and repair between real nodes in one process: stores on in-memory file
// systems, gRPC servers on 127.0.0.1:0, links through bridges the tests cut and heal,
// rounds driven by Tick().

#include "gossip/testing/gossip_cluster.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/log.h"
#include "common/testing/metric_value.h"
#include "common/testing/status_matchers.h"
#include "leveldb/db.h"
#include "replication/follower.h"
#include "storage/keys.h"
#include "storage/record.h"
#include "storage/testing/store_fixture.h"

namespace kv::gossip {
namespace {

using ::kv::gossip::testing::GossipCluster;
using ::kv::gossip::testing::TestNode;
using ::kv::testing::IsOk;
using ::kv::testing::MetricValue;

const std::string kNs = "000000000000000000000000000000cc";

// Returns every namespace record and key of `store` with its version and value
// (tombstones too unless `live_only`), for comparing replicas.
std::map<std::string, std::string> Dump(const storage::Store& store, bool live_only) {
  std::vector<storage::VersionInfo> versions;
  std::vector<std::pair<std::string, storage::NamespaceRecord>> namespaces;
  uint64_t applied = 0;
  EXPECT_THAT(store.ScanVersions({}, &versions, &namespaces, &applied), IsOk());
  std::map<std::string, std::string> out;
  for (const auto& [id, ns] : namespaces) {
    out["n/" + id] =
        absl::StrCat(ns.title, " ", ns.hlc, "/", ns.origin, ns.tombstone ? " deleted" : "");
  }
  for (const storage::VersionInfo& v : versions) {
    if (live_only && v.tombstone) continue;
    auto records = store.ReadRecords({{v.ns_id, v.key}});
    EXPECT_THAT(records, IsOk());
    if (!records.ok() || records->empty()) continue;
    storage::ShippedRecord& r = records->front();
    std::string value = r.inline_value;
    if (r.blob) {
      for (uint32_t i = 0; i < r.blob->ref().chunk_count(); ++i) {
        auto chunk = r.blob->ReadChunk(i);
        EXPECT_THAT(chunk, IsOk());
        if (chunk.ok()) value += *chunk;
      }
    }
    out["d/" + v.ns_id + "/" + v.key] =
        absl::StrCat(r.hlc, "/", r.origin, r.tombstone ? " deleted" : "", " exp=", r.expiration,
                     " meta=", r.metadata.value_or("-"), " value=", value);
  }
  return out;
}

class GossipClusterTest : public ::testing::Test {
 protected:
  storage::Store& Origin() { return *cluster_.node("origin").store; }
  TestNode& Node(const std::string& id) { return cluster_.node(id); }

  // Adds an origin and `edges`, tells them about each other and creates the namespace.
  void StartCluster(const std::vector<std::string>& edges) {
    cluster_.Add("origin", kRoleOrigin);
    for (const std::string& id : edges) cluster_.Add(id, kRoleEdge);
    cluster_.Introduce();
    ASSERT_THAT(Origin()
                    .CommitAndWait({storage::Mutation{storage::CreateNamespace{kNs, "test"}}})
                    .FirstError(),
                IsOk());
  }

  void Put(const std::string& key, const std::string& value) {
    storage::PutValue put{kNs, key, value, std::nullopt, 0, "{\"k\":\"" + key + "\"}"};
    ASSERT_THAT(Origin().CommitAndWait({storage::Mutation{std::move(put)}}).FirstError(), IsOk());
  }

  void Erase(const std::string& key) {
    ASSERT_THAT(
        Origin().CommitAndWait({storage::Mutation{storage::DeleteValue{kNs, key}}}).FirstError(),
        IsOk());
  }

  // Puts a value stored in chunks (the cluster's stores chunk anything over 16 bytes).
  void PutBig(const std::string& key, size_t size) {
    std::string value(size, '\0');
    for (size_t i = 0; i < size; ++i) value[i] = static_cast<char>('a' + (i * 7 + key.size()) % 26);
    std::unique_ptr<storage::ValueBuilder> b = Origin().NewValueBuilder();
    absl::Notification written;
    if (!b->Append(value, [&](absl::Status) { written.Notify(); })) written.WaitForNotification();
    absl::Notification finished;
    storage::ValueRef ref;
    b->Finish([&](absl::StatusOr<storage::ValueRef> r) {
      ASSERT_TRUE(r.ok()) << r.status();
      ref = std::move(*r);
      finished.Notify();
    });
    finished.WaitForNotification();
    ASSERT_TRUE(ref.blob.has_value());
    storage::PutValue put{kNs, key, "", ref.blob, 0, std::nullopt};
    ASSERT_THAT(Origin().CommitAndWait({storage::Mutation{std::move(put)}}).FirstError(), IsOk());
  }

  // Writes a mix: plain values, overwrites, deletes and chunked values.
  void WriteMix(const std::string& prefix, int n) {
    for (int i = 0; i < n; ++i) Put(absl::StrCat(prefix, i), absl::StrCat("v", i));
    for (int i = 0; i < n; i += 5) Put(absl::StrCat(prefix, i), "overwritten");
    for (int i = 1; i < n; i += 7) Erase(absl::StrCat(prefix, i));
    PutBig(prefix + "big", 300);
  }

  // Returns true once `id` holds what the origin holds: same lineage, position, live data
  // and bucket hashes.
  bool Converged(const std::string& id) {
    storage::Store& edge = *Node(id).store;
    return edge.Epoch() == Origin().Epoch() &&
           edge.AppliedSequence() == Origin().AppliedSequence() &&
           edge.BucketHashSnapshot() == Origin().BucketHashSnapshot() &&
           Dump(edge, true) == Dump(Origin(), true);
  }

  // Runs rounds on `ids` (every node when empty) until `done`, checking `invariant` after
  // every tick; false after `rounds` rounds. Pauses briefly between rounds only so that
  // healed links can reconnect.
  bool TickUntil(const std::function<bool()>& done, std::vector<std::string> ids = {},
                 int rounds = 300, const std::function<void()>& invariant = nullptr) {
    if (ids.empty()) {
      for (TestNode* n : cluster_.nodes()) ids.push_back(n->id);
    }
    for (int round = 0; round < rounds; ++round) {
      if (done()) return true;
      for (const std::string& id : ids) {
        absl::Status s = Node(id).gossiper->Tick();
        if (!s.ok()) KV_LOG_INFO("round of ", id, ": ", s.ToString());
        if (invariant) invariant();
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return done();
  }

  // Brings every edge onto the origin's lineage and position.
  void ConvergeAll() {
    std::vector<std::string> edges;
    for (TestNode* n : cluster_.nodes()) {
      if (n->id != "origin") edges.push_back(n->id);
    }
    ASSERT_TRUE(TickUntil([&] {
      for (const std::string& id : edges) {
        if (!Converged(id)) return false;
      }
      return true;
    }));
  }

  double Repairs(const std::string& id, const std::string& kind = "") {
    std::map<std::string, std::string> labels;
    if (!kind.empty()) labels["kind"] = kind;
    return MetricValue(*Node(id).registry, "kv_gossip_repairs_total", labels);
  }

  // Restarts `id`, deleting the records of `keys` (each must exist) while it is closed: damage
  // that leaves its applied sequence as it was.
  void LoseRecords(const std::string& id, const std::vector<std::string>& keys) {
    cluster_.Restart(Node(id), /*wipe=*/false, [&](leveldb::Env* env) {
      std::unique_ptr<leveldb::DB> db = storage::testing::OpenRawDb(env);
      ASSERT_NE(db, nullptr);
      for (const std::string& key : keys) {
        std::string value;
        ASSERT_TRUE(db->Get({}, storage::keys::Data(kNs, key), &value).ok()) << key;
        ASSERT_TRUE(db->Delete(leveldb::WriteOptions(), storage::keys::Data(kNs, key)).ok());
      }
    });
  }

  // Starts a follower of the origin's stream on each of `edges`, as in a running cluster.
  void FollowTheOrigin(const std::vector<std::string>& edges) {
    for (const std::string& id : edges) {
      TestNode& edge = Node(id);
      replication::FollowerOptions options;
      options.node_id = id;
      options.initial_backoff = absl::Milliseconds(10);
      followers_.push_back(std::make_unique<replication::Follower>(
          edge.store.get(), edge.channels.get(), Node("origin").peer(), &cluster_.clock(),
          &edge.replication_metrics, options));
      followers_.back()->Start();
      following_.push_back(id);
    }
  }
  void StopFollowers() {
    for (auto& f : followers_) f->Stop();
    followers_.clear();
  }

  // One round in which a write lands on every following replica first, then every node
  // ticks: no replica's summary is ever the same two rounds running, so only a comparison
  // at a common sequence (the fingerprint) can see damage.
  void WriteAndTick(int round) {
    Put(absl::StrCat("w", round % 7), absl::StrCat("round ", round));
    const uint64_t head = Origin().AppliedSequence();
    for (const std::string& id : following_) {
      for (int i = 0; i < 2500 && Node(id).store->AppliedSequence() < head; ++i) {
        absl::SleepFor(absl::Milliseconds(2));
      }
      ASSERT_EQ(Node(id).store->AppliedSequence(), head) << id << " stopped following";
    }
    for (TestNode* n : cluster_.nodes()) EXPECT_THAT(n->gossiper->Tick(), IsOk());
  }

  double Fingerprints(const std::string& id, const std::string& result) {
    return MetricValue(*Node(id).registry, "kv_gossip_fingerprint_comparisons_total",
                       {{"result", result}});
  }

  // Returns whether `key` is absent at `id` and its record is a tombstone.
  bool Deleted(const std::string& id, const std::string& key) {
    auto got = Node(id).store->Get(kNs, key, cluster_.clock().Now());
    auto records = Node(id).store->ReadRecords({{kNs, key}});
    return got.ok() && !got->has_value() && records.ok() && records->size() == 1 &&
           records->front().tombstone;
  }

  GossipCluster cluster_;
  // Declared after the cluster: stopped before its nodes are.
  std::vector<std::unique_ptr<replication::Follower>> followers_;
  std::vector<std::string> following_;
};

TEST_F(GossipClusterTest, AnEdgeCutOffFromTheOriginConvergesThroughAnotherEdge) {
  StartCluster({"e1", "e2"});
  ConvergeAll();
  Node("e1").channels->Cut("origin");
  Node("origin").channels->Cut("e1");
  const double repairs_before = Repairs("e1");
  WriteMix("k", 30);

  ASSERT_TRUE(TickUntil([&] { return Converged("e2"); }, {"e2"}));
  ASSERT_TRUE(TickUntil([&] { return Converged("e1"); }, {"e1"}));
  EXPECT_EQ(Dump(*Node("e1").store, false), Dump(Origin(), false));  // tombstones too
  EXPECT_EQ(Repairs("e1"), repairs_before);  // caught up on e2's log, no repair
  EXPECT_GT(MetricValue(*Node("e1").registry, "kv_gossip_catch_up_entries_total"), 0);
  EXPECT_GT(
      MetricValue(*Node("e1").registry, "kv_gossip_rpc_failures_total", {{"rpc", "digest"}}), 0);
}

TEST_F(GossipClusterTest, AnEdgeBehindTheRetainedLogIsRepairedThenCatchesUp) {
  StartCluster({"e1"});
  WriteMix("a", 10);
  ConvergeAll();
  // e1 misses all of this, including deletes and overwrites of keys it holds.
  WriteMix("b", 20);
  Erase("a3");
  Put("a4", "newer");
  ASSERT_THAT(Origin().TrimLog(Origin().AppliedSequence() - 2, 1000), IsOk());
  ASSERT_GT(Origin().LogStart(), Node("e1").store->AppliedSequence() + 1);

  ASSERT_TRUE(TickUntil([&] { return Converged("e1"); }, {"e1"}));
  EXPECT_EQ(Repairs("e1", "behind_log"), 1);
  EXPECT_EQ(Dump(*Node("e1").store, false), Dump(Origin(), false));
  EXPECT_TRUE(Deleted("e1", "a3"));

  // From its new position it follows the log again, without another repair.
  WriteMix("c", 8);
  ASSERT_TRUE(TickUntil([&] { return Converged("e1"); }, {"e1"}));
  EXPECT_EQ(Repairs("e1", "behind_log"), 1);
}

TEST_F(GossipClusterTest, AFollowerRefusedForBeingBehindTheLogIsRepairedFromTheOrigin) {
  StartCluster({"e1"});
  WriteMix("a", 20);
  ASSERT_THAT(Origin().TrimLog(Origin().AppliedSequence() - 3, 1000), IsOk());
  TestNode& e1 = Node("e1");
  replication::FollowerOptions options;
  options.node_id = "e1";
  options.initial_backoff = absl::Milliseconds(10);
  replication::Follower follower(e1.store.get(), e1.channels.get(), Node("origin").peer(),
                                 &cluster_.clock(), &e1.replication_metrics, options);
  std::atomic<int> repairs{0};
  follower.set_on_needs_repair([&](const absl::Status& why) {
    EXPECT_EQ(why.code(), absl::StatusCode::kOutOfRange) << why;
    EXPECT_THAT(e1.gossiper->RepairFrom(Node("origin").peer(), /*adopt_lineage=*/true), IsOk());
    ++repairs;
  });
  follower.Start();
  auto wait_converged = [&] {
    for (int i = 0; i < 1500 && !Converged("e1"); ++i) absl::SleepFor(absl::Milliseconds(20));
    return Converged("e1");
  };
  EXPECT_TRUE(wait_converged());
  WriteMix("b", 10);  // streamed by the follower from the adopted position
  EXPECT_TRUE(wait_converged());
  follower.Stop();
  EXPECT_EQ(repairs.load(), 1);
  EXPECT_EQ(Dump(*e1.store, false), Dump(Origin(), false));
}

TEST_F(GossipClusterTest, AWipedEdgeIsRepairedToIdenticalData) {
  StartCluster({"e1", "e2"});
  WriteMix("k", 40);
  ConvergeAll();
  cluster_.Restart(Node("e1"), /*wipe=*/true);
  ASSERT_EQ(Node("e1").store->AppliedSequence(), 0u);
  ASSERT_NE(Node("e1").store->Epoch(), Origin().Epoch());

  ASSERT_TRUE(TickUntil([&] { return Converged("e1"); }, {"e1"}));
  EXPECT_EQ(Dump(*Node("e1").store, false), Dump(Origin(), false));
  EXPECT_EQ(Node("e1").store->BucketHashSnapshot(), Origin().BucketHashSnapshot());
  EXPECT_EQ(Repairs("e1", "lineage"), 1);
}

TEST_F(GossipClusterTest, ADamagedEdgeIsRepairedAndKeepsItsPosition) {
  StartCluster({"e1"});
  WriteMix("k", 30);
  ConvergeAll();
  const uint64_t applied = Node("e1").store->AppliedSequence();
  const std::vector<std::string> lost = {"k2", "k3", "k10", "k20", "kbig"};  // all live
  LoseRecords("e1", lost);
  ASSERT_EQ(Node("e1").store->AppliedSequence(), applied);
  ASSERT_NE(Node("e1").store->BucketHashSnapshot(), Origin().BucketHashSnapshot());

  ASSERT_TRUE(TickUntil([&] { return Converged("e1"); }, {"e1"}));
  EXPECT_EQ(Node("e1").store->AppliedSequence(), applied);
  EXPECT_EQ(Repairs("e1", "damage"), 1);
  EXPECT_EQ(MetricValue(*Node("e1").registry, "kv_gossip_keys_repaired_total"), lost.size());
  EXPECT_EQ(Dump(*Node("e1").store, true), Dump(Origin(), true));
}

TEST_F(GossipClusterTest, ADamagedEdgeIsRepairedWhileWritesKeepFlowing) {
  StartCluster({"e1", "e2"});
  WriteMix("k", 30);
  ConvergeAll();
  const std::vector<std::string> lost = {"k2", "k3", "k10", "k20"};  // live, no expiration
  LoseRecords("e1", lost);
  FollowTheOrigin({"e1", "e2"});
  auto repaired = [&] {
    for (const std::string& key : lost) {
      auto got = Node("e1").store->Get(kNs, key, cluster_.clock().Now());
      if (!got.ok() || !got->has_value()) return false;
    }
    return true;
  };
  int round = 0;
  while (round < 50 && !repaired()) {
    WriteAndTick(round++);
    if (HasFatalFailure()) return;
  }
  ASSERT_TRUE(repaired()) << "after " << round << " rounds";
  EXPECT_EQ(Repairs("e1", "damage"), 1);
  EXPECT_GE(Fingerprints("e1", "different"), 1);
  // The healthy replicas saw the mismatch too, but also each other agreeing: no repair.
  EXPECT_EQ(Repairs("e2", "damage"), 0);
  EXPECT_EQ(Repairs("origin", "damage"), 0);

  // Repaired, it compares equal again: no further repairs while writes go on.
  const double mismatches = Fingerprints("e1", "different");
  const double matches = Fingerprints("e1", "same");
  for (int i = 0; i < 5; ++i) {
    WriteAndTick(round++);
    if (HasFatalFailure()) return;
  }
  EXPECT_EQ(Repairs("e1", "damage"), 1);
  EXPECT_EQ(Fingerprints("e1", "different"), mismatches);
  EXPECT_GE(Fingerprints("e1", "same"), matches + 5);  // it was compared, and agreed
  StopFollowers();
  EXPECT_TRUE(Converged("e1"));
  EXPECT_EQ(Dump(*Node("e1").store, false), Dump(Origin(), false));
}

TEST_F(GossipClusterTest, AReplicaHoldingDataNoPeerHasBacksOffItsFruitlessRepairs) {
  StartCluster({"e1", "e2"});
  WriteMix("k", 10);
  ConvergeAll();
  // A key only e1 holds (say, restored from an old backup after its tombstone was
  // collected everywhere): e1's repairs only pull what peers have newer, so there is
  // nothing to fetch, round after round.
  cluster_.Restart(Node("e1"), /*wipe=*/false, [&](leveldb::Env* env) {
    std::unique_ptr<leveldb::DB> db = storage::testing::OpenRawDb(env);
    ASSERT_NE(db, nullptr);
    storage::RecordFields ghost;
    ghost.hlc = 12345;
    ghost.origin = "origin";
    ghost.inline_value = "ghost";
    ASSERT_TRUE(db->Put(leveldb::WriteOptions(), storage::keys::Data(kNs, "ghost"),
                        storage::EncodeRecord(ghost))
                    .ok());
  });
  FollowTheOrigin({"e1", "e2"});
  for (int round = 0; round < 16; ++round) {
    WriteAndTick(round);
    if (HasFatalFailure()) return;
  }
  // The origin disagrees with e1 and has nothing newer to give: e1's repairs ran at rounds
  // 1, 3, 6 and 11 (back-off 1, 2, 4, 8), not every round.
  EXPECT_GE(Repairs("e1", "damage"), 3);
  EXPECT_LE(Repairs("e1", "damage"), 5);
  EXPECT_EQ(MetricValue(*Node("e1").registry, "kv_gossip_keys_repaired_total"), 0);
  // The others agree with each other: none of them pulls the key from e1.
  EXPECT_EQ(Repairs("origin", "damage"), 0);
  EXPECT_EQ(Repairs("e2", "damage"), 0);
  auto ghost = Origin().Get(kNs, "ghost", cluster_.clock().Now());
  ASSERT_THAT(ghost.status(), IsOk());
  EXPECT_FALSE(ghost->has_value());
  StopFollowers();
}

TEST_F(GossipClusterTest, ADeletedKeyStaysDeletedThroughEveryRepairPath) {
  StartCluster({"e1", "e2", "e3"});
  WriteMix("k", 12);
  Put("victim", "doomed");
  ConvergeAll();

  // e2 goes stale: it reaches nobody, so it never sees the delete.
  for (const char* peer : {"origin", "e1", "e3"}) Node("e2").channels->Cut(peer);
  Erase("victim");
  std::set<std::string> saw_delete = {"origin"};
  auto never_resurrected = [&] {
    for (const std::string& id : saw_delete) {
      ASSERT_TRUE(Deleted(id, "victim")) << "victim resurrected on " << id;
    }
  };
  ASSERT_TRUE(TickUntil([&] { return Converged("e1") && Converged("e3"); }, {"e1", "e3"}, 300,
                        never_resurrected));
  saw_delete.insert({"e1", "e3"});
  ASSERT_FALSE(Deleted("e2", "victim"));

  // Damage-style repairs from the stale peer: its older live version loses.
  EXPECT_THAT(Node("e1").gossiper->RepairFrom(Node("e2").peer(), false), IsOk());
  EXPECT_THAT(Node("origin").gossiper->RepairFrom(Node("e2").peer(), false), IsOk());
  never_resurrected();

  // A wiped edge repaired from the stale peer holds the stale state (consistent with the
  // position it adopts), then catches up past the delete and keeps it.
  saw_delete.erase("e3");
  cluster_.Restart(Node("e3"), /*wipe=*/true);
  EXPECT_THAT(Node("e3").gossiper->RepairFrom(Node("e2").peer(), true), IsOk());
  EXPECT_EQ(Node("e3").store->AppliedSequence(), Node("e2").store->AppliedSequence());
  ASSERT_TRUE(TickUntil([&] { return Converged("e3"); }, {"e3"}, 300, never_resurrected));
  saw_delete.insert("e3");
  EXPECT_THAT(Node("e3").gossiper->RepairFrom(Node("e2").peer(), false), IsOk());
  never_resurrected();

  // The stale edge comes back behind every retained log: repair brings the tombstone.
  WriteMix("more", 6);
  ASSERT_TRUE(TickUntil([&] { return Converged("e1") && Converged("e3"); }, {"e1", "e3"}, 300,
                        never_resurrected));
  for (const char* id : {"origin", "e1", "e3"}) {
    storage::Store& s = *Node(id).store;
    ASSERT_THAT(s.TrimLog(s.AppliedSequence(), 10000), IsOk());
  }
  for (const char* peer : {"origin", "e1", "e3"}) Node("e2").channels->Heal(peer);
  ASSERT_TRUE(TickUntil([&] { return Converged("e2"); }, {}, 300, never_resurrected));
  EXPECT_GE(Repairs("e2", "behind_log"), 1);
  saw_delete.insert("e2");
  never_resurrected();

  const auto origin_dump = Dump(Origin(), false);
  for (const char* id : {"e1", "e2", "e3"}) {
    EXPECT_EQ(Dump(*Node(id).store, false), origin_dump) << id;
    EXPECT_EQ(Node(id).store->BucketHashSnapshot(), Origin().BucketHashSnapshot()) << id;
  }
}

TEST_F(GossipClusterTest, ANewEdgeJoinsThroughOneSeedAndEveryNodeLearnsIt) {
  StartCluster({"e1", "e2"});
  WriteMix("k", 10);
  ConvergeAll();
  TestNode& e4 = cluster_.Add("e4", kRoleEdge);  // knows only itself
  ASSERT_THAT(e4.gossiper->JoinThrough(Node("e1").address()), IsOk());
  ASSERT_TRUE(Node("e1").membership->Find("e4").has_value());

  auto everyone_knows_everyone = [&] {
    for (TestNode* n : cluster_.nodes()) {
      if (n->membership->Peers(MemberState::kAlive).size() != 3) return false;
    }
    return true;
  };
  // e1 (the seed) does not gossip: the others learn e4 from e1's answers.
  ASSERT_TRUE(TickUntil(everyone_knows_everyone, {"origin", "e2"}, 50));
  std::optional<Member> seen = Node("origin").membership->Find("e4");
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->address, e4.address());
  EXPECT_EQ(seen->role, kRoleEdge);
  // And the new edge, gossiping, gets the data.
  ASSERT_TRUE(TickUntil([&] { return Converged("e4"); }, {"e4"}));
}

TEST_F(GossipClusterTest, AnUnreachablePeerIsSuspectedThenDeadThenAliveWhenHealed) {
  StartCluster({"e1"});
  TestNode& e1 = Node("e1");
  e1.channels->Cut("origin");
  auto state = [&] { return e1.membership->Find("origin")->state; };
  for (int i = 0; i < cluster_.membership_options.suspect_after; ++i) {
    EXPECT_EQ(state(), MemberState::kAlive);
    ASSERT_THAT(e1.gossiper->Tick(), IsOk());
  }
  EXPECT_EQ(state(), MemberState::kSuspect);
  cluster_.clock().Advance(cluster_.membership_options.dead_after);
  ASSERT_THAT(e1.gossiper->Tick(), IsOk());
  EXPECT_EQ(state(), MemberState::kDead);
  EXPECT_EQ(MetricValue(*e1.registry, "kv_gossip_peers", {{"state", "dead"}}), 1);

  e1.channels->Heal("origin");  // dead peers are still probed now and then
  ASSERT_TRUE(TickUntil([&] { return state() == MemberState::kAlive; }, {"e1"}, 300));
  EXPECT_GE(MetricValue(*e1.registry, "kv_gossip_rounds_total"), 5);
}

TEST_F(GossipClusterTest, TheAppliedFloorIsTheSlowestMembersReportedPosition) {
  StartCluster({"e1", "e2"});
  WriteMix("k", 6);
  TestNode& origin = Node("origin");
  EXPECT_EQ(origin.gossiper->AppliedFloor(), std::nullopt);  // nobody reported yet
  ConvergeAll();
  ASSERT_THAT(origin.gossiper->Tick(), IsOk());
  EXPECT_EQ(origin.gossiper->AppliedFloor(), Origin().AppliedSequence());

  for (const char* peer : {"origin", "e1"}) Node("e2").channels->Cut(peer);
  const uint64_t e2_position = Node("e2").store->AppliedSequence();
  WriteMix("more", 6);
  ASSERT_TRUE(TickUntil([&] { return Converged("e1"); }, {"e1"}));
  ASSERT_THAT(origin.gossiper->Tick(), IsOk());
  EXPECT_EQ(origin.gossiper->AppliedFloor(), e2_position);

  // A member that never answers holds it down.
  Member ghost;
  ghost.id = "ghost";
  ghost.role = kRoleEdge;
  ghost.address = "127.0.0.1:1";
  origin.membership->Merge({ghost});
  EXPECT_EQ(origin.gossiper->AppliedFloor(), std::nullopt);
}

TEST_F(GossipClusterTest, StartRunsRoundsUntilStopped) {
  cluster_.gossiper_options.interval = absl::Milliseconds(10);
  StartCluster({"e1"});
  WriteMix("k", 5);
  TestNode& e1 = Node("e1");
  e1.gossiper->Start();
  for (int i = 0; i < 1500 && !Converged("e1"); ++i) absl::SleepFor(absl::Milliseconds(20));
  EXPECT_TRUE(Converged("e1"));
  e1.gossiper->Stop();
  const int64_t rounds = e1.gossiper->rounds();
  EXPECT_GT(rounds, 0);
  EXPECT_EQ(e1.gossiper->rounds(), rounds);
}

}  // namespace
}  // namespace kv::gossip
