#include "tools/kv_bench/propagation_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <optional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"

namespace kv::bench {
namespace {

using ::testing::HasSubstr;

// The origin's log, shared by the fake origin and its fake edges: keys in commit order.
class FakeLog {
 public:
  // Returns the entry's sequence: its position + 1.
  uint64_t Append(const std::string& key, size_t value_size) {
    absl::MutexLock lock(&mu_);
    position_[key] = static_cast<int64_t>(keys_.size());
    keys_.push_back(key);
    value_sizes_.push_back(value_size);
    return keys_.size();
  }
  // Returns the key's position in the log, or -1.
  int64_t Position(const std::string& key) const {
    absl::MutexLock lock(&mu_);
    auto it = position_.find(key);
    return it == position_.end() ? -1 : it->second;
  }
  std::vector<std::string> keys() const {
    absl::MutexLock lock(&mu_);
    return keys_;
  }
  std::vector<size_t> value_sizes() const {
    absl::MutexLock lock(&mu_);
    return value_sizes_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> keys_ ABSL_GUARDED_BY(mu_);
  std::vector<size_t> value_sizes_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> position_ ABSL_GUARDED_BY(mu_);
};

// How a fake origin answers.
struct OriginBehaviour {
  int fail_every = 0;          // fail every n-th call (1-based), without committing, if > 0
  bool sequences = false;      // report the commit sequence (EdgeKV) or 0 (Redis)
  bool ack_jitter = false;     // sleep 0..500 us between commit and answer
  int64_t foreign_after = -1;  // append a key of its own after this call (-1: never)
};

// Commits every write to the log.
class FakeOrigin final : public PropagationStore {
 public:
  FakeOrigin(FakeLog* log, OriginBehaviour behaviour = {}) : log_(log), b_(behaviour) {}
  absl::StatusOr<uint64_t> Write(const std::string& key, const std::string& value) override {
    ++calls_;
    if (b_.fail_every > 0 && calls_ % b_.fail_every == 0) {
      return absl::UnavailableError("origin overloaded");
    }
    const uint64_t sequence = log_->Append(key, value.size());
    if (calls_ == b_.foreign_after) log_->Append("someone-else", 1);
    // Answers of concurrent writes overtake one another.
    if (b_.ack_jitter) absl::SleepFor(absl::Microseconds(absl::Uniform(gen_, 0, 500)));
    return b_.sequences ? sequence : 0;
  }
  absl::StatusOr<bool> IsVisible(const std::string& key) override {
    return log_->Position(key) >= 0;
  }

 private:
  FakeLog* const log_;
  const OriginBehaviour b_;
  int64_t calls_ = 0;
  absl::BitGen gen_;
};

// An edge that has applied the log's first `applied_limit` entries (all if negative), in
// order, as replicas do. With `split_reads` it also reads in two halves, as RESP stores
// do for the one-thread poller: an eventfd stands for the connection, and each answer
// arrives in two parts (the first TakeIsVisible finds it incomplete).
class FakeEdge final : public PropagationStore {
 public:
  FakeEdge(const FakeLog* log, int64_t applied_limit, bool split_reads)
      : log_(log), applied_limit_(applied_limit) {
    if (split_reads) fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  }
  ~FakeEdge() override {
    if (fd_ >= 0) close(fd_);
  }
  absl::StatusOr<uint64_t> Write(const std::string&, const std::string&) override {
    return absl::UnimplementedError("edges are read-only here");
  }
  absl::StatusOr<bool> IsVisible(const std::string& key) override {
    const int64_t position = log_->Position(key);
    return position >= 0 && (applied_limit_ < 0 || position < applied_limit_);
  }

  int poll_fd() const override { return fd_; }
  absl::Status StartIsVisible(const std::string& key) override {
    if (fd_ < 0) return PropagationStore::StartIsVisible(key);
    if (answer_) return absl::InternalError("a read is already in flight");
    answer_ = IsVisible(key);
    parts_left_ = 2;
    Signal();
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<bool>> TakeIsVisible() override {
    if (fd_ < 0) return PropagationStore::TakeIsVisible();
    uint64_t count = 0;
    if (read(fd_, &count, sizeof(count)) != sizeof(count)) {
      return absl::InternalError("TakeIsVisible before anything arrived");
    }
    if (!answer_) return absl::InternalError("TakeIsVisible without a read in flight");
    if (--parts_left_ > 0) {
      Signal();  // the second half arrives
      return std::optional<bool>();
    }
    absl::StatusOr<bool> answer = std::move(*answer_);
    answer_.reset();
    if (!answer.ok()) return answer.status();
    return std::optional<bool>(*answer);
  }

 private:
  void Signal() {
    const uint64_t one = 1;
    ASSERT_EQ(write(fd_, &one, sizeof(one)), static_cast<ssize_t>(sizeof(one)));
  }

  const FakeLog* const log_;
  const int64_t applied_limit_;
  int fd_ = -1;
  std::optional<absl::StatusOr<bool>> answer_;  // of the read in flight
  int parts_left_ = 0;
};

// Measured writes the writers started. The schedule is real time, so a writer starved of
// CPU (a loaded machine, a sanitizer build) may leave some unissued: the expectations
// below are stated in terms of it, never of the 200 scheduled.
int64_t Issued(const PropagationResult& r) { return r.scheduled_writes - r.unissued_writes; }

BenchOptions PropagationOptions(int edges) {
  BenchOptions o;
  o.mode = Mode::kPropagation;
  o.endpoint = "origin:1";
  for (int e = 0; e < edges; ++e) o.edges.push_back("edge:" + std::to_string(e));
  o.rate = 2000;
  o.duration = absl::Milliseconds(100);  // 200 writes
  o.drain = absl::Seconds(20);
  o.value_size = 16;
  o.setup_timeout = absl::Seconds(5);
  return o;
}

// Each case runs with a poller thread per edge (false) and with one poller thread for
// every edge, the edges reading in two halves (true).
class PropagationRunnerTest : public ::testing::TestWithParam<bool> {
 protected:
  // Returns a runner over `log` whose edges have applied `limits[e]` entries (-1: all),
  // with o.writers fake origins behaving as `behaviour`.
  PropagationRunner MakeRunner(BenchOptions o, FakeLog* log, std::vector<int64_t> limits,
                               OriginBehaviour behaviour = {}) {
    o.single_poller = GetParam();
    EXPECT_TRUE(ValidateOptions(o).ok()) << ValidateOptions(o);
    std::vector<std::unique_ptr<PropagationStore>> writers;
    for (int w = 0; w < o.writers; ++w) {
      writers.push_back(std::make_unique<FakeOrigin>(log, behaviour));
    }
    std::vector<std::unique_ptr<PropagationStore>> edges;
    for (int64_t limit : limits) {
      edges.push_back(std::make_unique<FakeEdge>(log, limit, /*split_reads=*/GetParam()));
    }
    return PropagationRunner(o, std::move(writers), std::move(edges), "run1");
  }
};

INSTANTIATE_TEST_SUITE_P(Pollers, PropagationRunnerTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "OneThread" : "ThreadPerEdge";
                         });

TEST(PropagationKeyTest, KeysSortInWriteOrder) {
  EXPECT_EQ(PropagationKey("ab12", 7, 1000), "prop/ab12/007");
  EXPECT_LT(PropagationKey("r", 9, 100), PropagationKey("r", 10, 100));
}

TEST_P(PropagationRunnerTest, EveryWriteIsSeenOnEveryEdgeInOrder) {
  FakeLog log;
  BenchOptions o = PropagationOptions(3);
  PropagationRunner runner = MakeRunner(o, &log, {-1, -1, -1});
  ASSERT_TRUE(runner.Prepare().ok());
  const absl::Time before = absl::Now();
  absl::StatusOr<PropagationResult> r = runner.Run();
  ASSERT_TRUE(r.ok()) << r.status();
  // Time zero is the wall clock shortly after Run() began (a 20 ms lead).
  EXPECT_GE(r->start, before);
  EXPECT_LE(r->start, before + absl::Seconds(5));
  EXPECT_EQ(r->scheduled_writes, 200);
  const int64_t issued = Issued(*r);
  ASSERT_GT(issued, 0);
  EXPECT_EQ(r->visibility.measured_writes, issued);
  EXPECT_EQ(r->write_errors, 0);
  EXPECT_EQ(r->visibility.never_seen, 0);
  EXPECT_EQ(r->visibility.on_all_edges.count, issued);
  EXPECT_EQ(r->visibility.all_edges.count, 3 * issued);
  ASSERT_EQ(r->edges.size(), 3u);
  for (const EdgeProbeStats& e : r->edges) {
    EXPECT_GT(e.hits, 0);
    EXPECT_EQ(e.errors, 0);
    EXPECT_EQ(e.probe_rtt.count, e.probes);
  }
  EXPECT_EQ(r->edges[1].endpoint, "edge:1");
  // The marker, then the writes in index order with --value-size values.
  std::vector<std::string> keys = log.keys();
  ASSERT_EQ(static_cast<int64_t>(keys.size()), 1 + issued);
  EXPECT_EQ(keys[0], "prop/run1/ready");
  EXPECT_EQ(keys[1], "prop/run1/000");
  EXPECT_EQ(keys.back(), PropagationKey("run1", issued - 1, 200));
  EXPECT_EQ(log.value_sizes().back(), 16u);
  // The last write is due 99.5 ms after the first.
  if (issued == 200) {
    EXPECT_GE(r->elapsed, absl::Milliseconds(99));
  }
  EXPECT_GT(AchievedRate(*r), 0);
}

TEST_P(PropagationRunnerTest, AStoppedEdgeLeavesStragglersAfterABoundedDrain) {
  FakeLog log;
  BenchOptions o = PropagationOptions(2);
  o.drain = absl::Milliseconds(100);
  // Edge 1 applied the marker and the first 9 writes, then stopped.
  PropagationRunner runner = MakeRunner(o, &log, {-1, 10});
  ASSERT_TRUE(runner.Prepare().ok());
  absl::StatusOr<PropagationResult> r = runner.Run();
  ASSERT_TRUE(r.ok()) << r.status();
  const int64_t issued = Issued(*r);
  ASSERT_GE(issued, 9);
  EXPECT_EQ(r->visibility.edges[0].never_seen, 0);
  EXPECT_EQ(r->visibility.edges[1].never_seen, issued - 9);
  EXPECT_EQ(r->visibility.edges[1].seen, 9);
  EXPECT_EQ(r->visibility.never_seen, issued - 9);
  EXPECT_EQ(r->visibility.never_on_all_edges, issued - 9);
  EXPECT_EQ(r->visibility.on_all_edges.count, 9);
  EXPECT_GE(r->drain, absl::Milliseconds(100));
  EXPECT_LT(r->drain, absl::Seconds(10));
}

TEST_P(PropagationRunnerTest, TheTraceHasOneLinePerMeasuredWrite) {
  FakeLog log;
  BenchOptions o = PropagationOptions(2);
  o.warmup = absl::Milliseconds(5);  // 10 writes
  o.drain = absl::Milliseconds(100);
  // Edge 1 applied the marker and the 10 warmup writes, then stopped.
  PropagationRunner runner = MakeRunner(o, &log, {-1, 11});
  std::ostringstream before;
  runner.WriteTrace(before);
  EXPECT_EQ(before.str(), "");
  ASSERT_TRUE(runner.Prepare().ok());
  absl::StatusOr<PropagationResult> r = runner.Run();
  ASSERT_TRUE(r.ok()) << r.status();
  std::ostringstream trace;
  runner.WriteTrace(trace);
  std::vector<std::string> lines = absl::StrSplit(trace.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(static_cast<int64_t>(lines.size()), 1 + r->visibility.measured_writes);
  EXPECT_EQ(lines[0], "position,key_index,acked_ms,edge0_ms,edge1_ms");
  // The first measured write is the one after the 10 warmup writes.
  std::vector<std::string> first = absl::StrSplit(lines[1], ',');
  ASSERT_EQ(first.size(), 5u);
  EXPECT_EQ(first[0], "10");
  EXPECT_EQ(first[1], "10");
  EXPECT_FALSE(first[3].empty());  // seen on edge 0
  EXPECT_TRUE(first[4].empty());   // edge 1 stopped before it
  std::vector<std::string> last = absl::StrSplit(lines.back(), ',');
  ASSERT_EQ(last.size(), 5u);
  EXPECT_FALSE(last[3].empty());
}

TEST_P(PropagationRunnerTest, FailedWritesAreCountedAndDoNotStallThePollers) {
  FakeLog log;
  BenchOptions o = PropagationOptions(2);
  // The marker is call 1 and write i is call i + 2, so writes 8, 18, ..., 198 fail.
  PropagationRunner runner = MakeRunner(o, &log, {-1, -1}, {.fail_every = 10});
  ASSERT_TRUE(runner.Prepare().ok());
  absl::StatusOr<PropagationResult> r = runner.Run();
  ASSERT_TRUE(r.ok()) << r.status();
  const int64_t issued = Issued(*r);
  ASSERT_GE(issued, 9);
  const int64_t failed = (issued + 1) / 10;  // calls 10, 20, ... up to issued + 1
  EXPECT_EQ(r->write_errors, failed);
  EXPECT_EQ(r->write_errors_by_code.at("UNAVAILABLE"), failed);
  EXPECT_THAT(r->first_write_error, HasSubstr("origin overloaded"));
  EXPECT_EQ(r->visibility.failed_writes, failed);
  EXPECT_EQ(r->visibility.measured_writes, issued - failed);
  EXPECT_EQ(r->visibility.never_seen, 0);
  EXPECT_EQ(r->write_latency.count, issued - failed);
}

TEST_P(PropagationRunnerTest, SeveralWritersAreFollowedInCommitOrder) {
  FakeLog log;
  BenchOptions o = PropagationOptions(2);
  o.writers = 4;
  o.drain = absl::Milliseconds(200);
  // Edge 1 applied the marker and the first 9 writes in commit order, then stopped:
  // whichever keys those are, exactly 9 writes are seen there.
  PropagationRunner runner =
      MakeRunner(o, &log, {-1, 10}, {.sequences = true, .ack_jitter = true});
  ASSERT_TRUE(runner.Prepare().ok());
  absl::StatusOr<PropagationResult> r = runner.Run();
  ASSERT_TRUE(r.ok()) << r.status();
  const int64_t issued = Issued(*r);
  ASSERT_GE(issued, 9);
  EXPECT_EQ(r->write_errors, 0) << r->first_write_error;
  EXPECT_EQ(r->visibility.measured_writes, issued);
  EXPECT_EQ(r->visibility.edges[0].seen, issued);
  EXPECT_EQ(r->visibility.edges[1].seen, 9);
  EXPECT_EQ(r->visibility.edges[1].never_seen, issued - 9);
  EXPECT_EQ(r->write_latency.count, issued);
  EXPECT_EQ(static_cast<int64_t>(log.keys().size()), 1 + issued);
}

TEST_P(PropagationRunnerTest, AForeignWriteDuringTheRunIsReportedNotMisattributed) {
  FakeLog log;
  BenchOptions o = PropagationOptions(1);
  o.writers = 2;
  o.drain = absl::Milliseconds(200);
  // After its 5th call, each writer's origin commits a key of someone else's: later
  // writes of this run commit further along (the last ones, if all were issued, outside
  // the run's range), and the two foreign positions are claimed by no acknowledgement.
  PropagationRunner runner = MakeRunner(o, &log, {-1}, {.sequences = true, .foreign_after = 5});
  ASSERT_TRUE(runner.Prepare().ok());
  absl::StatusOr<PropagationResult> r = runner.Run();
  ASSERT_TRUE(r.ok()) << r.status();
  const int64_t issued = Issued(*r);
  ASSERT_GE(issued, 10);  // both writers made their 5th call
  const int64_t outside = std::max<int64_t>(0, issued + 2 - 200);
  EXPECT_EQ(r->write_errors, outside);
  if (outside > 0) {
    EXPECT_THAT(r->first_write_error, HasSubstr("another client"));
  }
  EXPECT_EQ(r->visibility.measured_writes, issued - outside);
  EXPECT_EQ(r->visibility.failed_writes, 2);  // the foreign positions
  EXPECT_EQ(r->visibility.never_seen, 0);
}

TEST_P(PropagationRunnerTest, SeveralWritersNeedCommitSequences) {
  FakeLog log;
  BenchOptions o = PropagationOptions(1);
  o.writers = 2;
  PropagationRunner runner = MakeRunner(o, &log, {-1}, {.sequences = false});
  absl::Status s = runner.Prepare();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("--writers"));
}

TEST_P(PropagationRunnerTest, WarmupWritesAreMadeButNotReported) {
  FakeLog log;
  BenchOptions o = PropagationOptions(1);
  o.warmup = absl::Milliseconds(50);  // 100 writes
  PropagationRunner runner = MakeRunner(o, &log, {-1});
  ASSERT_TRUE(runner.Prepare().ok());
  absl::StatusOr<PropagationResult> r = runner.Run();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->scheduled_writes, 200);
  const int64_t issued = Issued(*r);
  EXPECT_EQ(r->visibility.measured_writes, issued);
  EXPECT_EQ(r->write_latency.count, issued);
  // Writes 100.. are measured; the warmup's are in the log but not in the figures.
  int64_t measured_keys = 0;
  for (const std::string& key : log.keys()) {
    if (key != "prop/run1/ready" && key >= PropagationKey("run1", 100, 300)) ++measured_keys;
  }
  EXPECT_EQ(measured_keys, issued);
}

// An origin whose writes each take `delay`.
class SlowOrigin final : public PropagationStore {
 public:
  SlowOrigin(FakeLog* log, absl::Duration delay) : log_(log), delay_(delay) {}
  absl::StatusOr<uint64_t> Write(const std::string& key, const std::string& value) override {
    absl::SleepFor(delay_);
    log_->Append(key, value.size());
    return 0;
  }
  absl::StatusOr<bool> IsVisible(const std::string& key) override {
    return log_->Position(key) >= 0;
  }

 private:
  FakeLog* const log_;
  const absl::Duration delay_;
};

TEST_P(PropagationRunnerTest, ASlowOriginFallsBehindButTheRunEndsOnSchedule) {
  FakeLog log;
  BenchOptions o = PropagationOptions(1);  // 200 writes due within 100 ms
  o.single_poller = GetParam();
  std::vector<std::unique_ptr<PropagationStore>> edges;
  edges.push_back(std::make_unique<FakeEdge>(&log, -1, /*split_reads=*/GetParam()));
  std::vector<std::unique_ptr<PropagationStore>> writers;
  writers.push_back(std::make_unique<SlowOrigin>(&log, absl::Milliseconds(2)));
  PropagationRunner runner(o, std::move(writers), std::move(edges), "slow");
  ASSERT_TRUE(runner.Prepare().ok());
  absl::StatusOr<PropagationResult> r = runner.Run();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->unissued_writes, 0);
  EXPECT_GT(r->behind_schedule, 0);
  EXPECT_EQ(r->visibility.measured_writes + r->unissued_writes, 200);
  EXPECT_EQ(static_cast<int64_t>(log.keys().size()), 1 + r->visibility.measured_writes);
  EXPECT_EQ(r->visibility.never_seen, 0);
  EXPECT_LT(r->elapsed, absl::Seconds(5));
  EXPECT_LT(AchievedRate(*r), 2000);
}

TEST_P(PropagationRunnerTest, PrepareNamesTheEdgeThatNeverShowsTheMarker) {
  FakeLog log;
  BenchOptions o = PropagationOptions(2);
  o.setup_timeout = absl::Milliseconds(50);
  PropagationRunner runner = MakeRunner(o, &log, {-1, 0});
  absl::Status s = runner.Prepare();
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(s.message()), HasSubstr("edge:1"));
  EXPECT_EQ(runner.Run().status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_P(PropagationRunnerTest, PrepareFailsClearlyWhenTheOriginRefusesWrites) {
  FakeLog log;
  BenchOptions o = PropagationOptions(1);
  PropagationRunner runner = MakeRunner(o, &log, {-1}, {.fail_every = 1});
  absl::Status s = runner.Prepare();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), HasSubstr("cannot write to the origin at origin:1"));
}

TEST_P(PropagationRunnerTest, RunsOnlyOnce) {
  FakeLog log;
  BenchOptions o = PropagationOptions(1);
  o.duration = absl::Milliseconds(5);
  PropagationRunner runner = MakeRunner(o, &log, {-1});
  ASSERT_TRUE(runner.Prepare().ok());
  ASSERT_TRUE(runner.Run().ok());
  EXPECT_EQ(runner.Run().status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace kv::bench
