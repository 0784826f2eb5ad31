#include "storage/txn.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "leveldb/db.h"
#include "leveldb/env.h"
#include "leveldb/filter_policy.h"
#include "leveldb/helpers/memenv.h"

namespace kv::storage {
namespace {

std::string Key(int i, int suffix) { return absl::StrFormat("k%07d%d", i, suffix); }

std::string Value(int i) {
  // Not compressible, so the tables have the sizes a store's do.
  std::string v(100, '\0');
  uint64_t x = static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ULL + 1;
  for (char& c : v) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return v;
}

// A LevelDB database, in memory, whose key range is covered by table files at two
// levels: "k<i>0" for every i at the bottom and "k<i>2" for every 7th i above, so a
// lookup of an absent "k<i>1" misses in one file and goes on to the next. Nothing is
// left for LevelDB to compact on its own.
class TwoLevelDb : public ::testing::Test {
 protected:
  static constexpr int kKeys = 40'000;

  TwoLevelDb() : env_(leveldb::NewMemEnv(leveldb::Env::Default())) {
    filter_.reset(leveldb::NewBloomFilterPolicy(10));
    Open();
    for (int i = 0; i < kKeys; ++i) Put(Key(i, 0), Value(i));
    db_->CompactRange(nullptr, nullptr);
    for (int i = 0; i < kKeys; i += 7) Put(Key(i, 2), Value(i));
    Open();  // recovery writes the memtable as a table above the others
  }

  void Open() {
    db_.reset();
    leveldb::Options options;
    options.env = env_.get();
    options.create_if_missing = true;
    options.filter_policy = filter_.get();
    leveldb::DB* raw = nullptr;
    leveldb::Status s = leveldb::DB::Open(options, "/db", &raw);
    ASSERT_TRUE(s.ok()) << s.ToString();
    db_.reset(raw);
  }

  void Put(const std::string& key, const std::string& value) {
    ASSERT_TRUE(db_->Put(leveldb::WriteOptions(), key, value).ok());
  }

  // The database's table files by level, which a compaction changes.
  std::string Tables() {
    std::string tables;
    EXPECT_TRUE(db_->GetProperty("leveldb.sstables", &tables));
    return tables;
  }

  // Waits up to `limit` for the table files to differ from `before`.
  bool TablesChangeWithin(const std::string& before, absl::Duration limit) {
    const absl::Time deadline = absl::Now() + limit;
    while (absl::Now() < deadline) {
      if (Tables() != before) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return Tables() != before;
  }

  std::unique_ptr<leveldb::Env> env_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  std::unique_ptr<leveldb::DB> db_;
};

TEST_F(TwoLevelDb, TxnGetReadsThroughTheGroupAndTheDatabase) {
  Overlay group;
  group[Key(3, 1)] = "staged by an earlier job";
  group[Key(7, 2)] = std::nullopt;  // deleted by an earlier job
  Txn txn(db_.get(), &group, 0);
  txn.Put(Key(5, 1), "staged here");
  auto get = [&](const std::string& key) {
    absl::StatusOr<std::optional<std::string>> got = txn.Get(key);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? *got : std::optional<std::string>("<error>");
  };
  EXPECT_EQ(get(Key(0, 0)), Value(0));
  EXPECT_EQ(get(Key(kKeys - 1, 0)), Value(kKeys - 1));
  EXPECT_EQ(get(Key(14, 2)), Value(14));
  EXPECT_EQ(get(Key(14, 1)), std::nullopt);  // between two keys
  EXPECT_EQ(get(Key(kKeys, 0)), std::nullopt);  // past the last
  EXPECT_EQ(get(""), std::nullopt);               // before the first
  EXPECT_EQ(get(Key(3, 1)), "staged by an earlier job");
  EXPECT_EQ(get(Key(7, 2)), std::nullopt);
  EXPECT_EQ(get(Key(5, 1)), "staged here");
  EXPECT_EQ(get(Key(1, 0)), Value(1));  // the same txn reads on after a staged hit
}

// The control: LevelDB's own Get charges the upper file for each such miss and soon
// compacts it, which is what Txn::Get must not provoke.
TEST_F(TwoLevelDb, MissesThroughDbGetProvokeACompaction) {
  const std::string before = Tables();
  std::string value;
  for (int i = 0; i < kKeys; ++i) {
    EXPECT_TRUE(db_->Get(leveldb::ReadOptions(), Key(i, 1), &value).IsNotFound());
  }
  EXPECT_TRUE(TablesChangeWithin(before, absl::Seconds(30)));
}

TEST_F(TwoLevelDb, MissesThroughTxnGetLeaveTheTablesAlone) {
  const std::string before = Tables();
  const Overlay group;
  for (int i = 0; i < kKeys; ++i) {
    Txn txn(db_.get(), &group, 0);  // one per job, as the committer makes them
    absl::StatusOr<std::optional<std::string>> got = txn.Get(Key(i, 1));
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_FALSE(got->has_value());
  }
  // The control compacts within milliseconds of its last lookup; this waits far longer.
  EXPECT_FALSE(TablesChangeWithin(before, absl::Seconds(1))) << Tables();
}

}  // namespace
}  // namespace kv::storage
