// List semantics: prefix, cursor pagination, ordering and skipping of dead keys.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/testing/status_matchers.h"
#include "storage/store.h"
#include "storage/testing/store_fixture.h"

namespace kv::storage {
namespace {

using ::kv::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

const std::string kNs = "0000000000000000000000000000000a";

class ListTest : public testing::StoreFixture {
 protected:
  ListTest() { MakeNamespace("list", kNs); }

  std::vector<std::string> Names(const ListPage& page) {
    std::vector<std::string> out;
    for (const ListedKey& k : page.keys) out.push_back(k.name);
    return out;
  }

  // Pages through everything under `prefix` with the given page sizes (cycled).
  std::vector<std::string> ListAll(const std::string& prefix, std::vector<int> limits) {
    std::vector<std::string> out;
    std::optional<std::string> after;
    for (size_t i = 0; i < 10000; ++i) {
      auto page = store_->List(kNs, prefix, after, limits[i % limits.size()], clock_.Now());
      EXPECT_THAT(page, IsOk());
      if (!page.ok()) break;
      for (auto& n : Names(*page)) out.push_back(n);
      if (page->complete) break;
      after = page->resume_after;
    }
    return out;
  }
};

TEST_F(ListTest, ReturnsKeysInUtf8ByteOrder) {
  for (const char* k : {"b", "a", "\xC3\xA9", "B", "\xF0\x9F\x98\x80", "ab", "a\x01"}) {
    ASSERT_THAT(Put(kNs, k, "v"), IsOk());
  }
  auto page = store_->List(kNs, "", std::nullopt, 1000, clock_.Now());
  ASSERT_THAT(page, IsOk());
  EXPECT_TRUE(page->complete);
  EXPECT_THAT(Names(*page),
              ElementsAre("B", "a", "a\x01", "ab", "b", "\xC3\xA9", "\xF0\x9F\x98\x80"));
}

TEST_F(ListTest, PrefixMatchesLiterallyIncludingWildcardCharacters) {
  for (const char* k : {"100%", "100%_done", "100x", "a_b", "axb", "a\\b", "a*b", "a*"}) {
    ASSERT_THAT(Put(kNs, k, "v"), IsOk());
  }
  EXPECT_THAT(ListAll("100%", {1000}), ElementsAre("100%", "100%_done"));
  EXPECT_THAT(ListAll("a_", {1000}), ElementsAre("a_b"));
  EXPECT_THAT(ListAll("a\\", {1000}), ElementsAre("a\\b"));
  EXPECT_THAT(ListAll("a*", {1000}), ElementsAre("a*", "a*b"));
  EXPECT_THAT(ListAll("zzz", {1000}), ElementsAre());
}

TEST_F(ListTest, PaginatesWithVaryingLimits) {
  std::vector<std::string> expected;
  for (int i = 0; i < 57; ++i) {
    const std::string name = absl::StrCat("user:", absl::Dec(i, absl::kZeroPad3));
    expected.push_back(name);
    ASSERT_THAT(Put(kNs, name, "v"), IsOk());
  }
  ASSERT_THAT(Put(kNs, "other", "v"), IsOk());
  EXPECT_THAT(ListAll("user:", {1}), ElementsAreArray(expected));
  EXPECT_THAT(ListAll("user:", {10, 3, 1000}), ElementsAreArray(expected));
  EXPECT_THAT(ListAll("user:", {57}), ElementsAreArray(expected));
}

TEST_F(ListTest, ExactlyLimitKeysReportsCompleteWithoutEmptyExtraPage) {
  for (const char* k : {"a", "b", "c"}) ASSERT_THAT(Put(kNs, k, "v"), IsOk());
  auto page = store_->List(kNs, "", std::nullopt, 3, clock_.Now());
  ASSERT_THAT(page, IsOk());
  EXPECT_EQ(page->keys.size(), 3u);
  EXPECT_TRUE(page->complete);
  page = store_->List(kNs, "", std::nullopt, 2, clock_.Now());
  EXPECT_FALSE(page->complete);
  EXPECT_EQ(page->resume_after, "b");
}

TEST_F(ListTest, KeysInsertedWhilePaginatingAppearOnlyAfterTheCursor) {
  for (const char* k : {"b", "d", "f"}) ASSERT_THAT(Put(kNs, k, "v"), IsOk());
  auto first = store_->List(kNs, "", std::nullopt, 2, clock_.Now());
  ASSERT_THAT(first, IsOk());
  EXPECT_THAT(Names(*first), ElementsAre("b", "d"));
  ASSERT_THAT(Put(kNs, "a", "v"), IsOk());   // before the cursor: not seen
  ASSERT_THAT(Put(kNs, "e", "v"), IsOk());   // after it: seen
  ASSERT_THAT(Put(kNs, "d", "v2"), IsOk());  // the cursor key itself: not repeated
  auto second = store_->List(kNs, "", first->resume_after, 10, clock_.Now());
  ASSERT_THAT(second, IsOk());
  EXPECT_THAT(Names(*second), ElementsAre("e", "f"));
  EXPECT_TRUE(second->complete);
}

TEST_F(ListTest, SkipsExpiredAndDeletedKeys) {
  const int64_t now = absl::ToUnixSeconds(clock_.Now());
  ASSERT_THAT(Put(kNs, "a", "v", now + 60), IsOk());
  ASSERT_THAT(Put(kNs, "b", "v"), IsOk());
  ASSERT_THAT(Put(kNs, "c", "v", now + 120), IsOk());
  ASSERT_THAT(Put(kNs, "d", "v"), IsOk());
  ASSERT_THAT(Delete(kNs, "d"), IsOk());
  clock_.Set(absl::FromUnixSeconds(now + 60));  // "a" expires at exactly this second
  auto page = store_->List(kNs, "", std::nullopt, 1000, clock_.Now());
  ASSERT_THAT(page, IsOk());
  ASSERT_THAT(Names(*page), ElementsAre("b", "c"));
  EXPECT_EQ(page->keys[1].expiration, now + 120);
  EXPECT_EQ(page->keys[0].expiration, 0);
}

TEST_F(ListTest, ReturnsMetadataOfEveryJsonType) {
  const std::vector<std::string> docs = {"{\"a\":{\"b\":[1,2]}}", "[1,\"x\"]", "\"s\"", "3.5",
                                         "true", "null"};
  for (size_t i = 0; i < docs.size(); ++i) {
    ASSERT_THAT(Put(kNs, "k" + std::to_string(i), "v", 0, docs[i]), IsOk());
  }
  ASSERT_THAT(Put(kNs, "none", "v"), IsOk());
  auto page = store_->List(kNs, "", std::nullopt, 1000, clock_.Now());
  ASSERT_THAT(page, IsOk());
  ASSERT_EQ(page->keys.size(), docs.size() + 1);
  for (size_t i = 0; i < docs.size(); ++i) EXPECT_EQ(page->keys[i].metadata, docs[i]);
  EXPECT_EQ(page->keys.back().metadata, std::nullopt);
}

TEST_F(ListTest, ScanBudgetBoundsWorkOverDeadKeys) {
  for (int i = 0; i < 30; ++i) {
    ASSERT_THAT(Put(kNs, "dead" + std::to_string(100 + i), "v"), IsOk());
    ASSERT_THAT(Delete(kNs, "dead" + std::to_string(100 + i)), IsOk());
  }
  ASSERT_THAT(Put(kNs, "live", "v"), IsOk());
  std::vector<std::string> seen;
  std::optional<std::string> after;
  int pages = 0;
  for (; pages < 100; ++pages) {
    auto page = store_->List(kNs, "", after, 10, clock_.Now(), /*scan_budget=*/8);
    ASSERT_THAT(page, IsOk());
    for (auto& n : Names(*page)) seen.push_back(n);
    if (page->complete) break;
    after = page->resume_after;
  }
  EXPECT_THAT(seen, ElementsAre("live"));
  EXPECT_GE(pages, 3);  // 31 records at 8 per page
}

}  // namespace
}  // namespace kv::storage
