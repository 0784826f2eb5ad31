#include "replication/shipping.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/testing/status_matchers.h"
#include "replication/log_applier.h"
#include "storage/testing/store_fixture.h"

namespace kv::replication {
namespace {

namespace v1 = kv::replication::v1;
using ::kv::testing::IsOk;
using ::kv::testing::IsOkAndHolds;

constexpr char kNs[] = "0000000000000000000000000000000a";

// The origin's store (the fixture's) and a replica's, joined as the stream joins them:
// ReadLog, EntryToProto, then a LogApplier on the replica.
class ShippingTest : public storage::testing::StoreFixture {
 protected:
  ShippingTest() : replica_env_(leveldb::NewMemEnv(leveldb::Env::Default())) {
    storage::StoreOptions o = Options();
    o.env = replica_env_.get();
    o.node_id = "replica";
    auto opened = storage::Store::Open(o, &clock_, nullptr);
    EXPECT_TRUE(opened.ok()) << opened.status();
    if (opened.ok()) replica_ = std::move(*opened);
  }

  // Ships the origin's log from `from` to its end in one batch.
  void Ship(uint64_t from) {
    auto entries = store_->ReadLog(from, 1000, 1 << 20);
    ASSERT_THAT(entries, IsOk());
    v1::LogBatch batch;
    for (const storage::ShippedEntry& e : *entries) {
      ASSERT_THAT(EntryToProto(e, batch.add_entries()), IsOk());
    }
    LogApplier applier(replica_.get(), storage::Sequencing::kReplicated, &clock_, nullptr,
                       /*from_origin=*/true);
    ASSERT_THAT(applier.Apply(batch), IsOk());
    ASSERT_EQ(replica_->AppliedSequence(), store_->AppliedSequence());
  }

  std::optional<std::string> ReplicaValue(const std::string& key) {
    auto got = replica_->Get(kNs, key, clock_.Now());
    EXPECT_THAT(got, IsOk());
    if (!got.ok() || !got->has_value()) return std::nullopt;
    return (*got)->inline_value;
  }

  std::unique_ptr<leveldb::Env> replica_env_;
  std::unique_ptr<storage::Store> replica_;
};

// A replica that lost entries it had applied (a killed edge's held log tail, a power
// loss) pulls them again after the origin collected the tombstones they left: a delete,
// and a value that expired. Both must still take away what the replica holds from
// before them; neither may undo a newer write.
TEST_F(ShippingTest, EntriesWhoseRecordsAreGoneShipAsTombstonesAtTheirVersion) {
  MakeNamespace("t", kNs);
  ASSERT_THAT(Put(kNs, "deleted", "old"), IsOk());
  ASSERT_THAT(Put(kNs, "expired", "old"), IsOk());
  ASSERT_THAT(Put(kNs, "rewritten", "old"), IsOk());
  Ship(1);  // what the replica still holds after losing the rest
  const uint64_t lost_from = store_->AppliedSequence() + 1;

  ASSERT_THAT(Delete(kNs, "deleted"), IsOk());
  const int64_t soon = absl::ToUnixSeconds(clock_.Now()) + 60;
  ASSERT_THAT(Put(kNs, "expired", "short-lived", soon), IsOk());
  ASSERT_THAT(Delete(kNs, "rewritten"), IsOk());
  ASSERT_THAT(Put(kNs, "rewritten", "new"), IsOk());
  clock_.Advance(absl::Minutes(2));
  ASSERT_THAT(store_->SweepExpired(clock_.Now(), 100), IsOkAndHolds(1));
  // Every tombstone goes: the deleted key's, the expired value's, none of "rewritten".
  ASSERT_THAT(store_->CollectTombstones(~uint64_t{0}, 100), IsOkAndHolds(2));

  auto entries = store_->ReadLog(lost_from, 1000, 1 << 20);
  ASSERT_THAT(entries, IsOk());
  for (const storage::ShippedEntry& e : *entries) {
    v1::LogEntry proto;
    ASSERT_THAT(EntryToProto(e, &proto), IsOk());
    if (e.entry.key == "rewritten") continue;  // its record exists: shipped as it is
    ASSERT_TRUE(proto.has_deleted()) << "entry " << e.seq << " (" << e.entry.key
                                     << ") ships as " << proto.ShortDebugString();
    EXPECT_EQ(proto.deleted().hlc(), e.entry.hlc);
    EXPECT_TRUE(proto.deleted().tombstone());
  }

  Ship(lost_from);
  EXPECT_EQ(ReplicaValue("deleted"), std::nullopt);
  EXPECT_EQ(ReplicaValue("expired"), std::nullopt) << "the value from before the expired one";
  EXPECT_EQ(ReplicaValue("rewritten"), "new");
  EXPECT_EQ(replica_->Summary().hash, store_->Summary().hash);
  EXPECT_EQ(replica_->BucketHashSnapshot(), store_->BucketHashSnapshot());
}

// A replica that holds a newer version than a gone entry keeps it.
TEST_F(ShippingTest, ATombstoneForAGoneEntryDoesNotUndoANewerVersion) {
  MakeNamespace("t", kNs);
  Ship(1);
  const uint64_t from = store_->AppliedSequence() + 1;
  ASSERT_THAT(Put(kNs, "k", "first"), IsOk());
  ASSERT_THAT(Delete(kNs, "k"), IsOk());
  ASSERT_THAT(store_->CollectTombstones(~uint64_t{0}, 100), IsOkAndHolds(1));
  auto entries = store_->ReadLog(from, 1000, 1 << 20);
  ASSERT_THAT(entries, IsOk());
  v1::LogBatch batch;
  for (const storage::ShippedEntry& e : *entries) {
    ASSERT_THAT(EntryToProto(e, batch.add_entries()), IsOk());
  }
  // The replica got a newer write of k some other way (a repair) before the log.
  storage::Mutation newer{storage::PutValue{kNs, "k", "newer", std::nullopt, 0, std::nullopt}};
  newer.sequencing = storage::Sequencing::kRepair;
  newer.hlc = batch.entries(batch.entries_size() - 1).hlc() + 1;
  newer.origin = "node-a";
  ASSERT_THAT(replica_->CommitAndWait({std::move(newer)}).FirstError(), IsOk());
  LogApplier applier(replica_.get(), storage::Sequencing::kReplicated, &clock_, nullptr,
                     /*from_origin=*/true);
  ASSERT_THAT(applier.Apply(batch), IsOk());
  for (const v1::LogEntry& e : batch.entries()) EXPECT_TRUE(e.has_deleted()) << e.sequence();
  EXPECT_EQ(ReplicaValue("k"), "newer");
}

}  // namespace
}  // namespace kv::replication
