#include "common/coding.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace kv {
namespace {

TEST(CodingTest, FixedBigEndianOrdersLikeNumbers) {
  std::string a, b;
  PutFixed64BE(&a, 255);
  PutFixed64BE(&b, 256);
  EXPECT_LT(a, b);
  absl::string_view in = b;
  uint64_t v = 0;
  ASSERT_TRUE(GetFixed64BE(&in, &v));
  EXPECT_EQ(v, 256u);
  EXPECT_TRUE(in.empty());
  std::string c;
  PutFixed32BE(&c, 0xdeadbeef);
  in = c;
  uint32_t w = 0;
  ASSERT_TRUE(GetFixed32BE(&in, &w));
  EXPECT_EQ(w, 0xdeadbeefu);
}

TEST(CodingTest, VarintRoundTripsAtEdges) {
  for (uint64_t v : {uint64_t{0}, uint64_t{127}, uint64_t{128}, uint64_t{1} << 35,
                     std::numeric_limits<uint64_t>::max()}) {
    std::string s;
    PutVarint64(&s, v);
    absl::string_view in = s;
    uint64_t out = 1;
    ASSERT_TRUE(GetVarint64(&in, &out));
    EXPECT_EQ(out, v);
    EXPECT_TRUE(in.empty());
  }
}

TEST(CodingTest, DecodersRejectTruncatedAndOverlongInput) {
  std::string s;
  PutVarint64(&s, uint64_t{1} << 40);
  absl::string_view in(s.data(), s.size() - 1);
  uint64_t v;
  EXPECT_FALSE(GetVarint64(&in, &v));
  const std::string eleven(11, '\xff');
  in = eleven;
  EXPECT_FALSE(GetVarint64(&in, &v));
  in = absl::string_view("\x05" "abc");
  absl::string_view bytes;
  EXPECT_FALSE(GetLengthPrefixed(&in, &bytes));
  in = absl::string_view("abc", 3);
  EXPECT_FALSE(GetFixed64BE(&in, &v));
}

TEST(CodingTest, LengthPrefixedRoundTrips) {
  std::string s;
  PutLengthPrefixed(&s, "");
  PutLengthPrefixed(&s, std::string(300, 'x'));
  absl::string_view in = s, a, b;
  ASSERT_TRUE(GetLengthPrefixed(&in, &a));
  ASSERT_TRUE(GetLengthPrefixed(&in, &b));
  EXPECT_EQ(a, "");
  EXPECT_EQ(b, std::string(300, 'x'));
  EXPECT_TRUE(in.empty());
}

}  // namespace
}  // namespace kv
