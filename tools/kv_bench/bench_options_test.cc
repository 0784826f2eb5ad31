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

TEST(BenchOptionsTest, OnlyPutSkipsThePreload) {
  EXPECT_TRUE(NeedsPreload(Mode::kGet));
  EXPECT_TRUE(NeedsPreload(Mode::kList));
  EXPECT_TRUE(NeedsPreload(Mode::kMixed));
  EXPECT_FALSE(NeedsPreload(Mode::kPut));
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
