#include "tools/kv_bench/visibility_tracker.h"

#include <gtest/gtest.h>

#include <sstream>
#include <thread>

namespace kv::bench {
namespace {

absl::Duration Ms(int64_t ms) { return absl::Milliseconds(ms); }

// Acknowledges writes 0..n-1, write i at (i + 1) ms.
void AckWrites(VisibilityTracker& t, int64_t n) {
  for (int64_t i = 0; i < n; ++i) t.WriteAcked(i, i, Ms(i + 1));
}

TEST(ChooseProbeTest, ReadsTheOldestUnseenUntilAHitThenGallopsAhead) {
  EXPECT_EQ(ChooseProbe(5, 100, 0), 5);
  EXPECT_EQ(ChooseProbe(5, 100, 1), 6);
  EXPECT_EQ(ChooseProbe(5, 100, 2), 8);
  EXPECT_EQ(ChooseProbe(5, 100, 3), 12);
  EXPECT_EQ(ChooseProbe(5, 100, 4), 20);
}

TEST(ChooseProbeTest, NeverPastTheNewestAnsweredWrite) {
  EXPECT_EQ(ChooseProbe(5, 5, 0), 5);
  EXPECT_EQ(ChooseProbe(5, 5, 7), 5);
  EXPECT_EQ(ChooseProbe(5, 9, 3), 9);
  EXPECT_EQ(ChooseProbe(0, int64_t{1} << 50, 1000), (int64_t{1} << 40) - 1);  // no overflow
}

TEST(VisibilityTrackerTest, AReadOfALaterWriteMarksEveryEarlierOneVisible) {
  VisibilityTracker t(5, 1);
  AckWrites(t, 5);
  EXPECT_EQ(t.OldestUnseen(0), 0);
  t.ObserveVisible(0, 3, Ms(10));
  EXPECT_EQ(t.OldestUnseen(0), 4);
  VisibilityStats s = t.Summarize(0);
  EXPECT_EQ(s.measured_writes, 5);
  ASSERT_EQ(s.edges.size(), 1u);
  EXPECT_EQ(s.edges[0].seen, 4);
  EXPECT_EQ(s.edges[0].never_seen, 1);  // write 4
  // Writes 0..3 acknowledged at 1..4 ms, all seen at 10 ms: delays 9, 8, 7, 6 ms.
  EXPECT_EQ(s.edges[0].delay.count, 4);
  EXPECT_EQ(s.edges[0].delay.min_us, 6000);
  EXPECT_EQ(s.edges[0].delay.max_us, 9000);
  EXPECT_EQ(s.edges[0].delay.p50_us, 7000);
}

TEST(VisibilityTrackerTest, ALaterObservationNeverMovesAnEarlierOne) {
  VisibilityTracker t(4, 1);
  AckWrites(t, 4);
  t.ObserveVisible(0, 1, Ms(5));
  t.ObserveVisible(0, 0, Ms(6));  // a stale read of an already seen write changes nothing
  t.ObserveVisible(0, 3, Ms(8));
  VisibilityStats s = t.Summarize(0);
  // Delays: write 0: 5-1, write 1: 5-2, write 2: 8-3, write 3: 8-4.
  EXPECT_EQ(s.edges[0].delay.count, 4);
  EXPECT_EQ(s.edges[0].delay.min_us, 3000);
  EXPECT_EQ(s.edges[0].delay.max_us, 5000);
  EXPECT_DOUBLE_EQ(s.edges[0].delay.mean_us, (4000 + 3000 + 5000 + 4000) / 4.0);
}

TEST(VisibilityTrackerTest, OnlyAnsweredWritesCanBeSeen) {
  VisibilityTracker t(3, 1);
  EXPECT_EQ(t.OldestUnseen(0), 0);
  EXPECT_EQ(t.answered(), 0);
  t.WriteAcked(0, 0, Ms(1));
  EXPECT_EQ(t.answered(), 1);
  t.ObserveVisible(0, 2, Ms(2));  // write 2 not answered yet: counts as a read of write 0
  EXPECT_EQ(t.OldestUnseen(0), 1);
  EXPECT_TRUE(t.WriteAcked(2, 2, Ms(3)));  // ahead of position 1: not answered in order yet
  EXPECT_EQ(t.answered(), 1);
  EXPECT_FALSE(t.WriteAcked(2, 2, Ms(4)));  // a position is answered once
  EXPECT_FALSE(t.WriteAcked(3, 3, Ms(4)));  // beyond the capacity
  EXPECT_FALSE(t.WriteAcked(-1, 3, Ms(4)));
}

TEST(VisibilityTrackerTest, AcknowledgementsOutOfCommitOrderAreAnsweredOnceContiguous) {
  // Several writers: keys 0..3 committed at positions 2, 0, 3, 1, acknowledged in an
  // order of their own.
  VisibilityTracker t(4, 1);
  EXPECT_TRUE(t.WriteAcked(3, 2, Ms(3)));
  EXPECT_TRUE(t.WriteAcked(1, 3, Ms(4)));
  EXPECT_EQ(t.answered(), 0);
  EXPECT_TRUE(t.WriteAcked(0, 1, Ms(5)));
  EXPECT_EQ(t.answered(), 2);  // positions 0 and 1
  EXPECT_EQ(t.KeyIndex(0), 1);
  EXPECT_EQ(t.KeyIndex(1), 3);
  EXPECT_EQ(t.KeyIndex(3), 2);
  EXPECT_EQ(t.KeyIndex(2), -1);  // pending
  EXPECT_TRUE(t.WriteAcked(2, 0, Ms(6)));
  EXPECT_EQ(t.answered(), 4);
  // Seeing position 2 proves positions 0..2; position 3 was acknowledged before 2.
  t.ObserveVisible(0, 2, Ms(10));
  EXPECT_EQ(t.OldestUnseen(0), 3);
  t.ObserveVisible(0, 3, Ms(11));
  VisibilityStats s = t.Summarize(0);
  EXPECT_EQ(s.measured_writes, 4);
  EXPECT_EQ(s.edges[0].delay.max_us, 8000);  // position 3: acked at 3 ms, seen at 11 ms
  EXPECT_EQ(s.edges[0].delay.min_us, 4000);  // position 2: acked at 6 ms, seen at 10 ms
  // The warmup is by key index, not position: keys 0 and 1 sit at positions 2 and 0.
  EXPECT_EQ(t.Summarize(2).measured_writes, 2);
}

TEST(VisibilityTrackerTest, FinishingFillsHolesLeftByWritesThatFailedButCommitted) {
  // Position 1 went to a write whose call failed after it committed: no one claims it.
  VisibilityTracker t(5, 1);
  t.WriteAcked(0, 0, Ms(1));
  t.WriteAcked(2, 2, Ms(2));
  t.WriteAcked(3, 3, Ms(3));
  EXPECT_EQ(t.answered(), 1);
  EXPECT_EQ(t.OldestUnseen(0), 0);
  t.FinishWrites();
  EXPECT_EQ(t.answered(), 4);  // up to the newest answered; position 4 was never used
  t.ObserveVisible(0, 0, Ms(4));
  EXPECT_EQ(t.OldestUnseen(0), 2);  // skips the hole
  EXPECT_FALSE(t.WriteAcked(4, 4, Ms(5)));  // finished
  VisibilityStats s = t.Summarize(0);
  EXPECT_EQ(s.measured_writes, 3);
  EXPECT_EQ(s.failed_writes, 1);
  EXPECT_EQ(s.edges[0].seen, 1);
  EXPECT_EQ(s.edges[0].never_seen, 2);
}

TEST(VisibilityTrackerTest, OnAllEdgesTakesTheSlowestEdgeOfEachWrite) {
  // Write i (acked at i+1 ms) becomes visible on edge 0 after i+1 ms and on edge 1 after
  // 10-i ms, so its slowest edge takes max(i+1, 10-i) ms.
  VisibilityTracker t(10, 2);
  AckWrites(t, 10);
  for (int64_t i = 0; i < 10; ++i) {
    t.ObserveVisible(0, i, Ms(i + 1) + Ms(i + 1));
  }
  // Edge 1 sees every write at 11 ms: 10 - i ms after write i's ack.
  for (int64_t i = 0; i < 10; ++i) t.ObserveVisible(1, i, Ms(11));
  VisibilityStats s = t.Summarize(0);
  EXPECT_EQ(s.all_edges.count, 20);
  EXPECT_EQ(s.all_edges.max_us, 10000);
  EXPECT_EQ(s.all_edges.min_us, 1000);
  ASSERT_EQ(s.on_all_edges.count, 10);
  // max(i+1, 10-i) for i = 0..9: 10 9 8 7 6 6 7 8 9 10; sorted, rank 5 is 8.
  EXPECT_EQ(s.on_all_edges.min_us, 6000);
  EXPECT_EQ(s.on_all_edges.p50_us, 8000);
  EXPECT_EQ(s.on_all_edges.p90_us, 10000);
  EXPECT_EQ(s.on_all_edges.max_us, 10000);
  EXPECT_DOUBLE_EQ(s.on_all_edges.mean_us, 8000);
  EXPECT_EQ(s.never_seen, 0);
  EXPECT_EQ(s.never_on_all_edges, 0);
}

TEST(VisibilityTrackerTest, StragglersAreNeverSeenAndLeaveTheAllEdgesFigure) {
  VisibilityTracker t(6, 3);
  AckWrites(t, 6);
  t.ObserveVisible(0, 5, Ms(20));
  t.ObserveVisible(1, 5, Ms(20));
  t.ObserveVisible(2, 3, Ms(20));  // edge 2 stopped after write 3
  VisibilityStats s = t.Summarize(0);
  EXPECT_EQ(s.edges[2].never_seen, 2);
  EXPECT_EQ(s.edges[0].never_seen, 0);
  EXPECT_EQ(s.never_seen, 2);
  EXPECT_EQ(s.never_on_all_edges, 2);
  EXPECT_EQ(s.on_all_edges.count, 4);
  EXPECT_EQ(s.all_edges.count, 16);
  EXPECT_EQ(t.OldestUnseen(2), 4);
}

TEST(VisibilityTrackerTest, FailedWritesAreSkippedByPollersAndLeftOut) {
  VisibilityTracker t(4, 1);
  t.WriteAcked(0, 0, Ms(1));
  t.WriteFailed(1, 1);
  t.WriteAcked(2, 2, Ms(3));
  t.ObserveVisible(0, 0, Ms(4));
  EXPECT_EQ(t.OldestUnseen(0), 2);  // not stuck on the failed write
  t.ObserveVisible(0, 2, Ms(6));
  EXPECT_EQ(t.OldestUnseen(0), 3);
  EXPECT_EQ(t.answered(), 3);
  VisibilityStats s = t.Summarize(0);
  EXPECT_EQ(s.measured_writes, 2);
  EXPECT_EQ(s.failed_writes, 1);
  EXPECT_EQ(s.edges[0].delay.count, 2);
  EXPECT_EQ(s.never_seen, 0);
}

TEST(VisibilityTrackerTest, WarmupWritesAreNotReported) {
  VisibilityTracker t(10, 1);
  AckWrites(t, 10);
  t.ObserveVisible(0, 9, Ms(100));
  VisibilityStats s = t.Summarize(4);
  EXPECT_EQ(s.measured_writes, 6);
  EXPECT_EQ(s.edges[0].delay.count, 6);
  EXPECT_EQ(s.edges[0].delay.max_us, 95000);  // write 4, acked at 5 ms
}

TEST(VisibilityTrackerTest, ObservationsArePerEdgeAndClampedToAnsweredWrites) {
  VisibilityTracker t(10, 2);
  AckWrites(t, 3);
  t.ObserveVisible(1, 8, Ms(9));  // only writes 0..2 are answered yet
  EXPECT_EQ(t.OldestUnseen(1), 3);
  EXPECT_EQ(t.OldestUnseen(0), 0);
  t.WriteAcked(3, 3, Ms(10));
  EXPECT_EQ(t.OldestUnseen(1), 3);
  EXPECT_EQ(t.Summarize(0).edges[1].seen, 3);
}

TEST(VisibilityTrackerTest, AwaitAnsweredWakesOnAnAcknowledgementOrTheEnd) {
  VisibilityTracker t(3, 1);
  EXPECT_FALSE(t.AwaitAnswered(0, absl::Milliseconds(1)));
  std::thread writer([&t] {
    t.WriteAcked(0, 0, Ms(1));
    t.FinishWrites();
  });
  // Bounded by the timeout only if the wake-up is lost.
  bool answered = t.AwaitAnswered(0, absl::Seconds(30));
  writer.join();
  EXPECT_TRUE(answered);
  EXPECT_TRUE(t.finished());
  EXPECT_FALSE(t.AwaitAnswered(1, absl::Seconds(30)));  // finished: returns at once
}

TEST(VisibilityTrackerTest, CsvListsEachMeasuredWriteWithItsDelayPerEdge) {
  VisibilityTracker t(5, 2);
  AckWrites(t, 3);            // writes 0..2 at 1..3 ms
  t.WriteFailed(3, 3);        // left out
  t.WriteAcked(4, 4, Ms(5));  // never seen on edge 1
  t.ObserveVisible(0, 4, Ms(7));
  t.ObserveVisible(1, 2, Ms(4));
  std::ostringstream out;
  t.WriteCsv(out, /*first_measured=*/1);  // write 0 is the warmup
  EXPECT_EQ(out.str(),
            "position,key_index,acked_ms,edge0_ms,edge1_ms\n"
            "1,1,2.000,5.000,2.000\n"
            "2,2,3.000,4.000,1.000\n"
            "4,4,5.000,2.000,\n");
}

}  // namespace
}  // namespace kv::bench
