#include "tools/kv_bench/bench_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "client/mocks/mock_connection.h"

namespace kv::bench {
namespace {

using ::testing::_;
using ::testing::AnyNumber;
using ::testing::HasSubstr;
using ::testing::Invoke;
using ::testing::NiceMock;
using ::testing::Return;

constexpr char kNs[] = "0123456789abcdef0123456789abcdef";

class BenchRunnerTest : public ::testing::Test {
 protected:
  BenchRunnerTest() {
    ON_CALL(*mock_, ListNamespaces())
        .WillByDefault(Return(std::vector<Namespace>{{kNs, kNamespaceTitle}}));
    ON_CALL(*mock_, List(_, _)).WillByDefault(Return(ListResult{}));
    ON_CALL(*mock_, BulkPut(_, _))
        .WillByDefault(Invoke([](const std::string&, const std::vector<BulkPutItem>& items) {
          return BulkPutResult{.successful_key_count = static_cast<int64_t>(items.size())};
        }));
    ON_CALL(*mock_, Put(_, _, _, _)).WillByDefault(Return(absl::OkStatus()));
    ON_CALL(*mock_, Get(_, _, _, _))
        .WillByDefault(Return(std::optional<ValueWithMetadata>(ValueWithMetadata{.value = "v"})));
  }

  BenchRunner MakeRunner(const BenchOptions& options, int channels = 2) {
    EXPECT_TRUE(ValidateOptions(options).ok()) << ValidateOptions(options);
    std::vector<Client> clients(static_cast<size_t>(channels), Client(mock_));
    return BenchRunner(options, Client(mock_), clients);
  }

  std::shared_ptr<NiceMock<testing::MockConnection>> mock_ =
      std::make_shared<NiceMock<testing::MockConnection>>();
};

TEST_F(BenchRunnerTest, UnreachableNodeFailsPrepareClearly) {
  EXPECT_CALL(*mock_, ListNamespaces())
      .WillOnce(Return(absl::UnavailableError("failed to connect to all addresses")));
  EXPECT_CALL(*mock_, BulkPut(_, _)).Times(0);
  BenchOptions o;
  o.endpoint = "127.0.0.1:1";
  BenchRunner runner = MakeRunner(o);
  absl::Status s = runner.Prepare();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), HasSubstr("cannot reach node at 127.0.0.1:1"));
  EXPECT_EQ(runner.Run().status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(BenchRunnerTest, UnknownNamespaceIdFailsPrepare) {
  EXPECT_CALL(*mock_, List(kNs, _)).WillOnce(Return(absl::NotFoundError("namespace not found")));
  BenchOptions o;
  o.namespace_id = kNs;
  EXPECT_EQ(MakeRunner(o).Prepare().code(), absl::StatusCode::kNotFound);
}

TEST_F(BenchRunnerTest, ReusesNamespaceByTitle) {
  EXPECT_CALL(*mock_, CreateNamespace(_)).Times(0);
  BenchOptions o;
  o.keys = 10;
  BenchRunner runner = MakeRunner(o);
  ASSERT_TRUE(runner.Prepare().ok());
  EXPECT_EQ(runner.namespace_id(), kNs);
}

TEST_F(BenchRunnerTest, CreatesNamespaceWhenMissing) {
  ON_CALL(*mock_, ListNamespaces())
      .WillByDefault(Return(std::vector<Namespace>{{"ffffffffffffffffffffffffffffffff", "other"}}));
  EXPECT_CALL(*mock_, CreateNamespace(kNamespaceTitle))
      .WillOnce(Return(Namespace{kNs, kNamespaceTitle}));
  BenchOptions o;
  o.mode = Mode::kPut;
  BenchRunner runner = MakeRunner(o);
  ASSERT_TRUE(runner.Prepare().ok());
  EXPECT_EQ(runner.namespace_id(), kNs);
}

TEST_F(BenchRunnerTest, PreloadWritesEveryKeyOnceWithinLimits) {
  absl::Mutex mu;
  std::set<std::string> written;
  int64_t calls = 0;
  EXPECT_CALL(*mock_, BulkPut(kNs, _))
      .WillRepeatedly(Invoke([&](const std::string&, const std::vector<BulkPutItem>& items) {
        absl::MutexLock lock(&mu);
        ++calls;
        EXPECT_LE(items.size(), 10000u);
        for (const BulkPutItem& item : items) {
          EXPECT_EQ(item.value.size(), 100u);
          EXPECT_TRUE(written.insert(item.key).second) << item.key;
        }
        return BulkPutResult{.successful_key_count = static_cast<int64_t>(items.size())};
      }));
  BenchOptions o;
  o.keys = 25000;
  o.key_prefix = "p/";
  std::vector<std::pair<int64_t, int64_t>> progress;
  ASSERT_TRUE(MakeRunner(o)
                  .Prepare([&](int64_t done, int64_t total) { progress.emplace_back(done, total); })
                  .ok());
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(written.size(), 25000u);
  EXPECT_EQ(*written.begin(), "p/00000");
  EXPECT_EQ(*written.rbegin(), "p/24999");
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), std::make_pair(int64_t{25000}, int64_t{25000}));
}

TEST_F(BenchRunnerTest, RejectedPreloadKeyFailsPrepare) {
  ON_CALL(*mock_, BulkPut(_, _))
      .WillByDefault(Return(BulkPutResult{.unsuccessful_keys = {{"k", "too big"}}}));
  BenchOptions o;
  o.keys = 5;
  absl::Status s = MakeRunner(o).Prepare();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("too big"));
}

TEST_F(BenchRunnerTest, PutModeDoesNotPreload) {
  EXPECT_CALL(*mock_, BulkPut(_, _)).Times(0);
  BenchOptions o;
  o.mode = Mode::kPut;
  EXPECT_TRUE(MakeRunner(o).Prepare().ok());
}

TEST_F(BenchRunnerTest, RequestsStopAfterExactlyThatManyOperations) {
  std::atomic<int> puts{0};
  EXPECT_CALL(*mock_, Put(kNs, _, _, _))
      .WillRepeatedly(Invoke([&](const std::string&, const std::string& key,
                                 const std::string& value, const PutOptions&) {
        EXPECT_EQ(value.size(), 1000u);
        EXPECT_TRUE(key == "k0" || key == "k1" || key == "k2") << key;
        // Every third put fails, to check errors are counted and not timed.
        return ++puts % 3 == 0 ? absl::UnavailableError("overloaded") : absl::OkStatus();
      }));
  BenchOptions o;
  o.mode = Mode::kPut;
  o.concurrency = 8;
  o.keys = 3;
  o.key_prefix = "k";
  o.value_size = 1000;
  o.requests = 99;
  BenchRunner runner = MakeRunner(o);
  ASSERT_TRUE(runner.Prepare().ok());
  absl::StatusOr<BenchResult> r = runner.Run();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(puts.load(), 99);
  EXPECT_EQ(r->ops, 66);
  EXPECT_EQ(r->errors, 33);
  EXPECT_EQ(r->errors_by_code.at("UNAVAILABLE"), 33);
  EXPECT_THAT(r->first_error, HasSubstr("overloaded"));
  EXPECT_EQ(r->latency.count, 66);
  EXPECT_EQ(r->value_bytes, 66 * 1000);
  EXPECT_EQ(r->by_op.count("put"), 1u);
  EXPECT_EQ(r->by_op.count("get"), 0u);
}

TEST_F(BenchRunnerTest, WarmupOperationsAreNotMeasured) {
  std::atomic<int> gets{0};
  ON_CALL(*mock_, Get(_, _, _, _)).WillByDefault(Invoke([&](auto&&...) {
    ++gets;
    return std::optional<ValueWithMetadata>(ValueWithMetadata{.value = "abc"});
  }));
  BenchOptions o;
  o.concurrency = 2;
  o.keys = 10;
  o.requests = 10;
  o.warmup = absl::Milliseconds(50);
  BenchRunner runner = MakeRunner(o);
  ASSERT_TRUE(runner.Prepare().ok());
  absl::StatusOr<BenchResult> r = runner.Run();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ops, 10);
  EXPECT_GT(gets.load(), 10);  // the mock answers instantly: 50 ms of warmup is many calls
  EXPECT_EQ(r->value_bytes, 30);
}

TEST_F(BenchRunnerTest, CallStalledAcrossTheWarmupEndIsMeasured) {
  // The one worker's first call starts during the 200 ms warmup and returns at ~400 ms,
  // after the 1 ms measuring window: it must be the one measured operation, not vanish.
  std::atomic<int> gets{0};
  ON_CALL(*mock_, Get(_, _, _, _)).WillByDefault(Invoke([&](auto&&...) {
    if (gets++ == 0) absl::SleepFor(absl::Milliseconds(400));
    return std::optional<ValueWithMetadata>(ValueWithMetadata{.value = "v"});
  }));
  BenchOptions o;
  o.concurrency = 1;
  o.keys = 4;
  o.warmup = absl::Milliseconds(200);
  o.duration = absl::Milliseconds(1);
  BenchRunner runner = MakeRunner(o, 1);
  ASSERT_TRUE(runner.Prepare().ok());
  absl::StatusOr<BenchResult> r = runner.Run();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(gets.load(), 1);
  EXPECT_EQ(r->ops, 1);
  EXPECT_GE(r->latency.max_us, 400000);
  EXPECT_GE(r->elapsed, absl::Milliseconds(150));  // until the stalled call returned
}

TEST_F(BenchRunnerTest, DurationRunCountsMissesAndMeasuresAtLeastTheDuration) {
  ON_CALL(*mock_, Get(_, _, _, _)).WillByDefault(Return(std::optional<ValueWithMetadata>()));
  BenchOptions o;
  o.concurrency = 3;
  o.keys = 10;
  o.duration = absl::Milliseconds(30);
  BenchRunner runner = MakeRunner(o, 1);
  ASSERT_TRUE(runner.Prepare().ok());
  absl::StatusOr<BenchResult> r = runner.Run();
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->ops, 0);
  EXPECT_EQ(r->misses, r->ops);
  EXPECT_EQ(r->value_bytes, 0);
  EXPECT_GE(r->elapsed, absl::Milliseconds(30));
  EXPECT_EQ(r->channels, 1);
}

TEST_F(BenchRunnerTest, ListFollowsCursorsAndStartsOverWhenComplete) {
  absl::Mutex mu;
  std::vector<std::string> cursors;
  EXPECT_CALL(*mock_, List(kNs, _))
      .WillRepeatedly(Invoke([&](const std::string&, const ListOptions& opts) {
        absl::MutexLock lock(&mu);
        if (opts.limit == 1) return absl::StatusOr<ListResult>(ListResult{});  // priming
        EXPECT_EQ(opts.prefix, "l/");
        EXPECT_EQ(opts.limit, 7);
        cursors.push_back(opts.cursor);
        ListResult page;
        page.keys.resize(7);
        page.list_complete = opts.cursor == "c1";
        if (!page.list_complete) page.cursor = "c1";
        return absl::StatusOr<ListResult>(page);
      }));
  BenchOptions o;
  o.mode = Mode::kList;
  o.concurrency = 1;
  o.keys = 14;
  o.key_prefix = "l/";
  o.list_limit = 7;
  o.requests = 5;
  BenchRunner runner = MakeRunner(o, 1);
  ASSERT_TRUE(runner.Prepare().ok());
  absl::StatusOr<BenchResult> r = runner.Run();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->listed_keys, 35);
  EXPECT_EQ(cursors, (std::vector<std::string>{"", "c1", "", "c1", ""}));
}

TEST_F(BenchRunnerTest, MixedModeSplitsByReadRatio) {
  std::atomic<int> gets{0}, puts{0};
  ON_CALL(*mock_, Get(_, _, _, _)).WillByDefault(Invoke([&](auto&&...) {
    ++gets;
    return std::optional<ValueWithMetadata>(ValueWithMetadata{.value = "v"});
  }));
  ON_CALL(*mock_, Put(_, _, _, _)).WillByDefault(Invoke([&](auto&&...) {
    ++puts;
    return absl::OkStatus();
  }));
  BenchOptions o;
  o.mode = Mode::kMixed;
  o.read_ratio = 1.0;
  o.keys = 4;
  o.requests = 200;
  BenchRunner runner = MakeRunner(o);
  ASSERT_TRUE(runner.Prepare().ok());
  absl::StatusOr<BenchResult> r = runner.Run();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(gets.load(), 200);
  EXPECT_EQ(puts.load(), 0);
  EXPECT_EQ(r->by_op.at("get").count, 200);
}

}  // namespace
}  // namespace kv::bench
