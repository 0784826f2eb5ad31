#include "storage/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <thread>

#include "absl/synchronization/notification.h"
#include "common/coding.h"
#include "common/testing/status_matchers.h"
#include "storage/keys.h"
#include "storage/testing/store_fixture.h"

namespace kv::storage {
namespace {

using ::absl::StatusCode;
using ::kv::testing::IsOk;
using ::kv::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Optional;

const std::string kNs = "00000000000000000000000000000001";
const std::string kNs2 = "00000000000000000000000000000002";

class StoreTest : public testing::StoreFixture {
 protected:
  // Counts the keys in the raw database whose first byte is `tag` (store closed meanwhile).
  int CountKeys(char tag) {
    store_.reset();
    std::unique_ptr<leveldb::DB> db = testing::OpenRawDb(env_.get());
    if (db == nullptr) return -1;
    std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
    int n = 0;
    for (it->Seek(std::string(1, tag)); it->Valid() && it->key()[0] == tag; it->Next()) ++n;
    it.reset();
    db.reset();
    Reopen();
    return n;
  }

  // Uploads `value` through a ValueBuilder and returns what to commit.
  ValueRef Upload(const std::string& value, size_t piece = 10) {
    std::unique_ptr<ValueBuilder> builder = store_->NewValueBuilder();
    for (size_t off = 0; off < value.size(); off += piece) {
      absl::Notification appended;
      if (builder->Append(absl::string_view(value).substr(off, piece), [&](absl::Status s) {
            EXPECT_THAT(s, IsOk());
            appended.Notify();
          })) {
        continue;  // buffered
      }
      appended.WaitForNotification();
    }
    absl::Notification finished;
    ValueRef ref;
    builder->Finish([&](absl::StatusOr<ValueRef> r) {
      EXPECT_THAT(r, IsOk());
      if (r.ok()) ref = std::move(*r);
      finished.Notify();
    });
    finished.WaitForNotification();
    return ref;
  }

  absl::Status PutRef(const std::string& ns, const std::string& key, ValueRef ref) {
    PutValue put{ns, key, std::move(ref.inline_value), ref.blob, 0, std::nullopt};
    return store_->CommitAndWait({Mutation{std::move(put)}}).FirstError();
  }
};

TEST(JitteredWriteBufferTest, DrawsAcrossTheWholeRangeAndNoFurther) {
  std::mt19937_64 gen(42);
  constexpr size_t kBase = 16 << 20;
  std::set<size_t> seen;
  for (int i = 0; i < 1000; ++i) {
    const size_t size = JitteredWriteBuffer(kBase, 0.25, gen);
    EXPECT_GE(size, kBase / 4 * 3);
    EXPECT_LE(size, kBase / 4 * 5);
    seen.insert(size);
  }
  EXPECT_GT(seen.size(), 990u);  // replicas do not end up with equal memtables
  EXPECT_LT(*seen.begin(), kBase / 100 * 77);
  EXPECT_GT(*seen.rbegin(), kBase / 100 * 123);
  EXPECT_EQ(JitteredWriteBuffer(kBase, 0, gen), kBase);
}

TEST_F(StoreTest, OpenRefusesAWriteBufferJitterOutOfRange) {
  store_.reset();
  StoreOptions o = Options();
  o.write_buffer_jitter = 0.6;
  EXPECT_THAT(Store::Open(o, &clock_, nullptr).status(),
              StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("write_buffer_jitter")));
  o.write_buffer_jitter = -0.1;
  EXPECT_THAT(Store::Open(o, &clock_, nullptr).status(), StatusIs(StatusCode::kInvalidArgument));
  o.write_buffer_jitter = 0;
  EXPECT_THAT(Store::Open(o, &clock_, nullptr).status(), IsOk());
}

TEST_F(StoreTest, NamespacesCreateListRenameDelete) {
  MakeNamespace("b-title", kNs);
  MakeNamespace("a-title", kNs2);
  std::vector<NamespaceInfo> list = store_->ListNamespaces();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].title, "a-title");  // ordered by title
  EXPECT_EQ(list[1].id, kNs);

  EXPECT_THAT(store_->CommitAndWait({Mutation{CreateNamespace{"0000000000000000000000000000000f",
                                                              "a-title"}}})
                  .FirstError(),
              StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(store_->CommitAndWait({Mutation{RenameNamespace{kNs, "a-title"}}}).FirstError(),
              StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(store_->CommitAndWait({Mutation{RenameNamespace{kNs, "c-title"}}}).FirstError(),
              IsOk());
  EXPECT_EQ(store_->GetNamespace(kNs)->title, "c-title");
  EXPECT_THAT(store_->CommitAndWait({Mutation{DeleteNamespace{kNs2}}}).FirstError(), IsOk());
  EXPECT_THAT(store_->GetNamespace(kNs2), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->CommitAndWait({Mutation{DeleteNamespace{kNs2}}}).FirstError(),
              StatusIs(StatusCode::kNotFound, "namespace not found"));
  // The title of a deleted namespace is free again.
  MakeNamespace("a-title", "0000000000000000000000000000000e");

  Reopen();
  EXPECT_EQ(store_->ListNamespaces().size(), 2u);
  EXPECT_EQ(store_->GetNamespace(kNs)->title, "c-title");
}

TEST_F(StoreTest, WritesToUnknownNamespaceAreNotFound) {
  EXPECT_THAT(Put(kNs, "k", "v"), StatusIs(StatusCode::kNotFound, "namespace not found"));
  EXPECT_THAT(Delete(kNs, "k"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->Get(kNs, "k", clock_.Now()), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->List(kNs, "", std::nullopt, 10, clock_.Now()),
              StatusIs(StatusCode::kNotFound));
}

TEST_F(StoreTest, PutGetDeleteAndEmptyValue) {
  MakeNamespace("t", kNs);
  EXPECT_EQ(Value(kNs, "missing"), std::nullopt);
  ASSERT_THAT(Put(kNs, "k", "v1"), IsOk());
  EXPECT_THAT(Value(kNs, "k"), Optional(std::string("v1")));
  ASSERT_THAT(Put(kNs, "empty", ""), IsOk());
  EXPECT_THAT(Value(kNs, "empty"), Optional(std::string("")));  // present, not absent
  ASSERT_THAT(Delete(kNs, "k"), IsOk());
  EXPECT_EQ(Value(kNs, "k"), std::nullopt);
  EXPECT_THAT(Delete(kNs, "never-existed"), IsOk());
}

TEST_F(StoreTest, OverwriteReplacesValueMetadataAndExpirationTogether) {
  MakeNamespace("t", kNs);
  const int64_t exp = absl::ToUnixSeconds(clock_.Now()) + 3600;
  ASSERT_THAT(Put(kNs, "k", "v1", exp, "{\"a\":1}"), IsOk());
  ASSERT_THAT(Put(kNs, "k", "v2"), IsOk());
  auto got = store_->Get(kNs, "k", clock_.Now());
  ASSERT_THAT(got, IsOk());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->inline_value, "v2");
  EXPECT_EQ((*got)->metadata, std::nullopt);
  EXPECT_EQ((*got)->expiration, 0);
  // The old expiry index entry went with the old record.
  EXPECT_EQ(CountKeys(keys::kExpiryTag), 0);
}

TEST_F(StoreTest, KeyExpiresAtExactlyItsSecond) {
  MakeNamespace("t", kNs);
  const int64_t exp = absl::ToUnixSeconds(clock_.Now()) + 60;
  ASSERT_THAT(Put(kNs, "k", "v", exp), IsOk());
  clock_.Set(absl::FromUnixSeconds(exp) - absl::Milliseconds(1));
  EXPECT_THAT(Value(kNs, "k"), Optional(std::string("v")));
  clock_.Set(absl::FromUnixSeconds(exp));
  EXPECT_EQ(Value(kNs, "k"), std::nullopt);
}

TEST_F(StoreTest, SweepTurnsExpiredKeysIntoTombstonesAndFreesChunks) {
  MakeNamespace("t", kNs);
  const int64_t exp = absl::ToUnixSeconds(clock_.Now()) + 60;
  ValueRef big = Upload(std::string(200, 'x'));
  ASSERT_TRUE(big.blob.has_value());
  PutValue put{kNs, "big", "", big.blob, exp, std::nullopt};
  ASSERT_THAT(store_->CommitAndWait({Mutation{std::move(put)}}).FirstError(), IsOk());
  ASSERT_THAT(Put(kNs, "small", "v", exp + 100), IsOk());
  EXPECT_EQ(CountKeys(keys::kChunkTag), 4);

  EXPECT_THAT(store_->SweepExpired(clock_.Now(), 100), ::kv::testing::IsOkAndHolds(0));
  clock_.Set(absl::FromUnixSeconds(exp));
  EXPECT_THAT(store_->SweepExpired(clock_.Now(), 100), ::kv::testing::IsOkAndHolds(1));
  EXPECT_EQ(CountKeys(keys::kChunkTag), 0);
  EXPECT_EQ(CountKeys(keys::kExpiryTag), 1);  // "small" is still due later
  EXPECT_THAT(Value(kNs, "small"), Optional(std::string("v")));
  EXPECT_EQ(Value(kNs, "big"), std::nullopt);
}

TEST_F(StoreTest, LargeValuesRoundTripThroughChunks) {
  MakeNamespace("t", kNs);
  std::string value(1000, '\0');
  std::mt19937 rng(7);
  for (char& c : value) c = static_cast<char>(rng());
  ValueRef ref = Upload(value, 37);
  ASSERT_TRUE(ref.blob.has_value());
  EXPECT_EQ(ref.blob->size, 1000);
  ASSERT_THAT(PutRef(kNs, "big", ref), IsOk());
  EXPECT_THAT(Value(kNs, "big"), Optional(value));
  EXPECT_EQ(CountKeys(keys::kUploadTag), 0);  // the upload is owned by the record now
  EXPECT_EQ(CountKeys(keys::kChunkTag), 16);

  // Overwriting with a small value frees every chunk.
  ASSERT_THAT(Put(kNs, "big", "small"), IsOk());
  EXPECT_EQ(CountKeys(keys::kChunkTag), 0);
}

TEST_F(StoreTest, SmallUploadsStayInline) {
  MakeNamespace("t", kNs);
  ValueRef ref = Upload("0123456789abcdef", 5);  // exactly the inline limit
  EXPECT_FALSE(ref.blob.has_value());
  EXPECT_EQ(ref.inline_value, "0123456789abcdef");
  ValueRef empty = Upload("");
  EXPECT_FALSE(empty.blob.has_value());
}

TEST_F(StoreTest, ReadersKeepTheirSnapshotWhileTheValueIsReplaced) {
  MakeNamespace("t", kNs);
  ASSERT_THAT(PutRef(kNs, "big", Upload(std::string(300, 'a'))), IsOk());
  auto got = store_->Get(kNs, "big", clock_.Now());
  ASSERT_THAT(got, IsOk());
  ASSERT_TRUE((*got)->blob != nullptr);
  ASSERT_THAT(PutRef(kNs, "big", Upload(std::string(300, 'b'))), IsOk());
  ASSERT_THAT(Delete(kNs, "big"), IsOk());
  std::string old;
  for (uint32_t i = 0; i < (*got)->blob->ref().chunk_count(); ++i) {
    auto chunk = (*got)->blob->ReadChunk(i);
    ASSERT_THAT(chunk, IsOk());
    old += *chunk;
  }
  EXPECT_EQ(old, std::string(300, 'a'));
}

TEST_F(StoreTest, AbandonedUploadIsFreed) {
  MakeNamespace("t", kNs);
  {
    std::unique_ptr<ValueBuilder> builder = store_->NewValueBuilder();
    absl::Notification done;
    ASSERT_FALSE(builder->Append(std::string(200, 'x'), [&](absl::Status s) { done.Notify(); }));
    done.WaitForNotification();
  }  // destroyed without Finish: a client that hung up mid-upload
  EXPECT_EQ(CountKeys(keys::kChunkTag), 0);
  EXPECT_EQ(CountKeys(keys::kUploadTag), 0);
}

TEST_F(StoreTest, UploadInterruptedByCrashIsFreedAtOpen) {
  store_.reset();
  {
    std::unique_ptr<leveldb::DB> db = testing::OpenRawDb(env_.get());
    ASSERT_NE(db, nullptr);
    leveldb::WriteBatch b;
    b.Put(keys::Upload(5), "");
    b.Put(keys::Chunk(5, 0), std::string(64, 'x'));
    b.Put(keys::Chunk(5, 1), std::string(64, 'x'));
    ASSERT_TRUE(db->Write(leveldb::WriteOptions(), &b).ok());
  }
  Reopen();
  EXPECT_EQ(CountKeys(keys::kChunkTag), 0);
  EXPECT_EQ(CountKeys(keys::kUploadTag), 0);
  // Uploads work as before.
  MakeNamespace("t", kNs);
  ASSERT_THAT(PutRef(kNs, "k", Upload(std::string(100, 'y'))), IsOk());
  EXPECT_THAT(Value(kNs, "k"), Optional(std::string(100, 'y')));
}

TEST_F(StoreTest, ACorruptRecordReadsAsDataLossAndAnyWriteReplacesIt) {
  // Regression: a record that does not decode failed every write to its key, so repair
  // could never replace it.
  MakeNamespace("t", kNs);
  ASSERT_THAT(Put(kNs, "k", "v"), IsOk());
  store_.reset();
  {
    std::unique_ptr<leveldb::DB> db = testing::OpenRawDb(env_.get());
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->Put(leveldb::WriteOptions(), keys::Data(kNs, "k"), "\x07garbage").ok());
  }
  Reopen();
  EXPECT_THAT(store_->Get(kNs, "k", clock_.Now()), StatusIs(StatusCode::kDataLoss));
  Mutation repair{PutValue{kNs, "k", "repaired", std::nullopt, 0, std::nullopt}};
  repair.sequencing = Sequencing::kRepair;
  repair.hlc = MakeHlc(1, 0);  // even an old version beats garbage
  repair.origin = "peer";
  ASSERT_THAT(store_->CommitAndWait({repair}).FirstError(), IsOk());
  EXPECT_THAT(Value(kNs, "k"), Optional(std::string("repaired")));
}

TEST_F(StoreTest, RejectedPutFreesItsBlob) {
  ValueRef ref = Upload(std::string(100, 'y'));
  ASSERT_TRUE(ref.blob.has_value());
  EXPECT_THAT(PutRef(kNs, "k", ref), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(CountKeys(keys::kChunkTag), 0);
}

TEST_F(StoreTest, DataSequenceAndClockSurviveRestart) {
  MakeNamespace("t", kNs);
  ASSERT_THAT(Put(kNs, "a", "1"), IsOk());
  ASSERT_THAT(Put(kNs, "b", "2"), IsOk());
  const uint64_t seq = store_->AppliedSequence();
  EXPECT_EQ(seq, 3u);  // namespace + two puts
  const HlcTimestamp before = (*store_->Get(kNs, "b", clock_.Now()))->hlc;
  clock_.Advance(-absl::Hours(2));  // restarted with the wall clock set back
  Reopen();
  EXPECT_EQ(store_->AppliedSequence(), seq);
  EXPECT_THAT(Value(kNs, "a"), Optional(std::string("1")));
  ASSERT_THAT(Put(kNs, "c", "3"), IsOk());
  EXPECT_GT((*store_->Get(kNs, "c", clock_.Now()))->hlc, before);
  EXPECT_EQ(store_->AppliedSequence(), seq + 1);
}

TEST_F(StoreTest, BulkCommitReportsPerItemOutcomes) {
  MakeNamespace("t", kNs);
  std::vector<Mutation> batch;
  batch.push_back(Mutation{PutValue{kNs, "a", "1", std::nullopt, 0, std::nullopt}});
  batch.push_back(Mutation{PutValue{kNs2, "b", "2", std::nullopt, 0, std::nullopt}});
  batch.push_back(Mutation{DeleteValue{kNs, "a"}});
  batch.push_back(Mutation{PutValue{kNs, "c", "3", std::nullopt, 0, std::nullopt}});
  CommitResult r = store_->CommitAndWait(std::move(batch));
  ASSERT_THAT(r.status, IsOk());
  ASSERT_EQ(r.items.size(), 4u);
  EXPECT_THAT(r.items[0], IsOk());
  EXPECT_THAT(r.items[1], StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(r.items[2], IsOk());
  EXPECT_EQ(Value(kNs, "a"), std::nullopt);  // later item in the same job sees the earlier
  EXPECT_THAT(Value(kNs, "c"), Optional(std::string("3")));
}

TEST_F(StoreTest, LastWriterWinsWhateverTheDeliveryOrder) {
  MakeNamespace("t", kNs);
  // Stamped mutations as a replica would receive them, with duplicates.
  // Every (hlc, origin) is unique, as stamping at the origin guarantees, but they are
  // dense enough that equal timestamps from different origins occur.
  std::vector<Mutation> history;
  std::mt19937 rng(1);
  std::set<std::pair<HlcTimestamp, std::string>> stamps;
  for (int i = 0; i < 200; ++i) {
    Mutation m;
    const std::string key = "k" + std::to_string(rng() % 7);
    if (rng() % 4 == 0) {
      m.op = DeleteValue{kNs, key};
    } else {
      m.op = PutValue{kNs, key, "v" + std::to_string(i), std::nullopt, 0, std::nullopt};
    }
    do {
      m.hlc = MakeHlc(1'000'000 + rng() % 100, static_cast<uint16_t>(rng() % 3));
      m.origin = (rng() % 2) ? "o1" : "o2";
    } while (!stamps.insert({m.hlc, m.origin}).second);
    history.push_back(m);
    if (rng() % 5 == 0) history.push_back(m);
  }
  std::vector<std::vector<std::optional<std::string>>> states;
  for (int trial = 0; trial < 4; ++trial) {
    const std::string ns = "0000000000000000000000000000010" + std::to_string(trial);
    MakeNamespace("trial" + std::to_string(trial), ns);
    std::vector<Mutation> order = history;
    std::shuffle(order.begin(), order.end(), rng);
    for (Mutation& m : order) {
      std::visit([&](auto& op) {
        if constexpr (requires { op.ns_id; }) op.ns_id = ns;
      }, m.op);
    }
    // Applied a few at a time, so some land in the same job and see each other.
    for (size_t i = 0; i < order.size(); i += 3) {
      std::vector<Mutation> group(order.begin() + i,
                                  order.begin() + std::min(order.size(), i + 3));
      ASSERT_THAT(store_->CommitAndWait(std::move(group)).FirstError(), IsOk());
    }
    std::vector<std::optional<std::string>> state;
    for (int k = 0; k < 7; ++k) state.push_back(Value(ns, "k" + std::to_string(k)));
    states.push_back(state);
  }
  for (size_t t = 1; t < states.size(); ++t) EXPECT_EQ(states[t], states[0]);
}

TEST_F(StoreTest, DeletedNamespaceKeysAreHiddenAtOnceAndPurgedLater) {
  MakeNamespace("t", kNs);
  for (int i = 0; i < 25; ++i) ASSERT_THAT(Put(kNs, "k" + std::to_string(i), "v"), IsOk());
  ASSERT_THAT(PutRef(kNs, "big", Upload(std::string(200, 'z'))), IsOk());
  ASSERT_THAT(store_->CommitAndWait({Mutation{DeleteNamespace{kNs}}}).FirstError(), IsOk());
  EXPECT_THAT(store_->Get(kNs, "k1", clock_.Now()), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(store_->PurgeDeletedNamespaces(10), ::kv::testing::IsOkAndHolds(10));
  EXPECT_THAT(store_->PurgeDeletedNamespaces(100), ::kv::testing::IsOkAndHolds(16));
  EXPECT_THAT(store_->PurgeDeletedNamespaces(100), ::kv::testing::IsOkAndHolds(0));
  EXPECT_EQ(CountKeys(keys::kDataTag), 0);
  EXPECT_EQ(CountKeys(keys::kChunkTag), 0);
}

std::unique_ptr<leveldb::DB> OpenMemDb(leveldb::Env* env) {
  return testing::OpenRawDb(env, "/g", /*create_if_missing=*/true);
}

TEST(GroupCommitterTest, FoldsJobsQueuedDuringAWriteIntoOneGroup) {
  std::unique_ptr<leveldb::Env> env(leveldb::NewMemEnv(leveldb::Env::Default()));
  std::unique_ptr<leveldb::DB> db = OpenMemDb(env.get());
  ASSERT_NE(db, nullptr);
  std::vector<size_t> group_sizes;
  absl::Mutex mu;
  GroupCommitter::Hooks hooks;
  hooks.observe = [&](size_t jobs, size_t, double, const absl::Status&) {
    absl::MutexLock lock(&mu);
    group_sizes.push_back(jobs);
  };
  {
    GroupCommitter committer(db.get(), {}, hooks, 0);
    absl::Notification blocking, release;
    committer.Submit(
        [&](Txn& txn) {
          blocking.Notify();
          release.WaitForNotification();  // hold the committer busy
          txn.Put("first", "1");
          return absl::OkStatus();
        },
        [](absl::Status) {}, 1);
    blocking.WaitForNotification();
    std::atomic<int> acked{0};
    for (int i = 0; i < 50; ++i) {
      committer.Submit(
          [i](Txn& txn) {
            txn.Put("k" + std::to_string(i), "v");
            txn.NextSequence();
            return absl::OkStatus();
          },
          [&](absl::Status s) {
            EXPECT_TRUE(s.ok());
            ++acked;
          },
          1);
    }
    release.Notify();
    EXPECT_THAT(committer.SubmitAndWait([](Txn&) { return absl::OkStatus(); }, 1), IsOk());
    EXPECT_EQ(acked.load(), 50);
  }
  absl::MutexLock lock(&mu);
  EXPECT_THAT(group_sizes, ElementsAre(1, ::testing::Ge(50u)));
}

TEST(GroupCommitterTest, AFailedJobIsDroppedWholeAndOthersCommit) {
  std::unique_ptr<leveldb::Env> env(leveldb::NewMemEnv(leveldb::Env::Default()));
  std::unique_ptr<leveldb::DB> db = OpenMemDb(env.get());
  ASSERT_NE(db, nullptr);
  {
    GroupCommitter committer(db.get(), {}, {}, 0);
    EXPECT_THAT(committer.SubmitAndWait(
                    [](Txn& txn) {
                      txn.Put("half", "written");
                      return absl::InternalError("boom");
                    },
                    1),
                StatusIs(StatusCode::kInternal));
    EXPECT_THAT(committer.SubmitAndWait(
                    [](Txn& txn) {
                      txn.Put("whole", "1");
                      return absl::OkStatus();
                    },
                    1),
                IsOk());
  }
  std::string v;
  EXPECT_TRUE(db->Get(leveldb::ReadOptions(), "half", &v).IsNotFound());
  EXPECT_TRUE(db->Get(leveldb::ReadOptions(), "whole", &v).ok());
}

}  // namespace
}  // namespace kv::storage
