#include "node/list_cursor.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace kv::node {
namespace {

using ::absl::StatusCode;
using ::kv::testing::IsOkAndHolds;
using ::kv::testing::StatusIs;

const std::string kNs = "0123456789abcdef0123456789abcdef";

TEST(ListCursorTest, RoundTripsAnyKeyBytes) {
  const std::string key("user:\xC3\xA9\x00%_", 11);
  const std::string cursor = EncodeListCursor(kNs, "user:", key);
  EXPECT_THAT(DecodeListCursor(cursor, kNs, "user:"), IsOkAndHolds(key));
}

TEST(ListCursorTest, IsUrlSafeText) {
  const std::string cursor = EncodeListCursor(kNs, "", std::string(300, '\xff'));
  for (char c : cursor) EXPECT_TRUE(isalnum(c) || c == '-' || c == '_') << c;
}

TEST(ListCursorTest, RejectsCursorOfAnotherPrefixOrNamespace) {
  const std::string cursor = EncodeListCursor(kNs, "a", "abc");
  EXPECT_THAT(DecodeListCursor(cursor, kNs, "b"),
              StatusIs(StatusCode::kInvalidArgument,
                       "Invalid cursor: it was issued for a different namespace or prefix"));
  EXPECT_THAT(DecodeListCursor(cursor, "fedcba9876543210fedcba9876543210", "a"),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(ListCursorTest, RejectsMalformedCursors) {
  for (const std::string& bad :
       {std::string("!!!"), std::string("AA"), std::string("not base64 at all"),
        std::string(5000, 'A'), std::string("\xff\xfe", 2)}) {
    EXPECT_THAT(DecodeListCursor(bad, kNs, ""), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
  // A well-formed cursor whose position does not start with the prefix.
  EXPECT_THAT(DecodeListCursor(EncodeListCursor(kNs, "p", "zzz"), kNs, "p"),
              StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace kv::node
