#include "tools/kv_bench/bench_options.h"

#include <gtest/gtest.h>

#include <string>

namespace kv::bench {
namespace {

TEST(BenchOptionsTest, ParsesEveryModeAndRejectsOthers) {
  for (Mode m : {Mode::kGet, Mode::kPut, Mode::kList, Mode::kMixed}) {
    absl::StatusOr<Mode> parsed = ParseMode(ModeName(m));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, m);
  }
  EXPECT_EQ(*ParseMode("propagation"), Mode::kPropagation);
  EXPECT_EQ(ParseMode("delete").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseMode("GET").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(BenchOptionsTest, DefaultsAreValid) { EXPECT_TRUE(ValidateOptions(BenchOptions()).ok()); }

TEST(BenchOptionsTest, ChannelsDefaultToConcurrencyCappedAtFour) {
  BenchOptions o;
  o.concurrency = 2;
  EXPECT_EQ(EffectiveChannels(o), 2);
  o.concurrency = 64;
  EXPECT_EQ(EffectiveChannels(o), 4);
  o.channels = 7;
  EXPECT_EQ(EffectiveChannels(o), 7);
}

TEST(BenchOptionsTest, OnlyReadingModesPreload) {
  EXPECT_TRUE(NeedsPreload(Mode::kGet));
  EXPECT_TRUE(NeedsPreload(Mode::kList));
  EXPECT_TRUE(NeedsPreload(Mode::kMixed));
  EXPECT_FALSE(NeedsPreload(Mode::kPut));
  EXPECT_FALSE(NeedsPreload(Mode::kPropagation));
}

TEST(BenchOptionsTest, ParsesBackends) {
  EXPECT_EQ(*ParseBackend("edgekv"), Backend::kEdgeKv);
  EXPECT_EQ(*ParseBackend("redis"), Backend::kRedis);
  EXPECT_EQ(BackendName(Backend::kRedis), std::string("redis"));
  EXPECT_EQ(ParseBackend("memcached").status().code(), absl::StatusCode::kInvalidArgument);
}

BenchOptions Propagation() {
  BenchOptions o;
  o.mode = Mode::kPropagation;
  o.endpoint = "127.0.0.1:7500";
  o.edges = {"127.0.0.1:7501", "127.0.0.1:7502"};
  o.rate = 1000;
  o.duration = absl::Seconds(30);
  return o;
}

TEST(BenchOptionsTest, PropagationScheduleCountsWarmupAndMeasuredWrites) {
  BenchOptions o = Propagation();
  EXPECT_TRUE(ValidateOptions(o).ok()) << ValidateOptions(o);
  EXPECT_EQ(PropagationWrites(o), 30000);
  EXPECT_EQ(PropagationWarmupWrites(o), 0);
  o.warmup = absl::Seconds(2);
  o.rate = 333.3;
  EXPECT_EQ(PropagationWrites(o), 10666);  // ceil(333.3 * 32)
  EXPECT_EQ(PropagationWarmupWrites(o), 667);
}

// Returns the validation error message of Propagation() changed by `change`.
template <typename F>
std::string PropagationErrorOf(F change) {
  BenchOptions o = Propagation();
  change(o);
  absl::Status s = ValidateOptions(o);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  return std::string(s.message());
}

TEST(BenchOptionsTest, RejectsBadPropagationOptionsNamingTheFlag) {
  EXPECT_NE(PropagationErrorOf([](BenchOptions& o) { o.edges.clear(); }).find("--edges"),
            std::string::npos);
  EXPECT_NE(PropagationErrorOf([](BenchOptions& o) {
              o.edges.push_back("127.0.0.1:7501");
            }).find("twice"),
            std::string::npos);
  EXPECT_NE(
      PropagationErrorOf([](BenchOptions& o) { o.edges.push_back(o.endpoint); }).find("origin"),
      std::string::npos);
  EXPECT_NE(PropagationErrorOf([](BenchOptions& o) { o.rate = 0; }).find("--rate"),
            std::string::npos);
  EXPECT_NE(PropagationErrorOf([](BenchOptions& o) { o.rate = 1e9; }).find("at most"),
            std::string::npos);
  EXPECT_NE(PropagationErrorOf([](BenchOptions& o) { o.requests = 5; }).find("--requests"),
            std::string::npos);
  EXPECT_NE(
      PropagationErrorOf([](BenchOptions& o) { o.drain = absl::Seconds(-1); }).find("--drain"),
      std::string::npos);
}

TEST(BenchOptionsTest, PropagationWritersAreBoundedAndEdgeKvOnlyAboveOne) {
  EXPECT_NE(PropagationErrorOf([](BenchOptions& o) { o.writers = 0; }).find("--writers"),
            std::string::npos);
  EXPECT_NE(PropagationErrorOf([](BenchOptions& o) { o.writers = 257; }).find("256"),
            std::string::npos);
  BenchOptions o = Propagation();
  o.writers = 256;
  EXPECT_TRUE(ValidateOptions(o).ok());
  o.backend = Backend::kRedis;
  EXPECT_NE(std::string(ValidateOptions(o).message()).find("--backend edgekv"),
            std::string::npos);
  o.writers = 1;
  EXPECT_TRUE(ValidateOptions(o).ok());
}

TEST(BenchOptionsTest, EdgeReadsOverRespOnlyForEdgeKvPropagation) {
  BenchOptions o = Propagation();
  o.edge_reads_resp = true;
  EXPECT_TRUE(ValidateOptions(o).ok());
  o.backend = Backend::kRedis;
  EXPECT_NE(std::string(ValidateOptions(o).message()).find("--edge-reads resp"),
            std::string::npos);
  o.backend = Backend::kEdgeKv;
  o.mode = Mode::kGet;
  EXPECT_NE(std::string(ValidateOptions(o).message()).find("--edge-reads resp"),
            std::string::npos);
}

TEST(BenchOptionsTest, OriginRespWritesOnlyForEdgeKvPropagation) {
  BenchOptions o = Propagation();
  o.origin_resp = "127.0.0.1:6500";
  EXPECT_TRUE(ValidateOptions(o).ok());
  o.writers = 16;  // KV.PUT answers with the sequence, which orders several writers
  EXPECT_TRUE(ValidateOptions(o).ok());
  o.writers = 1;
  o.backend = Backend::kRedis;
  EXPECT_NE(std::string(ValidateOptions(o).message()).find("--origin-resp"), std::string::npos);
  o.backend = Backend::kEdgeKv;
  o.mode = Mode::kGet;
  EXPECT_NE(std::string(ValidateOptions(o).message()).find("--origin-resp"), std::string::npos);
}

TEST(BenchOptionsTest, RedisOnlyMeasuresPropagation) {
  BenchOptions o = Propagation();
  o.backend = Backend::kRedis;
  EXPECT_TRUE(ValidateOptions(o).ok());
  o.mode = Mode::kGet;
  EXPECT_NE(std::string(ValidateOptions(o).message()).find("--backend redis"), std::string::npos);
}

// Returns the validation error message of defaults changed by `change`.
template <typename F>
std::string ErrorOf(F change) {
  BenchOptions o;
  change(o);
  absl::Status s = ValidateOptions(o);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  return std::string(s.message());
}

TEST(BenchOptionsTest, RejectsOutOfRangeOptionsNamingTheFlag) {
  EXPECT_NE(ErrorOf([](BenchOptions& o) { o.concurrency = 0; }).find("--concurrency"),
            std::string::npos);
  EXPECT_NE(ErrorOf([](BenchOptions& o) { o.keys = 0; }).find("--keys"), std::string::npos);
  EXPECT_NE(ErrorOf([](BenchOptions& o) { o.value_size = 26214401; }).find("--value-size"),
            std::string::npos);
  EXPECT_NE(ErrorOf([](BenchOptions& o) { o.list_limit = 1001; }).find("--list-limit"),
            std::string::npos);
  EXPECT_NE(ErrorOf([](BenchOptions& o) { o.read_ratio = 1.5; }).find("--read-ratio"),
            std::string::npos);
  EXPECT_NE(ErrorOf([](BenchOptions& o) { o.duration = absl::ZeroDuration(); }).find("--duration"),
            std::string::npos);
  EXPECT_NE(ErrorOf([](BenchOptions& o) { o.namespace_id = "nope"; }).find("--namespace-id"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf([](BenchOptions& o) { o.key_prefix = std::string(510, 'k'); }).find("--key-prefix"),
      std::string::npos);
}

TEST(BenchOptionsTest, RequestsReplaceDuration) {
  BenchOptions o;
  o.mode = Mode::kPut;
  o.value_size = 26214400;
  o.concurrency = 8;
  o.requests = 8;
  o.keys = 8;
  o.duration = absl::ZeroDuration();
  EXPECT_TRUE(ValidateOptions(o).ok());
}

}  // namespace
}  // namespace kv::bench
