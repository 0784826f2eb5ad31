#include "common/hybrid_clock.h"

#include <gtest/gtest.h>

namespace kv {
namespace {

const absl::Time kStart = absl::FromUnixMillis(1'700'000'000'000);

TEST(HybridClockTest, FollowsPhysicalTimeWhenItAdvances) {
  SimulatedClock clock(kStart);
  HybridClock hlc(&clock, 0);
  EXPECT_EQ(hlc.Now(), MakeHlc(1'700'000'000'000, 0));
  clock.Advance(absl::Milliseconds(5));
  EXPECT_EQ(hlc.Now(), MakeHlc(1'700'000'000'005, 0));
}

TEST(HybridClockTest, CountsLogicallyWithinOneMillisecond) {
  SimulatedClock clock(kStart);
  HybridClock hlc(&clock, 0);
  const HlcTimestamp a = hlc.Now();
  const HlcTimestamp b = hlc.Now();
  EXPECT_EQ(HlcWallMillis(b), HlcWallMillis(a));
  EXPECT_EQ(HlcLogical(b), HlcLogical(a) + 1);
}

TEST(HybridClockTest, NeverGoesBackWhenWallClockIsSetBack) {
  SimulatedClock clock(kStart);
  HybridClock hlc(&clock, 0);
  const HlcTimestamp before = hlc.Now();
  clock.Advance(-absl::Hours(1));
  EXPECT_GT(hlc.Now(), before);
}

TEST(HybridClockTest, RestartsAbovePersistedHighWater) {
  SimulatedClock clock(kStart);
  const HlcTimestamp high_water = MakeHlc(1'700'000'100'000, 7);  // 100 s in the future
  HybridClock hlc(&clock, high_water);
  EXPECT_EQ(hlc.Now(), high_water + 1);
}

TEST(HybridClockTest, LogicalOverflowCarriesIntoNextMillisecond) {
  SimulatedClock clock(kStart);
  HybridClock hlc(&clock, MakeHlc(1'700'000'000'000, 0xffff));
  EXPECT_EQ(hlc.Now(), MakeHlc(1'700'000'000'001, 0));
}

TEST(HybridClockTest, ObserveMovesClockPastRemoteTimestamp) {
  SimulatedClock clock(kStart);
  HybridClock hlc(&clock, 0);
  const HlcTimestamp remote = MakeHlc(1'700'000'050'000, 3);
  hlc.Observe(remote);
  EXPECT_EQ(hlc.HighWater(), remote);
  EXPECT_GT(hlc.Now(), remote);
}

}  // namespace
}  // namespace kv
