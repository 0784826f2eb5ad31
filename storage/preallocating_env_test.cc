#include "storage/preallocating_env.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "leveldb/db.h"
#include "leveldb/write_batch.h"
#include "storage/store.h"

namespace kv::storage {
namespace {

namespace fs = std::filesystem;

constexpr size_t kChunk = 32 << 10;  // one LevelDB log block, the smallest chunk

// The end of the log's data: the records written here end in a non-zero byte.
size_t DataEnd(const std::string& log) {
  const size_t last = log.find_last_not_of('\0');
  return last == std::string::npos ? 0 : last + 1;
}

// Mutation `seq` of a replicated stream, as an edge applies it.
Mutation Replicated(MutationOp op, uint64_t seq) {
  Mutation m{std::move(op)};
  m.sequencing = Sequencing::kReplicated;
  m.seq = seq;
  m.hlc = MakeHlc(1'800'000'000'000 + seq, 0);
  m.origin = "origin";
  return m;
}

class PreallocatingEnvTest : public ::testing::Test {
 protected:
  PreallocatingEnvTest() : env_(leveldb::Env::Default(), kChunk) {
    std::string pattern = ::testing::TempDir() + "/prealloc.XXXXXX";
    dir_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : "";
  }
  ~PreallocatingEnvTest() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  static int64_t SizeOf(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
  }
  static std::string Contents(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }
  // The end of the data of the log at `path` (zero-filled space after it excluded).
  static int64_t DataEndOf(const std::string& path) {
    return static_cast<int64_t>(DataEnd(Contents(path)));
  }
  // Appends a record of 100 `fill` bytes and flushes it, as LevelDB's log writer does.
  static bool AppendRecord(leveldb::WritableFile& file, char fill) {
    return file.Append(std::string(100, fill)).ok() && file.Flush().ok();
  }
  // Opens `path` on `env` as LevelDB opens a log; null, with a failure, if it cannot.
  static std::unique_ptr<leveldb::WritableFile> NewLog(leveldb::Env& env, const std::string& path) {
    leveldb::WritableFile* raw = nullptr;
    const leveldb::Status s = env.NewWritableFile(path, &raw);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return std::unique_ptr<leveldb::WritableFile>(raw);
  }

  PreallocatingEnv env_;
  std::string dir_;
};

TEST_F(PreallocatingEnvTest, ALogGrowsByChunksNotBySyncedWrites) {
  ASSERT_FALSE(dir_.empty());
  const std::string path = dir_ + "/000003.log";
  std::unique_ptr<leveldb::WritableFile> file = NewLog(env_, path);
  ASSERT_NE(file, nullptr);
  std::string expected;
  std::set<int64_t> sizes;
  for (int i = 0; i < 40; ++i) {
    const std::string record = absl::StrCat(std::string(1995, static_cast<char>('a' + i % 26)), i);
    ASSERT_TRUE(file->Append(record).ok());
    ASSERT_TRUE(file->Sync().ok());
    expected += record;
    const int64_t size = SizeOf(path);
    EXPECT_GE(size, static_cast<int64_t>(expected.size()));
    EXPECT_EQ(size % kChunk, 0u) << "after write " << i;
    sizes.insert(size);
  }
  // ~80 KB of data in 32 KiB chunks: the size changed three times, not forty.
  EXPECT_EQ(sizes, (std::set<int64_t>{kChunk, 2 * kChunk, 3 * kChunk}));
  const std::string on_disk = Contents(path);
  EXPECT_EQ(on_disk.substr(0, expected.size()), expected);
  EXPECT_EQ(on_disk.substr(expected.size()), std::string(on_disk.size() - expected.size(), '\0'));

  ASSERT_TRUE(file->Close().ok());
  EXPECT_EQ(Contents(path), expected);  // the zeros are gone
  EXPECT_TRUE(file->Close().ok());      // a second Close() is harmless
  EXPECT_FALSE(file->Append("late").ok());
}

// A replica writes its log without syncing: nothing to gain, so it stays a plain append.
TEST_F(PreallocatingEnvTest, ALogNeverSyncedIsAPlainAppend) {
  ASSERT_FALSE(dir_.empty());
  const std::string path = dir_ + "/000005.log";
  std::unique_ptr<leveldb::WritableFile> file = NewLog(env_, path);
  ASSERT_NE(file, nullptr);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(AppendRecord(*file, 'r'));
    EXPECT_EQ(SizeOf(path), 100 * (i + 1));
  }
}

// A replica's log with hold_unsynced: LevelDB's flush after each record writes nothing
// until 64 KiB have gathered; a sync or a close writes the rest.
TEST_F(PreallocatingEnvTest, AHoldingLogWritesWhenItsBufferFillsOrOnSyncOrClose) {
  ASSERT_FALSE(dir_.empty());
  PreallocatingEnv holding(leveldb::Env::Default(), kChunk, /*hold_unsynced=*/true,
                           /*max_hold=*/std::chrono::hours(1));
  const std::string path = dir_ + "/000007.log";
  std::unique_ptr<leveldb::WritableFile> file = NewLog(holding, path);
  ASSERT_NE(file, nullptr);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(AppendRecord(*file, 'r'));
    EXPECT_EQ(SizeOf(path), 0) << "record " << i;
  }
  // Past 64 KiB the buffer goes out whole, records held so far included.
  ASSERT_TRUE(file->Append(std::string(64 << 10, 'f')).ok());
  EXPECT_EQ(SizeOf(path), 1000 + (64 << 10));
  ASSERT_TRUE(AppendRecord(*file, 't'));
  EXPECT_EQ(SizeOf(path), 1000 + (64 << 10));
  ASSERT_TRUE(file->Close().ok());
  const std::string contents = Contents(path);
  ASSERT_EQ(contents.size(), 1100 + (64 << 10));
  EXPECT_EQ(contents.substr(contents.size() - 100), std::string(100, 't'));

  // A sync writes whatever is held with the synced record; later ones are held again.
  const std::string synced = dir_ + "/000008.log";
  file = NewLog(holding, synced);
  ASSERT_NE(file, nullptr);
  ASSERT_TRUE(AppendRecord(*file, 'u'));
  ASSERT_TRUE(file->Append(std::string(100, 's')).ok());
  ASSERT_TRUE(file->Sync().ok());
  EXPECT_EQ(DataEndOf(synced), 200);
  ASSERT_TRUE(AppendRecord(*file, 'a'));
  EXPECT_EQ(DataEndOf(synced), 200);
  ASSERT_TRUE(file->Close().ok());
  EXPECT_EQ(SizeOf(synced), 300);
}

// A trickle of records: the flush of a record writes what is held once the oldest held
// record is max_hold old, never before.
TEST_F(PreallocatingEnvTest, AHoldingLogWritesRecordsHeldLongerThanItsMaxHold) {
  ASSERT_FALSE(dir_.empty());
  constexpr auto kMaxHold = std::chrono::milliseconds(20);
  PreallocatingEnv holding(leveldb::Env::Default(), kChunk, /*hold_unsynced=*/true, kMaxHold);
  const std::string path = dir_ + "/000009.log";
  std::unique_ptr<leveldb::WritableFile> file = NewLog(holding, path);
  ASSERT_NE(file, nullptr);
  const auto first = std::chrono::steady_clock::now();
  int records = 0;
  while (SizeOf(path) == 0 && std::chrono::steady_clock::now() - first < std::chrono::seconds(10)) {
    ASSERT_TRUE(AppendRecord(*file, 'r'));
    ++records;
    const auto flushed = std::chrono::steady_clock::now();  // after the flush's own reading
    if (SizeOf(path) != 0) {
      EXPECT_GE(flushed - first, kMaxHold) << "written before the oldest record was 20 ms old";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the trickle's pace
  }
  EXPECT_LT(100 * records, 64 << 10) << "written when its buffer filled, not by age";
  EXPECT_EQ(SizeOf(path), 100 * records) << "every held record, written at once";
  // The clock starts again with the next record.
  const auto appended = std::chrono::steady_clock::now();
  ASSERT_TRUE(AppendRecord(*file, 's'));
  if (std::chrono::steady_clock::now() - appended < kMaxHold) {
    EXPECT_EQ(SizeOf(path), 100 * records);
  }
  ASSERT_TRUE(file->Close().ok());
}

TEST_F(PreallocatingEnvTest, AWriteLargerThanAChunkLandsWhole) {
  ASSERT_FALSE(dir_.empty());
  const std::string path = dir_ + "/000004.log";
  std::unique_ptr<leveldb::WritableFile> file = NewLog(env_, path);
  ASSERT_NE(file, nullptr);
  const std::string big(3 * kChunk + 17, 'z');
  ASSERT_TRUE(file->Append("head").ok());
  ASSERT_TRUE(file->Sync().ok());
  EXPECT_EQ(SizeOf(path), static_cast<int64_t>(kChunk));
  ASSERT_TRUE(file->Append(big).ok());
  ASSERT_TRUE(file->Flush().ok());
  EXPECT_EQ(SizeOf(path), static_cast<int64_t>(4 * kChunk));
  file.reset();  // deleted without Close(), as LevelDB may: it still closes and trims
  EXPECT_EQ(Contents(path), "head" + big);
}

TEST_F(PreallocatingEnvTest, OtherFilesAreWrittenAsTheWrappedEnvWritesThem) {
  ASSERT_FALSE(dir_.empty());
  const std::string path = dir_ + "/MANIFEST-000001";
  std::unique_ptr<leveldb::WritableFile> file = NewLog(env_, path);
  ASSERT_NE(file, nullptr);
  ASSERT_TRUE(file->Append("abc").ok());
  ASSERT_TRUE(file->Sync().ok());
  EXPECT_EQ(SizeOf(path), 3);
}

TEST_F(PreallocatingEnvTest, LogsAreNotReopenedForAppendingOtherFilesAre) {
  ASSERT_FALSE(dir_.empty());
  leveldb::WritableFile* raw = nullptr;
  EXPECT_TRUE(env_.NewAppendableFile(dir_ + "/000007.log", &raw).IsNotSupportedError());
  EXPECT_EQ(raw, nullptr);
  ASSERT_TRUE(env_.NewAppendableFile(dir_ + "/LOG.old", &raw).ok());
  delete raw;
}

TEST_F(PreallocatingEnvTest, ACreateFailureNamesTheFile) {
  leveldb::WritableFile* raw = nullptr;
  const leveldb::Status s = env_.NewWritableFile("/nonexistent-dir/000001.log", &raw);
  EXPECT_TRUE(s.IsIOError());
  EXPECT_NE(s.ToString().find("/nonexistent-dir/000001.log"), std::string::npos) << s.ToString();
  EXPECT_EQ(raw, nullptr);
}

// A database on PreallocatingEnv at dir_/live holding `writes` synced puts, and a copy
// of its files taken while it is open (the files as the kernel holds them after the
// process dies) at dir_/crashed.
class CrashedDatabaseTest : public PreallocatingEnvTest {
 protected:
  // `env` defaults to env_; `synced` off writes the puts as a replica does.
  void OpenLive(int writes, leveldb::Env* env = nullptr, bool synced = true) {
    ASSERT_FALSE(dir_.empty());
    leveldb::Options options;
    options.env = env != nullptr ? env : &env_;
    options.create_if_missing = true;
    leveldb::DB* raw = nullptr;
    ASSERT_TRUE(leveldb::DB::Open(options, live_, &raw).ok());
    live_db_.reset(raw);
    for (int i = 0; i < writes; ++i) {
      ASSERT_TRUE(live_db_
                      ->Put(synced ? Synced() : leveldb::WriteOptions(), absl::StrCat("key", i),
                            std::string(100, 'v'))
                      .ok());
    }
  }

  static leveldb::WriteOptions Synced() {
    leveldb::WriteOptions synced;
    synced.sync = true;
    return synced;
  }

  // The live database's log file name.
  std::string LogName() const {
    for (const fs::directory_entry& e : fs::directory_iterator(live_)) {
      if (e.path().extension() == ".log") return e.path().filename();
    }
    return "";
  }

  void CopyLiveToCrashed() {
    fs::create_directory(crashed_);
    for (const fs::directory_entry& e : fs::directory_iterator(live_)) {
      if (e.path().filename() != "LOCK")
        fs::copy_file(e.path(), fs::path(crashed_) / e.path().filename());
    }
  }

  // Opens the copy with plain LevelDB (recovery needs no help from PreallocatingEnv) and
  // counts the puts of OpenLive it holds; -1 if it does not open.
  int RecoveredPuts(int writes, bool paranoid_checks) {
    leveldb::Options plain;
    plain.paranoid_checks = paranoid_checks;  // on: a reported corruption fails the open
    leveldb::DB* raw = nullptr;
    const leveldb::Status opened = leveldb::DB::Open(plain, crashed_, &raw);
    EXPECT_TRUE(opened.ok()) << opened.ToString();
    if (!opened.ok()) return -1;
    recovered_.reset(raw);
    int found = 0;
    for (int i = 0; i < writes; ++i) {
      std::string value;
      if (recovered_->Get(leveldb::ReadOptions(), absl::StrCat("key", i), &value).ok()) ++found;
    }
    return found;
  }

  const std::string live_ = dir_ + "/live";
  const std::string crashed_ = dir_ + "/crashed";
  std::unique_ptr<leveldb::DB> live_db_;
  std::unique_ptr<leveldb::DB> recovered_;
};

// A crash leaves the zeros at the tail of the live log: recovery does not even report it.
TEST_F(CrashedDatabaseTest, RecoversEverySyncedWriteWithZerosAtTheLogTail) {
  constexpr int kWrites = 300;  // ~40 KB of log: more than one chunk
  OpenLive(kWrites);
  CopyLiveToCrashed();
  const std::string log = Contents(crashed_ + "/" + LogName());
  EXPECT_TRUE(!log.empty() && log.back() == '\0') << "the live log should end in zeros";
  EXPECT_EQ(RecoveredPuts(kWrites, /*paranoid_checks=*/true), kWrites);
}

// A killed replica holding unsynced records: its log on disk ends wherever the last full
// buffer ended, possibly inside a record. Recovery keeps a prefix of the writes, with at
// most the last 64 KiB of them missing (pulled again from the origin by a replica).
TEST_F(CrashedDatabaseTest, AHoldingLogLosesOnlyItsUnwrittenTailOnACrash) {
  constexpr int kWrites = 1500;  // ~190 KB of log records: the buffer filled twice
  // No write by age: the tail is held however slowly the writes go.
  PreallocatingEnv holding(leveldb::Env::Default(), kChunk, /*hold_unsynced=*/true,
                           /*max_hold=*/std::chrono::hours(1));
  OpenLive(kWrites, &holding, /*synced=*/false);
  CopyLiveToCrashed();
  const int recovered = RecoveredPuts(kWrites, /*paranoid_checks=*/false);
  ASSERT_NE(recovered_, nullptr);
  constexpr int kRecordBytes = 100 + 6 + 1 + 12 + 7;  // value, key, batch and log headers
  EXPECT_LT(recovered, kWrites);
  EXPECT_GE(recovered, kWrites - (64 << 10) / (kRecordBytes - 10));
  // A prefix: every write before the first missing one is there, none after it.
  for (int i = 0; i < kWrites; ++i) {
    std::string value;
    EXPECT_EQ(recovered_->Get(leveldb::ReadOptions(), absl::StrCat("key", i), &value).ok(),
              i < recovered)
        << "key" << i;
  }
  // Closed cleanly (a SIGTERM), the same log loses nothing.
  live_db_.reset();
  recovered_.reset();
  fs::remove_all(crashed_);
  CopyLiveToCrashed();
  EXPECT_EQ(RecoveredPuts(kWrites, /*paranoid_checks=*/false), kWrites);
}

// An edge's store that went quiet writes out the records it held: killed after that, it
// loses none of them. An origin's store (every commit synced) has nothing to write.
TEST_F(CrashedDatabaseTest, AHoldingStoreWritesItsRecordsOnceQuiet) {
  ASSERT_FALSE(dir_.empty());
  const std::string ns = "0000000000000000000000000000000a";
  SimulatedClock clock(absl::FromUnixSeconds(1'800'000'000));
  StoreOptions options;
  options.path = live_;
  options.node_id = "edge-1";
  options.log_writes = StoreOptions::LogWrites::kHeld;
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options, &clock, nullptr);
  ASSERT_TRUE(store.ok()) << store.status();
  const int64_t opened_end = DataEndOf(live_ + "/" + LogName());
  // A record older than the log's max_hold (1 s) is written at the next commit: the
  // checks that records are held apply when the commits took less than that.
  auto quick = [start = std::chrono::steady_clock::now()]() mutable {
    const bool was = std::chrono::steady_clock::now() - start < std::chrono::milliseconds(900);
    start = std::chrono::steady_clock::now();
    return was;
  };
  auto sync_if_quiet = [](Store& s) {
    absl::StatusOr<bool> synced = s.SyncHeldLogIfQuiet();
    EXPECT_TRUE(synced.ok()) << synced.status();
    return synced.ok() && *synced;
  };
  auto put = [&](int i) {
    PutValue value{ns, absl::StrCat("k", i), std::string(100, 'v'), std::nullopt, 0, std::nullopt};
    ASSERT_TRUE((*store)->CommitAndWait({Replicated(std::move(value), i + 2)}).FirstError().ok());
  };
  ASSERT_TRUE(
      (*store)
          ->CommitAndWait({Replicated(PutNamespaceRecord{ns, {1, "origin", false, "t"}}, 1)})
          .FirstError()
          .ok());
  constexpr int kPuts = 50;
  for (int i = 0; i < kPuts; ++i) put(i);
  const int64_t held_end = DataEndOf(live_ + "/" + LogName());
  if (quick()) EXPECT_EQ(held_end, opened_end) << "the commits' records are held";
  EXPECT_FALSE(sync_if_quiet(**store)) << "commits since the previous call: not quiet";
  EXPECT_EQ(DataEndOf(live_ + "/" + LogName()), held_end);
  EXPECT_TRUE(sync_if_quiet(**store));
  const int64_t synced_end = DataEndOf(live_ + "/" + LogName());
  EXPECT_GT(synced_end, held_end);
  EXPECT_FALSE(sync_if_quiet(**store)) << "the last commit is synced: nothing is held";

  // The files as a kill leaves them, reopened as a store: every put is there.
  CopyLiveToCrashed();
  StoreOptions crashed = options;
  crashed.path = crashed_;
  {
    absl::StatusOr<std::unique_ptr<Store>> reopened = Store::Open(crashed, &clock, nullptr);
    ASSERT_TRUE(reopened.ok()) << reopened.status();
    EXPECT_EQ((*reopened)->AppliedSequence(), static_cast<uint64_t>(kPuts + 1));
    for (int i = 0; i < kPuts; ++i) {
      absl::StatusOr<std::optional<StoredValue>> got =
          (*reopened)->Get(ns, absl::StrCat("k", i), clock.Now());
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_TRUE(got->has_value()) << "k" << i;
    }
  }

  // One more commit: held again until a call finds the store quiet.
  quick();
  put(kPuts);
  EXPECT_FALSE(sync_if_quiet(**store));
  if (quick()) EXPECT_EQ(DataEndOf(live_ + "/" + LogName()), synced_end);
  EXPECT_TRUE(sync_if_quiet(**store));
  EXPECT_GT(DataEndOf(live_ + "/" + LogName()), synced_end);

  // An origin's store syncs every commit it makes: nothing to write, however quiet.
  StoreOptions origin = options;
  origin.path = dir_ + "/origin";
  origin.log_writes = StoreOptions::LogWrites::kPreallocated;
  absl::StatusOr<std::unique_ptr<Store>> synced_store = Store::Open(origin, &clock, nullptr);
  ASSERT_TRUE(synced_store.ok()) << synced_store.status();
  ASSERT_TRUE(
      (*synced_store)->CommitAndWait({Mutation{CreateNamespace{ns, "t"}}}).FirstError().ok());
  EXPECT_FALSE(sync_if_quiet(**synced_store));
  EXPECT_FALSE(sync_if_quiet(**synced_store));
}

// A crash that cuts the last record short (the part that reached the file, then zeros):
// opened with paranoid checks off, as Store opens, every earlier record is kept.
TEST_F(CrashedDatabaseTest, DropsARecordCutShortAndKeepsEveryEarlierOne) {
  constexpr int kWrites = 200;
  OpenLive(kWrites);
  const std::string log_name = LogName();
  ASSERT_FALSE(log_name.empty());
  const size_t before = DataEnd(Contents(live_ + "/" + log_name));
  // The last record spans several log blocks (fragments).
  ASSERT_TRUE(live_db_->Put(Synced(), "last", std::string(80 << 10, 'w')).ok());
  CopyLiveToCrashed();
  std::string log = Contents(crashed_ + "/" + log_name);
  const size_t after = DataEnd(log);
  ASSERT_GT(after, before + (80 << 10));
  const size_t cut = before + (after - before) / 2;  // half the record reached the disk
  std::fill(log.begin() + static_cast<std::ptrdiff_t>(cut), log.end(), '\0');
  std::ofstream(crashed_ + "/" + log_name, std::ios::binary | std::ios::trunc) << log;

  EXPECT_EQ(RecoveredPuts(kWrites, /*paranoid_checks=*/false), kWrites);
  std::string value;
  ASSERT_NE(recovered_, nullptr);
  EXPECT_TRUE(recovered_->Get(leveldb::ReadOptions(), "last", &value).IsNotFound());
}

// The store on the real file system: an origin's log (synced commits) is preallocated,
// a plain one is LevelDB's own, an edge's (kHeld) holds its records until closed; all
// reopen with every write.
TEST_F(PreallocatingEnvTest, TheStorePreallocatesItsLogOnlyWhenAskedAndReopensWhole) {
  ASSERT_FALSE(dir_.empty());
  const std::string ns = "0000000000000000000000000000000a";
  SimulatedClock clock(absl::FromUnixSeconds(1'800'000'000));
  using Mode = StoreOptions::LogWrites;
  for (const Mode mode : {Mode::kPreallocated, Mode::kPlain, Mode::kHeld}) {
    const bool preallocate = mode == Mode::kPreallocated;
    SCOPED_TRACE(static_cast<int>(mode));
    StoreOptions options;
    options.path = absl::StrCat(dir_, "/store-", static_cast<int>(mode));
    options.node_id = "origin";
    options.log_writes = mode;
    {
      absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options, &clock, nullptr);
      ASSERT_TRUE(store.ok()) << store.status();
      // The log's data on disk (the open wrote and synced the store's first records).
      auto log_data_end = [&] {
        int64_t end = -1;
        for (const fs::directory_entry& e : fs::directory_iterator(options.path)) {
          if (e.path().extension() == ".log") end = DataEndOf(e.path());
        }
        return end;
      };
      const int64_t opened_end = log_data_end();
      const auto started = std::chrono::steady_clock::now();
      if (mode == Mode::kHeld) {
        // As an edge applies its stream: replicated, unsynced commits.
        ASSERT_TRUE(
            (*store)
                ->CommitAndWait({Replicated(PutNamespaceRecord{ns, {1, "origin", false, "t"}}, 1)})
                .FirstError()
                .ok());
        for (int i = 0; i < 50; ++i) {
          PutValue put{ns, absl::StrCat("k", i), std::string(100, 'v'), std::nullopt,
                       0,  std::nullopt};
          ASSERT_TRUE(
              (*store)->CommitAndWait({Replicated(std::move(put), i + 2)}).FirstError().ok());
        }
      } else {
        ASSERT_TRUE(
            (*store)->CommitAndWait({Mutation{CreateNamespace{ns, "t"}}}).FirstError().ok());
        for (int i = 0; i < 50; ++i) {
          PutValue put{ns, absl::StrCat("k", i), std::string(100, 'v'), std::nullopt,
                       0,  std::nullopt};
          ASSERT_TRUE((*store)->CommitAndWait({Mutation{std::move(put)}}).FirstError().ok());
        }
      }
      int64_t log_size = -1;
      for (const fs::directory_entry& e : fs::directory_iterator(options.path)) {
        if (e.path().extension() == ".log") log_size = SizeOf(e.path());
      }
      if (mode == Mode::kHeld) {
        // Unless the commits took longer than the log's max_hold (1 s): then it wrote them.
        if (std::chrono::steady_clock::now() - started < std::chrono::milliseconds(900)) {
          EXPECT_EQ(log_data_end(), opened_end) << "the records are held until 64 KiB or the close";
        }
        EXPECT_EQ(log_size, log_data_end()) << "a holding log is not zero-filled ahead";
      } else {
        EXPECT_GT(log_data_end(), opened_end);
        ASSERT_GT(log_size, 0);
        EXPECT_EQ(log_size % static_cast<int64_t>(PreallocatingEnv::kDefaultChunkBytes) == 0,
                  preallocate)
            << "log size " << log_size;
      }
    }
    absl::StatusOr<std::unique_ptr<Store>> reopened = Store::Open(options, &clock, nullptr);
    ASSERT_TRUE(reopened.ok()) << reopened.status();
    for (int i = 0; i < 50; ++i) {
      absl::StatusOr<std::optional<StoredValue>> got =
          (*reopened)->Get(ns, absl::StrCat("k", i), clock.Now());
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_TRUE(got->has_value()) << "k" << i;
    }
  }
}

}  // namespace
}  // namespace kv::storage
