#include "tools/kvctl/output_json.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

namespace kv::kvctl {
namespace {

const std::string kBinary("\x00\xff\xfe", 3);  // not UTF-8; base64 "AP/+"

TEST(ValueToJsonTest, KeepsUtf8ValuesAsStrings) {
  EXPECT_EQ(ValueToJson("héllo"), Json("héllo"));
  EXPECT_EQ(ValueToJson(""), Json(""));
  EXPECT_EQ(ValueToJson(std::string("a\0b", 3)), Json(std::string("a\0b", 3)));
}

TEST(ValueToJsonTest, EncodesOtherBytesAsABase64Object) {
  EXPECT_EQ(ValueToJson(kBinary).dump(), R"({"base64":"AP/+"})");
  // A lone continuation byte and a UTF-16 surrogate are not UTF-8 either.
  EXPECT_EQ(ValueToJson("\x80").dump(), R"({"base64":"gA=="})");
  EXPECT_EQ(ValueToJson("\xed\xa0\x80").dump(), R"({"base64":"7aCA"})");
}

TEST(MetadataToJsonTest, ParsesStoredJsonAndMapsAbsenceToNull) {
  EXPECT_EQ(MetadataToJson(R"({"a":[1,2]})").dump(), R"({"a":[1,2]})");
  EXPECT_EQ(MetadataToJson(R"("text")"), Json("text"));
  EXPECT_TRUE(MetadataToJson(std::nullopt).is_null());
  EXPECT_TRUE(MetadataToJson("null").is_null());
}

TEST(MetadataToJsonTest, KeepsUnparsableMetadataAsAString) {
  EXPECT_EQ(MetadataToJson("{oops"), Json("{oops"));
}

TEST(ExpirationToJsonTest, GivesEpochSecondsOrNull) {
  EXPECT_EQ(ExpirationToJson(absl::FromUnixSeconds(1900000000)), Json(1900000000));
  EXPECT_TRUE(ExpirationToJson(std::nullopt).is_null());
}

TEST(ListedKeyToJsonTest, OmitsAbsentFields) {
  EXPECT_EQ(ListedKeyToJson({.name = "a"}).dump(), R"({"name":"a"})");
  EXPECT_EQ(
      ListedKeyToJson(
          {.name = "b", .expiration = absl::FromUnixSeconds(1900000000), .metadata = R"({"x":1})"})
          .dump(),
      R"({"name":"b","expiration":1900000000,"metadata":{"x":1}})");
}

TEST(GetWithMetadataToJsonTest, GivesUtf8ValuesAsText) {
  ValueWithMetadata v{
      .value = "hello", .metadata = R"({"a":1})", .expiration = absl::FromUnixSeconds(1900000000)};
  EXPECT_EQ(GetWithMetadataToJson(v).dump(),
            R"({"value":"hello","base64":false,"metadata":{"a":1},"expiration":1900000000})");
}

TEST(GetWithMetadataToJsonTest, GivesOtherValuesAsBase64) {
  ValueWithMetadata v{.value = kBinary};
  EXPECT_EQ(GetWithMetadataToJson(v).dump(),
            R"({"value":"AP/+","base64":true,"metadata":null,"expiration":null})");
}

TEST(BulkGetEntryToJsonTest, GivesNullForMissingKeys) {
  EXPECT_TRUE(BulkGetEntryToJson(std::nullopt, false).is_null());
  EXPECT_TRUE(BulkGetEntryToJson(std::nullopt, true).is_null());
}

TEST(BulkGetEntryToJsonTest, GivesTheValueOrValueAndMetadata) {
  ValueWithMetadata text{.value = "v", .metadata = "[1]"};
  EXPECT_EQ(BulkGetEntryToJson(text, false), Json("v"));
  EXPECT_EQ(BulkGetEntryToJson(text, true).dump(), R"({"value":"v","metadata":[1]})");
  ValueWithMetadata binary{.value = kBinary};
  EXPECT_EQ(BulkGetEntryToJson(binary, false).dump(), R"({"base64":"AP/+"})");
  EXPECT_EQ(BulkGetEntryToJson(binary, true).dump(),
            R"({"value":{"base64":"AP/+"},"metadata":null})");
}

TEST(WriteJsonTest, IndentsByTwoAndEndsWithANewline) {
  std::ostringstream out;
  WriteJson(out, Json{{"id", "x"}, {"n", 1}});
  EXPECT_EQ(out.str(), "{\n  \"id\": \"x\",\n  \"n\": 1\n}\n");
}

TEST(WriteJsonTest, WritesNonAsciiTextAsIsAndNeverThrows) {
  std::ostringstream out;
  WriteJson(out, Json("é"));
  EXPECT_EQ(out.str(), "\"é\"\n");
  std::ostringstream bad;
  WriteJson(bad, Json(std::string("\xff")));
  EXPECT_EQ(bad.str(), "\"\xef\xbf\xbd\"\n");
}

}  // namespace
}  // namespace kv::kvctl
