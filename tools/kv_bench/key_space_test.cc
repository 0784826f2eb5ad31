#include "tools/kv_bench/key_space.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/limits.h"

namespace kv::bench {
namespace {

using ::testing::ElementsAre;

TEST(KeySpaceTest, KeyNamesArePaddedToTheWidestIndex) {
  EXPECT_EQ(KeyName("k/", 7, 1000), "k/007");
  EXPECT_EQ(KeyName("k/", 999, 1000), "k/999");
  EXPECT_EQ(KeyName("k/", 7, 1001), "k/0007");
  EXPECT_EQ(KeyName("", 0, 1), "0");
  EXPECT_EQ(KeyName("p", 9, 10), "p9");
  EXPECT_EQ(KeyName("p", 3, 11), "p03");
}

TEST(KeySpaceTest, ByteOrderIsNumericOrder) {
  EXPECT_LT(KeyName("k", 9, 10000), KeyName("k", 10, 10000));
  EXPECT_LT(KeyName("k", 999, 10000), KeyName("k", 1000, 10000));
}

TEST(KeySpaceTest, SmallValuesBatchByItemCount) {
  // 25,000 keys of 10 + 100 bytes: the 10,000-item limit binds, not the byte budget.
  EXPECT_THAT(PlanPreloadBatches(25000, 10, 100),
              ElementsAre(KeyRange{0, 10000}, KeyRange{10000, 20000}, KeyRange{20000, 25000}));
}

TEST(KeySpaceTest, LargeValuesBatchByBytes) {
  // 25 MiB values: one per 32 MiB batch; with a 100 MiB budget, three (not four: keys count).
  const std::vector<KeyRange> one = PlanPreloadBatches(3, 8, kMaxValueBytes);
  EXPECT_THAT(one, ElementsAre(KeyRange{0, 1}, KeyRange{1, 2}, KeyRange{2, 3}));
  EXPECT_THAT(PlanPreloadBatches(8, 8, kMaxValueBytes, kMaxBulkRequestBytes),
              ElementsAre(KeyRange{0, 3}, KeyRange{3, 6}, KeyRange{6, 8}));
}

TEST(KeySpaceTest, BudgetNeverExceedsTheRequestLimit) {
  // A caller asking for more than 100 MiB still gets batches within it.
  for (const KeyRange& r : PlanPreloadBatches(20, 8, kMaxValueBytes, int64_t{1} << 40)) {
    EXPECT_LE((r.end - r.begin) * (8 + kMaxValueBytes), kMaxBulkRequestBytes);
  }
}

TEST(KeySpaceTest, OversizedItemStillGetsItsOwnBatch) {
  EXPECT_THAT(PlanPreloadBatches(2, 8, 1000, /*max_batch_bytes=*/10),
              ElementsAre(KeyRange{0, 1}, KeyRange{1, 2}));
}

TEST(KeySpaceTest, NoKeysNoBatches) { EXPECT_TRUE(PlanPreloadBatches(0, 8, 100).empty()); }

}  // namespace
}  // namespace kv::bench
