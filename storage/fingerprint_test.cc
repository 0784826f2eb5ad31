#include "storage/fingerprint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kv::storage {
namespace {

using ::testing::Optional;

TEST(FingerprintTest, RecordsTheTotalAtEachSequence) {
  Fingerprint f;
  f.Apply("a", 0x1);
  f.Record(1);
  f.Apply("b", 0x6);
  f.Record(2);
  f.Apply("a", 0x1);  // the version of "a" replaced: XORed out
  f.Record(3);
  EXPECT_THAT(f.At(1), Optional(0x1u));
  EXPECT_THAT(f.At(2), Optional(0x7u));
  EXPECT_THAT(f.At(3), Optional(0x6u));
  EXPECT_EQ(f.At(4), std::nullopt);
  EXPECT_EQ(f.At(0), std::nullopt);
}

TEST(FingerprintTest, ADeletedNamespaceLeavesTheTotalAtItsDeletionAndItsPurgeChangesNothing) {
  Fingerprint f;
  f.Apply("keep", 0x10);
  f.Apply("gone", 0x3);
  f.Apply("gone", 0x5);
  f.DropNamespace("gone");
  f.Record(1);
  EXPECT_THAT(f.At(1), Optional(0x10u));
  f.Apply("gone", 0x3);  // the purge XORs the namespace's versions out
  f.Apply("gone", 0x5);
  f.DropNamespace("gone");  // a repeated deletion record
  EXPECT_EQ(f.Total(), 0x10u);
}

TEST(FingerprintTest, KeepsTheLastPointsAndStartsOverOnAReplayedSequence) {
  Fingerprint f;
  for (uint64_t s = 1; s <= Fingerprint::kPoints + 10; ++s) {
    f.Apply("a", s);
    f.Record(s);
  }
  EXPECT_EQ(f.At(10), std::nullopt);
  EXPECT_TRUE(f.At(11).has_value());
  EXPECT_TRUE(f.At(Fingerprint::kPoints + 10).has_value());
  // A lower sequence (a new lineage's position) drops the points at and above it.
  f.Record(50);
  EXPECT_THAT(f.At(50), Optional(f.Total()));
  EXPECT_EQ(f.At(51), std::nullopt);
}

TEST(FingerprintTest, ForgetDropsThePointsAndSkipsThoseBelowTheCleanPosition) {
  Fingerprint f;
  f.Record(1);
  f.Record(2);
  f.Forget(5);
  EXPECT_EQ(f.At(2), std::nullopt);
  f.Record(3);
  f.Record(4);
  EXPECT_EQ(f.At(3), std::nullopt);
  EXPECT_EQ(f.At(4), std::nullopt);
  f.Record(5);
  EXPECT_THAT(f.At(5), Optional(0u));
}

}  // namespace
}  // namespace kv::storage
