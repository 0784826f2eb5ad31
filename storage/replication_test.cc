// The replication-facing parts of Store: the log, version listings, bucket hashes,
// sequence waiters, and convergence of a replica fed from the log or repaired by LWW.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <thread>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/testing/status_matchers.h"
#include "leveldb/helpers/memenv.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "storage/testing/store_fixture.h"

namespace kv::storage {
namespace {

using ::absl::StatusCode;
using ::kv::testing::IsOk;
using ::kv::testing::IsOkAndHolds;
using ::kv::testing::StatusIs;
using ::testing::SizeIs;

const std::string kNs = "000000000000000000000000000000aa";

// A second store (the replica) beside the fixture's (the origin).
class ReplicationTest : public testing::StoreFixture {
 protected:
  ReplicationTest() : replica_env_(leveldb::NewMemEnv(leveldb::Env::Default())) {
    OpenReplica();
  }

  void OpenReplica() {
    replica_.reset();
    StoreOptions o = Options();
    o.env = replica_env_.get();
    o.node_id = "replica";
    auto opened = Store::Open(o, &clock_, nullptr);
    ASSERT_TRUE(opened.ok()) << opened.status();
    replica_ = std::move(*opened);
  }

  // Turns a shipped entry into the mutation a replica applies (values inline: these tests
  // use small values).
  static Mutation ToMutation(ShippedEntry& e) {
    Mutation m;
    m.sequencing = Sequencing::kReplicated;
    m.seq = e.seq;
    m.hlc = e.entry.hlc;
    m.origin = e.entry.origin;
    if (e.entry.kind == LogKind::kNamespace) {
      m.op = PutNamespaceRecord{e.entry.ns_id, *e.entry.ns_record};
    } else if (e.record && !e.record->tombstone) {
      std::string value = e.record->inline_value;
      if (e.record->blob) {
        for (uint32_t i = 0; i < e.record->blob->ref().chunk_count(); ++i) {
          value += *e.record->blob->ReadChunk(i);
        }
      }
      m.hlc = e.record->hlc;
      m.origin = e.record->origin;
      m.op = PutValue{e.record->ns_id, e.record->key, value, std::nullopt, e.record->expiration,
                      e.record->metadata};
    } else if (e.record) {
      m.hlc = e.record->hlc;
      m.origin = e.record->origin;
      m.op = DeleteValue{e.record->ns_id, e.record->key};
    } else {
      m.op = Noop{};
    }
    return m;
  }

  // Ships the origin's log from `from` to the replica in batches of `batch`.
  void Ship(uint64_t from, int batch) {
    while (true) {
      auto entries = store_->ReadLog(from, batch, 1 << 20);
      ASSERT_THAT(entries, IsOk());
      if (entries->empty()) return;
      replica_->NoteVersionsUpTo(store_->VersionHorizon());  // as replication::LogCursor sends
      std::vector<Mutation> ms;
      for (ShippedEntry& e : *entries) ms.push_back(ToMutation(e));
      from = entries->back().seq + 1;
      ASSERT_THAT(replica_->CommitAndWait(std::move(ms)).FirstError(), IsOk());
    }
  }

  // Every live key of `ns` with value and metadata, via List + Get.
  static std::vector<std::string> Dump(Store& s, const std::string& ns, absl::Time now) {
    std::vector<std::string> out;
    auto page = s.List(ns, "", std::nullopt, 1000, now);
    if (!page.ok()) return {page.status().ToString()};
    for (const ListedKey& k : page->keys) {
      auto v = s.Get(ns, k.name, now);
      out.push_back(k.name + "=" + ((*v)->blob ? "<blob>" : (*v)->inline_value) + "|" +
                    k.metadata.value_or("-") + "|" + std::to_string(k.expiration));
    }
    return out;
  }

  std::unique_ptr<leveldb::Env> replica_env_;
  std::unique_ptr<Store> replica_;
};

TEST_F(ReplicationTest, EveryMutationGetsTheNextSequenceAndALogEntry) {
  MakeNamespace("t", kNs);
  ASSERT_THAT(Put(kNs, "a", "1"), IsOk());
  ASSERT_THAT(Delete(kNs, "a"), IsOk());
  ASSERT_THAT(Put(kNs, "b", "2"), IsOk());
  auto log = store_->ReadLog(1, 100, 1 << 20);
  ASSERT_THAT(log, IsOk());
  ASSERT_THAT(*log, SizeIs(4));
  EXPECT_EQ((*log)[0].entry.kind, LogKind::kNamespace);
  EXPECT_EQ((*log)[1].entry.kind, LogKind::kPut);
  EXPECT_EQ((*log)[2].entry.kind, LogKind::kDelete);
  // Entry 1 shipped the key's current record: the tombstone that replaced it.
  ASSERT_TRUE((*log)[1].record.has_value());
  EXPECT_TRUE((*log)[1].record->tombstone);
  EXPECT_EQ((*log)[3].record->inline_value, "2");
  for (size_t i = 0; i < log->size(); ++i) EXPECT_EQ((*log)[i].seq, i + 1);
}

TEST_F(ReplicationTest, CommitListenersSeeEachGroupBeforeItsWriterIsAnswered) {
  MakeNamespace("t", kNs);
  absl::Mutex mu;
  std::vector<std::pair<uint64_t, uint64_t>> calls;  // (argument, AppliedSequence() then)
  const int id = store_->AddCommitListener([&](uint64_t applied) {
    absl::MutexLock lock(&mu);
    calls.emplace_back(applied, store_->AppliedSequence());
  });
  for (int i = 0; i < 3; ++i) {
    // When the writer is answered the listener has run, with the sequence applied.
    auto [seq, last_call] = PutAnswered<std::pair<uint64_t, std::pair<uint64_t, uint64_t>>>(
        kNs, "k" + std::to_string(i), "v", [&](const CommitResult& r) {
          absl::MutexLock lock(&mu);
          return std::make_pair(r.sequence, calls.empty() ? std::make_pair(uint64_t{0}, uint64_t{0})
                                                          : calls.back());
        });
    EXPECT_EQ(last_call, std::make_pair(seq, seq)) << "write " << i;
  }
  {
    absl::MutexLock lock(&mu);
    EXPECT_THAT(calls, SizeIs(3));
  }
  store_->RemoveCommitListener(id);
  ASSERT_THAT(Put(kNs, "after", "v"), IsOk());
  absl::MutexLock lock(&mu);
  EXPECT_THAT(calls, SizeIs(3));
}

TEST_F(ReplicationTest, AReplicaFedFromTheLogConvergesWhateverTheBatchingAndDuplicates) {
  MakeNamespace("t", kNs);
  std::mt19937 rng(3);
  const int64_t now = absl::ToUnixSeconds(clock_.Now());
  for (int i = 0; i < 300; ++i) {
    const std::string key = "k" + std::to_string(rng() % 20);
    switch (rng() % 4) {
      case 0:
        ASSERT_THAT(Delete(kNs, key), IsOk());
        break;
      case 1:
        ASSERT_THAT(Put(kNs, key, "v" + std::to_string(i), now + 60 + rng() % 600), IsOk());
        break;
      default:
        ASSERT_THAT(Put(kNs, key, "v" + std::to_string(i), 0,
                        "{\"i\":" + std::to_string(i) + "}"),
                    IsOk());
    }
  }
  Ship(1, 7);
  Ship(1, 50);   // everything again: duplicates are skipped
  Ship(120, 3);  // and a middle stretch
  EXPECT_EQ(replica_->AppliedSequence(), store_->AppliedSequence());
  EXPECT_EQ(Dump(*replica_, kNs, clock_.Now()), Dump(*store_, kNs, clock_.Now()));
  EXPECT_EQ(replica_->Summary().hash, store_->Summary().hash);
  EXPECT_EQ(replica_->BucketHashSnapshot(), store_->BucketHashSnapshot());
  // The replica's own log can feed another replica: it names the same keys at the same
  // sequence numbers (the kind may differ: it records what was shipped, the key's current
  // version, not the original mutation).
  auto a = store_->ReadLog(1, 1000, 1 << 30);
  auto b = replica_->ReadLog(1, 1000, 1 << 30);
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  ASSERT_EQ(a->size(), b->size());
  for (size_t i = 0; i < a->size(); ++i) {
    EXPECT_EQ((*a)[i].seq, (*b)[i].seq);
    EXPECT_EQ((*a)[i].entry.key, (*b)[i].entry.key) << i;
  }
}

TEST_F(ReplicationTest, ANamespaceAndItsFirstKeysInOneBatchAllApply) {
  // Regression: the namespace only reached the catalog once its batch was durable, so
  // keys shipped in the same batch were skipped as belonging to an unknown namespace.
  MakeNamespace("t", kNs);
  ASSERT_THAT(Put(kNs, "first", "1"), IsOk());
  Ship(1, 100);
  EXPECT_EQ(Dump(*replica_, kNs, clock_.Now()), Dump(*store_, kNs, clock_.Now()));
  EXPECT_THAT(Dump(*replica_, kNs, clock_.Now()), SizeIs(1));
}

TEST_F(ReplicationTest, AGapInReplicatedSequencesIsRefused) {
  MakeNamespace("t", kNs);
  ASSERT_THAT(Put(kNs, "a", "1"), IsOk());
  auto log = store_->ReadLog(2, 10, 1 << 20);  // skips entry 1 (the namespace)
  ASSERT_THAT(log, IsOk());
  std::vector<Mutation> ms;
  ms.push_back(ToMutation((*log)[0]));
  EXPECT_THAT(replica_->CommitAndWait(std::move(ms)).FirstError(),
              StatusIs(StatusCode::kFailedPrecondition, ::testing::HasSubstr("gap")));
  EXPECT_EQ(replica_->AppliedSequence(), 0u);
}

TEST_F(ReplicationTest, RepairByLastWriterWinsConvergesInAnyOrder) {
  MakeNamespace("t", kNs);
  std::mt19937 rng(11);
  for (int i = 0; i < 200; ++i) {
    const std::string key = "k" + std::to_string(rng() % 15);
    if (rng() % 3 == 0) {
      ASSERT_THAT(Delete(kNs, key), IsOk());
    } else {
      ASSERT_THAT(Put(kNs, key, "v" + std::to_string(i)), IsOk());
    }
  }
  // Two replicas repaired from the origin's records in different orders, with duplicates.
  std::vector<VersionInfo> versions;
  std::vector<std::pair<std::string, NamespaceRecord>> namespaces;
  uint64_t seq;
  ASSERT_THAT(store_->ScanVersions({}, &versions, &namespaces, &seq), IsOk());
  EXPECT_EQ(seq, store_->AppliedSequence());
  ASSERT_THAT(namespaces, SizeIs(1));
  std::vector<std::pair<std::string, std::string>> keys;
  for (const VersionInfo& v : versions) keys.emplace_back(v.ns_id, v.key);
  auto records = store_->ReadRecords(keys);
  ASSERT_THAT(records, IsOk());
  std::vector<Mutation> repair;
  for (ShippedRecord& r : *records) {
    Mutation m;
    m.sequencing = Sequencing::kRepair;
    m.hlc = r.hlc;
    m.origin = r.origin;
    if (r.tombstone) {
      m.op = DeleteValue{r.ns_id, r.key};
    } else {
      m.op = PutValue{r.ns_id, r.key, r.inline_value, std::nullopt, r.expiration, r.metadata};
    }
    repair.push_back(m);
    if (rng() % 3 == 0) repair.push_back(m);
  }
  std::shuffle(repair.begin(), repair.end(), rng);
  Mutation ns_record;
  ns_record.sequencing = Sequencing::kRepair;
  ns_record.op = PutNamespaceRecord{namespaces[0].first, namespaces[0].second};
  ns_record.hlc = namespaces[0].second.hlc;
  ASSERT_THAT(replica_->CommitAndWait({ns_record}).FirstError(), IsOk());
  for (size_t i = 0; i < repair.size(); i += 5) {
    std::vector<Mutation> group(repair.begin() + i, repair.begin() + std::min(repair.size(), i + 5));
    ASSERT_THAT(replica_->CommitAndWait(std::move(group)).FirstError(), IsOk());
  }
  EXPECT_EQ(Dump(*replica_, kNs, clock_.Now()), Dump(*store_, kNs, clock_.Now()));
  EXPECT_EQ(replica_->BucketHashSnapshot(), store_->BucketHashSnapshot());
  // Repair writes no log entries and does not move the sequence.
  EXPECT_EQ(replica_->AppliedSequence(), 0u);
  EXPECT_THAT(replica_->ResetLog(store_->Epoch(), seq), IsOk());
  EXPECT_EQ(replica_->AppliedSequence(), seq);
  EXPECT_EQ(replica_->Epoch(), store_->Epoch());
  EXPECT_EQ(replica_->LogStart(), seq + 1);
}

TEST_F(ReplicationTest, BucketHashesIgnoreTombstonesAndSurviveRestart) {
  MakeNamespace("t", kNs);
  const auto empty = store_->BucketHashSnapshot();
  ASSERT_THAT(Put(kNs, "a", "1"), IsOk());
  EXPECT_NE(store_->BucketHashSnapshot(), empty);
  ASSERT_THAT(Delete(kNs, "a"), IsOk());
  EXPECT_EQ(store_->BucketHashSnapshot(), empty);  // as if it never existed
  ASSERT_THAT(Put(kNs, "b", "2"), IsOk());
  const auto before = store_->BucketHashSnapshot();
  Reopen();
  EXPECT_EQ(store_->BucketHashSnapshot(), before);
  // Scanning one bucket lists only its keys.
  std::vector<VersionInfo> versions;
  std::vector<std::pair<std::string, NamespaceRecord>> namespaces;
  uint64_t seq;
  ASSERT_THAT(store_->ScanVersions({BucketOf(kNs, "b")}, &versions, &namespaces, &seq), IsOk());
  ASSERT_THAT(versions, SizeIs(1));
  EXPECT_EQ(versions[0].key, "b");
}

TEST_F(ReplicationTest, TheFingerprintAgreesAtEverySequenceWhateverSweepsPurgesAndBatching) {
  const std::string other = "000000000000000000000000000000bb";
  MakeNamespace("t", kNs);
  MakeNamespace("u", other);
  std::mt19937 rng(11);
  uint64_t shipped = 0;
  auto ship = [&](int batch) {
    Ship(shipped + 1, batch);
    shipped = replica_->AppliedSequence();
  };
  bool hashes_differed = false;  // the bucket hashes could not have been compared
  for (int i = 0; i < 400; ++i) {
    clock_.Advance(absl::Milliseconds(100));
    const int64_t now = absl::ToUnixSeconds(clock_.Now());
    const std::string ns = i < 200 && rng() % 3 == 0 ? other : kNs;
    const std::string key = "k" + std::to_string(rng() % 30);
    switch (rng() % 5) {
      case 0:
        ASSERT_THAT(Delete(ns, key), IsOk());
        break;
      case 1:
      case 2:  // sessions: expire within seconds, while the test runs
        ASSERT_THAT(Put(ns, key, "v" + std::to_string(i), now + 1 + rng() % 8), IsOk());
        break;
      default:
        ASSERT_THAT(Put(ns, key, "v" + std::to_string(i)), IsOk());
    }
    if (i == 200) {
      ASSERT_THAT(store_->CommitAndWait({Mutation{DeleteNamespace{other}}}).FirstError(), IsOk());
    }
    // Each replica sweeps, purges and collects on its own schedule.
    if (i % 7 == 0) {
      ASSERT_THAT(store_->SweepExpired(clock_.Now(), 1000), IsOk());
    }
    if (i == 250) {
      ASSERT_THAT(store_->PurgeDeletedNamespaces(1000), IsOk());
    }
    if (i == 300) {
      ASSERT_THAT(store_->CollectTombstones(~uint64_t{0}, 1000), IsOk());
    }
    if (rng() % 4 == 0) ship(1 + static_cast<int>(rng() % 9));
    if (i % 11 == 0) {
      ASSERT_THAT(replica_->SweepExpired(clock_.Now(), 1000), IsOk());
    }
    if (i == 350) {
      ASSERT_THAT(replica_->PurgeDeletedNamespaces(1000), IsOk());
    }
    if (replica_->AppliedSequence() == store_->AppliedSequence() &&
        replica_->Summary().hash != store_->Summary().hash) {
      hashes_differed = true;
    }
  }
  ship(5);
  ASSERT_EQ(replica_->AppliedSequence(), store_->AppliedSequence());
  EXPECT_TRUE(hashes_differed) << "the schedules never made the bucket hashes differ";
  // The origin has a point at every sequence; the replica where its data was exactly a
  // log position (the end of each shipping, which reached the origin's head).
  int compared = 0;
  for (uint64_t seq = 1; seq <= store_->AppliedSequence(); ++seq) {
    std::optional<uint64_t> mine = store_->FingerprintAt(seq);
    ASSERT_TRUE(mine.has_value()) << seq;
    if (std::optional<uint64_t> theirs = replica_->FingerprintAt(seq)) {
      EXPECT_EQ(*mine, *theirs) << "at sequence " << seq;
      ++compared;
    }
  }
  EXPECT_GE(compared, 50);

  // Damage (a record lost while the replica was closed) shows at the same position.
  const uint64_t applied = replica_->AppliedSequence();
  ASSERT_THAT(Put(kNs, "lost", "x"), IsOk());
  ship(10);
  replica_.reset();
  {
    std::unique_ptr<leveldb::DB> db = testing::OpenRawDb(replica_env_.get());
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->Delete(leveldb::WriteOptions(), keys::Data(kNs, "lost")).ok());
  }
  OpenReplica();
  ASSERT_EQ(replica_->AppliedSequence(), applied + 1);
  ASSERT_TRUE(replica_->FingerprintAt(applied + 1).has_value());
  EXPECT_NE(replica_->FingerprintAt(applied + 1), store_->FingerprintAt(applied + 1));
  EXPECT_EQ(replica_->FingerprintAt(applied), std::nullopt);  // from before the restart
}

TEST_F(ReplicationTest, AReplicaHoldingVersionsAheadOfItsLogRecordsNoPointUntilPastThem) {
  MakeNamespace("t", kNs);
  ASSERT_THAT(Put(kNs, "a", "1"), IsOk());
  ASSERT_THAT(Put(kNs, "a", "2"), IsOk());  // entry 2 now ships this version
  ASSERT_THAT(Put(kNs, "b", "1"), IsOk());
  // Entries 1-2 alone: they carry a's version of entry 3, read at the origin's position 4.
  auto entries = store_->ReadLog(1, 2, 1 << 20);
  ASSERT_THAT(entries, IsOk());
  ASSERT_THAT(*entries, SizeIs(2));
  const uint64_t horizon = store_->VersionHorizon();
  EXPECT_EQ(horizon, 4u);
  replica_->NoteVersionsUpTo(horizon);
  std::vector<Mutation> ms;
  for (ShippedEntry& e : *entries) ms.push_back(ToMutation(e));
  ASSERT_THAT(replica_->CommitAndWait(std::move(ms)).FirstError(), IsOk());
  EXPECT_EQ(replica_->FingerprintAt(2), std::nullopt);
  EXPECT_EQ(replica_->VersionHorizon(), 4u);
  // A restart keeps that: the data still holds entry 3's version.
  OpenReplica();
  EXPECT_EQ(replica_->AppliedSequence(), 2u);
  EXPECT_EQ(replica_->FingerprintAt(2), std::nullopt);
  Ship(3, 10);
  ASSERT_EQ(replica_->AppliedSequence(), 4u);
  ASSERT_TRUE(replica_->FingerprintAt(4).has_value());
  EXPECT_EQ(replica_->FingerprintAt(4), store_->FingerprintAt(4));
}

TEST_F(ReplicationTest, ChunkedValuesShipAloneAndTrimmedEntriesAreOutOfRange) {
  MakeNamespace("t", kNs);
  ASSERT_THAT(Put(kNs, "a", "1"), IsOk());
  {
    std::unique_ptr<ValueBuilder> b = store_->NewValueBuilder();
    absl::Notification written;
    if (!b->Append(std::string(200, 'z'), [&](absl::Status) { written.Notify(); })) {
      written.WaitForNotification();
    }
    absl::Notification finished;
    ValueRef ref;
    b->Finish([&](absl::StatusOr<ValueRef> r) {
      ref = std::move(*r);
      finished.Notify();
    });
    finished.WaitForNotification();
    PutValue put{kNs, "big", "", ref.blob, 0, std::nullopt};
    ASSERT_THAT(store_->CommitAndWait({Mutation{std::move(put)}}).FirstError(), IsOk());
  }
  ASSERT_THAT(Put(kNs, "c", "3"), IsOk());
  {
    // Shipped blobs read through the store, so they must not outlive it (Reopen below).
    auto first = store_->ReadLog(1, 100, 1 << 20);
    ASSERT_THAT(first, IsOk());
    ASSERT_THAT(*first, SizeIs(2));  // stops before the chunked value
    auto second = store_->ReadLog(3, 100, 1 << 20);
    ASSERT_THAT(second, IsOk());
    ASSERT_THAT(*second, SizeIs(1));  // the chunked value, alone
    ASSERT_TRUE((*second)[0].record->blob != nullptr);
    EXPECT_THAT((*second)[0].record->blob->ReadChunk(0), IsOkAndHolds(std::string(64, 'z')));
  }

  EXPECT_THAT(store_->TrimLog(3, 100), IsOkAndHolds(2));
  EXPECT_EQ(store_->LogStart(), 3u);
  EXPECT_THAT(store_->ReadLog(2, 10, 1 << 20), StatusIs(StatusCode::kOutOfRange));
  EXPECT_THAT(store_->ReadLog(3, 10, 1 << 20), IsOk());
  Reopen();
  EXPECT_EQ(store_->LogStart(), 3u);
}

TEST_F(ReplicationTest, EachCommitOfAGroupReportsItsOwnSequence) {
  MakeNamespace("t", kNs);
  // Many concurrent commits share synced batches; each answer names its own log entry.
  constexpr int kCommits = 64;
  absl::Mutex mu;
  std::vector<std::pair<std::string, uint64_t>> answers;
  absl::BlockingCounter pending(kCommits);
  for (int i = 0; i < kCommits; ++i) {
    std::string key = absl::StrCat("k", i);
    store_->Commit({Mutation{PutValue{kNs, key, "v", std::nullopt, 0, std::nullopt}}},
                   [&, key](CommitResult r) {
                     EXPECT_THAT(r.FirstError(), IsOk());
                     absl::MutexLock lock(&mu);
                     answers.emplace_back(key, r.sequence);
                     pending.DecrementCount();
                   });
  }
  pending.Wait();
  ASSERT_EQ(answers.size(), static_cast<size_t>(kCommits));
  for (const auto& [key, seq] : answers) {
    auto entry = store_->ReadLog(seq, 1, 1 << 20);
    ASSERT_THAT(entry, IsOk());
    ASSERT_THAT(*entry, SizeIs(1));
    EXPECT_EQ((*entry)[0].entry.key, key) << "sequence " << seq;
  }
}

TEST_F(ReplicationTest, WaitingCommitsOnTheCallersThreadStaySerialisedWithQueuedOnes) {
  MakeNamespace("t", kNs);
  const uint64_t start = store_->AppliedSequence();
  // Threads that commit and wait (on the caller's thread whenever the committer is idle)
  // race with asynchronous commits (always on the committer thread).
  constexpr int kThreads = 4;
  constexpr int kEach = 100;
  absl::BlockingCounter async_pending(kThreads * kEach);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        Mutation put{PutValue{kNs, absl::StrCat("w", t, "-", i), "v", std::nullopt, 0, std::nullopt}};
        CommitResult r = store_->CommitAndWait({std::move(put)});
        EXPECT_THAT(r.FirstError(), IsOk());
        store_->Commit(
            {Mutation{PutValue{kNs, absl::StrCat("a", t, "-", i), "v", std::nullopt, 0, std::nullopt}}},
            [&](CommitResult r) {
              EXPECT_THAT(r.FirstError(), IsOk());
              async_pending.DecrementCount();
            });
      }
    });
  }
  for (std::thread& t : threads) t.join();
  async_pending.Wait();
  // Every write has its own entry in one dense log, and every key is readable.
  const uint64_t total = 2 * kThreads * kEach;
  EXPECT_EQ(store_->AppliedSequence(), start + total);
  std::set<std::string> logged;
  for (uint64_t seq = start + 1; seq <= start + total;) {
    auto entries = store_->ReadLog(seq, 500, 1 << 20);
    ASSERT_THAT(entries, IsOk());
    ASSERT_FALSE(entries->empty());
    for (const ShippedEntry& e : *entries) {
      EXPECT_EQ(e.seq, seq++);
      logged.insert(e.entry.key);
    }
  }
  EXPECT_EQ(logged.size(), total);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_THAT(Value(kNs, absl::StrCat("w", t, "-", kEach - 1)), ::testing::Optional(std::string("v")));
  }
  Reopen();
  EXPECT_EQ(store_->AppliedSequence(), start + total);
}

TEST_F(ReplicationTest, TombstonesAreCollectedOnlyUpToTheWatermark) {
  MakeNamespace("t", kNs);
  ASSERT_THAT(Put(kNs, "a", "1"), IsOk());
  ASSERT_THAT(Delete(kNs, "a"), IsOk());
  const uint64_t delete_seq = store_->AppliedSequence();
  ASSERT_THAT(Delete(kNs, "never-existed"), IsOk());
  ASSERT_THAT(Put(kNs, "b", "1"), IsOk());
  ASSERT_THAT(Delete(kNs, "b"), IsOk());
  ASSERT_THAT(Put(kNs, "b", "back"), IsOk());  // a newer version replaces b's tombstone
  auto at_delete = store_->LogEntryTimestamp(delete_seq);
  ASSERT_THAT(at_delete, IsOk());
  auto count_tombstones = [&] {
    std::vector<VersionInfo> versions;
    std::vector<std::pair<std::string, NamespaceRecord>> namespaces;
    uint64_t seq;
    EXPECT_THAT(store_->ScanVersions({}, &versions, &namespaces, &seq), IsOk());
    return std::count_if(versions.begin(), versions.end(),
                         [](const VersionInfo& v) { return v.tombstone; });
  };
  EXPECT_EQ(count_tombstones(), 2);
  // Below a's delete: nothing goes.
  EXPECT_THAT(store_->CollectTombstones(*at_delete - 1, 100), IsOkAndHolds(0));
  // Up to a's delete: a's tombstone goes; the later one stays.
  EXPECT_THAT(store_->CollectTombstones(*at_delete, 100), IsOkAndHolds(1));
  EXPECT_EQ(count_tombstones(), 1);
  // Everything: the other tombstone goes (b's index entry went when b was rewritten).
  EXPECT_THAT(store_->CollectTombstones(~uint64_t{0}, 100), IsOkAndHolds(1));
  EXPECT_EQ(count_tombstones(), 0);
  EXPECT_THAT(Value(kNs, "b"), ::testing::Optional(std::string("back")));
  EXPECT_EQ(Value(kNs, "a"), std::nullopt);
  EXPECT_THAT(store_->LogEntryTimestamp(9999), StatusIs(StatusCode::kNotFound));
}

TEST_F(ReplicationTest, WaitForSequenceFiresWhenReachedOrAtTheDeadline) {
  MakeNamespace("t", kNs);
  const uint64_t target = store_->AppliedSequence() + 2;
  absl::Notification reached;
  bool result = false;
  store_->WaitForSequence(target, absl::Now() + absl::Minutes(5), [&](bool ok) {
    result = ok;
    reached.Notify();
  });
  ASSERT_THAT(Put(kNs, "a", "1"), IsOk());
  EXPECT_FALSE(reached.HasBeenNotified());
  ASSERT_THAT(Put(kNs, "b", "2"), IsOk());
  reached.WaitForNotification();
  EXPECT_TRUE(result);

  absl::Notification timed_out;
  store_->WaitForSequence(target + 100, absl::Now() + absl::Milliseconds(50), [&](bool ok) {
    result = ok;
    timed_out.Notify();
  });
  timed_out.WaitForNotification();
  EXPECT_FALSE(result);
}

}  // namespace
}  // namespace kv::storage
