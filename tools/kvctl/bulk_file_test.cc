#include "tools/kvctl/bulk_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/limits.h"
#include "common/testing/status_matchers.h"

namespace kv::kvctl {
namespace {

using ::kv::testing::IsOk;
using ::kv::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

absl::Status PutFileError(const std::string& text) { return ParseBulkPutFile(text).status(); }

MATCHER_P(InvalidWith, message, "") {
  return ::testing::ExplainMatchResult(StatusIs(absl::StatusCode::kInvalidArgument, message), arg,
                                       result_listener);
}

TEST(ParseBulkPutFileTest, ParsesKeysAndValuesInOrder) {
  absl::StatusOr<BulkPutFile> file =
      ParseBulkPutFile(R"([{"key": "a", "value": "1"}, {"key": "b", "value": ""}])");
  ASSERT_THAT(file, IsOk());
  ASSERT_THAT(file->items, SizeIs(2));
  EXPECT_EQ(file->items[0].key, "a");
  EXPECT_EQ(file->items[0].value, "1");
  EXPECT_EQ(file->items[1].key, "b");
  EXPECT_EQ(file->items[1].value, "");
  EXPECT_FALSE(file->items[0].options.expiration.has_value());
  EXPECT_FALSE(file->items[0].options.expiration_ttl.has_value());
  EXPECT_FALSE(file->items[0].options.metadata.has_value());
  EXPECT_THAT(file->warnings, IsEmpty());
}

TEST(ParseBulkPutFileTest, ParsesOptionalFields) {
  absl::StatusOr<BulkPutFile> file = ParseBulkPutFile(
      R"([{"key": "k", "value": "héllo", "expiration": 1900000000, "expiration_ttl": 3600,
           "metadata": {"b": [1, 2], "a": "x"}, "base64": false}])");
  ASSERT_THAT(file, IsOk());
  const BulkPutItem& item = file->items.at(0);
  EXPECT_EQ(item.value, "héllo");
  EXPECT_EQ(item.options.expiration, absl::FromUnixSeconds(1900000000));
  EXPECT_EQ(item.options.expiration_ttl, absl::Seconds(3600));
  // Compact, as the node measures metadata size on the serialised text.
  EXPECT_EQ(item.options.metadata, R"({"a":"x","b":[1,2]})");
}

TEST(ParseBulkPutFileTest, KeepsScalarMetadata) {
  absl::StatusOr<BulkPutFile> file =
      ParseBulkPutFile(R"([{"key": "k", "value": "v", "metadata": "just text"}])");
  ASSERT_THAT(file, IsOk());
  EXPECT_EQ(file->items[0].options.metadata, R"("just text")");
}

TEST(ParseBulkPutFileTest, TreatsNullOptionalFieldsAsAbsent) {
  absl::StatusOr<BulkPutFile> file = ParseBulkPutFile(
      R"([{"key": "k", "value": "v", "expiration": null, "expiration_ttl": null,
           "metadata": null, "base64": null}])");
  ASSERT_THAT(file, IsOk());
  EXPECT_FALSE(file->items[0].options.expiration.has_value());
  EXPECT_FALSE(file->items[0].options.expiration_ttl.has_value());
  EXPECT_FALSE(file->items[0].options.metadata.has_value());
}

TEST(ParseBulkPutFileTest, DecodesBase64ValuesToBytes) {
  absl::StatusOr<BulkPutFile> file = ParseBulkPutFile(
      R"([{"key": "bin", "value": "AP8Aeg==", "base64": true},
          {"key": "text", "value": "aGVsbG8=", "base64": true},
          {"key": "websafe", "value": "_-8=", "base64": true},
          {"key": "empty", "value": "", "base64": true}])");
  ASSERT_THAT(file, IsOk());
  EXPECT_EQ(file->items[0].value, std::string("\x00\xff\x00z", 4));
  EXPECT_EQ(file->items[1].value, "hello");
  EXPECT_EQ(file->items[2].value, "\xff\xef");
  EXPECT_EQ(file->items[3].value, "");
}

TEST(ParseBulkPutFileTest, DoesNotDecodeWhenBase64IsFalse) {
  absl::StatusOr<BulkPutFile> file =
      ParseBulkPutFile(R"([{"key": "k", "value": "aGVsbG8=", "base64": false}])");
  ASSERT_THAT(file, IsOk());
  EXPECT_EQ(file->items[0].value, "aGVsbG8=");
}

TEST(ParseBulkPutFileTest, AcceptsWholeFloatsAsIntegers) {
  absl::StatusOr<BulkPutFile> file = ParseBulkPutFile(
      R"([{"key": "k", "value": "v", "expiration": 1.9e9, "expiration_ttl": 60.0}])");
  ASSERT_THAT(file, IsOk());
  EXPECT_EQ(file->items[0].options.expiration, absl::FromUnixSeconds(1900000000));
  EXPECT_EQ(file->items[0].options.expiration_ttl, absl::Seconds(60));
}

TEST(ParseBulkPutFileTest, PassesOutOfRangeNumbersToTheNode) {
  // Whether a TTL is too short is the node's per-key decision, not a file error.
  absl::StatusOr<BulkPutFile> file =
      ParseBulkPutFile(R"([{"key": "k", "value": "v", "expiration_ttl": -5}])");
  ASSERT_THAT(file, IsOk());
  EXPECT_EQ(file->items[0].options.expiration_ttl, absl::Seconds(-5));
}

TEST(ParseBulkPutFileTest, AcceptsAnEmptyArray) {
  absl::StatusOr<BulkPutFile> file = ParseBulkPutFile("[]");
  ASSERT_THAT(file, IsOk());
  EXPECT_THAT(file->items, IsEmpty());
}

TEST(ParseBulkPutFileTest, WarnsAboutUnknownFieldsAndKeepsTheItem) {
  absl::StatusOr<BulkPutFile> file =
      ParseBulkPutFile(R"([{"key": "k", "value": "v", "expirationTtl": 60}])");
  ASSERT_THAT(file, IsOk());
  EXPECT_THAT(file->items, SizeIs(1));
  EXPECT_THAT(file->warnings,
              ElementsAre("bulk put: item 0: ignoring unknown field \"expirationTtl\""));
}

TEST(ParseBulkPutFileTest, CapsTheNumberOfWarnings) {
  std::string text = "[";
  for (int i = 0; i < 25; ++i) {
    if (i > 0) text += ",";
    text += R"({"key": "k", "value": "v", "extra": 1})";
  }
  text += "]";
  absl::StatusOr<BulkPutFile> file = ParseBulkPutFile(text);
  ASSERT_THAT(file, IsOk());
  ASSERT_THAT(file->warnings, SizeIs(11));
  EXPECT_EQ(file->warnings.back(), "bulk put: 15 more unknown fields ignored");
}

TEST(ParseBulkPutFileTest, RejectsTextThatIsNotJson) {
  EXPECT_THAT(
      PutFileError(R"([{"key": "k", "value": "v"},])"),
      InvalidWith(HasSubstr("bulk put: the file is not valid JSON: parse error at line 1")));
  EXPECT_THAT(PutFileError(""), InvalidWith(HasSubstr("bulk put: the file is not valid JSON")));
  // One value only: trailing content is an error.
  EXPECT_THAT(PutFileError("[] []"), InvalidWith(HasSubstr("not valid JSON")));
}

TEST(ParseBulkPutFileTest, NamesTheParseErrorWithoutLibraryTags) {
  absl::Status s = PutFileError("[\n{\"key\": }]");
  EXPECT_THAT(s, InvalidWith(HasSubstr("line 2")));
  EXPECT_THAT(s, InvalidWith(::testing::Not(HasSubstr("json.exception"))));
}

TEST(ParseBulkPutFileTest, RejectsAFileThatIsNotAnArray) {
  EXPECT_THAT(PutFileError(R"({"key": "k", "value": "v"})"),
              InvalidWith("bulk put: the file must hold a JSON array of objects, not object"));
}

TEST(ParseBulkPutFileTest, RejectsItemsThatAreNotObjects) {
  EXPECT_THAT(PutFileError(R"([{"key": "a", "value": "1"}, "b"])"),
              InvalidWith("bulk put: item 1: must be an object with \"key\" and \"value\", not "
                          "string"));
}

TEST(ParseBulkPutFileTest, NamesTheItemAndFieldOfEachError) {
  const std::string ok = R"({"key": "a", "value": "1"}, )";
  EXPECT_THAT(PutFileError("[" + ok + R"({"value": "v"}])"),
              InvalidWith("bulk put: item 1: \"key\" is missing"));
  EXPECT_THAT(PutFileError("[" + ok + ok + R"({"key": 7, "value": "v"}])"),
              InvalidWith("bulk put: item 2: \"key\" must be a string"));
  EXPECT_THAT(PutFileError(R"([{"key": "k"}])"),
              InvalidWith("bulk put: item 0: \"value\" is missing"));
  EXPECT_THAT(PutFileError(R"([{"key": "k", "value": 17}])"),
              InvalidWith("bulk put: item 0: \"value\" must be a string"));
  EXPECT_THAT(PutFileError(R"([{"key": "k", "value": {"a": 1}}])"),
              InvalidWith("bulk put: item 0: \"value\" must be a string"));
  EXPECT_THAT(PutFileError(R"([{"key": "k", "value": "v", "base64": "yes"}])"),
              InvalidWith("bulk put: item 0: \"base64\" must be true or false"));
  EXPECT_THAT(PutFileError(R"([{"key": "k", "value": "v", "expiration": "1900000000"}])"),
              InvalidWith("bulk put: item 0: \"expiration\" must be an integer"));
  EXPECT_THAT(PutFileError(R"([{"key": "k", "value": "v", "expiration": 1.5}])"),
              InvalidWith("bulk put: item 0: \"expiration\" must be an integer"));
  EXPECT_THAT(PutFileError(R"([{"key": "k", "value": "v", "expiration_ttl": true}])"),
              InvalidWith("bulk put: item 0: \"expiration_ttl\" must be an integer"));
  EXPECT_THAT(PutFileError(R"([{"key": "k", "value": "v", "expiration_ttl": 1e30}])"),
              InvalidWith("bulk put: item 0: \"expiration_ttl\" must be an integer"));
  EXPECT_THAT(PutFileError(R"([{"key": "k", "value": "v", "expiration": 18446744073709551615}])"),
              InvalidWith("bulk put: item 0: \"expiration\" must be an integer"));
}

TEST(ParseBulkPutFileTest, RejectsInvalidBase64) {
  EXPECT_THAT(PutFileError(R"([{"key": "k", "value": "not base64!", "base64": true}])"),
              InvalidWith("bulk put: item 0: \"value\" is not valid base64 (\"base64\" is true)"));
  EXPECT_THAT(PutFileError(R"([{"key": "k", "value": "a", "base64": true}])"),
              InvalidWith(HasSubstr("is not valid base64")));
}

TEST(ParseBulkKeyFileTest, AcceptsStringsAndObjectsWithAKey) {
  absl::StatusOr<std::vector<std::string>> keys =
      ParseBulkKeyFile(R"(["a", {"key": "b", "value": "ignored"}, "c"])", "bulk delete");
  ASSERT_THAT(keys, IsOk());
  EXPECT_THAT(*keys, ElementsAre("a", "b", "c"));
}

TEST(ParseBulkKeyFileTest, AcceptsAnEmptyArray) {
  absl::StatusOr<std::vector<std::string>> keys = ParseBulkKeyFile("[]", "bulk get");
  ASSERT_THAT(keys, IsOk());
  EXPECT_THAT(*keys, IsEmpty());
}

TEST(ParseBulkKeyFileTest, NamesTheCommandItemAndProblem) {
  EXPECT_THAT(ParseBulkKeyFile(R"({"keys": []})", "bulk get").status(),
              InvalidWith("bulk get: the file must hold a JSON array of keys, not object"));
  EXPECT_THAT(ParseBulkKeyFile(R"(["a", 3])", "bulk delete").status(),
              InvalidWith("bulk delete: item 1: must be a key string or an object with a \"key\" "
                          "string, not number"));
  EXPECT_THAT(ParseBulkKeyFile(R"([{"name": "a"}])", "bulk delete").status(),
              InvalidWith("bulk delete: item 0: \"key\" is missing"));
  EXPECT_THAT(ParseBulkKeyFile(R"([{"key": null}])", "bulk get").status(),
              InvalidWith("bulk get: item 0: \"key\" must be a string"));
  EXPECT_THAT(ParseBulkKeyFile("[", "bulk get").status(),
              InvalidWith(HasSubstr("bulk get: the file is not valid JSON")));
}

TEST(ParseBulkKeyFileTest, ChecksKeysWithTheNodesMessages) {
  // The node would refuse the whole request, so the file is refused up front.
  EXPECT_THAT(ParseBulkKeyFile(R"(["a", ""])", "bulk delete").status(),
              InvalidWith("bulk delete: item 1: Key names must not be empty"));
  EXPECT_THAT(ParseBulkKeyFile(R"([".."])", "bulk get").status(),
              InvalidWith("bulk get: item 0: Illegal key name \"..\". Please use a different "
                          "name."));
  const std::string long_key(kMaxKeyBytes + 1, 'x');
  EXPECT_THAT(ParseBulkKeyFile("[\"" + long_key + "\"]", "bulk get").status(),
              InvalidWith("bulk get: item 0: UTF-8 encoded length of 513 exceeds key length "
                          "limit of 512."));
}

TEST(BulkPutItemBytesTest, CountsKeyValueAndMetadata) {
  BulkPutItem item{.key = "key", .value = "value", .options = {.metadata = R"({"a":1})"}};
  EXPECT_EQ(BulkPutItemBytes(item), 3 + 5 + 7);
  item.options.metadata.reset();
  EXPECT_EQ(BulkPutItemBytes(item), 8);
}

TEST(SplitIntoBatchesTest, ReturnsNoBatchForNoItems) {
  EXPECT_THAT(SplitIntoBatches({}, kMaxBulkWriteItems, kMaxBulkRequestBytes), IsEmpty());
}

TEST(SplitIntoBatchesTest, FillsABatchToExactlyTheItemLimit) {
  const std::vector<int64_t> sizes(kMaxBulkWriteItems, 10);
  EXPECT_THAT(SplitIntoBatches(sizes, kMaxBulkWriteItems, kMaxBulkRequestBytes),
              ElementsAre(Batch{0, 10000}));
}

TEST(SplitIntoBatchesTest, StartsANewBatchOneItemPastTheLimit) {
  const std::vector<int64_t> sizes(kMaxBulkWriteItems + 1, 10);
  EXPECT_THAT(SplitIntoBatches(sizes, kMaxBulkWriteItems, kMaxBulkRequestBytes),
              ElementsAre(Batch{0, 10000}, Batch{10000, 10001}));
  const std::vector<int64_t> more(25000, 1);
  EXPECT_THAT(SplitIntoBatches(more, kMaxBulkWriteItems, kMaxBulkRequestBytes),
              ElementsAre(Batch{0, 10000}, Batch{10000, 20000}, Batch{20000, 25000}));
}

TEST(SplitIntoBatchesTest, FillsABatchToExactlyTheByteLimit) {
  const int64_t half = kMaxBulkRequestBytes / 2;
  EXPECT_THAT(SplitIntoBatches({half, half}, kMaxBulkWriteItems, kMaxBulkRequestBytes),
              ElementsAre(Batch{0, 2}));
  EXPECT_THAT(SplitIntoBatches({half, half, 0}, kMaxBulkWriteItems, kMaxBulkRequestBytes),
              ElementsAre(Batch{0, 3}));
}

TEST(SplitIntoBatchesTest, StartsANewBatchOneBytePastTheLimit) {
  const int64_t half = kMaxBulkRequestBytes / 2;
  EXPECT_THAT(SplitIntoBatches({half, half + 1}, kMaxBulkWriteItems, kMaxBulkRequestBytes),
              ElementsAre(Batch{0, 1}, Batch{1, 2}));
  EXPECT_THAT(SplitIntoBatches({half, half, 1, half}, kMaxBulkWriteItems, kMaxBulkRequestBytes),
              ElementsAre(Batch{0, 2}, Batch{2, 4}));
}

TEST(SplitIntoBatchesTest, GivesAnOversizedItemABatchOfItsOwn) {
  EXPECT_THAT(SplitIntoBatches({5, 20, 5}, 100, 10),
              ElementsAre(Batch{0, 1}, Batch{1, 2}, Batch{2, 3}));
}

TEST(SplitIntoBatchesTest, AppliesWhicheverLimitIsReachedFirst) {
  EXPECT_THAT(SplitIntoBatches({1, 1, 1, 1, 1, 6, 1}, 3, 7),
              ElementsAre(Batch{0, 3}, Batch{3, 5}, Batch{5, 7}));
}

TEST(SplitByCountTest, SplitsIntoFullBatchesAndARest) {
  EXPECT_THAT(SplitByCount(0, kMaxBulkGetKeys), IsEmpty());
  EXPECT_THAT(SplitByCount(100, kMaxBulkGetKeys), ElementsAre(Batch{0, 100}));
  EXPECT_THAT(SplitByCount(101, kMaxBulkGetKeys), ElementsAre(Batch{0, 100}, Batch{100, 101}));
  EXPECT_THAT(SplitByCount(250, kMaxBulkGetKeys),
              ElementsAre(Batch{0, 100}, Batch{100, 200}, Batch{200, 250}));
}

}  // namespace
}  // namespace kv::kvctl
