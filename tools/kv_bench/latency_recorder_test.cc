#include "tools/kv_bench/latency_recorder.h"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

namespace kv::bench {
namespace {

TEST(LatencyRecorderTest, EmptyInputSummarisesToZeros) {
  LatencySummary s = Summarize({});
  EXPECT_EQ(s.count, 0);
  EXPECT_EQ(s.min_us, 0);
  EXPECT_EQ(s.p50_us, 0);
  EXPECT_EQ(s.p999_us, 0);
  EXPECT_EQ(s.max_us, 0);
  EXPECT_EQ(s.mean_us, 0);
  EXPECT_EQ(LatencyRecorder().Summary().count, 0);
  EXPECT_EQ(NearestRankPercentile({}, 500), 0);
}

TEST(LatencyRecorderTest, SingleSampleIsEveryPercentile) {
  LatencySummary s = Summarize({42});
  EXPECT_EQ(s.count, 1);
  EXPECT_EQ(s.min_us, 42);
  EXPECT_EQ(s.p50_us, 42);
  EXPECT_EQ(s.p90_us, 42);
  EXPECT_EQ(s.p99_us, 42);
  EXPECT_EQ(s.p999_us, 42);
  EXPECT_EQ(s.max_us, 42);
  EXPECT_DOUBLE_EQ(s.mean_us, 42);
}

TEST(LatencyRecorderTest, OneToThousandGivesExactNearestRanks) {
  // 1000 samples 1..1000 in reverse order: the p-th percentile is exactly p * 10.
  std::vector<int64_t> v(1000);
  std::iota(v.rbegin(), v.rend(), 1);
  LatencySummary s = Summarize(v);
  EXPECT_EQ(s.count, 1000);
  EXPECT_EQ(s.min_us, 1);
  EXPECT_EQ(s.p50_us, 500);
  EXPECT_EQ(s.p90_us, 900);
  EXPECT_EQ(s.p99_us, 990);
  EXPECT_EQ(s.p999_us, 999);
  EXPECT_EQ(s.max_us, 1000);
  EXPECT_DOUBLE_EQ(s.mean_us, 500.5);
}

TEST(LatencyRecorderTest, SmallInputsRoundRanksUp) {
  // Nearest rank of n = 10: p50 -> rank 5, p90 -> rank 9, p99 -> ceil(9.9) = 10.
  std::vector<int64_t> v = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
  LatencySummary s = Summarize(v);
  EXPECT_EQ(s.p50_us, 50);
  EXPECT_EQ(s.p90_us, 90);
  EXPECT_EQ(s.p99_us, 100);
  EXPECT_EQ(s.p999_us, 100);
  // n = 3: p50 -> ceil(1.5) = 2.
  EXPECT_EQ(Summarize({7, 1, 3}).p50_us, 3);
  // n = 4: p50 -> rank 2 exactly (no rounding up past an exact rank).
  EXPECT_EQ(Summarize({4, 3, 2, 1}).p50_us, 2);
}

TEST(LatencyRecorderTest, TailPercentilesSeeOutliers) {
  // 1998 fast calls and 2 slow ones: p99.9 of 2000 is rank 1998 (fast), max is slow.
  std::vector<int64_t> v(1998, 100);
  v.push_back(50000);
  v.push_back(90000);
  LatencySummary s = Summarize(v);
  EXPECT_EQ(s.p99_us, 100);
  EXPECT_EQ(s.p999_us, 100);
  EXPECT_EQ(s.max_us, 90000);
  // One more slow call moves rank 1999 of 2001 (ceil(1998.999)) onto the slow ones.
  v.push_back(70000);
  EXPECT_EQ(Summarize(v).p999_us, 50000);
}

TEST(LatencyRecorderTest, MergeCombinesRecorders) {
  LatencyRecorder a, b;
  for (int i = 1; i <= 50; ++i) a.Record(i);
  for (int i = 51; i <= 100; ++i) b.Record(i);
  b.Record(-5);  // clock oddities never produce negative latencies
  a.Merge(b);
  EXPECT_EQ(a.count(), 101);
  LatencySummary s = a.Summary();
  EXPECT_EQ(s.min_us, 0);
  EXPECT_EQ(s.p50_us, 50);
  EXPECT_EQ(s.max_us, 100);
}

}  // namespace
}  // namespace kv::bench
