#ifndef KV_STORAGE_TESTING_STORE_FIXTURE_H_
#define KV_STORAGE_TESTING_STORE_FIXTURE_H_

// A Store on an in-memory file system with a simulated clock, reopenable to model
// restarts and crashes, for tests of the storage module and of modules above it.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "leveldb/db.h"
#include "leveldb/env.h"
#include "leveldb/helpers/memenv.h"
#include "storage/store.h"

namespace kv::storage::testing {

inline const absl::Time kTestStart = absl::FromUnixSeconds(1'800'000'000);

// Opens the LevelDB database at `path` on `env` directly, bypassing Store (which must be
// closed), so a test can damage or inspect it. Null, with a test failure, if it fails.
inline std::unique_ptr<leveldb::DB> OpenRawDb(leveldb::Env* env, const std::string& path = "/db",
                                              bool create_if_missing = false) {
  leveldb::Options options;
  options.env = env;
  options.create_if_missing = create_if_missing;
  leveldb::DB* raw = nullptr;
  leveldb::Status s = leveldb::DB::Open(options, path, &raw);
  if (!s.ok()) ADD_FAILURE() << "opening " << path << ": " << s.ToString();
  return std::unique_ptr<leveldb::DB>(raw);
}

class StoreFixture : public ::testing::Test {
 protected:
  StoreFixture() : env_(leveldb::NewMemEnv(leveldb::Env::Default())), clock_(kTestStart) {
    Reopen();
  }

  StoreOptions Options() {
    StoreOptions o;
    o.path = "/db";
    o.env = env_.get();
    o.node_id = "node-a";
    o.inline_value_limit = 16;  // small, so tests exercise chunked values cheaply
    o.blob_chunk_bytes = 64;
    return o;
  }

  // Closes and reopens the store (a clean restart; in-memory files survive).
  void Reopen() {
    store_.reset();
    auto opened = Store::Open(Options(), &clock_, nullptr);
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = std::move(*opened);
  }

  // Creates a namespace and returns its id.
  std::string MakeNamespace(const std::string& title, const std::string& id) {
    CommitResult r = store_->CommitAndWait({Mutation{CreateNamespace{id, title}}});
    EXPECT_TRUE(r.FirstError().ok()) << r.FirstError();
    return id;
  }

  absl::Status Put(const std::string& ns, const std::string& key, const std::string& value,
                   int64_t expiration = 0, std::optional<std::string> metadata = std::nullopt) {
    PutValue put{ns, key, value, std::nullopt, expiration, std::move(metadata)};
    return store_->CommitAndWait({Mutation{std::move(put)}}).FirstError();
  }

  // Puts through the committer thread, as the gRPC Put does (CommitAndWait may commit on
  // the calling thread), and returns what `answered` (run in the put's done callback,
  // on the committing thread, when the writer is answered) returned.
  template <typename T>
  T PutAnswered(const std::string& ns, const std::string& key, const std::string& value,
                absl::AnyInvocable<T(const CommitResult&)> answered) {
    absl::Notification done;
    T seen{};
    std::vector<Mutation> m;
    m.push_back(Mutation{PutValue{ns, key, value, std::nullopt, 0, std::nullopt}});
    store_->Commit(std::move(m), [&](CommitResult r) {
      EXPECT_TRUE(r.FirstError().ok()) << r.FirstError();
      seen = answered(r);
      done.Notify();
    });
    done.WaitForNotification();
    return seen;
  }

  absl::Status Delete(const std::string& ns, const std::string& key) {
    return store_->CommitAndWait({Mutation{DeleteValue{ns, key}}}).FirstError();
  }

  // Returns the value of key as a string (chunks joined), nullopt if absent.
  std::optional<std::string> Value(const std::string& ns, const std::string& key) {
    auto got = store_->Get(ns, key, clock_.Now());
    EXPECT_TRUE(got.ok()) << got.status();
    if (!got.ok() || !got->has_value()) return std::nullopt;
    StoredValue& v = **got;
    if (!v.blob) return v.inline_value;
    std::string out;
    for (uint32_t i = 0; i < v.blob->ref().chunk_count(); ++i) {
      auto chunk = v.blob->ReadChunk(i);
      EXPECT_TRUE(chunk.ok()) << chunk.status();
      if (chunk.ok()) out += *chunk;
    }
    return out;
  }

  std::unique_ptr<leveldb::Env> env_;
  SimulatedClock clock_;
  std::unique_ptr<Store> store_;
};

}  // namespace kv::storage::testing

#endif  // KV_STORAGE_TESTING_STORE_FIXTURE_H_
