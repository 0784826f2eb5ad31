#include "tools/kvctl/progress_bar.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace kv::kvctl {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(FormatProgressTest, ShowsCountPercentRateAndEta) {
  EXPECT_EQ(FormatProgress("bulk put", 5000, 10000, absl::Seconds(2)),
            "bulk put [##########..........] 5000/10000  50%  2500 items/s  eta 2s");
}

TEST(FormatProgressTest, ShowsSlowRatesWithADecimal) {
  EXPECT_EQ(FormatProgress("bulk get", 3, 400, absl::Seconds(2)),
            "bulk get [....................] 3/400   0%  1.5 items/s  eta 4m25s");
}

TEST(FormatProgressTest, ShowsLongEtasInHours) {
  EXPECT_THAT(FormatProgress("x", 1, 10000, absl::Seconds(1)), EndsWith("eta 2h46m"));
}

TEST(FormatProgressTest, OmitsRateBeforeAnythingIsDone) {
  EXPECT_EQ(FormatProgress("bulk put", 0, 20, absl::ZeroDuration()),
            "bulk put [....................] 0/20   0%");
  EXPECT_EQ(FormatProgress("bulk put", 0, 20, absl::Seconds(5)),
            "bulk put [....................] 0/20   0%");
}

TEST(FormatProgressTest, OmitsEtaWhenDone) {
  EXPECT_EQ(FormatProgress("bulk delete", 20, 20, absl::Seconds(4)),
            "bulk delete [####################] 20/20 100%  5.0 items/s");
}

TEST(FormatProgressTest, TreatsAnEmptyJobAsCompleteAndClampsCounts) {
  EXPECT_THAT(FormatProgress("x", 0, 0, absl::Seconds(1)), HasSubstr("0/0 100%"));
  EXPECT_THAT(FormatProgress("x", 30, 20, absl::Seconds(1)), HasSubstr("20/20 100%"));
}

TEST(ProgressBarTest, RedrawsAtMostTenTimesASecond) {
  std::ostringstream out;
  const absl::Time start = absl::FromUnixSeconds(1000);
  ProgressBar bar(&out, "bulk put", 100, start);
  bar.Update(10, start + absl::Milliseconds(10));
  EXPECT_EQ(bar.redraws(), 1);
  bar.Update(20, start + absl::Milliseconds(60));  // 50 ms after the last redraw
  EXPECT_EQ(bar.redraws(), 1);
  bar.Update(30, start + absl::Milliseconds(110));  // exactly 100 ms after
  EXPECT_EQ(bar.redraws(), 2);
  bar.Update(40, start + absl::Milliseconds(150));
  EXPECT_EQ(bar.redraws(), 2);
  EXPECT_THAT(out.str(), StartsWith("\rbulk put ["));
  EXPECT_THAT(out.str(), HasSubstr("30/100"));
  EXPECT_THAT(out.str(), ::testing::Not(HasSubstr("20/100")));
}

TEST(ProgressBarTest, AlwaysDrawsTheFinalCountAndEndsTheLine) {
  std::ostringstream out;
  const absl::Time start = absl::FromUnixSeconds(1000);
  ProgressBar bar(&out, "bulk put", 100, start);
  bar.Update(50, start + absl::Milliseconds(1));
  bar.Update(100, start + absl::Milliseconds(2));
  EXPECT_EQ(bar.redraws(), 2);
  bar.Finish();
  EXPECT_THAT(out.str(), HasSubstr("100/100 100%"));
  EXPECT_THAT(out.str(), EndsWith("\x1b[K\n"));
}

TEST(ProgressBarTest, FinishWritesNothingWhenNothingWasDrawn) {
  std::ostringstream out;
  ProgressBar bar(&out, "bulk put", 100, absl::FromUnixSeconds(1000));
  bar.Finish();
  EXPECT_EQ(out.str(), "");
}

TEST(ProgressBarTest, DrawsNothingWithoutAStream) {
  ProgressBar bar(nullptr, "bulk put", 10, absl::FromUnixSeconds(1000));
  bar.Update(10, absl::FromUnixSeconds(1001));
  bar.Finish();
  EXPECT_EQ(bar.redraws(), 0);
}

}  // namespace
}  // namespace kv::kvctl
