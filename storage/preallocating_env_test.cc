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

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "leveldb/db.h"
#include "leveldb/write_batch.h"
#include "storage/store.h"

namespace kv::storage {
namespace {

namespace fs = std::filesystem;

constexpr size_t kChunk = 32 << 10;  // one LevelDB log block, the smallest chunk

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

  PreallocatingEnv env_;
  std::string dir_;
};

TEST_F(PreallocatingEnvTest, ALogGrowsByChunksNotBySyncedWrites) {
  ASSERT_FALSE(dir_.empty());
  const std::string path = dir_ + "/000003.log";
  leveldb::WritableFile* raw = nullptr;
  ASSERT_TRUE(env_.NewWritableFile(path, &raw).ok());
  std::unique_ptr<leveldb::WritableFile> file(raw);
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
  leveldb::WritableFile* raw = nullptr;
  ASSERT_TRUE(env_.NewWritableFile(path, &raw).ok());
  std::unique_ptr<leveldb::WritableFile> file(raw);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(file->Append(std::string(100, 'r')).ok());
    ASSERT_TRUE(file->Flush().ok());
    EXPECT_EQ(SizeOf(path), 100 * (i + 1));
  }
}

TEST_F(PreallocatingEnvTest, AWriteLargerThanAChunkLandsWhole) {
  ASSERT_FALSE(dir_.empty());
  const std::string path = dir_ + "/000004.log";
  leveldb::WritableFile* raw = nullptr;
  ASSERT_TRUE(env_.NewWritableFile(path, &raw).ok());
  std::unique_ptr<leveldb::WritableFile> file(raw);
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
  leveldb::WritableFile* raw = nullptr;
  ASSERT_TRUE(env_.NewWritableFile(path, &raw).ok());
  std::unique_ptr<leveldb::WritableFile> file(raw);
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

// The end of the log's data: the records written here end in a non-zero byte.
size_t DataEnd(const std::string& log) {
  const size_t last = log.find_last_not_of('\0');
  return last == std::string::npos ? 0 : last + 1;
}

// A database on PreallocatingEnv at dir_/live holding `writes` synced puts, and a copy
// of its files taken while it is open (the files as the kernel holds them after the
// process dies) at dir_/crashed.
class CrashedDatabaseTest : public PreallocatingEnvTest {
 protected:
  void OpenLive(int writes) {
    ASSERT_FALSE(dir_.empty());
    leveldb::Options options;
    options.env = &env_;
    options.create_if_missing = true;
    leveldb::DB* raw = nullptr;
    ASSERT_TRUE(leveldb::DB::Open(options, live_, &raw).ok());
    live_db_.reset(raw);
    for (int i = 0; i < writes; ++i) {
      ASSERT_TRUE(live_db_->Put(Synced(), absl::StrCat("key", i), std::string(100, 'v')).ok());
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
      if (e.path().filename() != "LOCK") fs::copy_file(e.path(), fs::path(crashed_) / e.path().filename());
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
// an edge's (preallocate_log off) is LevelDB's own; both reopen with every write.
TEST_F(PreallocatingEnvTest, TheStorePreallocatesItsLogOnlyWhenAskedAndReopensWhole) {
  ASSERT_FALSE(dir_.empty());
  const std::string ns = "0000000000000000000000000000000a";
  SimulatedClock clock(absl::FromUnixSeconds(1'800'000'000));
  for (const bool preallocate : {true, false}) {
    SCOPED_TRACE(preallocate ? "preallocated" : "plain");
    StoreOptions options;
    options.path = absl::StrCat(dir_, "/store-", preallocate);
    options.node_id = "origin";
    options.preallocate_log = preallocate;
    {
      absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options, &clock, nullptr);
      ASSERT_TRUE(store.ok()) << store.status();
      ASSERT_TRUE((*store)->CommitAndWait({Mutation{CreateNamespace{ns, "t"}}}).FirstError().ok());
      for (int i = 0; i < 50; ++i) {
        PutValue put{ns, absl::StrCat("k", i), std::string(100, 'v'), std::nullopt, 0, std::nullopt};
        ASSERT_TRUE((*store)->CommitAndWait({Mutation{std::move(put)}}).FirstError().ok());
      }
      int64_t log_size = -1;
      for (const fs::directory_entry& e : fs::directory_iterator(options.path)) {
        if (e.path().extension() == ".log") log_size = SizeOf(e.path());
      }
      ASSERT_GT(log_size, 0);
      EXPECT_EQ(log_size % static_cast<int64_t>(PreallocatingEnv::kDefaultChunkBytes) == 0,
                preallocate)
          << "log size " << log_size;
    }
    absl::StatusOr<std::unique_ptr<Store>> reopened = Store::Open(options, &clock, nullptr);
    ASSERT_TRUE(reopened.ok()) << reopened.status();
    for (int i = 0; i < 50; ++i) {
      absl::StatusOr<std::optional<StoredValue>> got = (*reopened)->Get(ns, absl::StrCat("k", i), clock.Now());
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_TRUE(got->has_value()) << "k" << i;
    }
  }
}

}  // namespace
}  // namespace kv::storage
